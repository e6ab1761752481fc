//! Entries submitted to the admin API are written to the state file as sent, so a literal secret
//! in one would land on disk. Every [`Secret`](crate::base::Secret) field of such an entry must
//! therefore be a whole `${VAR}` reference, resolved from pix-ingest's environment at each start.
//!
//! Generic over the entry type, with no list of field names: the parsed entry is serialized
//! (a `Secret` serializes to [`Secret::REDACTED`](crate::base::Secret::REDACTED)), which gives the
//! path of every secret field; the text is interpolated a second time with a marker per reference
//! instead of its value; the node at each secret path must be exactly one marker. A variable that
//! is not set gets no marker, so `${VAR:-literal}` falling back to its default is refused too.

use std::cell::RefCell;

use serde::Serialize;
use serde_json::Value;

use super::error::{ConfigError, ConfigErrors};
use super::locate::locate;
use crate::base::Secret;
use crate::base::vars::{VarSource, interpolate};

/// Hands out a unique marker for every reference to a variable that is set.
struct Markers<'a> {
    vars: &'a dyn VarSource,
    nonce: String,
    issued: RefCell<Vec<String>>,
}

impl VarSource for Markers<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name)?;
        let mut issued = self.issued.borrow_mut();
        let marker = format!("{}-{}", self.nonce, issued.len());
        issued.push(marker.clone());
        Some(marker)
    }
}

/// The path (`hmac.secret`, `tls.key`...) of every secret in `v`.
fn secret_paths(v: &Value, at: &str, out: &mut Vec<String>) {
    let join = |k: &str| if at.is_empty() { k.to_owned() } else { format!("{at}.{k}") };
    match v {
        Value::String(s) if s == Secret::REDACTED => out.push(at.to_owned()),
        Value::Object(m) => m.iter().for_each(|(k, v)| secret_paths(v, &join(k), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| secret_paths(v, &format!("{at}[{i}]"), out)),
        _ => {}
    }
}

/// The node at `path` (as written by [`secret_paths`]).
fn at_path<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    let mut node = root;
    for part in path.split('.') {
        let (key, indexes) = part.split_once('[').map_or((part, ""), |(k, rest)| (k, rest));
        node = node.get(key)?;
        for i in indexes.split('[').filter(|s| !s.is_empty()) {
            node = node.get(i.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(node)
}

/// `Err` naming every secret field of `parsed` that `text` does not give as a whole `${VAR}`.
pub fn require_references<T: Serialize>(
    what: &str,
    text: &str,
    parsed: &T,
    vars: &dyn VarSource,
) -> Result<(), ConfigErrors> {
    let mut paths = Vec::new();
    secret_paths(&serde_json::to_value(parsed).unwrap_or(Value::Null), "", &mut paths);
    if paths.is_empty() {
        return Ok(());
    }
    let markers =
        Markers { vars, nonce: format!("pix-ingest-ref-{:032x}", rand::random::<u128>()), issued: RefCell::default() };
    let marked = interpolate(text, &markers).unwrap_or_default();
    let tree: Value = serde_saphyr::from_str(&marked).unwrap_or(Value::Null);
    let issued = markers.issued.into_inner();
    let errors: Vec<ConfigError> = paths
        .into_iter()
        .filter(|p| !matches!(at_path(&tree, p), Some(Value::String(s)) if issued.contains(s)))
        .map(|field| {
            let (line, column) = locate(&marked, &field).map_or((None, None), |(l, c)| (Some(l), Some(c)));
            ConfigError {
                file: what.to_owned(),
                line,
                column,
                message: "a literal secret is not accepted: entries sent to the admin API are stored in its state \
                          file. Write \"${VAR}\" and set VAR in pix-ingest's environment"
                    .into(),
                field,
            }
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(ConfigErrors(errors)) }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::sinks::SinkConfig;
    use crate::sources::SourceConfig;

    fn check(text: &str) -> Result<(), Vec<String>> {
        let vars: HashMap<String, String> = [("TOKEN".to_owned(), "s3cr3t".to_owned())].into();
        let parsed: Result<SinkConfig, _> = super::super::parse_entry("body", text, &vars);
        let result = match parsed {
            Ok(sink) => super::require_references("body", text, &sink, &vars),
            Err(_) => {
                let source: SourceConfig = super::super::parse_entry("body", text, &vars).unwrap();
                super::require_references("body", text, &source, &vars)
            }
        };
        result.map_err(|e| e.0.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn secrets_must_be_whole_references() {
        let sink = r#"{"id": "s", "type": "http", "url": "https://x.example/", "bearer_token": "TOKEN"}"#;
        assert_eq!(check(sink), Err(vec!["bearer_token".to_owned()]));
        assert_eq!(check(&sink.replace("\"TOKEN\"", "\"${TOKEN}\"")), Ok(()));
        assert_eq!(check(&sink.replace("\"TOKEN\"", "\"Bearer ${TOKEN}\"")), Err(vec!["bearer_token".to_owned()]));
        assert_eq!(check(&sink.replace("\"TOKEN\"", "\"${UNSET:-literal}\"")), Err(vec!["bearer_token".to_owned()]));
        let source = "id: w\ntype: http\nlisten: 127.0.0.1:0\nhmac:\n  secret: hunter2\n";
        assert_eq!(check(source), Err(vec!["hmac.secret".to_owned()]));
        assert_eq!(check(&source.replace("hunter2", "\"${TOKEN}\"")), Ok(()));
        assert_eq!(check("id: w\ntype: http\nlisten: 127.0.0.1:0\n"), Ok(()), "no secret, nothing to refuse");
    }
}
