//! A minimal HTTP/1.1 client with one kept-alive connection.
//!
//! The simulator uses it to call the shop over real HTTP, so that simulated
//! traffic goes through the same router, middleware and metrics as outside
//! traffic; the tests use it to scrape `/metrics`. It only does what those
//! need: bodiless requests, the status and the body as text, one reconnect.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No TCP connection to the shop.
    #[error("cannot connect to {addr}")]
    Connect {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("HTTP request to {addr} failed")]
    Http {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: hyper::Error,
    },
    /// The request could not be built (bad path).
    #[error("invalid request {path}")]
    Request {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: axum::http::Error,
    },
}

/// A response: the status and the body as (lossy) UTF-8 text.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The body.
    pub body: String,
}

/// A client bound to one server address.
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    conn: Option<SendRequest<Empty<Bytes>>>,
}

impl Client {
    /// A client for `addr`; it connects on first use.
    pub fn new(addr: SocketAddr) -> Client {
        Client { addr, conn: None }
    }

    /// Sends a bodiless request with optional extra headers.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Response, ClientError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.addr.to_string());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request =
            builder
                .body(Empty::<Bytes>::new())
                .map_err(|source| ClientError::Request {
                    path: path.to_owned(),
                    source,
                })?;
        let mut sender = self.connection().await?;
        let result = async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Response {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        }
        .await;
        match result {
            Ok(response) => {
                self.conn = Some(sender);
                Ok(response)
            }
            // Drop the connection; the next request opens a new one.
            Err(source) => Err(ClientError::Http {
                addr: self.addr,
                source,
            }),
        }
    }

    /// Sends `GET path`.
    pub async fn get(&mut self, path: &str) -> Result<Response, ClientError> {
        self.send(Method::GET, path, &[]).await
    }

    /// The kept-alive connection, or a new one.
    async fn connection(&mut self) -> Result<SendRequest<Empty<Bytes>>, ClientError> {
        if let Some(mut sender) = self.conn.take()
            && sender.ready().await.is_ok()
        {
            return Ok(sender);
        }
        let stream =
            TcpStream::connect(self.addr)
                .await
                .map_err(|source| ClientError::Connect {
                    addr: self.addr,
                    source,
                })?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|source| ClientError::Http {
                    addr: self.addr,
                    source,
                })?;
        // The connection task ends when the sender is dropped or the server closes.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}
