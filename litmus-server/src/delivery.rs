//! What SDKs receive of one served snapshot (one version of one project's environment), made
//! once and shared, as `Bytes`, by every stream: the Server-Sent Events frame.
//! `crate::snapshots` keeps one [`Delivery`] next to each served snapshot.
//!
//! [`updates`] is what one `/sdk/stream` connection sends: the newest version whenever it can
//! send (a slow reader skips the versions it was too slow for, never queues them), and a
//! comment after 15 s without an event.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::Stream;

use crate::snapshots::ProjectConfig;
use crate::store::{ConfigStore, Snapshot};

/// The comment sent after [`KEEP_ALIVE`] without an event, so proxies keep the stream open.
pub const KEEP_ALIVE_COMMENT: &[u8] = b":\n\n";

/// How long a stream may stay silent before a comment is sent.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One served snapshot's representations.
pub struct Delivery {
    snapshot: Arc<Snapshot>,
    frame: OnceLock<Bytes>,
}

impl Delivery {
    /// The representations of `snapshot`, none made yet.
    pub fn new(snapshot: Arc<Snapshot>) -> Self {
        Delivery {
            snapshot,
            frame: OnceLock::new(),
        }
    }

    /// The config version.
    pub fn version(&self) -> u64 {
        self.snapshot.version
    }

    /// The `/sdk/stream` event of this version: `event: config`, the version as its id, the
    /// body as its data ([`sse_frame`]).
    pub fn frame(&self) -> Bytes {
        self.frame
            .get_or_init(|| sse_frame("config", self.snapshot.version, &self.snapshot.body))
            .clone()
    }
}

/// A Server-Sent Events frame as the WHATWG HTML standard reads them (§9.2.6): `event: NAME`,
/// `id: ID`, one `data: ` line per line of `data` (lines end at CRLF, LF or CR, as a
/// decoder splits them; the decoder joins them with LF), and the empty line that dispatches
/// it. The config's JSON has no line breaks, so its frame has one `data` line.
pub fn sse_frame(event: &str, id: u64, data: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + event.len() + 48);
    out.put_slice(b"event: ");
    out.put_slice(event.as_bytes());
    out.put_slice(b"\nid: ");
    out.put_slice(id.to_string().as_bytes());
    out.put_u8(b'\n');
    let mut rest = data;
    loop {
        out.put_slice(b"data: ");
        match rest.find(['\r', '\n']) {
            None => {
                out.put_slice(rest.as_bytes());
                out.put_u8(b'\n');
                break;
            }
            Some(end) => {
                let (line, tail) = rest.split_at(end);
                out.put_slice(line.as_bytes());
                out.put_u8(b'\n');
                rest = tail
                    .strip_prefix("\r\n")
                    .or_else(|| tail.get(1..))
                    .unwrap_or_default();
            }
        }
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// What a stream holds between events: the project's config, its environment, the version
/// channel and the last version sent. Small on purpose: it is kept for every open stream.
struct Follow<S> {
    config: ProjectConfig<S>,
    environment: Arc<str>,
    changes: tokio::sync::watch::Receiver<u64>,
    sent: Option<u64>,
    quiet_until: tokio::time::Instant,
}

/// The frames of one `/sdk/stream` connection of `environment`: the current version (unless
/// it is `seen`, the client's `Last-Event-ID`), then each newer version announced, and
/// [`KEEP_ALIVE_COMMENT`] after [`KEEP_ALIVE`] without an event.
///
/// Slow readers: the frame is read when the connection can take one (the HTTP layer stops
/// asking while its bounded write queue is full), and it is always the newest version's. A
/// client that reads slowly skips the versions it had no room for; one that never reads holds
/// its write queue and nothing more, however many versions follow; neither delays the others.
/// Frames are the [`Delivery`]'s, shared by every connection.
pub fn updates<S: ConfigStore>(
    config: ProjectConfig<S>,
    environment: &str,
    seen: Option<u64>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let follow = Follow {
        changes: config.subscribe(),
        config,
        environment: Arc::from(environment),
        sent: seen,
        quiet_until: tokio::time::Instant::now() + KEEP_ALIVE,
    };
    futures_util::stream::unfold(follow, |mut f| async move {
        loop {
            // Boxed: the read is short, and the stream's idle state stays small.
            match Box::pin(f.config.delivery_in(&f.environment)).await {
                Ok(d) if f.sent != Some(d.version()) => {
                    f.sent = Some(d.version());
                    f.quiet_until = tokio::time::Instant::now() + KEEP_ALIVE;
                    return Some((Ok(d.frame()), f));
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "stream: cannot read the snapshot"),
            }
            // Wait for the next announced version (the sender lives as long as the state) or
            // the time for a comment.
            match tokio::time::timeout_at(f.quiet_until, f.changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return None,
                Err(_) => {
                    f.quiet_until = tokio::time::Instant::now() + KEEP_ALIVE;
                    return Some((Ok(Bytes::from_static(KEEP_ALIVE_COMMENT)), f));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use litmus_core::sdk::sse::SseDecoder;

    #[test]
    fn the_frame_is_the_spec_format() {
        assert_eq!(
            &sse_frame("config", 3, r#"{"a":1}"#)[..],
            b"event: config\nid: 3\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(
            &sse_frame("config", 4, "a\nb\r\nc\rd\n")[..],
            b"event: config\nid: 4\ndata: a\ndata: b\ndata: c\ndata: d\ndata: \n\n"
        );
        // What a decoder makes of it: the lines joined by LF.
        for data in ["one", "a\nb", "a\r\nb\rc", "trailing\n", "\n\nx", " lead"] {
            let events = SseDecoder::new().feed(&sse_frame("config", 9, data));
            assert_eq!(events.len(), 1, "{data:?}");
            let want = data.replace("\r\n", "\n").replace('\r', "\n");
            assert_eq!(events[0].data, want, "{data:?}");
            assert_eq!(events[0].kind, "config");
            assert_eq!(events[0].id, "9");
        }
    }

    #[test]
    fn the_frame_is_made_once() {
        let snapshot = Snapshot {
            version: 7,
            etag: crate::store::etag(7, "{}"),
            body: "{}".to_owned(),
        };
        let d = Delivery::new(Arc::new(snapshot));
        assert_eq!(d.frame().as_ptr(), d.frame().as_ptr());
        assert_eq!(&d.frame()[..], b"event: config\nid: 7\ndata: {}\n\n");
    }
}
