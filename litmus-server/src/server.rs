//! The accept loop: each connection served by hyper's HTTP/1.1 connection (the server speaks
//! HTTP/1.1 only), with the peer's address for the handlers (`ConnectInfo`), `TCP_NODELAY`,
//! and graceful shutdown: no new connections, each open one finishes its answer, and
//! `/sdk/stream` responses end (`crate::snapshots::Snapshots::close_streams`).
//!
//! Written here instead of `axum::serve` for memory, which matters with 10,000 idle SDK streams
//! on one instance: `axum::serve` first reads a few bytes to tell HTTP/2 from HTTP/1 and hands
//! them back through a wrapper, and hyper's read buffer then grows from 8 to 16 KiB per
//! connection; it also keeps a larger task per connection. Each connection here holds hyper's
//! two 8 KiB buffers (read, and the response head) and a small task
//! (`benches/server/sse.sh` measures it).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use axum::routing::future::RouteFuture;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The router as one connection's hyper service: each request gets the peer's address.
struct Connection {
    app: Router,
    peer: SocketAddr,
}

impl hyper::service::Service<Request<Incoming>> for Connection {
    type Response = Response;
    type Error = Infallible;
    type Future = RouteFuture<Infallible>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(ConnectInfo(self.peer));
        tower_service::Service::call(&mut self.app.clone(), req)
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits for the open connections
/// to finish their answers (`shutdown` should also end the streams, see the module).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    // `true` once shutting down; each connection task holds a receiver, so the sender's
    // `closed()` says when every connection has finished.
    let (closing, connections) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let service = Connection {
            app: app.clone(),
            peer,
        };
        let mut stop = connections.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            let finished = tokio::select! {
                result = conn.as_mut() => Some(result),
                _ = stop.wait_for(|c| *c) => None,
            };
            let result = match finished {
                Some(result) => result,
                None => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::trace!(error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    drop(connections);
    let _ = closing.send(true);
    closing.closed().await;
    Ok(())
}

/// After a failed accept: a connection that failed on its way in is skipped; anything else
/// (out of file descriptors, most likely) is logged and the loop waits a second, so it does
/// not spin while the process cannot open files.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
