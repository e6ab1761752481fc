//! pix-ingest: the real-time ingestion backbone of a Pix fraud-detection pipeline.
//!
//! # Data flow
//!
//! ```text
//!  sources (one actor each) --decode+validate--> TopicRouter --> pix.pagamentos / pix.recebimentos / pix.estornos
//!          |                                         |                       |
//!          +--- invalid / refused ---> DeadLetter ---+--> pix.dlq            +--> sinks (Delta, HTTP, file)
//!  (fraud reports go to pix.infracoes, keyed like the payment they label)
//! ```
//!
//! # Who owns what (dependencies point down this list; `scripts/layers` checks it)
//! - [`app`]: wiring it all from a `Config`; graceful shutdown. [`load_gen`]: `pix-ingest gen`.
//!   [`healthcheck`]: `pix-ingest healthcheck`. [`guide`]: what the bundled demo tells a newcomer.
//! - [`admin`]: the admin HTTP API; it talks only to the supervisor (and to [`redrive`]).
//! - [`redrive`]: browsing the dead-letter topic and publishing again what today's rules accept.
//! - [`supervisor`]: the registry of every actor (sources, sinks, router, dead letter), restarts
//!   with backoff, FAILED, readiness, and the persisted changes of the admin API.
//! - [`config`]: the root of the YAML schema, loading, `${VAR}`, overrides, cross-section checks.
//! - [`sources`]: source actors (HTTP, file, generator, the API Pix and DICT pollers) and the
//!   shared pipeline (route + dead-letter + per-record report). [`sinks`]: consumer actors (Delta, HTTP scoring, file)
//!   and the shared consume -> batch -> write -> dead-letter -> flush -> commit loop.
//! - [`router`]: the TopicRouter actor (producer, routing table, batch acknowledgements).
//!   [`dead_letter`]: the DeadLetter actor and the dead-letter record.
//! - [`kafka`]: client settings (acks=all, idempotence), topics, headers, the embedded dev broker.
//! - [`lifecycle`]: what a supervised actor knows of supervision (control, guard, restarts).
//!   [`telemetry`]: logs, traces, metrics. [`synth`]: synthetic events.
//! - [`tls`]: rustls server and client configurations from PEM files, reloaded when they change;
//!   the client certificate's identity of a connection.
//! - [`base`]: secrets, the environment, tagged config entries, the kind registry.
//! - crates: `pix-domain` (the canonical event, the fraud report and the one validator, no I/O),
//!   `pix-delta` (exactly-once Delta Lake storage, behind the default feature `delta`) and
//!   `pix-dedupe` (the bounded index of event ids already delivered).

pub mod admin;
pub mod app;
pub mod base;
pub mod config;
pub mod dead_letter;
pub mod guide;
pub mod healthcheck;
pub mod kafka;
pub mod lifecycle;
pub mod load_gen;
pub mod redrive;
pub mod router;
pub mod sinks;
pub mod sources;
pub mod supervisor;
pub mod synth;
pub mod telemetry;
pub mod tls;
