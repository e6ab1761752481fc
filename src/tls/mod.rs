//! TLS for every socket pix-ingest opens or accepts over HTTP: the `tls:` blocks of the HTTP
//! listeners (sources and admin) and of the HTTP sink, turned into rustls configurations.
//!
//! - [`ListenerTls`] -> [`server_config`]: PEM certificate and key, TLS 1.2 and 1.3 only, optional
//!   client authentication against a CA bundle (`required` fails the handshake of a client without
//!   a valid certificate, so no request of it ever reaches a handler).
//! - [`ClientTls`] -> [`client_config`]: the system roots or a custom CA, and a client certificate
//!   for mutual TLS to the service called.
//! - Rotation without restart: certificates, keys and CA bundles are re-read when their content
//!   changes. The check runs at handshake time, at most once per `reload_interval`; a pair that
//!   does not load (a half-written rotation) keeps the previous one in service and is logged.
//! - [`PeerIdentity`]: the subject and serial of a verified client certificate, recorded per
//!   connection for the audit log and the records' headers (never the key).
//!
//! A leaf: it imports no other module of this crate. The crypto provider is rustls' `ring`, named
//! explicitly, so the build never depends on which provider another dependency enabled.

mod client;
mod config;
mod error;
mod files;
mod peer;
mod reload;
mod server;

pub use client::client_config;
pub use config::{ClientAuth, ClientTls, ListenerTls};
pub use error::TlsError;
pub use peer::{PeerIdentity, record_peer};
pub use server::server_config;

/// The one crypto provider of pix-ingest's TLS.
pub(crate) fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

/// TLS 1.3 and 1.2; never older.
pub(crate) const VERSIONS: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];
