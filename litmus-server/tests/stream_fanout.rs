//! `/sdk/stream` fanned out: many streams of one server all get each new version, a client
//! that never reads holds back no one and, once it reads, gets the newest version having
//! skipped those it had no room for; the event is the SSE frame of the snapshot, byte for
//! byte; `Last-Event-ID` skips the version the client has; a shutdown ends the streams and the
//! server stops. The tests wait for events, never
//! against a clock: how fast a change reaches 10,000 streams is measured by
//! `benches/server/sse.sh`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use futures_util::FutureExt;
use http_body_util::BodyExt;
use litmus_core::sdk::sse::{SseDecoder, SseEvent};
use litmus_server::store::Store;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

on_every_backend!(two_hundred_streams_all_receive_each_new_version);

/// Serves `app` on a loopback port with the server's accept loop, as `main.rs` does.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(litmus_server::server::serve(
        listener,
        app,
        std::future::pending(),
    ));
    addr
}

/// A stream read through an HTTP client, decoded by core's SSE decoder.
struct Follower {
    res: reqwest::Response,
    decoder: SseDecoder,
    events: VecDeque<SseEvent>,
}

impl Follower {
    async fn open(client: &reqwest::Client, addr: SocketAddr, last_event_id: Option<&str>) -> Self {
        let mut req = client
            .get(format!("http://{addr}/sdk/stream"))
            .bearer_auth(KEY);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        assert_eq!(res.headers()["cache-control"], "no-cache");
        Follower {
            res,
            decoder: SseDecoder::new(),
            events: VecDeque::new(),
        }
    }

    /// The next event, however long it takes.
    async fn next(&mut self) -> SseEvent {
        loop {
            if let Some(e) = self.events.pop_front() {
                return e;
            }
            let chunk = self.res.chunk().await.unwrap().expect("the stream is open");
            self.events.extend(self.decoder.feed(&chunk));
        }
    }
}

