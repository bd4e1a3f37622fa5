//! A minimal HTTP/1.1 client for the server load generators: one request at a time on a
//! kept-alive connection, with the body's length known (the server always sends one).

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Sends `method path` with a bearer `key` and a JSON `body` on `conn`; answers the status and
/// the body.
pub async fn request(
    conn: &mut BufReader<TcpStream>,
    method: &str,
    host: &str,
    path: &str,
    key: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    request_with(conn, method, host, path, key, body, "").await
}

/// As [`request`], with `extra` header lines (each ending in `\r\n`).
pub async fn request_with(
    conn: &mut BufReader<TcpStream>,
    method: &str,
    host: &str,
    path: &str,
    key: &str,
    body: &str,
    extra: &str,
) -> std::io::Result<(u16, String)> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    );
    // One write: a second small one would wait for the first's ACK (Nagle's algorithm against
    // delayed ACKs), adding 40 ms to every request.
    let mut request = head.into_bytes();
    request.extend_from_slice(body.as_bytes());
    conn.get_mut().write_all(&request).await?;
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    loop {
        line.clear();
        conn.read_line(&mut line).await?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}
