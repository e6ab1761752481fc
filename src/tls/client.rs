//! The rustls client configuration of an outgoing HTTPS connection (the HTTP sink): trusted roots
//! (the system store, or the configured CA bundle instead) and an optional client certificate for
//! mutual TLS, re-read when its files change.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, SignatureScheme};

use super::reload::Reloading;
use super::server::certified_key;
use super::{ClientTls, TlsError, files, provider};

/// How often, at most, a client certificate's files are checked for a new content.
const CLIENT_RELOAD: Duration = Duration::from_secs(10);

/// The client configuration of `tls` (TLS 1.2 and 1.3 only).
pub fn client_config(tls: &ClientTls) -> Result<ClientConfig, TlsError> {
    let roots = match &tls.ca_file {
        Some(path) => files::roots(path, &files::read(path)?)?,
        None => system_roots(),
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(super::VERSIONS)
        .map_err(|source| TlsError::Rustls { what: "TLS versions".into(), source })?
        .with_root_certificates(roots);
    let mut config = match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            let keys = certified_key("client certificate", cert.clone(), key.clone(), CLIENT_RELOAD)?;
            builder.with_client_cert_resolver(Arc::new(ClientCertResolver(keys)))
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The operating system's trust store; certificates it cannot use are skipped.
fn system_roots() -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::warn!(%error, "A system CA certificate could not be loaded.");
    }
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        tracing::warn!(ignored, "No usable system CA certificate: set tls.ca_file to reach an https:// service.");
    }
    roots
}

/// Hands out the current client certificate.
#[derive(Debug)]
struct ClientCertResolver(Reloading<CertifiedKey>);

impl ResolvesClientCert for ClientCertResolver {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
