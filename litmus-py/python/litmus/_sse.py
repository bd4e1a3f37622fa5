"""An incremental Server-Sent Events parser, as the WHATWG HTML standard specifies the
``text/event-stream`` format (section 9.2.6): lines end with CRLF, LF or CR; ``:`` starts a
comment; ``data`` lines accumulate; ``id`` sets the last event id (unless it holds NUL);
``retry`` sets the reconnection delay (ASCII digits only); an empty line dispatches; an event
cut off by the end of the stream is discarded.

Feed it text as it arrives, in chunks of any size (a chunk may end in the middle of a line or
between the CR and LF of a CRLF); decode bytes with an incremental UTF-8 decoder first.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

__all__ = ["Event", "SSEParser"]

_LINE_END = re.compile(r"\r\n|\r|\n")


class Event(NamedTuple):
    """One dispatched event."""

    type: str
    """The ``event`` field, ``"message"`` when absent."""
    data: str
    """The ``data`` lines joined by ``\\n``."""
    id: str
    """The stream's last event id when the event was dispatched (``""`` if none yet)."""


class SSEParser:
    """Turns ``text/event-stream`` text into :class:`Event` values.

    Attributes:
        last_event_id: the last ``id`` seen (``""`` if none); send it back as the
            ``Last-Event-ID`` header when reconnecting.
        retry_ms: the last valid ``retry`` value in milliseconds, or None.
        comments: how many comment lines were seen (keep-alives).
    """

    def __init__(self) -> None:
        self.last_event_id = ""
        self.retry_ms: Optional[int] = None
        self.comments = 0
        self._pending: list[str] = []
        self._started = False
        self._skip_lf = False
        self._data: list[str] = []
        self._event_type = ""
        self._id_buffer = ""

    def feed(self, text: str) -> list[Event]:
        """Parses the next chunk of the stream; returns the events it completes."""
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._skip_lf and text:
            self._skip_lf = False
            if text.startswith("\n"):
                text = text[1:]
        events: list[Event] = []
        start = 0
        for m in _LINE_END.finditer(text):
            if m.group() == "\r" and m.end() == len(text):
                # A CR at the very end may be the first half of a CRLF: the line ends here,
                # and a LF starting the next chunk belongs to it.
                self._skip_lf = True
            piece = text[start : m.start()]
            if self._pending:
                self._pending.append(piece)
                piece = "".join(self._pending)
                self._pending = []
            event = self._line(piece)
            if event is not None:
                events.append(event)
            start = m.end()
        if start < len(text):
            # Kept as pieces, so a long line arriving in many chunks is joined once.
            self._pending.append(text[start:])
        return events

    def _line(self, line: str) -> Optional[Event]:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            self.comments += 1
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event_type = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif field == "retry":
            if value and value.isascii() and value.isdigit():
                self.retry_ms = int(value)
        return None

    def _dispatch(self) -> Optional[Event]:
        self.last_event_id = self._id_buffer
        data, event_type = self._data, self._event_type
        self._data, self._event_type = [], ""
        if not data:
            return None
        return Event(event_type or "message", "\n".join(data), self.last_event_id)
