//! `pix-ingest healthcheck`: one GET of a liveness URL, success on a 2xx. It is the container
//! image's `HEALTHCHECK` (the slim image has no curl) and works from any script. The URL is
//! `--url`, or else the admin listener's `/healthz` of the config `run` would use, an unspecified
//! listen address (`0.0.0.0`, `[::]`) probed on loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::config::Config;

/// Why the check failed.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// No URL given and the config has no admin listener to probe.
    #[error("the admin listener is disabled (admin.enabled: false): give --url")]
    AdminDisabled,
    /// No answer (refused, timed out, not HTTP).
    #[error("{url}: no answer: {reason}")]
    Unreachable {
        /// The probed URL.
        url: String,
        /// The error and its causes, e.g. `Connection refused`.
        reason: String,
    },
    /// An answer that is not a 2xx.
    #[error("{url}: answered {status}")]
    Status {
        /// The probed URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
}

/// The admin listener's `/healthz` URL of `cfg`.
pub fn admin_url(cfg: &Config) -> Result<String, HealthError> {
    if !cfg.admin.enabled {
        return Err(HealthError::AdminDisabled);
    }
    Ok(format!("http://{}/healthz", probe_addr(cfg.admin.listen)))
}

/// Where to connect for a listener bound to `listen`: loopback for an unspecified address.
fn probe_addr(listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), listen.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), listen.port()),
        _ => listen,
    }
}

/// GETs `url` within `timeout`; `Ok` with the status when it is a 2xx.
pub async fn check(url: &str, timeout: Duration) -> Result<u16, HealthError> {
    let unreachable = |e: &dyn std::error::Error| HealthError::Unreachable {
        url: url.to_owned(),
        reason: crate::base::error_chain(e),
    };
    let client = reqwest::Client::builder().timeout(timeout).build().map_err(|e| unreachable(&e))?;
    let resp = client.get(url).send().await.map_err(|e| unreachable(&e))?;
    let status = resp.status().as_u16();
    if resp.status().is_success() { Ok(status) } else { Err(HealthError::Status { url: url.to_owned(), status }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_listen_address_is_probed_on_loopback() {
        assert_eq!(probe_addr("0.0.0.0:9090".parse().unwrap()), "127.0.0.1:9090".parse().unwrap());
        assert_eq!(probe_addr("[::]:9090".parse().unwrap()), "[::1]:9090".parse().unwrap());
        assert_eq!(probe_addr("10.0.0.7:9090".parse().unwrap()), "10.0.0.7:9090".parse().unwrap());
    }
}
