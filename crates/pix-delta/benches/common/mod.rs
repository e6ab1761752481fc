//! What the writer benchmarks share: a canonical Pix event as the ingest publishes it, the
//! writer's config for a temporary table, and the CPU time this process used.
#![allow(dead_code, clippy::unwrap_used, clippy::disallowed_methods)]

use pix_delta::{DedupeConfig, DeltaSinkConfig, Json, Row};
use serde_json::json;

/// The `n`-th canonical event (a payment with a CPF payer, an account and a CNPJ Pix key, so every
/// PII hash is computed).
pub fn event(n: usize) -> serde_json::Value {
    let e2e = format!("E99999010{}{n:011}", chrono::Utc::now().format("%Y%m%d%H%M"));
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    json!({
        "schema_version": "1", "event_id": format!("{e2e}:TRANSFER:PENDING"), "event_type": "TRANSFER",
        "category": "payment", "direction": "OUTBOUND", "end_to_end_id": e2e, "amount": "150.25",
        "amount_cents": 15025, "currency": "BRL", "event_time": now, "ingested_at": now, "status": "PENDING",
        "payer": {"ispb": "99999010", "tax_id": "52998224725", "tax_id_type": "CPF",
                  "account": {"branch": "1", "number": "123456", "type": "CACC"}},
        "payee": {"ispb": "12345678"}, "pix_key": "11222333000181", "pix_key_type": "CNPJ",
        "initiation_type": "DICT", "is_med": false, "intra_psp": false, "local_hour": 11, "night_period": false,
        "source": {"kind": "canonical", "item_index": 0, "raw_sha256": "0", "id": "bench"}, "flags": []
    })
}

/// `rows` rows of [`event`] spread over six partitions of one topic, offsets in order.
pub fn rows(rows: usize) -> Vec<Row<'static>> {
    (0..rows).map(|n| row(n, Json::from_value(event(n)))).collect()
}

/// The `n`-th row: partition `n % 6`, offset `n / 6`.
pub fn row(n: usize, event: Json<'_>) -> Row<'_> {
    Row { topic: "pix.pagamentos".into(), partition: (n % 6) as i32, offset: (n / 6) as i64, event }
}

/// The Kafka payloads of `rows` rows of [`event`], as the sink consumes them.
pub fn payloads(rows: usize) -> Vec<Vec<u8>> {
    (0..rows).map(|n| serde_json::to_vec(&event(n)).unwrap()).collect()
}

/// The writer's config for a table under `dir`, de-duplicating by event id when `dedupe`.
pub fn config(dir: &std::path::Path, dedupe: bool) -> DeltaSinkConfig {
    DeltaSinkConfig {
        table_uri: dir.join("t").to_string_lossy().into_owned(),
        app_id: "bench".into(),
        checkpoint_interval: 10,
        pii_salt: "bench-salt-0123456789abcdef".into(),
        dedupe: dedupe.then_some(DedupeConfig { window_days: 7, max_ids: usize::MAX }),
        table: pix_delta::TableKind::Events,
    }
}

/// User + system CPU seconds of this process so far (`/proc/self/stat`, clock ticks of 1/100 s).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces) start after its closing `)`.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
