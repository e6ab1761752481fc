//! [`Row`] (one consumed Kafka record) and its conversion into the table's cells, driven by
//! [`crate::schema::COLUMNS`]. Pure: no I/O, no Arrow.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use crate::json::Json;
use crate::pii::PiiHasher;
use crate::schema::{ColumnSpec, Kind, Source, TableKind};

/// One consumed Kafka record holding a canonical Pix event (or, for a
/// [`TableKind::FraudReports`] table, a `fraud_report` record).
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    /// Topic it was consumed from.
    pub topic: String,
    /// Partition it was consumed from.
    pub partition: i32,
    /// Its offset; the exactly-once check is on `(topic, partition, offset)`.
    pub offset: i64,
    /// The canonical event JSON as consumed (`pix-domain`'s `PixEvent`), borrowing from the
    /// payload ([`Json::parse`]).
    pub event: Json<'a>,
}

/// One value of one column, already in the column's [`Kind`]; text borrows from its [`Row`]
/// where it can (the Arrow builders copy it once, into the column).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Absent optional value.
    Null,
    /// [`Kind::Utf8`].
    Str(Cow<'a, str>),
    /// [`Kind::Int64`].
    I64(i64),
    /// [`Kind::Int32`].
    I32(i32),
    /// [`Kind::Bool`].
    Bool(bool),
    /// [`Kind::TimestampUtc`], microseconds since the epoch.
    TsMicros(i64),
    /// [`Kind::Utf8List`].
    StrList(Vec<&'a str>),
}

/// A row converted into one cell per column of its table kind, in order.
pub type Record<'a> = Vec<Cell<'a>>;

/// Converts `row` into the cells of a `kind` table; `Err(reason)` names the column and the
/// problem, never the value.
pub fn to_record<'a>(row: &'a Row<'_>, pii: &PiiHasher, kind: TableKind) -> Result<Record<'a>, String> {
    if !row.event.is_object() {
        return Err("not_an_object".to_owned());
    }
    kind.columns().iter().map(|column| cell(row, column, pii)).collect()
}

fn cell<'a>(row: &'a Row<'_>, column: &ColumnSpec, pii: &PiiHasher) -> Result<Cell<'a>, String> {
    let value = match column.source {
        Source::KafkaTopic => Cell::Str(Cow::Borrowed(&row.topic)),
        Source::KafkaPartition => Cell::I32(row.partition),
        Source::KafkaOffset => Cell::I64(row.offset),
        Source::EventDate => date_of(&row.event, &["event_time"])?,
        Source::ReportDate => date_of(&row.event, &["created_at", "event_time"])?,
        Source::Json(pointer) => match member(&row.event, pointer) {
            None | Some(Json::Null) => Cell::Null,
            Some(value) => convert(value, column)?,
        },
        Source::HashedJson(pointer) => match member(&row.event, pointer) {
            None | Some(Json::Null) => Cell::Null,
            Some(Json::Str(text)) => {
                let domain = pointer.rsplit('/').next().unwrap_or(pointer);
                Cell::Str(pii.hash(domain, text).into())
            }
            Some(_) => return Err(format!("type:{}", column.name)),
        },
        Source::HashedAccount(party) => match account_key(&row.event, party) {
            Ok(Some(key)) => Cell::Str(pii.hash("account", &key).into()),
            Ok(None) => Cell::Null,
            Err(()) => return Err(format!("type:{}", column.name)),
        },
    };
    if value == Cell::Null && !column.nullable {
        return Err(format!("missing:{}", column.name));
    }
    Ok(value)
}

/// The member at `pointer` (`/a/b`): object members only, no `~` escapes (the column specs use
/// neither). `Value::pointer` unescapes every token with two `str::replace` calls, which was a
/// tenth of the writer's CPU (perf; README, "The Delta sink end to end").
fn member<'a, 'b>(event: &'a Json<'b>, pointer: &str) -> Option<&'a Json<'b>> {
    pointer.split('/').skip(1).try_fold(event, |v, key| v.get(key))
}

fn convert<'a>(value: &'a Json<'_>, column: &ColumnSpec) -> Result<Cell<'a>, String> {
    let wrong_type = || format!("type:{}", column.name);
    Ok(match column.kind {
        Kind::Utf8 => Cell::Str(Cow::Borrowed(value.as_str().ok_or_else(wrong_type)?)),
        Kind::Int64 => Cell::I64(value.as_i64().ok_or_else(wrong_type)?),
        Kind::Int32 => {
            let wide = value.as_i64().ok_or_else(wrong_type)?;
            Cell::I32(i32::try_from(wide).map_err(|_| format!("range:{}", column.name))?)
        }
        Kind::Bool => Cell::Bool(value.as_bool().ok_or_else(wrong_type)?),
        Kind::TimestampUtc => {
            let text = value.as_str().ok_or_else(wrong_type)?;
            Cell::TsMicros(parse_time(text, column.name)?.timestamp_micros())
        }
        Kind::Utf8List => {
            let items = value.as_array().ok_or_else(wrong_type)?;
            let strings: Option<Vec<&str>> = items.iter().map(Json::as_str).collect();
            Cell::StrList(strings.ok_or_else(wrong_type)?)
        }
    })
}

/// `YYYY-MM-DD` (UTC) of the first of `members` present.
fn date_of(event: &Json<'_>, members: &[&str]) -> Result<Cell<'static>, String> {
    for member in members {
        if let Some(text) = event.get(member).and_then(Json::as_str) {
            return Ok(Cell::Str(parse_time(text, member)?.format("%Y-%m-%d").to_string().into()));
        }
    }
    Ok(Cell::Null)
}

fn parse_time(text: &str, column: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|_| format!("time:{column}"))
}

fn text<'a>(v: Option<&'a Json<'_>>) -> Result<&'a str, ()> {
    match v {
        None | Some(Json::Null) => Ok(""),
        Some(Json::Str(s)) => Ok(s),
        Some(_) => Err(()),
    }
}

/// `{ispb}:{branch}:{number}` of the party's account, like `PixEvent::partition_key`; `Ok(None)`
/// without an account; `Err` when the members have the wrong types.
fn account_key(event: &Json<'_>, party: &str) -> Result<Option<String>, ()> {
    let Some(party) = member(event, party) else { return Ok(None) };
    let Some(account) = party.get("account") else { return Ok(None) };
    let number = text(account.get("number"))?;
    if number.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!("{}:{}:{number}", text(party.get("ispb"))?, text(account.get("branch"))?)))
}

