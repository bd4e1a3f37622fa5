// A Server-Sent Events parser (the event stream format of the HTML standard, section 9.2.6)
// for the config client's stream, which is read with fetch so that it can send an
// Authorization header (EventSource cannot). Written once as ESM; build-package.sh derives
// the CommonJS copy.

/**
 * Parses decoded text of an event stream fed in chunks of any size. Lines end in LF, CR or
 * CRLF (a CRLF may be split across chunks); `data` lines of one event are joined with LF;
 * lines starting with ":" are comments; `id` sets the last event id (unless it contains
 * NUL) and persists across events; `retry` with only ASCII digits sets the reconnection
 * delay; other fields are ignored; an event with no data is not dispatched; an unfinished
 * event at the end of the stream is dropped. A leading byte order mark is the decoder's job
 * (TextDecoder removes it).
 */
export class SseParser {
  // The unfinished line (it holds no line terminator).
  #line = "";
  // The chunk before ended in CR: a LF at the start of the next one belongs to it.
  #afterCR = false;
  #data = [];
  #event = "";
  #onEvent;
  #onRetry;
  #onComment;
  /** The last event id: the `id` of the latest event, kept across events (null: none). */
  lastEventId = null;
  // The id buffer, set by `id` lines and copied to lastEventId when an event is dispatched.
  #id = null;

  /**
   * @param onEvent called with `{ type, data, id }` for each event (`type` "message" unless
   *   an `event` line named it; `id` the last event id or null).
   * @param onRetry called with the milliseconds of a valid `retry` line.
   * @param onComment called for each comment line (a keep-alive).
   */
  constructor(onEvent, onRetry = () => {}, onComment = () => {}) {
    this.#onEvent = onEvent;
    this.#onRetry = onRetry;
    this.#onComment = onComment;
  }

  /** Feeds the next piece of decoded text. */
  feed(text) {
    let start = 0;
    if (this.#afterCR && text.length > 0) {
      this.#afterCR = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.#line + text.slice(start, i);
      this.#line = "";
      if (c === 13) {
        if (i + 1 === text.length) this.#afterCR = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
      this.#process(line);
    }
    if (start < text.length) this.#line += text.slice(start);
  }

  #process(line) {
    if (line === "") {
      this.#dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.#onComment(line.slice(1));
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case "event":
        this.#event = value;
        break;
      case "data":
        this.#data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.#onRetry(Number(value));
        break;
      default:
        break;
    }
  }

  #dispatch() {
    this.lastEventId = this.#id;
    const data = this.#data;
    const type = this.#event || "message";
    this.#data = [];
    this.#event = "";
    if (data.length === 0) return;
    this.#onEvent({ type, data: data.join("\n"), id: this.lastEventId });
  }
}
