"""The Server-Sent Events parser behind ConfigClient's stream (WHATWG text/event-stream)."""

from __future__ import annotations

import pytest

from litmus._sse import Event, SSEParser


def parse(*chunks: str) -> tuple[list[Event], SSEParser]:
    parser = SSEParser()
    events: list[Event] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events, parser


STREAM = (
    "\ufeff: a comment\n"
    "retry: 1500\n"
    "event: config\n"
    "id: 7\n"
    "data: {\n"
    ": a comment between data lines\n"
    "data:  \"a\": 1\n"
    "data:}\n"
    "\n"
    "data: second\n"
    "\n"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_any_line_ending_and_any_chunking(newline: str, size: int) -> None:
    text = STREAM.replace("\n", newline)
    events, parser = parse(*(text[i : i + size] for i in range(0, len(text), size)))
    assert events == [
        Event("config", '{\n "a": 1\n}', "7"),
        Event("message", "second", "7"),  # the id persists; the type does not
    ]
    assert parser.retry_ms == 1500 and parser.comments == 2 and parser.last_event_id == "7"


def test_field_rules() -> None:
    events, parser = parse(
        "data\n\n",  # a field without a colon has an empty value
        "data:\ndata:\n\n",
        "id: 3\nretry: soon\nretry: 1.5\nunknown: x\n\n",  # id alone dispatches nothing
        "id: a\0b\ndata: x\n\n",  # an id with NUL is ignored
        "id\ndata: y\n\n",  # an empty id resets it
    )
    assert events == [Event("message", "", ""), Event("message", "\n", ""), Event("message", "x", "3"),
                      Event("message", "y", "")]
    assert parser.retry_ms is None


def test_an_unfinished_event_is_not_dispatched() -> None:
    events, parser = parse("event: config\nid: 9\ndata: {}\n")
    assert events == [] and parser.last_event_id == ""


def test_only_the_first_bom_is_dropped() -> None:
    events, _ = parse("\ufeffdata: a\n\n", "\ufeffdata: b\n\n")
    assert [e.data for e in events] == ["a"]  # "\ufeffdata" is an unknown field
