//! Messages of the TopicRouter.

use std::sync::Arc;

use actix::Message;
use pix_domain::Published;
use tokio::time::Instant;

use crate::kafka::DeliveryOutcome;

/// A batch of validated events to publish. The reply has one outcome per event, in order; it
/// arrives only when every record was acknowledged or refused by Kafka.
#[derive(Message)]
#[rtype(result = "Vec<DeliveryOutcome>")]
pub struct RouteBatch {
    /// Id of the source the events came from (header `pix-source`).
    pub source_id: Arc<str>,
    /// The events.
    pub events: Vec<RoutedEvent>,
    /// Past this instant nothing more is waited for (a full producer queue counts as unavailable).
    pub deadline: Instant,
    /// The verified client certificate of the connection, when mutual TLS is on.
    pub client: Option<Arc<crate::tls::PeerIdentity>>,
}

/// One validated event and its trace context.
#[derive(Debug)]
pub struct RoutedEvent {
    /// The canonical event or fraud report; its category picks the topic.
    pub event: Published,
    /// W3C `traceparent` for this event's record when no OpenTelemetry layer is installed.
    pub traceparent: String,
    /// The span this event's publish span hangs under (the HTTP request, when there is one).
    pub parent: opentelemetry::Context,
}
