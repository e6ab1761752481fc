//! The table layout: one [`ColumnSpec`] per column, from which both the Delta schema (table
//! creation and the open-time check) and the row extraction ([`crate::row`]) are derived, so the
//! two cannot drift apart.
//!
//! Columns come from the canonical event (`pix-domain`, `schema/pix-event.v1.schema.json`) by JSON
//! pointer; a test in this module reads that JSON Schema and fails when a pointer names a member the
//! contract does not have.

use deltalake::kernel::{ArrayType, DataType, StructField};

/// Partition columns of the events table, in directory order (`event_date=…/category=…/part-….parquet`).
pub const PARTITION_COLUMNS: &[&str] = &["event_date", "category"];

/// Partition column of the fraud reports table (`report_date=…/part-….parquet`).
pub const REPORT_PARTITION_COLUMNS: &[&str] = &["report_date"];

/// Which records a table holds: the layout (columns, partitions) and the row conversion follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TableKind {
    /// Canonical Pix events (`pix-event` schema): [`COLUMNS`], by `event_date`, `category`.
    #[default]
    Events,
    /// DICT infraction reports and MED refund requests (`fraud_report` schema):
    /// [`FRAUD_REPORT_COLUMNS`], by `report_date`.
    FraudReports,
}

impl TableKind {
    /// Every column, in table order.
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            TableKind::Events => COLUMNS,
            TableKind::FraudReports => FRAUD_REPORT_COLUMNS,
        }
    }

    /// Partition columns, in directory order.
    pub fn partition_columns(self) -> &'static [&'static str] {
        match self {
            TableKind::Events => PARTITION_COLUMNS,
            TableKind::FraudReports => REPORT_PARTITION_COLUMNS,
        }
    }

    /// The table comment written at creation.
    pub fn comment(self) -> &'static str {
        match self {
            TableKind::Events => "Pix events (pix-ingest Delta sink); PII only as keyed hashes",
            TableKind::FraudReports => "DICT fraud reports (pix-ingest Delta sink); free text only as SHA-256",
        }
    }
}

/// Physical kind of a column: its Delta type and the Arrow builder used for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `string`.
    Utf8,
    /// `long` (i64).
    Int64,
    /// `integer` (i32).
    Int32,
    /// `boolean`.
    Bool,
    /// `timestamp`: microseconds since the epoch, UTC.
    TimestampUtc,
    /// `array<string>`.
    Utf8List,
}

