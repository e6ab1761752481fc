//! Storage half of the Delta Lake sink: appends canonical Pix events consumed from Kafka to a
//! Delta table **exactly once per Kafka offset** (the kafka-delta-ingest technique).
//!
//! # Map
//!
//! | module | owns |
//! |---|---|
//! | [`writer`] | [`DeltaWriter`]: open/create the table, read recorded offsets, write + commit |
//! | [`offsets`] | txn application ids and the duplicate split of a batch (pure) |
//! | `dedupe` | exactly once by event id: the ids each topic-partition holds, read back from the table |
//! | [`schema`] | the column list, from which the Delta schema and the row conversion derive |
//! | [`json`] | [`Json`]: the payload parsed once, strings borrowed from its bytes |
//! | [`row`] | [`Row`] and its conversion into cells (pure; rejects name the column, not the value) |
//! | `batch` | Arrow `RecordBatch` building |
//! | [`pii`] | keyed hashing of personal values |
//! | [`error`] | [`DeltaSinkError`], classified retryable / permanent |
//!
//! The consumer loop, batching, retries and Kafka offset commits belong to the sink actor in the
//! main crate; this crate does no Kafka I/O.
//!
//! # The exactly-once protocol
//!
//! Every commit [`DeltaWriter::write`] makes holds, together with the new data files, one Delta
//! `txn` action per Kafka topic-partition in the batch: `appId = "{app_id}-{topic}-{partition}"`
//! ([`DeltaSinkConfig::app_id`] is the sink id) and `version` = the highest offset written for it.
//! The Delta log commits atomically, so the table itself records which offsets it holds: the rows
//! of an offset are in the table **if and only if** the txn version of its partition is `>=` that
//! offset. Before writing, `write` reloads the table and drops every row whose offset is at or
//! below its partition's recorded version, so replaying a batch (after a crash between the Delta
//! commit and the Kafka offset commit, a retry after an ambiguous error, or a rebalance) writes
//! nothing twice. Two writers racing on the same partition conflict on its `appId` in the Delta
//! conflict checker; the loser gets a retryable [`DeltaSinkError`] and re-decides after a reload.
//!
//! What a caller must do:
//! 1. On **every** partition assignment (start and each rebalance), call
//!    [`DeltaWriter::committed_offsets`] and seek each partition to `offset + 1`; where the table
//!    has no offset, use the group's committed offset (or `auto.offset.reset`). The Delta table is
//!    the source of truth; Kafka's committed offsets are **only a hint** (they may lag the table
//!    after a crash, and replaying from them is harmless because `write` skips duplicates).
//! 2. Commit Kafka offsets only **after** `write` returned `Ok` for the rows up to them.
//! 3. On `Err`: if [`DeltaSinkError::is_retryable`], retry the **same** rows with backoff
//!    (duplicates are re-detected). [`DeltaSinkError::InvalidRows`] lists the rows that are not
//!    canonical events: dead-letter them durably first, then retry the batch without them (their
//!    offsets are then covered by the next txn version). Other errors are permanent: stop.
//! 4. Keep rows of one partition in offset order across calls: after writing offset `n`, any
//!    offset `<= n` of that partition is treated as already written.
//! 5. With [`DeltaSinkConfig::dedupe`], call [`DeltaWriter::forget`] for revoked partitions (their
//!    ids leave memory; the next owner reads them back from the table).
//!
//! # Exactly once by event id
//!
//! With [`DeltaSinkConfig::dedupe`] set, a row whose `event_id` its topic-partition already holds
//! for an `event_time` within the window is skipped too (a client or webhook retry is a new
//! Kafka record with the same event id: every copy lands in the same partition, because the key
//! is the endToEndId, the payer account or the event id). The ids are read back from the table
//! (only the files of the window's `event_date`s, three columns) the first time a partition shows
//! up and whenever its txn version moved without this writer, and kept in a bounded in-memory
//! index ([`pix_dedupe::SeenIds`]) meanwhile. A topic holds one category, so the two events of an
//! intra-PSP transfer (same event id, two topics) are both kept.
//!
//! # Threads
//!
//! The Delta kernel blocks the thread it runs on (it calls `block_on` inside async code;
//! `docs/engineering-notes.md §1`). The API is async, but run the writer on a thread of its own:
//! a dedicated actix `Arbiter`, a `SyncArbiter`, or `spawn_blocking` with a runtime handle, never
//! the shared HTTP/router event loop. Filter `buoyant_kernel=warn,buoyant_kernel_engine=warn` in
//! logs; creating a table logs a harmless kernel `ERROR "No files in log segment"`
//! (`docs/engineering-notes.md §2`).
//!
//! # Schema and partitioning
//!
//! Flat columns for the scalar members of the canonical event ([`schema::COLUMNS`]), timestamps as
//! UTC microseconds, `flags` as `array<string>`, the Kafka coordinates (`kafka_topic`,
//! `kafka_partition`, `kafka_offset`), and the partition columns `event_date` (`YYYY-MM-DD` of
//! `event_time` in UTC) and `category`. `event_id` is not unique: the two events of an intra-PSP
//! transfer share it (one per category); `(kafka_topic, kafka_partition, kafka_offset)` is.
//! An existing table with another layout is refused ([`DeltaSinkError::SchemaMismatch`]).
//!
//! A [`TableKind::FraudReports`] table ([`DeltaSinkConfig::table`]) holds `fraud_report` records
//! (DICT infraction reports and MED refund requests) instead: its own columns
//! ([`schema::FRAUD_REPORT_COLUMNS`]: report id, `end_to_end_id` to join with the events,
//! transaction id, kind, infraction type or refund reason, status, analysis result, reporter,
//! amount, times as UTC microseconds; free text only as the SHA-256 the record carries), the same
//! Kafka coordinates and txn protocol, partitioned by `report_date` (`YYYY-MM-DD` of `created_at`
//! in UTC, `event_time` when absent). Exactly once by offset only: a report's event id is its
//! kind, id and status, so a re-sent state is a new record of the same offset-protected stream.
//!
//! # Personal data
//!
//! No personal value is written in clear. Tax ids (CPF/CNPJ of payer and payee), accounts
//! (`ispb:branch:number`) and the Pix key become HMAC-SHA256 hashes keyed with a secret salt
//! (`payer_tax_id_hash`, `payer_account_hash`, `payee_tax_id_hash`, `payee_account_hash`,
//! `pix_key_hash`): fraud analytics needs to join and count by person, account and key, not to
//! read the CPF, and a lake is copied widely. The key matters because there are only about 10⁹
//! CPFs: an unkeyed hash is reversed by enumeration. Names, remittance text and the status reason
//! text are left out: free text has no join value and hashing it protects little. Non-personal
//! identifiers stay in clear (ISPBs, endToEndId, txid, the initiator's CNPJ, which is a company).

pub mod config;
pub mod error;
pub mod json;
pub mod offsets;
pub mod pii;
pub mod row;
pub mod schema;
pub mod writer;

mod batch;
mod dedupe;

pub use config::{DedupeConfig, DeltaSinkConfig, default_checkpoint_interval};
pub use error::{DeltaSinkError, RowReject, Step};
pub use json::Json;
pub use row::Row;
pub use schema::TableKind;
pub use writer::{DeltaWriter, WriteOutcome};
