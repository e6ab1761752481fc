//! The rustls server configuration of a listener: a certificate resolver and a client verifier
//! that both swap in new files (see [`super::reload`]).

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

use super::reload::Reloading;
use super::{ClientAuth, ListenerTls, TlsError, files, provider};

/// The server configuration of `tls`; reads and checks every file now (an error is a start or
/// `check-config` error), and again whenever they change.
pub fn server_config(tls: &ListenerTls) -> Result<ServerConfig, TlsError> {
    let p = provider();
    let resolver = Arc::new(CertResolver(certified_key(
        "listener certificate",
        tls.cert_file.clone(),
        tls.key_file.clone(),
        tls.reload_interval,
    )?));
    let builder = ServerConfig::builder_with_provider(Arc::clone(&p))
        .with_protocol_versions(super::VERSIONS)
        .map_err(|source| TlsError::Rustls { what: "TLS versions".into(), source })?;
    let builder = match &tls.client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let path = ca.clone();
            let optional = tls.client_auth == ClientAuth::Optional;
            let verifiers = Reloading::new("client CA bundle", vec![ca.clone()], tls.reload_interval, move |c| {
                let roots = Arc::new(files::roots(&path, &c[0])?);
                let b = WebPkiClientVerifier::builder_with_provider(roots, provider());
                let b = if optional { b.allow_unauthenticated() } else { b };
                b.build().map_err(|source| TlsError::Verifier { path: path.clone(), source })
            })?;
            builder.with_client_cert_verifier(Arc::new(ReloadingVerifier { verifiers, mandatory: !optional }))
        }
    };
    Ok(builder.with_cert_resolver(resolver))
}

/// A certificate chain and its key from two PEM files, re-read when they change; the key must
/// match the certificate.
pub(crate) fn certified_key(
    what: &'static str,
    cert_file: std::path::PathBuf,
    key_file: std::path::PathBuf,
    interval: std::time::Duration,
) -> Result<Reloading<CertifiedKey>, TlsError> {
    let (cp, kp) = (cert_file.clone(), key_file.clone());
    Reloading::new(what, vec![cert_file, key_file], interval, move |c| {
        let chain = files::certs(&cp, &c[0])?;
        let key = files::key(&kp, &c[1])?;
        CertifiedKey::from_der(chain, key, &provider())
            .map_err(|source| TlsError::Rustls { what: format!("{} with {}", cp.display(), kp.display()), source })
    })
}

/// Hands out the current certificate.
#[derive(Debug)]
struct CertResolver(Reloading<CertifiedKey>);

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current())
    }
}

/// Verifies client certificates against the current CA bundle.
#[derive(Debug)]
struct ReloadingVerifier {
    verifiers: Reloading<Arc<dyn ClientCertVerifier>>,
    mandatory: bool,
}

impl ClientCertVerifier for ReloadingVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    /// No CA names are sent in the CertificateRequest (allowed by RFC 8446 and 5246): the bundle
    /// can change between handshakes, and a client sends its one configured certificate anyway.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.verifiers.current().verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifiers.current().verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifiers.current().verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.verifiers.current().supported_verify_schemes()
    }
}