/// The identity body of `/sdk/config`.
async fn config_body(app: &Router) -> String {
    let req = Request::get("/sdk/config")
        .header("authorization", format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn two_hundred_streams_all_receive_each_new_version<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let addr = serve(app.clone()).await;
    let client = reqwest::Client::new();
    let mut streams = Vec::new();
    for _ in 0..200 {
        let mut f = Follower::open(&client, addr, None).await;
        let first = f.next().await;
        assert_eq!((first.kind.as_str(), first.id.as_str()), ("config", "0"));
        streams.push(f);
    }
    for (version, key) in [(1, "a"), (2, "b")] {
        let put = put_experiment(&app, key, experiment(key, "running")).await;
        assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
        let body = config_body(&app).await;
        for f in &mut streams {
            let e = f.next().await;
            assert_eq!(e.id, version.to_string());
            assert_eq!(e.kind, "config");
            assert_eq!(e.data, body, "the event's data is the snapshot");
        }
    }
}

/// Sends `GET /sdk/stream` on a socket whose receive buffer is as small as the system allows,
/// and reads nothing yet.
async fn stalled_stream(addr: SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(addr).await.unwrap();
    let head =
        format!("GET /sdk/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Reads a chunked `text/event-stream` answer until the event of `last`; answers every event
/// id seen, in order.
async fn read_ids_until(s: &mut TcpStream, last: &str) -> Vec<String> {
    let mut raw = Vec::new();
    let mut buf = vec![0; 1 << 16];
    let mut decoder = SseDecoder::new();
    let mut ids = Vec::new();
    // The head, then chunks: a hexadecimal size line, that many bytes, CRLF.
    let mut in_head = true;
    loop {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "the stream ended");
        raw.extend_from_slice(&buf[..n]);
        if in_head {
            let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            assert!(raw.starts_with(b"HTTP/1.1 200"));
            raw.drain(..end + 4);
            in_head = false;
        }
        while let Some(line) = raw.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(std::str::from_utf8(&raw[..line]).unwrap(), 16)
                .expect("a chunk size");
            if raw.len() < line + 2 + size + 2 {
                break;
            }
            let chunk: Vec<u8> = raw.drain(..line + 2 + size + 2).collect();
            for e in decoder.feed(&chunk[line + 2..line + 2 + size]) {
                ids.push(e.id.clone());
                if e.id == last {
                    return ids;
                }
            }
        }
    }
}

/// A client that never reads: the others get every version meanwhile; what it holds is
/// bounded (the server stops taking frames for it while its write queue is full), and when it
/// reads at last it gets versions in order, ending with the newest, having skipped many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_holds_back_no_one_and_skips_to_the_newest() {
    let env = common::sqlite();
    let app = env.app().await;
    let addr = serve(app.clone()).await;
    let mut stalled = stalled_stream(addr).await;
    let client = reqwest::Client::new();
    let mut reader = Follower::open(&client, addr, None).await;
    assert_eq!(reader.next().await.id, "0");
    // Every version is over 200 KB: 60 of them (12 MB) are far more than the stalled
    // connection's socket buffers (Linux lets the server's grow to 4 MiB by default) and the
    // server's write queue for it hold.
    let mut big = experiment("big", "running");
    big["variants"][1]["payload"] = json!({"blob": "x".repeat(200_000)});
    let versions = 60;
    for v in 1..=versions {
        let (key, body) = if v == 1 {
            ("big".to_owned(), big.clone())
        } else {
            let key = format!("e{v}");
            let body = experiment(&key, "draft");
            (key, body)
        };
        let put = put_experiment(&app, &key, body).await;
        assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
        // The reader gets each version while the stalled client holds its frames unread.
        let e = reader.next().await;
        assert_eq!(e.id, v.to_string());
        assert!(e.data.len() > 200_000);
    }
    let ids = read_ids_until(&mut stalled, &versions.to_string()).await;
    let ids: Vec<u64> = ids.iter().map(|i| i.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(
        ids.len() < versions,
        "a reader with no room skips versions: {ids:?}"
    );
}

/// The event's bytes are the SSE frame of the snapshot: `event`, `id`, one `data` line (the
/// JSON has no line break), an empty line; a stream whose `Last-Event-ID` names the current
/// version starts with the next one; any other id gets the current version at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frame_is_the_snapshot_and_last_event_id_skips_the_current_version() {
    let env = common::sqlite();
    let app = env.app().await;
    let put = put_experiment(&app, "a", experiment("a", "running")).await;
    assert_eq!(put.status, StatusCode::OK);
    let body = config_body(&app).await;
    assert!(!body.contains('\n') && !body.contains('\r'));

    let open = |last: Option<&'static str>| {
        let app = app.clone();
        async move {
            let mut req =
                Request::get("/sdk/stream").header("authorization", format!("Bearer {KEY}"));
            if let Some(id) = last {
                req = req.header("last-event-id", id);
            }
            let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.into_body()
        }
    };
    let next_frame = |mut b: Body| async move {
        let frame = b.frame().await.unwrap().unwrap().into_data().unwrap();
        (frame, b)
    };

    let (frame, _) = next_frame(open(None).await).await;
    assert_eq!(
        &frame[..],
        format!("event: config\nid: 1\ndata: {body}\n\n").as_bytes()
    );
    // Another id than the current version's: the current version at once.
    let (frame, _) = next_frame(open(Some("7")).await).await;
    assert!(frame.starts_with(b"event: config\nid: 1\n"));

    // The current version's id: nothing until the next version. The snapshot of version 1
    // is served already (read above), so the first poll finds it and waits for a change.
    let mut skipping = open(Some("1")).await;
    assert!(
        skipping.frame().now_or_never().is_none(),
        "nothing sent for the version the client has"
    );
    let put = put_experiment(&app, "b", experiment("b", "running")).await;
    assert_eq!(put.status, StatusCode::OK);
    let (frame, _) = next_frame(skipping).await;
    let body = config_body(&app).await;
    assert_eq!(
        &frame[..],
        format!("event: config\nid: 2\ndata: {body}\n\n").as_bytes()
    );
}

/// At shutdown the streams end (the clients reconnect elsewhere) and the server stops: a
/// stream never ending would keep it from stopping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_ends_the_streams_and_the_server_stops() {
    let env = common::sqlite();
    let state = env.instance().await;
    let snapshots = state.snapshots.clone();
    let app = litmus_server::app(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(litmus_server::server::serve(listener, app, async move {
        let _ = stopped.await;
        snapshots.close_streams();
    }));
    let client = reqwest::Client::new();
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut f = Follower::open(&client, addr, None).await;
        assert_eq!(f.next().await.id, "0");
        streams.push(f);
    }
    stop.send(()).unwrap();
    for mut f in streams {
        assert!(f.res.chunk().await.unwrap().is_none(), "the stream ended");
    }
    server.await.unwrap().unwrap();
}
