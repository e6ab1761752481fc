//! Cross-field checks of a whole config, as (field path, message) pairs, all of them.
//!
//! Each section checks itself (`KafkaConfig::problems`, `SourceKind::problems`, ...); this adds
//! what spans sections: one id namespace for sources and sinks (ids name consumer groups, metric
//! labels and state-file entries), the ids the pipeline actors reserve, listen addresses used
//! twice, and the context a source needs (the delivery timeout its deadline must exceed).

use std::collections::HashSet;

use super::types::Config;
use crate::sources::CheckContext;

/// Every problem of `c`, with its field path.
pub fn check(c: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let under = |prefix: &str, problems: Vec<(String, String)>| {
        problems.into_iter().map(move |(f, m)| (format!("{prefix}.{f}"), m)).collect::<Vec<_>>()
    };
    out.extend(under("kafka", c.kafka.problems()));
    out.extend(under("topics", c.topics.problems()));
    out.extend(under("pix", c.pix.problems()));
    out.extend(under("supervision", c.supervision.problems().into_iter().map(|(f, m)| (f.to_owned(), m)).collect()));

    let mut ids = Ids::default();
    let mut listens = HashSet::new();
    let ctx = CheckContext { delivery_timeout: c.kafka.delivery_timeout, max_record_bytes: c.kafka.max_record_bytes() };
    for (i, s) in c.sources.iter().enumerate() {
        ids.check(format!("sources[{i}].id"), s.id(), &mut out);
        if let Some(addr) = s.kind().listen()
            && !listens.insert(addr)
        {
            out.push((format!("sources[{i}].listen"), format!("{addr} is used by two sources")));
        }
        for (field, msg) in s.kind().problems(&ctx) {
            out.push((format!("sources[{i}].{field}"), msg));
        }
    }
    for (i, s) in c.sinks.iter().enumerate() {
        ids.check(format!("sinks[{i}].id"), s.id(), &mut out);
        for (field, msg) in s.problems() {
            out.push((format!("sinks[{i}].{field}"), msg));
        }
    }
    out.extend(under("admin", c.admin.problems()));
    if let Some(tls) = &c.admin.tls {
        out.extend(tls.problems().into_iter().map(|(f, m)| (format!("admin.{f}"), m)));
    }
    if tracing_subscriber::EnvFilter::try_new(&c.telemetry.log_level).is_err() {
        out.push((
            "telemetry.log_level".into(),
            "expected a tracing filter such as `info` or `info,pix_ingest=debug`".into(),
        ));
    }
    out
}

/// The one namespace of source and sink ids.
#[derive(Default)]
struct Ids(HashSet<String>);

impl Ids {
    fn check(&mut self, field: String, id: &str, out: &mut Vec<(String, String)>) {
        let shape = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !shape {
            out.push((field, "expected 1-64 of [a-z0-9-]".into()));
        } else if id == crate::router::ACTOR_ID || id == crate::dead_letter::ACTOR_ID {
            out.push((field, format!("`{id}` is reserved for a pipeline actor")));
        } else if !self.0.insert(id.to_owned()) {
            out.push((field, format!("`{id}` is used by another source or sink")));
        }
    }
}
