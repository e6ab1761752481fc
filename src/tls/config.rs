//! The `tls:` blocks of the config: a listener's (server side) and a client's (HTTP sink).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `tls:` of an HTTP listener (an `http` source or the admin listener).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ListenerTls {
    /// PEM certificate chain of the listener (leaf first, then intermediates).
    pub cert_file: PathBuf,
    /// PEM private key of `cert_file` (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// PEM bundle of the CAs whose client certificates are accepted; set it to turn on mutual TLS.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// With `client_ca_file`: `required` (a client without a valid certificate fails the
    /// handshake) or `optional` (a certificate is verified when sent).
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// How often, at most, the files are checked for a new content (at handshake time).
    #[serde(default = "default_reload_interval", with = "humantime_serde")]
    pub reload_interval: Duration,
}

/// Whether a client must present a certificate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// No certificate, no connection.
    #[default]
    Required,
    /// A certificate is verified when the client sends one; a client without one gets through.
    Optional,
}

const fn default_reload_interval() -> Duration {
    Duration::from_secs(10)
}

impl ListenerTls {
    /// Whether the listener asks for client certificates.
    pub fn mutual(&self) -> bool {
        self.client_ca_file.is_some()
    }

    /// Field problems, as (field path starting at `tls.`, message). The files are read and parsed by
    /// [`super::server_config`] (`check-config` and start), not here: loading stays pure.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.reload_interval < Duration::from_millis(100) {
            out.push(("tls.reload_interval", "expected at least 100ms".into()));
        }
        if self.client_ca_file.is_none() && self.client_auth == ClientAuth::Optional {
            out.push(("tls.client_auth", "`optional` needs tls.client_ca_file".into()));
        }
        out
    }
}

/// `tls:` of an outgoing HTTPS connection (the HTTP sink).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientTls {
    /// PEM bundle of the CAs trusted for the server's certificate, instead of the system store.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate chain, for mutual TLS (with `key_file`).
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

impl ClientTls {
    /// Field problems, as (field path starting at `tls.`, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        match (&self.cert_file, &self.key_file) {
            (Some(_), None) => vec![("tls.key_file", "expected with tls.cert_file".into())],
            (None, Some(_)) => vec![("tls.cert_file", "expected with tls.key_file".into())],
            _ => Vec::new(),
        }
    }
}
