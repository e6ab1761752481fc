//! pix-ingest: the real-time ingestion backbone of a Pix fraud-detection pipeline.
//!
//! # Data flow
//!
//! ```text
//!  sources (one actor each) --decode+validate--> TopicRouter --> pix.pagamentos / pix.recebimentos / pix.estornos
//!          |                                         |
//!          +--- invalid / refused ---> DeadLetter ---+--> pix.dlq   (original bytes + reason headers)
//! ```
//!
//! # Who owns what
//! - [`config`]: the YAML schema, `${VAR}` interpolation, env overrides, errors with file/line/field.
//! - [`pix_domain`] (crate): the canonical event, identifiers, the one validator, body splitting.
//! - [`sources`]: source actors and the shared [`sources::pipeline`] (route + dead-letter + report).
//! - [`router`]: the TopicRouter actor (producer, routing table, batch acknowledgements).
//! - [`dead_letter`]: the DeadLetter actor and the dead-letter record.
//! - [`kafka`]: client settings (acks=all, idempotence), topics, headers, the embedded dev broker.
//! - [`sinks`]: one consumer actor per destination (HTTP scoring, file landing zone) and the shared
//!   consume -> batch -> write -> dead-letter -> flush -> commit loop.
//! - [`supervisor`]: the registry of children, restarts with backoff, the FAILED state.
//! - [`telemetry`]: logs and trace-context propagation.
//! - [`app`]: wiring it all from a `Config`; graceful shutdown.

pub mod admin;
pub mod app;
pub mod config;
pub mod dead_letter;
pub mod kafka;
pub mod load_gen;
pub mod router;
pub mod sinks;
pub mod sources;
pub mod supervisor;
pub mod synth;
pub mod telemetry;
