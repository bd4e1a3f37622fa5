//! What SDKs receive of one served snapshot (one version of one project's environment), each
//! form made once and shared, as `Bytes`, by every request and every stream: the body, the
//! Server-Sent Events frame, the gzip and br bodies (made on the first request that asks for
//! them), and each representation's ETag. `crate::snapshots` keeps one [`Delivery`] next to
//! each served snapshot; `/sdk/config` and `/sdk/stream` (`crate::routes::sdk`) only pick.
//!
//! [`updates`] is what one `/sdk/stream` connection sends: the newest version whenever it can
//! send (a slow reader skips the versions it was too slow for, never queues them), and a
//! comment after 15 s without an event.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::HeaderValue;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::Stream;
use tokio::sync::OnceCell;

use crate::encoding::Coding;
use crate::error::ApiError;
use crate::snapshots::ProjectConfig;
use crate::store::{ConfigStore, Snapshot};

/// Bodies shorter than this are sent as they are, whatever the client accepts: compressing
/// them saves a few bytes and costs the client a decoder.
pub const MIN_ENCODED: usize = 1024;

/// The comment sent after [`KEEP_ALIVE`] without an event, so proxies keep the stream open.
pub const KEEP_ALIVE_COMMENT: &[u8] = b":\n\n";

/// How long a stream may stay silent before a comment is sent.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One served snapshot's representations.
pub struct Delivery {
    snapshot: Arc<Snapshot>,
    /// The ETags of br, gzip and identity.
    etags: [HeaderValue; 3],
    body: OnceLock<Bytes>,
    frame: OnceLock<Bytes>,
    /// The encoded bodies (`None`: the encoder failed, identity is sent).
    gzip: OnceCell<Option<Bytes>>,
    br: OnceCell<Option<Bytes>>,
}

impl Delivery {
    /// The representations of `snapshot`, none made yet.
    pub fn new(snapshot: Arc<Snapshot>) -> Result<Self, ApiError> {
        let tag = |coding: Coding| {
            HeaderValue::from_str(&etag(&snapshot.etag, coding)).map_err(ApiError::internal)
        };
        let etags = [tag(Coding::Br)?, tag(Coding::Gzip)?, tag(Coding::Identity)?];
        Ok(Delivery {
            snapshot,
            etags,
            body: OnceLock::new(),
            frame: OnceLock::new(),
            gzip: OnceCell::new(),
            br: OnceCell::new(),
        })
    }

    /// The config version.
    pub fn version(&self) -> u64 {
        self.snapshot.version
    }

    /// The body as it is (copied out of the snapshot once).
    pub fn body(&self) -> Bytes {
        self.body
            .get_or_init(|| Bytes::copy_from_slice(self.snapshot.body.as_bytes()))
            .clone()
    }

    /// The `/sdk/stream` event of this version: `event: config`, the version as its id, the
    /// body as its data ([`sse_frame`]).
    pub fn frame(&self) -> Bytes {
        self.frame
            .get_or_init(|| sse_frame("config", self.snapshot.version, &self.snapshot.body))
            .clone()
    }

    /// The coding sent to a client that asked for `wanted`: `wanted`, except identity for a
    /// body shorter than [`MIN_ENCODED`].
    pub fn coding(&self, wanted: Coding) -> Coding {
        if self.snapshot.body.len() < MIN_ENCODED {
            Coding::Identity
        } else {
            wanted
        }
    }

    /// The ETag of the representation in `coding`.
    pub fn etag(&self, coding: Coding) -> &HeaderValue {
        let [br, gzip, identity] = &self.etags;
        match coding {
            Coding::Br => br,
            Coding::Gzip => gzip,
            Coding::Identity => identity,
        }
    }

    /// Whether `If-None-Match` values name any representation of this version (weak or
    /// strong), or are `*`.
    pub fn matches<'a>(&self, if_none_match: impl IntoIterator<Item = &'a HeaderValue>) -> bool {
        if_none_match
            .into_iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || self.etags.iter().any(|e| e.as_bytes() == t.as_bytes()))
    }

    /// The body in `coding` and the coding it is really in: the encoded body is made once, on
    /// the first call (off the async threads), and shared; identity when the encoder failed.
    pub async fn encoded(&self, coding: Coding) -> (Coding, Bytes) {
        let cell = match coding {
            Coding::Identity => return (Coding::Identity, self.body()),
            Coding::Gzip => &self.gzip,
            Coding::Br => &self.br,
        };
        let made = cell
            .get_or_init(|| async {
                let body = self.body();
                match tokio::task::spawn_blocking(move || coding.encode(&body)).await {
                    Ok(Ok(encoded)) => Some(Bytes::from(encoded)),
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, coding = coding.token(), "cannot encode the config");
                        None
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, coding = coding.token(), "the config's encoder failed");
                        None
                    }
                }
            })
            .await;
        match made {
            Some(encoded) => (coding, encoded.clone()),
            None => (Coding::Identity, self.body()),
        }
    }
}

