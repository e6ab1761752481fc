//! Integration tests of pix-delta against real tables in temp dirs (one test binary: link time).

// Helpers outside `#[test]` fns are test code too (clippy.toml allows unwrap only inside tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod by_event_id;
mod exactly_once;
mod fixtures;
mod fraud_reports;
mod layout;
mod python_reader;
