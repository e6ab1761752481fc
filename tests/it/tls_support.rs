//! Test PKI and a TLS client of our own for the listener tests: CAs and certificates made with
//! rcgen in a temp dir (no key is ever committed), and a blocking rustls client that speaks
//! HTTP/1.1, presents a client certificate or not, and tells which server certificate it saw.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// A certificate authority.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A leaf certificate and its key, PEM.
#[derive(Clone)]
pub struct Leaf {
    pub cert: String,
    pub key: String,
}

impl Ca {
    pub fn new(cn: &str) -> Self {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Self { issuer: CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap() }
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for 127.0.0.1 and localhost (server and client use), valid now.
    pub fn leaf(&self, cn: &str) -> Leaf {
        self.leaf_with(cn, |_| {})
    }

    /// A certificate whose validity ended in 2021.
    pub fn expired_leaf(&self, cn: &str) -> Leaf {
        self.leaf_with(cn, |p| {
            p.not_before = date_time_ymd(2020, 1, 1);
            p.not_after = date_time_ymd(2021, 1, 1);
        })
    }

    fn leaf_with(&self, cn: &str, tweak: impl FnOnce(&mut CertificateParams)) -> Leaf {
        let mut p = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.distinguished_name.push(DnType::OrganizationName, "PSP de Teste");
        tweak(&mut p);
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &self.issuer).unwrap();
        Leaf { cert: cert.pem(), key: key.serialize_pem() }
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The `tls:` block of a listener with these files (client auth when `client_ca` is given).
pub fn listener_tls(cert: &Path, key: &Path, client_ca: Option<&Path>) -> serde_json::Value {
    let mut tls = serde_json::json!({"cert_file": cert, "key_file": key, "reload_interval": "200ms"});
    if let Some(ca) = client_ca {
        tls["client_ca_file"] = serde_json::json!(ca);
    }
    tls
}

/// What one HTTPS request got.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Common name of the server certificate seen in the handshake.
    pub server_cn: String,
}

fn cn_of(der: &[u8]) -> String {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    cert.subject().iter_common_name().next().and_then(|c| c.as_str().ok()).unwrap_or_default().to_owned()
}

/// POSTs `body` over HTTPS to `addr` + `path`, trusting `ca_pem`, presenting `client` if given.
/// `Err` is the TLS or I/O failure (e.g. the server refused the client certificate).
pub fn post(addr: SocketAddr, path: &str, ca_pem: &str, client: Option<&Leaf>, body: &str) -> Result<Answer, String> {
    request(addr, &format!("POST {path}"), "", ca_pem, client, body)
}

/// One HTTPS request: `line` is `METHOD /path`, `headers` extra `name: value\r\n` lines.
pub fn request(
    addr: SocketAddr,
    line: &str,
    headers: &str,
    ca_pem: &str,
    client: Option<&Leaf>,
    body: &str,
) -> Result<Answer, String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(l) => {
            let chain = CertificateDer::pem_slice_iter(l.cert.as_bytes()).map(Result::unwrap).collect();
            builder.with_client_auth_cert(chain, PrivateKeyDer::from_pem_slice(l.key.as_bytes()).unwrap()).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let conn = rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("127.0.0.1").unwrap()).unwrap();
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let request = format!(
        "{line} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}connection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    tls.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status =
        text.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    let server_cn = tls.conn.peer_certificates().and_then(|c| c.first()).map(|c| cn_of(c)).unwrap_or_default();
    Ok(Answer { status, body, server_cn })
}

/// `post` off the async runtime.
pub async fn post_async(
    addr: SocketAddr,
    path: &str,
    ca_pem: &str,
    client: Option<&Leaf>,
    body: &str,
) -> Result<Answer, String> {
    let (path, ca, client, body) = (path.to_owned(), ca_pem.to_owned(), client.cloned(), body.to_owned());
    tokio::task::spawn_blocking(move || post(addr, &path, &ca, client.as_ref(), &body)).await.unwrap()
}