impl Kind {
    /// The Delta type of this kind.
    pub fn delta_type(self) -> DataType {
        match self {
            Kind::Utf8 => DataType::STRING,
            Kind::Int64 => DataType::LONG,
            Kind::Int32 => DataType::INTEGER,
            Kind::Bool => DataType::BOOLEAN,
            Kind::TimestampUtc => DataType::TIMESTAMP,
            Kind::Utf8List => ArrayType::new(DataType::STRING, true).into(),
        }
    }
}

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The event member at this JSON pointer, converted according to the column's [`Kind`].
    Json(&'static str),
    /// Keyed SHA-256 (see [`crate::pii`]) of the string member at this JSON pointer.
    HashedJson(&'static str),
    /// Keyed SHA-256 of `{ispb}:{branch}:{number}` of the party at this JSON pointer.
    HashedAccount(&'static str),
    /// `YYYY-MM-DD` of `event_time` in UTC.
    EventDate,
    /// `YYYY-MM-DD` of a fraud report's `created_at` in UTC (`event_time` when the DICT document
    /// did not carry the creation time).
    ReportDate,
    /// Kafka coordinates of the record the event was consumed from.
    KafkaTopic,
    /// See [`Source::KafkaTopic`].
    KafkaPartition,
    /// See [`Source::KafkaTopic`].
    KafkaOffset,
}

/// One column of the table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// Column name.
    pub name: &'static str,
    /// Physical kind.
    pub kind: Kind,
    /// Whether the column may be null; a row missing a non-nullable value is rejected.
    pub nullable: bool,
    /// Where the value comes from.
    pub source: Source,
}

const fn col(name: &'static str, kind: Kind, nullable: bool, source: Source) -> ColumnSpec {
    ColumnSpec { name, kind, nullable, source }
}

use Kind::{Bool, Int32, Int64, TimestampUtc, Utf8, Utf8List};
use Source::{EventDate, HashedAccount, HashedJson, Json, KafkaOffset, KafkaPartition, KafkaTopic, ReportDate};

/// Every column, in table order. Partition columns are last.
pub const COLUMNS: &[ColumnSpec] = &[
    col("event_id", Utf8, false, Json("/event_id")),
    col("event_type", Utf8, false, Json("/event_type")),
    col("direction", Utf8, false, Json("/direction")),
    col("end_to_end_id", Utf8, false, Json("/end_to_end_id")),
    col("return_id", Utf8, true, Json("/return_id")),
    col("refund_request_id", Utf8, true, Json("/refund_request_id")),
    col("txid", Utf8, true, Json("/txid")),
    col("message_id", Utf8, true, Json("/message_id")),
    col("amount", Utf8, true, Json("/amount")),
    col("amount_cents", Int64, true, Json("/amount_cents")),
    col("currency", Utf8, true, Json("/currency")),
    col("event_time", TimestampUtc, false, Json("/event_time")),
    col("settled_at", TimestampUtc, true, Json("/settled_at")),
    col("ingested_at", TimestampUtc, false, Json("/ingested_at")),
    col("status", Utf8, false, Json("/status")),
    col("status_reason_code", Utf8, true, Json("/status_reason_code")),
    col("payer_ispb", Utf8, true, Json("/payer/ispb")),
    col("payer_tax_id_type", Utf8, true, Json("/payer/tax_id_type")),
    col("payer_tax_id_hash", Utf8, true, HashedJson("/payer/tax_id")),
    col("payer_account_type", Utf8, true, Json("/payer/account/type")),
    col("payer_account_hash", Utf8, true, HashedAccount("/payer")),
    col("payee_ispb", Utf8, false, Json("/payee/ispb")),
    col("payee_tax_id_type", Utf8, true, Json("/payee/tax_id_type")),
    col("payee_tax_id_hash", Utf8, true, HashedJson("/payee/tax_id")),
    col("payee_account_type", Utf8, true, Json("/payee/account/type")),
    col("payee_account_hash", Utf8, true, HashedAccount("/payee")),
    col("pix_key_type", Utf8, true, Json("/pix_key_type")),
    col("pix_key_hash", Utf8, true, HashedJson("/pix_key")),
    col("initiation_type", Utf8, true, Json("/initiation_type")),
    col("initiator_cnpj", Utf8, true, Json("/initiator_cnpj")),
    col("purpose", Utf8, true, Json("/purpose")),
    col("priority", Utf8, true, Json("/priority")),
    col("service_level", Utf8, true, Json("/service_level")),
    col("return_reason_code", Utf8, true, Json("/return_reason_code")),
    col("refund_nature", Utf8, true, Json("/refund_nature")),
    col("is_med", Bool, false, Json("/is_med")),
    col("intra_psp", Bool, false, Json("/intra_psp")),
    col("local_hour", Int32, false, Json("/local_hour")),
    col("night_period", Bool, false, Json("/night_period")),
    col("flags", Utf8List, false, Json("/flags")),
    col("source_kind", Utf8, false, Json("/source/kind")),
    col("source_id", Utf8, false, Json("/source/id")),
    col("kafka_topic", Utf8, false, KafkaTopic),
    col("kafka_partition", Int32, false, KafkaPartition),
    col("kafka_offset", Int64, false, KafkaOffset),
    col("event_date", Utf8, false, EventDate),
    col("category", Utf8, false, Json("/category")),
];

/// Every column of the fraud reports table, in table order (partition column last). Members of
/// `pix-domain`'s `FraudReport` (`schema/fraud-report.v1.schema.json`); free text is only there as
/// the SHA-256 the record carries. Join with the events table on `end_to_end_id`.
pub const FRAUD_REPORT_COLUMNS: &[ColumnSpec] = &[
    col("event_id", Utf8, false, Json("/event_id")),
    col("report_kind", Utf8, false, Json("/report_kind")),
    col("report_id", Utf8, true, Json("/report_id")),
    col("end_to_end_id", Utf8, true, Json("/end_to_end_id")),
    col("transaction_id", Utf8, true, Json("/transaction_id")),
    col("transaction_type", Utf8, true, Json("/transaction_type")),
    col("transaction_result", Utf8, true, Json("/transaction_result")),
    col("transaction_time", TimestampUtc, true, Json("/transaction_time")),
    col("infraction_type", Utf8, true, Json("/infraction_type")),
    col("refund_reason", Utf8, true, Json("/refund_reason")),
    col("reported_by", Utf8, true, Json("/reported_by")),
    col("reporter_ispb", Utf8, true, Json("/reporter_ispb")),
    col("debited_participant", Utf8, true, Json("/debited_participant")),
    col("credited_participant", Utf8, true, Json("/credited_participant")),
    col("status", Utf8, false, Json("/status")),
    col("analysis_result", Utf8, true, Json("/analysis_result")),
    col("amount", Utf8, true, Json("/amount")),
    col("amount_cents", Int64, true, Json("/amount_cents")),
    col("currency", Utf8, true, Json("/currency")),
    col("refund_return_id", Utf8, true, Json("/refund_return_id")),
    col("details_sha256", Utf8, true, Json("/details_sha256")),
    col("analysis_details_sha256", Utf8, true, Json("/analysis_details_sha256")),
    col("created_at", TimestampUtc, true, Json("/created_at")),
    col("last_modified", TimestampUtc, true, Json("/last_modified")),
    col("response_time", TimestampUtc, true, Json("/response_time")),
    col("event_time", TimestampUtc, false, Json("/event_time")),
    col("ingested_at", TimestampUtc, false, Json("/ingested_at")),
    col("flags", Utf8List, false, Json("/flags")),
    col("source_kind", Utf8, false, Json("/source/kind")),
    col("source_id", Utf8, false, Json("/source/id")),
    col("kafka_topic", Utf8, false, KafkaTopic),
    col("kafka_partition", Int32, false, KafkaPartition),
    col("kafka_offset", Int64, false, KafkaOffset),
    col("report_date", Utf8, false, ReportDate),
];

/// The Delta columns for table creation.
pub fn delta_fields(kind: TableKind) -> Vec<StructField> {
    kind.columns().iter().map(|c| StructField::new(c.name, c.kind.delta_type(), c.nullable)).collect()
}

/// Differences between an existing table's columns and those of `kind` (empty when compatible).
///
/// Names and types must match exactly and the partition columns must be `kind`'s;
/// nullability is not compared (a table created nullable still accepts our rows).
pub fn differences<'a>(
    kind: TableKind,
    table_fields: impl Iterator<Item = &'a StructField>,
    table_partitions: &[String],
) -> Vec<String> {
    let (columns, partitions) = (kind.columns(), kind.partition_columns());
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for field in table_fields {
        seen.push(field.name().clone());
        match columns.iter().find(|c| c.name == field.name()) {
            None => problems.push(format!("unexpected column `{}`", field.name())),
            Some(c) if &c.kind.delta_type() != field.data_type() => problems.push(format!(
                "column `{}` is {:?}, expected {:?}",
                c.name,
                field.data_type(),
                c.kind.delta_type()
            )),
            Some(_) => {}
        }
    }
    for c in columns.iter().filter(|c| !seen.iter().any(|s| s == c.name)) {
        problems.push(format!("missing column `{}`", c.name));
    }
    if table_partitions != partitions {
        problems.push(format!("partitioned by {table_partitions:?}, expected {partitions:?}"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolves a JSON pointer into the JSON Schema of the canonical event (through `properties`,
    /// `$ref` into `$defs`, and `allOf`).
    fn schema_has(schema: &serde_json::Value, pointer: &str) -> bool {
        let mut node = schema;
        for part in pointer.trim_start_matches('/').split('/') {
            let mut current = node;
            // Follow `allOf: [{$ref}]` and `$ref` until a node with `properties`.
            for _ in 0..4 {
                if let Some(r) = current.get("$ref").and_then(|r| r.as_str()) {
                    let Some(def) = r.strip_prefix("#/$defs/") else { return false };
                    current = &schema["$defs"][def];
                } else if let Some(first) = current.get("allOf").and_then(|a| a.get(0)) {
                    current = first;
                } else {
                    break;
                }
            }
            match current.get("properties").and_then(|p| p.get(part)) {
                Some(next) => node = next,
                None => return false,
            }
        }
        true
    }

    #[test]
    fn every_json_pointer_exists_in_the_canonical_event_schema() {
        pointers_exist(COLUMNS, include_str!("../../pix-domain/schema/pix-event.v1.schema.json"));
    }

    #[test]
    fn every_json_pointer_exists_in_the_fraud_report_schema() {
        pointers_exist(FRAUD_REPORT_COLUMNS, include_str!("../../pix-domain/schema/fraud-report.v1.schema.json"));
    }

    fn pointers_exist(columns: &[ColumnSpec], text: &str) {
        let schema: serde_json::Value = serde_json::from_str(text).unwrap();
        for c in columns {
            let pointer = match c.source {
                Source::Json(p) | Source::HashedJson(p) | Source::HashedAccount(p) => p,
                _ => continue,
            };
            assert!(schema_has(&schema, pointer), "column {} reads {pointer}, not in the schema", c.name);
        }
    }

    #[test]
    fn partition_columns_come_last_and_names_are_unique() {
        for kind in [TableKind::Events, TableKind::FraudReports] {
            let (columns, parts) = (kind.columns(), kind.partition_columns());
            let n = columns.len();
            let last: Vec<_> = columns[n - parts.len()..].iter().map(|c| c.name).collect();
            assert_eq!(last, parts);
            let mut names: Vec<_> = columns.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), n);
        }
    }

    #[test]
    fn own_fields_have_no_differences_and_a_renamed_one_is_reported() {
        let fields = delta_fields(TableKind::Events);
        let parts: Vec<String> = PARTITION_COLUMNS.iter().map(|s| s.to_string()).collect();
        assert!(differences(TableKind::Events, fields.iter(), &parts).is_empty());
        let mut other = delta_fields(TableKind::Events);
        other[0] = StructField::new("id", DataType::STRING, false);
        let problems = differences(TableKind::Events, other.iter(), &parts[..1]);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn an_events_table_is_not_a_fraud_reports_table() {
        let fields = delta_fields(TableKind::Events);
        let parts: Vec<String> = PARTITION_COLUMNS.iter().map(|s| s.to_string()).collect();
        let problems = differences(TableKind::FraudReports, fields.iter(), &parts);
        assert!(problems.iter().any(|p| p.contains("partitioned by")), "{problems:?}");
        assert!(problems.iter().any(|p| p == "missing column `report_date`"), "{problems:?}");
    }
}
