//! The start-up connection check: one metadata round trip to the cluster, through TLS and SASL,
//! within `kafka.connect_timeout`. librdkafka retries a failing broker forever and reports why
//! only as error events (docs/engineering-notes.md §9); a client context collects them here, so a
//! start that cannot work fails fast with the broker and the cause: authentication failed, TLS
//! (untrusted certificate, handshake), connection refused, DNS, or no answer at all.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer as _, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

use super::{KafkaConfig, admin_config};

/// What went wrong with the brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// SASL authentication failed (wrong user or password, unknown mechanism on the broker).
    Authentication,
    /// TLS failed: the broker's certificate is not trusted, or the handshake broke.
    Tls,
    /// Nothing listens at the address.
    Refused,
    /// The host name does not resolve.
    Dns,
    /// The broker closed or broke the connection (e.g. TLS spoken to a plain listener).
    Transport,
    /// No answer within the timeout, and no reason from librdkafka.
    Timeout,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Authentication => "authentication failed",
            Self::Tls => "TLS handshake failed (is the broker's certificate trusted? see ssl.ca.location)",
            Self::Refused => "connection refused",
            Self::Dns => "the host name does not resolve",
            Self::Transport => "the connection failed",
            Self::Timeout => "no answer within kafka.connect_timeout",
        })
    }
}

/// The cluster could not be reached at start.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to Kafka broker {broker}: {cause}: {detail}")]
pub struct ConnectError {
    /// The broker as librdkafka names it (`sasl_ssl://host:port/bootstrap`), or the bootstrap list.
    pub broker: String,
    /// The class of the failure.
    pub cause: Cause,
    /// librdkafka's own words.
    pub detail: String,
    /// The configured `kafka.connect_timeout`.
    pub timeout: Duration,
}

/// Collects librdkafka's error events of the probe client.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(RDKafkaErrorCode, String)>>>);

impl ClientContext for Capture {
    fn log(&self, _: rdkafka::config::RDKafkaLogLevel, _: &str, _: &str) {}
    fn error(&self, error: KafkaError, reason: &str) {
        let code = error.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Unknown);
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push((code, reason.to_owned()));
    }
}

impl ProducerContext for Capture {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: ()) {}
}

fn classify(code: RDKafkaErrorCode, reason: &str) -> Option<Cause> {
    let r = reason.to_ascii_lowercase();
    Some(match code {
        RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed => Cause::Authentication,
        RDKafkaErrorCode::SSL => Cause::Tls,
        RDKafkaErrorCode::Resolve => Cause::Dns,
        _ if r.contains("authentication") => Cause::Authentication,
        _ if r.contains("ssl") || r.contains("certificate") => Cause::Tls,
        _ if r.contains("connection refused") => Cause::Refused,
        _ if r.contains("failed to resolve") => Cause::Dns,
        RDKafkaErrorCode::BrokerTransportFailure => Cause::Transport,
        _ => return None,
    })
}

/// `sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication error: ...` -> (broker, rest).
fn split_broker(reason: &str) -> (Option<&str>, &str) {
    match reason.split_once(": ") {
        Some((b, rest)) if b.contains(':') && !b.contains(' ') => (Some(b), rest),
        _ => (None, reason),
    }
}

impl Capture {
    /// The most telling failure so far: authentication and TLS first (they will not heal).
    fn worst(&self, bootstrap: &str, timeout: Duration) -> Option<ConnectError> {
        let events = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let ranked = events.iter().filter_map(|(code, reason)| classify(*code, reason).map(|c| (c, reason)));
        let rank = |c: Cause| match c {
            Cause::Authentication | Cause::Tls => 0,
            Cause::Dns | Cause::Refused => 1,
            _ => 2,
        };
        let (cause, reason) = ranked.min_by_key(|(c, _)| rank(*c))?;
        let (broker, detail) = split_broker(reason);
        Some(ConnectError { broker: broker.unwrap_or(bootstrap).to_owned(), cause, detail: detail.to_owned(), timeout })
    }

    fn fatal(&self) -> bool {
        let events = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        events.iter().any(|(c, r)| matches!(classify(*c, r), Some(Cause::Authentication | Cause::Tls)))
    }
}

/// Waits until the cluster at `bootstrap` answers a metadata request, at most
/// `kafka.connect_timeout`; an authentication or TLS failure ends the wait at once.
pub async fn check_connection(kafka: &KafkaConfig, bootstrap: &str) -> Result<(), ConnectError> {
    let config = admin_config(kafka, bootstrap, "pix-ingest-connect");
    let (bootstrap, timeout) = (bootstrap.to_owned(), kafka.connect_timeout);
    let failed =
        move |detail: String, b: &str| ConnectError { broker: b.to_owned(), cause: Cause::Timeout, detail, timeout };
    let task = tokio::task::spawn_blocking(move || {
        let capture = Capture::default();
        let client: BaseProducer<Capture> =
            config.create_with_context(capture.clone()).map_err(|e| failed(e.to_string(), &bootstrap))?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let last = match client.client().fetch_metadata(None, left.min(Duration::from_millis(500))) {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            client.poll(Duration::from_millis(50));
            if capture.fatal() || Instant::now() >= deadline {
                return Err(capture.worst(&bootstrap, timeout).unwrap_or_else(|| failed(last.to_string(), &bootstrap)));
            }
        }
    });
    task.await.unwrap_or_else(|e| {
        Err(ConnectError {
            broker: String::new(),
            cause: Cause::Timeout,
            detail: format!("the connection check did not finish: {e}"),
            timeout: kafka.connect_timeout,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_broker_and_the_cause() {
        let c = Capture::default();
        c.error(
            KafkaError::Global(RDKafkaErrorCode::BrokerTransportFailure),
            "127.0.0.1:9/bootstrap: Connect to ipv4#127.0.0.1:9 failed: Connection refused (after 0ms in state CONNECT)",
        );
        assert!(!c.fatal());
        let e = c.worst("b", Duration::from_secs(1)).unwrap();
        assert_eq!((e.broker.as_str(), e.cause), ("127.0.0.1:9/bootstrap", Cause::Refused));
        c.error(
            KafkaError::Global(RDKafkaErrorCode::Authentication),
            "sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication error: Authentication failed",
        );
        assert!(c.fatal());
        let e = c.worst("b", Duration::from_secs(1)).unwrap();
        assert_eq!(e.cause, Cause::Authentication);
        assert!(e.to_string().contains("sasl_ssl://127.0.0.1:9093/bootstrap: authentication failed"), "{e}");
    }
}
