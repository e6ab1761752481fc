//! Who is on the other end of a mutual-TLS connection: the subject and serial number of the
//! verified client certificate, for the audit log and the records' headers. Never the key.

use std::any::Any;

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;

/// The verified client certificate of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    /// Subject distinguished name, e.g. `C=BR, O=PSP Exemplo, CN=webhook.psp.example`.
    pub subject: String,
    /// Serial number, hexadecimal with `:` separators.
    pub serial: String,
}

impl PeerIdentity {
    /// Reads the subject and serial of a DER certificate.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        Some(Self { subject: cert.subject().to_string(), serial: cert.raw_serial_as_string() })
    }
}

/// actix-web's `on_connect` hook: stores the [`PeerIdentity`] of a TLS connection whose client
/// sent a (verified) certificate in the connection's extensions (`HttpRequest::conn_data`).
pub fn record_peer(conn: &dyn Any, ext: &mut Extensions) {
    let Some(stream) = conn.downcast_ref::<TlsStream<TcpStream>>() else { return };
    let (_, session) = stream.get_ref();
    if let Some(id) = session.peer_certificates().and_then(|c| c.first()).and_then(|c| PeerIdentity::from_der(c)) {
        ext.insert(id);
    }
}
