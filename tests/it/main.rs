//! The one integration-test binary (link time matters with rdkafka). Tests here run against the
//! real single-node Kafka broker that `scripts/test` starts (PIX_INGEST_TEST_BOOTSTRAP).
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod admin;
mod admin_api;
mod admin_env;
mod admin_tls;
mod api_pix_poll;
mod broker_down;
mod cli;
mod cli_env;
mod cluster;
mod config_builder;
mod container;
mod contract;
mod deadlines;
mod dedupe_stage;
#[cfg(feature = "delta")]
mod delta;
#[cfg(feature = "delta")]
mod delta_dedupe;
#[cfg(feature = "delta")]
mod delta_fraud;
#[cfg(feature = "delta")]
mod demo;
mod dict_poll;
mod dlq_redrive;
mod drain_reload;
mod file_source;
mod fixtures;
mod formats;
mod fraud_reports;
mod generator;
mod harness;
mod http_sink_flaky;
mod http_source;
mod kafka;
mod limits;
mod operable;
mod psp_server;
mod readme;
mod secure_kafka;
mod secure_start;
mod service;
mod sink_recovery;
mod sink_tls;
mod sinks;
mod supervision;
mod tls_listener;
mod tls_support;
mod traces;
mod wait;
mod webhook_mtls;
