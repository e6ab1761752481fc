//! Config of the HTTP source (`type: http`).

use std::net::SocketAddr;
use std::time::Duration;

use pix_domain::formats::Format;
use serde::{Deserialize, Serialize};

/// `type: http` source.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpSourceConfig {
    /// Unique id (`[a-z0-9-]`), used in headers, logs and metrics.
    pub id: String,
    /// Address to listen on, e.g. `127.0.0.1:8080` (use `0.0.0.0:8080` in a container).
    pub listen: SocketAddr,
    /// Wire format: `canonical` (JSON object, array or NDJSON on `POST /v1/events`),
    /// `bcb_webhook` (the BCB API Pix webhook body `{"pix": [...]}`; the PSP appends `/pix` to the
    /// registered URL, so `POST {path}/pix`; `POST {path}` is the activation check) or `spi_xml` (ISO 20022 pacs.008 / pacs.004 /
    /// pacs.002 on `POST /v1/spi`) or `dict_xml` (DICT infraction reports and MED refunds, category
    /// `fraud_report`); every route takes the source's one format. Any format with
    /// media types (`pix_domain::formats::WireFormat`) can be served.
    #[serde(default = "crate::sources::default_format")]
    pub format: Format,
    /// Largest accepted body in bytes; larger bodies get 413.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Deadline of one request: past it the answer is 503 and nothing is reported accepted.
    /// Must be longer than `kafka.delivery_timeout`.
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Optional shared-secret HMAC check of webhook bodies (`hmac.secret` from `${VAR}`).
    #[serde(default)]
    pub hmac: Option<HmacConfig>,
    /// HTTP worker threads of this listener.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// HTTPS, and mutual TLS with `client_ca_file` (see README, Security). Without it the listener
    /// speaks plain HTTP.
    #[serde(default)]
    pub tls: Option<crate::tls::ListenerTls>,
    /// `bcb_webhook` only: the path of the webhook URL registered with the PSP. `POST {path}` is the
    /// PSP's activation check (200 once the client is authenticated), `POST {path}/pix` carries
    /// the notifications.
    #[serde(default = "default_webhook_path")]
    pub path: String,
    /// Most records (items of the bodies) this source holds at once between reading a body and
    /// answering it; a request that would pass it gets 429 with `Retry-After` at once. A single
    /// request larger than the bound is taken when nothing else is in flight.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight_records: usize,
    /// Most items (events, lines, transactions) one request may carry; past it 413 before any
    /// item is decoded or dead-lettered, so a body of many tiny items cannot multiply memory.
    #[serde(default = "default_max_items")]
    pub max_items_per_request: usize,
    /// How long reading a request body may take; a body still incomplete then (slow or truncated)
    /// is answered 408 and its connection closed. `request_timeout` applies when it is shorter.
    #[serde(default = "default_body_read_timeout", with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// Most connections the listener holds open at once (idle keep-alive ones included); past it
    /// new connections wait in the kernel's backlog until one closes. Split evenly over `workers`.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

fn default_webhook_path() -> String {
    "/v1/webhooks".into()
}

const fn default_max_body() -> usize {
    1024 * 1024
}
const fn default_request_timeout() -> Duration {
    Duration::from_secs(15)
}
const fn default_workers() -> usize {
    2
}
const fn default_max_in_flight() -> usize {
    10_000
}
const fn default_max_items() -> usize {
    10_000
}
const fn default_body_read_timeout() -> Duration {
    Duration::from_secs(10)
}
const fn default_max_connections() -> usize {
    256
}

impl HttpSourceConfig {
    /// Connections per worker thread (actix counts them per worker), so that all workers together
    /// hold at most `max_connections`.
    pub fn connections_per_worker(&self) -> usize {
        (self.max_connections / self.workers.max(1)).max(1)
    }
}

/// Shared-secret HMAC-SHA256 of the raw body, sent by the caller in a header as `sha256=<hex>`
/// (or bare hex). A request without a valid signature gets 401 and is not read further.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HmacConfig {
    /// The shared secret; write it as `"${WEBHOOK_HMAC_SECRET}"`.
    pub secret: crate::base::Secret,
    /// Header carrying the signature.
    #[serde(default = "default_hmac_header")]
    pub header: String,
}

fn default_hmac_header() -> String {
    "x-pix-signature".into()
}
