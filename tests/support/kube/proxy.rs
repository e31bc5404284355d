//! Forwarding of the service proxy to a real loopback server: one
//! HTTP/1.0 request (so the answer is never chunked), the answer read to
//! its end and passed back with its status and content type.

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends `method /path?query` with `body` to `address`; the upstream answer.
pub async fn forward(
    address: SocketAddr,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let target = if query.is_empty() {
        format!("/{path}")
    } else {
        format!("/{path}?{query}")
    };
    let head = format!(
        "{method} {target} HTTP/1.0\r\nHost: {address}\r\nContent-Length: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP head in the answer"))?;
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    let body = answer[split + 4..].to_vec();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| std::io::Error::other("no status in the answer"))?;
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| "application/octet-stream".to_string());
    Ok((code, [("content-type", content_type)], body).into_response())
}
