//! Why a TLS configuration could not be built.

use std::path::PathBuf;

/// A file that cannot be used, or a configuration rustls refuses.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file holds no usable PEM item of the expected kind.
    #[error("{path}: {what}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong or missing.
        what: String,
    },
    /// rustls refused the certificate, key or CA bundle.
    #[error("{what}: {source}")]
    Rustls {
        /// What was being built.
        what: String,
        /// Why.
        #[source]
        source: rustls::Error,
    },
    /// The client certificate verifier could not be built from the CA bundle.
    #[error("{path}: cannot build a client certificate verifier: {source}")]
    Verifier {
        /// The CA bundle.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls::server::VerifierBuilderError,
    },
}
