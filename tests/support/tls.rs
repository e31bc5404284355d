//! An HTTPS server with a certificate from a private CA made for the test,
//! answering every request with one fixed JSON body: enough to tell whether
//! onramp's TLS policy let a connection through (an answer) or not (a
//! certificate error). The CA's PEM file is written for `--ca-cert`.

// Shared test support: not every test module uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A running HTTPS server; it stops when the test process ends.
pub struct TlsServer {
    url: String,
    dir: tempfile::TempDir,
}

impl TlsServer {
    /// Starts a server on 127.0.0.1 whose certificate a private CA signed;
    /// every request gets 200 with `body`.
    pub fn start(body: &'static str) -> Self {
        let (ca_pem, acceptor) = private_ca_acceptor("onramp test CA");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("ca.pem"), ca_pem).expect("write CA");

        let addr = super::spawn_server(move |listener| serve(listener, acceptor, body));
        TlsServer {
            url: format!("https://{addr}"),
            dir,
        }
    }

    /// The base URL (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PEM file of the CA that signed the server's certificate.
    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The folder holding [`TlsServer::ca_pem`].
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A serving certificate for 127.0.0.1 and localhost that a CA made for
/// this run signed.
pub struct PrivateCert {
    /// The CA's certificate (what a client must trust), PEM.
    pub ca_pem: String,
    /// The serving certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PKCS#8 PEM.
    pub key_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

/// Makes a CA named `ca_name` and a serving certificate it signed.
pub fn private_ca_cert(ca_name: &str) -> PrivateCert {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("leaf params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf certificate");
    PrivateCert {
        ca_pem: ca_cert.pem(),
        cert_pem: leaf.pem(),
        key_pem: leaf_key.serialize_pem(),
        cert_der: leaf.der().to_vec(),
        key_der: leaf_key.serialize_der(),
    }
}

/// A CA made for this run (named `ca_name`) and a TLS acceptor whose
/// certificate, for 127.0.0.1 and localhost, that CA signed; returns the
/// CA's PEM (what a client must trust) and the acceptor.
pub fn private_ca_acceptor(ca_name: &str) -> (String, TlsAcceptor) {
    let cert = private_ca_cert(ca_name);
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.cert_der.into()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der)),
    )
    .expect("server config");
    (cert.ca_pem, TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections; each gets one answer, then is closed. A failed
/// handshake (the client refused the certificate) just ends that connection.
async fn serve(listener: tokio::net::TcpListener, acceptor: TlsAcceptor, body: &'static str) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            // Read the request head; the body, if any, is not needed.
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tls.write_all(answer.as_bytes()).await;
            let _ = tls.shutdown().await;
        });
    }
}