/// RFC 3339 (UTC, ms) of a timestamp in microseconds; the inverse of the parse above.
#[cfg(test)]
fn format_micros(micros: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_micros(micros).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::schema::{COLUMNS, FRAUD_REPORT_COLUMNS};

    fn pii() -> PiiHasher {
        PiiHasher::new(b"test-salt-0123456789").unwrap()
    }

    fn row(event: Value) -> Row<'static> {
        Row { topic: "pix.pagamentos".into(), partition: 1, offset: 7, event: Json::from_value(event) }
    }

    fn sample() -> Value {
        serde_json::json!({
            "schema_version": "1", "event_id": "E99999010202611251430000000000001:TRANSFER:PENDING",
            "event_type": "TRANSFER", "category": "payment", "direction": "OUTBOUND",
            "end_to_end_id": "E9999901020261125143000000000001", "amount": "150.25", "amount_cents": 15025,
            "currency": "BRL", "event_time": "2026-11-25T23:30:05.120Z", "ingested_at": "2026-11-25T23:30:06.000Z",
            "status": "PENDING",
            "payer": {"ispb": "99999010", "tax_id": "52998224725", "tax_id_type": "CPF", "name": "Maria",
                      "account": {"branch": "1", "number": "12345", "type": "CACC"}},
            "payee": {"ispb": "12345678"}, "pix_key": "11222333000181", "pix_key_type": "CNPJ",
            "is_med": false, "intra_psp": false, "local_hour": 20, "night_period": true,
            "source": {"kind": "canonical", "item_index": 0, "raw_sha256": "00", "id": "http-main"},
            "flags": ["E2E_TIMESTAMP_SKEW"], "remittance_info": "secret text"
        })
    }

    fn get<'a>(record: &'a Record<'_>, name: &str) -> &'a Cell<'a> {
        let i = COLUMNS.iter().position(|c| c.name == name).unwrap();
        &record[i]
    }

    #[test]
    fn converts_a_canonical_event_and_hashes_pii() {
        let row = row(sample());
        let record = to_record(&row, &pii(), TableKind::Events).unwrap();
        assert_eq!(get(&record, "event_date"), &Cell::Str("2026-11-25".into()));
        assert_eq!(get(&record, "category"), &Cell::Str("payment".into()));
        assert_eq!(get(&record, "amount_cents"), &Cell::I64(15025));
        assert_eq!(get(&record, "local_hour"), &Cell::I32(20));
        assert_eq!(get(&record, "kafka_offset"), &Cell::I64(7));
        assert_eq!(get(&record, "flags"), &Cell::StrList(vec!["E2E_TIMESTAMP_SKEW"]));
        assert_eq!(get(&record, "settled_at"), &Cell::Null);
        let Cell::TsMicros(t) = get(&record, "event_time") else { panic!() };
        assert_eq!(format_micros(*t).unwrap(), "2026-11-25T23:30:05.120Z");
        assert_eq!(get(&record, "payer_tax_id_hash"), &Cell::Str(pii().hash("tax_id", "52998224725").into()));
        assert_eq!(get(&record, "payer_account_hash"), &Cell::Str(pii().hash("account", "99999010:1:12345").into()));
        assert_eq!(get(&record, "payee_account_hash"), &Cell::Null);
        let text = format!("{record:?}");
        for secret in ["52998224725", "Maria", "12345\"", "11222333000181", "secret text"] {
            assert!(!text.contains(secret), "{secret} leaked");
        }
    }

    #[test]
    fn column_pointers_name_object_members_without_escapes() {
        for column in COLUMNS.iter().chain(FRAUD_REPORT_COLUMNS) {
            if let Source::Json(p) | Source::HashedJson(p) | Source::HashedAccount(p) = column.source {
                assert!(p.starts_with('/') && !p.contains('~'), "{}: {p}", column.name);
            }
        }
        let value = sample();
        let event = Json::from_value(value.clone());
        let number = value.pointer("/payer/account/number").cloned().map(Json::from_value);
        assert_eq!(member(&event, "/payer/account/number"), number.as_ref());
        assert_eq!(member(&event, "/payer/nothing"), None);
        assert_eq!(member(&event, "/flags/0"), None, "arrays are not walked");
    }

    #[test]
    fn rejects_name_the_column_not_the_value() {
        let mut event = sample();
        event.as_object_mut().unwrap().remove("event_time");
        assert_eq!(to_record(&row(event), &pii(), TableKind::Events).unwrap_err(), "missing:event_time");
        let mut event = sample();
        event["amount_cents"] = "15025".into();
        assert_eq!(to_record(&row(event), &pii(), TableKind::Events).unwrap_err(), "type:amount_cents");
        let mut event = sample();
        event["settled_at"] = "yesterday".into();
        assert_eq!(to_record(&row(event), &pii(), TableKind::Events).unwrap_err(), "time:settled_at");
        assert_eq!(to_record(&row(Value::Null), &pii(), TableKind::Events).unwrap_err(), "not_an_object");
    }

    #[test]
    fn a_fraud_report_is_dated_by_its_creation_time_in_utc() {
        let report = serde_json::json!({
            "schema": "fraud_report", "schema_version": "1", "category": "fraud_report",
            "event_id": "INFRACTION_REPORT:91d65e98-97c0-4b0f-b577-73625da1f9fc:OPEN",
            "report_kind": "INFRACTION_REPORT", "report_id": "91d65e98-97c0-4b0f-b577-73625da1f9fc",
            "end_to_end_id": "E9999901012341234123412345678900", "status": "OPEN",
            "created_at": "2026-11-24T23:59:59.000-03:00", "event_time": "2026-11-26T10:00:00.000Z",
            "ingested_at": "2026-11-26T10:00:01.000Z", "details_sha256": "ab".repeat(32),
            "source": {"kind": "dict_xml", "item_index": 0, "raw_sha256": "00", "id": "dict"}, "flags": []
        });
        let first = row(report.clone());
        let record = to_record(&first, &pii(), TableKind::FraudReports).unwrap();
        let at = |name: &str| &record[FRAUD_REPORT_COLUMNS.iter().position(|c| c.name == name).unwrap()];
        assert_eq!(at("report_date"), &Cell::Str("2026-11-25".into()));
        assert_eq!(at("end_to_end_id"), &Cell::Str("E9999901012341234123412345678900".into()));
        assert_eq!(at("amount_cents"), &Cell::Null);
        let mut no_creation = report;
        no_creation.as_object_mut().unwrap().remove("created_at");
        let second = row(no_creation);
        let record = to_record(&second, &pii(), TableKind::FraudReports).unwrap();
        let i = FRAUD_REPORT_COLUMNS.iter().position(|c| c.name == "report_date").unwrap();
        assert_eq!(record[i], Cell::Str("2026-11-26".into()));
    }
}