/// The ETag of a representation: the snapshot's (`"v7-…"`) for identity, with `-gzip` or
/// `-br` before the closing quote for the encoded ones.
pub fn etag(identity: &str, coding: Coding) -> String {
    match (coding, identity.strip_suffix('"')) {
        (Coding::Identity, _) => identity.to_owned(),
        (_, Some(open)) => format!("{open}-{}\"", coding.token()),
        (_, None) => format!("{identity}-{}", coding.token()),
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
    closing: tokio::sync::watch::Receiver<bool>,
    sent: Option<u64>,
    quiet_until: tokio::time::Instant,
}

/// The frames of one `/sdk/stream` connection of `environment`: the current version (unless
/// it is `seen`, the client's `Last-Event-ID`), then each newer version announced, and
/// [`KEEP_ALIVE_COMMENT`] after [`KEEP_ALIVE`] without an event; it ends when the server shuts
/// down (`crate::snapshots::Snapshots::close_streams`).
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
        closing: config.closing(),
        config,
        environment: Arc::from(environment),
        sent: seen,
        quiet_until: tokio::time::Instant::now() + KEEP_ALIVE,
    };
    futures_util::stream::unfold(follow, |mut f| async move {
        loop {
            if *f.closing.borrow() {
                return None;
            }
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
            // Wait for the next announced version (the sender lives as long as the state), the
            // time for a comment, or the server's shutdown.
            let next = tokio::select! {
                next = tokio::time::timeout_at(f.quiet_until, f.changes.changed()) => next,
                _ = f.closing.wait_for(|closing| *closing) => return None,
            };
            match next {
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

    fn delivery(body: &str) -> Delivery {
        let snapshot = Snapshot {
            version: 7,
            etag: crate::store::etag(7, body),
            body: body.to_owned(),
        };
        Delivery::new(Arc::new(snapshot)).unwrap()
    }

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
    fn each_representation_has_its_etag_and_all_of_them_match() {
        let d = delivery(r#"{"version":"v7"}"#);
        let identity = d.etag(Coding::Identity).to_str().unwrap().to_owned();
        assert!(identity.starts_with("\"v7-") && identity.ends_with('"'));
        let gzip = d.etag(Coding::Gzip).to_str().unwrap();
        let br = d.etag(Coding::Br).to_str().unwrap();
        assert_eq!(gzip, format!("{}-gzip\"", &identity[..identity.len() - 1]));
        assert_eq!(br, format!("{}-br\"", &identity[..identity.len() - 1]));
        for given in [
            identity.clone(),
            gzip.to_owned(),
            br.to_owned(),
            format!("W/{identity}"),
            format!("\"x\", {gzip}"),
            "*".to_owned(),
        ] {
            assert!(
                d.matches([&HeaderValue::from_str(&given).unwrap()]),
                "{given}"
            );
        }
        for given in ["\"v7\"", "\"v6-0\"", "", "\"x\""] {
            assert!(
                !d.matches([&HeaderValue::from_str(given).unwrap()]),
                "{given}"
            );
        }
    }

    #[tokio::test]
    async fn bodies_are_encoded_once_and_small_ones_not_at_all() {
        let small = delivery(r#"{"version":"v7"}"#);
        assert_eq!(small.coding(Coding::Br), Coding::Identity);
        let body = format!(r#"{{"version":"v7","pad":"{}"}}"#, "abc".repeat(1_000));
        let d = delivery(&body);
        assert_eq!(d.coding(Coding::Gzip), Coding::Gzip);
        for coding in [Coding::Gzip, Coding::Br] {
            let (c1, first) = d.encoded(coding).await;
            let (c2, again) = d.encoded(coding).await;
            assert_eq!((c1, c2), (coding, coding));
            assert_eq!(first.as_ptr(), again.as_ptr(), "shared, not made again");
            assert!(first.len() < body.len() / 10);
        }
        assert_eq!(d.frame().as_ptr(), d.frame().as_ptr());
        assert_eq!(&d.encoded(Coding::Identity).await.1[..], body.as_bytes());
    }
}
