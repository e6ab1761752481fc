//! PEM files: certificate chains, private keys, CA bundles.

use std::path::Path;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;

/// The bytes of `path`.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })
}

fn pem_error(path: &Path, what: impl Into<String>) -> TlsError {
    TlsError::Pem { path: path.to_owned(), what: what.into() }
}

/// Every certificate of a PEM file (at least one).
pub(crate) fn certs(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(pem_error(path, "no PEM `CERTIFICATE` block found"));
    }
    Ok(certs)
}

/// The private key of a PEM file.
pub(crate) fn key(path: &Path, pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| pem_error(path, format!("no usable PEM private key: {e}")))
}

/// A root store of every certificate in a PEM CA bundle.
pub(crate) fn roots(path: &Path, pem: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in certs(path, pem)? {
        store.add(cert).map_err(|e| pem_error(path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(store)
}
