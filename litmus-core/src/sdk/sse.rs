//! An incremental Server-Sent Events decoder, as the WHATWG HTML standard specifies the
//! `text/event-stream` format (section 9.2.6), fed raw bytes in chunks of any size.
//!
//! - Bytes are decoded as UTF-8 with replacement (U+FFFD for each invalid sequence); a
//!   character cut between two chunks is kept for the next one. A leading byte order mark is
//!   dropped.
//! - Lines end with CRLF, LF or CR; a CRLF may be split across chunks.
//! - `:` starts a comment (a keep-alive); `data` lines accumulate and are joined by `\n`;
//!   `event` names the event type (`message` when absent); `id` sets the last event id unless
//!   it holds NUL, and the id persists across events; `retry` with ASCII digits only sets the
//!   reconnection delay; other fields are ignored.
//! - An empty line dispatches the event; an event with no `data` is not dispatched (its `id`
//!   still takes effect); an event cut off by the end of the stream is discarded.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event` field, `"message"` when absent.
    pub kind: String,
    /// The `data` lines joined by `\n`.
    pub data: String,
    /// The stream's last event id when the event was dispatched (`""` if none yet).
    pub id: String,
}

/// Turns `text/event-stream` bytes into [`SseEvent`] values.
#[derive(Debug, Clone, Default)]
pub struct SseDecoder {
    /// Bytes of a UTF-8 sequence cut off at the end of the last chunk (at most 3).
    carry: Vec<u8>,
    /// The unfinished line.
    line: String,
    started: bool,
    after_cr: bool,
    data: String,
    has_data: bool,
    event: String,
    id_buffer: String,
    last_event_id: String,
    retry_ms: Option<u64>,
    comments: u64,
}

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the next chunk of the stream; returns the events it completes.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        let text = self.decode(bytes);
        let mut text = text.as_str();
        if !self.started && !text.is_empty() {
            self.started = true;
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
        }
        if self.after_cr && !text.is_empty() {
            self.after_cr = false;
            text = text.strip_prefix('\n').unwrap_or(text);
        }
        while let Some(end) = text.find(['\r', '\n']) {
            let (piece, rest) = text.split_at(end);
            let cr = rest.starts_with('\r');
            let mut rest = rest.get(1..).unwrap_or("");
            if cr {
                if rest.is_empty() {
                    // A CR at the very end may be the first half of a CRLF.
                    self.after_cr = true;
                } else if let Some(after) = rest.strip_prefix('\n') {
                    rest = after;
                }
            }
            let line = if self.line.is_empty() {
                std::borrow::Cow::Borrowed(piece)
            } else {
                let mut whole = std::mem::take(&mut self.line);
                whole.push_str(piece);
                std::borrow::Cow::Owned(whole)
            };
            if let Some(event) = self.process(&line) {
                events.push(event);
            }
            text = rest;
        }
        self.line.push_str(text);
        events
    }

    /// The last `id` seen (`""` if none): send it back as `Last-Event-ID` when reconnecting.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The last valid `retry` value in milliseconds, if any.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// How many comment lines (keep-alives) were seen.
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// `bytes` after the carried ones, as text (invalid sequences replaced); keeps an
    /// incomplete sequence at the end for the next chunk.
    fn decode(&mut self, bytes: &[u8]) -> String {
        let owned;
        let mut input: &[u8] = if self.carry.is_empty() {
            bytes
        } else {
            let mut joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(bytes);
            owned = joined;
            &owned
        };
        let mut out = String::with_capacity(input.len());
        loop {
            match std::str::from_utf8(input) {
                Ok(valid) => {
                    out.push_str(valid);
                    return out;
                }
                Err(e) => {
                    let (valid, after) = input.split_at(e.valid_up_to());
                    // Safe by construction: from_utf8 vouched for these bytes.
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            out.push('\u{fffd}');
                            input = after.get(n..).unwrap_or_default();
                        }
                        None => {
                            self.carry = after.to_vec();
                            return out;
                        }
                    }
                }
            }
        }
    }

    fn process(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            self.comments = self.comments.saturating_add(1);
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => value.clone_into(&mut self.id_buffer),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // Digits only: a value too large for u64 is taken as the largest.
                self.retry_ms = Some(value.parse().unwrap_or(u64::MAX));
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        self.last_event_id.clone_from(&self.id_buffer);
        let event = std::mem::take(&mut self.event);
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(SseEvent {
            kind: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data: std::mem::take(&mut self.data),
            id: self.last_event_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> (Vec<SseEvent>, SseDecoder) {
        let mut d = SseDecoder::new();
        let events = chunks.iter().flat_map(|c| d.feed(c)).collect();
        (events, d)
    }

    #[test]
    fn every_line_ending_and_split_crlf() {
        let (events, _) = all(&[b"data: a\r", b"\ndata: b\r\rdata:c\n\n"]);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].data, "a\nb");
        assert_eq!(events[1].data, "c");
    }

    #[test]
    fn utf8_split_across_chunks_and_invalid_bytes() {
        let text = "data: caf\u{e9} \u{1f600}\n\n".as_bytes();
        let mut d = SseDecoder::new();
        let mut events = Vec::new();
        for b in text {
            events.extend(d.feed(std::slice::from_ref(b)));
        }
        assert_eq!(events[0].data, "caf\u{e9} \u{1f600}");
        let (events, _) = all(&[b"data: \xff\xfe!\n\n"]);
        assert_eq!(events[0].data, "\u{fffd}\u{fffd}!");
    }

    #[test]
    fn bom_comments_ids_retry_and_types() {
        let (events, d) = all(&[
            "\u{feff}: hi\nid: 7\nevent: config\ndata: x\n\nid: a\0b\ndata: y\nretry: 250\nretry: 1x\n\n"
                .as_bytes(),
        ]);
        assert_eq!(d.comments(), 1);
        assert_eq!(events[0].kind, "config");
        assert_eq!(events[0].id, "7");
        assert_eq!(events[1].kind, "message");
        assert_eq!(events[1].id, "7", "an id with NUL is ignored");
        assert_eq!(d.retry_ms(), Some(250));
        assert_eq!(d.last_event_id(), "7");
    }

    #[test]
    fn no_data_no_event_and_cut_off_event_dropped() {
        let (events, d) = all(&[b"id: 3\n\ndata: cut"]);
        assert!(events.is_empty());
        assert_eq!(d.last_event_id(), "3");
    }
}
