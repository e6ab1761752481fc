//! Who is on the other end of a mutual-TLS connection: the subject and serial number of the
//! verified client certificate, for the audit log and the records' headers. Never the key.

use std::any::Any;

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;

/// The verified client certificate of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    /// Subject distinguished name, e.g. `C=BR, O=PSP Exemplo, CN=webhook.psp.example`, with any
    /// CPF/CNPJ-like number in it masked (ICP-Brasil certificates put the holder's CNPJ or CPF in
    /// the CN): every digit of a run of 8 or more but the last two becomes `*`.
    pub subject: String,
    /// Serial number, hexadecimal with `:` separators.
    pub serial: String,
}

impl PeerIdentity {
    /// Reads the subject and serial of a DER certificate.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        Some(Self { subject: mask_ids(&cert.subject().to_string()), serial: cert.raw_serial_as_string() })
    }
}

/// Masks numbers that may be a CPF or CNPJ: runs of digits (with `.`, `/`, `-` between them) that
/// hold 8 digits or more keep only their last two digits.
fn mask_ids(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | '/' | '-')) {
            i += 1;
        }
        let run = &chars[start..i];
        let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
        let mut seen = 0;
        for c in run {
            if c.is_ascii_digit() {
                seen += 1;
                out.push(if digits >= 8 && seen <= digits - 2 { '*' } else { *c });
            } else {
                out.push(*c);
            }
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::mask_ids;

    #[test]
    fn tax_ids_in_a_subject_are_masked_short_numbers_kept() {
        assert_eq!(
            mask_ids("CN=PSP EXEMPLO SA:11222333000181, O=ICP-Brasil"),
            "CN=PSP EXEMPLO SA:************81, O=ICP-Brasil"
        );
        assert_eq!(mask_ids("CN=FULANO:529.982.247-25"), "CN=FULANO:***.***.***-25");
        assert_eq!(mask_ids("CN=webhook.psp.example, OU=v2, L=2026"), "CN=webhook.psp.example, OU=v2, L=2026");
    }
}
