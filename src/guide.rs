//! What `pix-ingest run` says once the bundled demo is up: where to send events and where the
//! data comes out (the listeners actually bound, the sinks' directories and tables), so a
//! newcomer sees the whole pipeline. Only for the bundled demo: an operator's config may name
//! destinations that do not belong in a log.

use crate::app::AppHandle;
use crate::config::Config;

/// The lines to log, one per thing to look at.
pub async fn demo(app: &AppHandle, cfg: &Config) -> Vec<String> {
    let mut lines = Vec::new();
    for s in &cfg.sources {
        let entry = serde_json::to_value(s).unwrap_or_default();
        match s.type_name() {
            "http" => {
                if let Some(addr) = app.source_addr(s.id(), std::time::Duration::from_secs(5)).await {
                    lines.push(format!(
                        "send events: POST http://{addr}/v1/events (or `pix-ingest gen --url http://{addr}/v1/events`)"
                    ));
                }
            }
            "generator" => lines.push(format!("source `{}` generates {} events/s", s.id(), entry["rate"])),
            _ => {}
        }
    }
    if let Some(addr) = app.admin_addr() {
        lines.push(format!("metrics: http://{addr}/metrics, actors: http://{addr}/api/v1/actors"));
    }
    for s in &cfg.sinks {
        let entry = serde_json::to_value(s).unwrap_or_default();
        if let Some(dir) = entry["dir"].as_str() {
            lines.push(format!("sink `{}`: NDJSON files under {dir}/dt=<date>/category=<category>/", s.id()));
        }
        if let Some(table) = entry["table_uri"].as_str() {
            lines.push(format!(
                "sink `{}`: a Delta table at {table}; read it with Python: \
                 python3 -c 'import deltalake; print(deltalake.DeltaTable(\"{table}\").to_pyarrow_table().num_rows)'",
                s.id()
            ));
        }
    }
    lines
}
