//! Reading a config file: interpolate, parse (with field paths), override, validate.

use std::collections::HashSet;
use std::path::Path;

use super::error::{ConfigError, ConfigErrors};
use super::locate::locate;
use super::types::{Bootstrap, Config, LogFormat, SourceConfig};
use super::vars::{VarSource, interpolate};

/// librdkafka properties that have a dedicated field or that would weaken durability.
const GUARDED_PROPERTIES: &[(&str, &str)] = &[
    ("bootstrap.servers", "set kafka.bootstrap_servers instead"),
    ("metadata.broker.list", "set kafka.bootstrap_servers instead"),
    ("acks", "pix-ingest always produces with acks=all"),
    ("request.required.acks", "pix-ingest always produces with acks=all"),
    ("enable.idempotence", "pix-ingest always uses the idempotent producer"),
    ("message.timeout.ms", "set kafka.delivery_timeout instead"),
    ("delivery.timeout.ms", "set kafka.delivery_timeout instead"),
    ("transactional.id", "transactions are not used by the source side"),
];

/// Loads and validates the config file at `path`.
pub fn load(path: &Path, vars: &dyn VarSource) -> Result<Config, ConfigErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            file: file.clone(),
            line: None,
            column: None,
            field: String::new(),
            message: format!("cannot read the file: {e}"),
        }])
    })?;
    load_str(&file, &text, vars)
}

/// Loads config text; `file` names it in errors.
pub fn load_str(file: &str, text: &str, vars: &dyn VarSource) -> Result<Config, ConfigErrors> {
    let err = |line, column, field: &str, message: String| ConfigError {
        file: file.to_owned(),
        line,
        column,
        field: field.to_owned(),
        message,
    };
    let text = interpolate(text, vars).map_err(|errs| {
        ConfigErrors(errs.into_iter().map(|e| err(Some(e.line as u64), Some(e.column as u64), "", e.message)).collect())
    })?;

    let mut config = parse(&text).map_err(|(field, e)| {
        let loc = e.location();
        // serde-saphyr's own message carries a source snippet; keep only the first line here and
        // point at the place ourselves.
        let message = e.to_string();
        let message = message.lines().next().unwrap_or("invalid YAML").to_owned();
        let (line, column) = match loc {
            Some(l) => (Some(l.line()), Some(l.column())),
            None => locate(&text, &field).map_or((None, None), |(l, c)| (Some(l), Some(c))),
        };
        ConfigErrors(vec![err(line, column, &field, message)])
    })?;

    let mut errors = Vec::new();
    apply_overrides(&mut config, vars, &mut errors, file);
    for (field, message) in validate(&config) {
        let (line, column) = locate(&text, &field).map_or((None, None), |(l, c)| (Some(l), Some(c)));
        errors.push(err(line, column, &field, message));
    }
    if errors.is_empty() { Ok(config) } else { Err(ConfigErrors(errors)) }
}

/// Parses with serde-saphyr (strict booleans: `yes`/`no`/`on` stay strings) and records the
/// field path of a failure with serde_path_to_error.
fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, (String, Box<serde_saphyr::Error>)> {
    let options = serde_saphyr::options! { strict_booleans: true };
    let mut path = String::new();
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
            path = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|e| (if path == "." { String::new() } else { path }, Box::new(e)))
}

/// The documented environment overrides (`PIX_INGEST_*`), applied after the file.
fn apply_overrides(config: &mut Config, vars: &dyn VarSource, errors: &mut Vec<ConfigError>, file: &str) {
    let mut env_err = |var: &str, message: String| {
        errors.push(ConfigError {
            file: format!("{file} (environment)"),
            line: None,
            column: None,
            field: var.to_owned(),
            message,
        })
    };
    if let Some(v) = vars.get("PIX_INGEST_KAFKA_BOOTSTRAP_SERVERS") {
        match Bootstrap::parse(&v) {
            Ok(b) => config.kafka.bootstrap_servers = b,
            Err(e) => env_err("PIX_INGEST_KAFKA_BOOTSTRAP_SERVERS", e),
        }
    }
    if let Some(v) = vars.get("PIX_INGEST_LOG_FORMAT") {
        match v.as_str() {
            "json" => config.telemetry.log_format = LogFormat::Json,
            "pretty" => config.telemetry.log_format = LogFormat::Pretty,
            _ => env_err("PIX_INGEST_LOG_FORMAT", "expected `json` or `pretty`".into()),
        }
    }
    if let Some(v) = vars.get("PIX_INGEST_LOG_LEVEL") {
        config.telemetry.log_level = v;
    }
}

/// Parses one entry (a source or a sink, as JSON or YAML text) with the same code and the same
/// `${VAR}` interpolation as the config file; errors name the field path inside the entry.
pub fn parse_entry<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
    vars: &dyn VarSource,
) -> Result<T, ConfigErrors> {
    let err = |line, column, field: String, message: String| ConfigError {
        file: what.to_owned(),
        line,
        column,
        field,
        message,
    };
    let text = interpolate(text, vars).map_err(|errs| {
        ConfigErrors(
            errs.into_iter()
                .map(|e| err(Some(e.line as u64), Some(e.column as u64), String::new(), e.message))
                .collect(),
        )
    })?;
    parse::<T>(&text).map_err(|(field, e)| {
        let message = e.to_string();
        let message = message.lines().next().unwrap_or("invalid entry").to_owned();
        ConfigErrors(vec![err(e.location().map(|l| l.line()), e.location().map(|l| l.column()), field, message)])
    })
}

/// Cross-field checks of a whole config: (field path, message) pairs, all of them.
pub fn check(c: &Config) -> Vec<(String, String)> {
    validate(c)
}

/// Cross-field checks: (field path, message) pairs, all of them.
fn validate(c: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bad = |field: String, msg: String| out.push((field, msg));

    for key in c.kafka.properties.keys() {
        if let Some((_, why)) = GUARDED_PROPERTIES.iter().find(|(k, _)| k == key) {
            bad(format!("kafka.properties.{key}"), format!("cannot be set here: {why}"));
        }
    }
    if c.kafka.delivery_timeout < std::time::Duration::from_millis(500) {
        bad("kafka.delivery_timeout".into(), "expected at least 500ms".into());
    }
    let ct = &c.kafka.create_topics;
    if ct.partitions < 1 {
        bad("kafka.create_topics.partitions".into(), "expected a positive number".into());
    }
    if ct.replication_factor < 1 {
        bad("kafka.create_topics.replication_factor".into(), "expected a positive number".into());
    }

    let names = ["payment", "receipt", "refund", "dead_letter"];
    let mut seen = HashSet::new();
    for (name, topic) in names.iter().zip(c.topics.all()) {
        if !seen.insert(topic.as_str()) {
            bad(format!("topics.{name}"), format!("`{topic}` is used for two categories"));
        }
    }

    if c.pix.own_ispbs.is_empty() {
        bad("pix.own_ispbs".into(), "expected at least one ISPB (8 of [0-9A-Z])".into());
    }
    for (i, ispb) in c.pix.own_ispbs.iter().enumerate() {
        if ispb.parse::<pix_domain::Ispb>().is_err() {
            bad(format!("pix.own_ispbs[{i}]"), format!("`{ispb}` is not an ISPB: expected 8 of [0-9A-Z]"));
        }
    }

    let mut ids = HashSet::new();
    let mut listens = HashSet::new();
    // Ids name consumer groups, metric labels and state-file entries: one namespace for all.
    let mut check_id = |field: String, id: &'_ str, bad: &mut dyn FnMut(String, String)| {
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            bad(field, "expected 1-64 of [a-z0-9-]".into());
        } else if !ids.insert(id.to_owned()) {
            bad(field, format!("`{id}` is used by another source or sink"));
        }
    };
    for (i, s) in c.sources.iter().enumerate() {
        check_id(format!("sources[{i}].id"), s.id(), &mut bad);
        match s {
            SourceConfig::Http(h) => {
                if h.listen.port() != 0 && !listens.insert(h.listen) {
                    bad(format!("sources[{i}].listen"), format!("{} is used by two sources", h.listen));
                }
                if h.request_timeout < c.kafka.delivery_timeout + std::time::Duration::from_secs(1) {
                    bad(
                        format!("sources[{i}].request_timeout"),
                        format!(
                            "expected at least kafka.delivery_timeout + 1s ({}), so that a 503 means \
                             Kafka did not acknowledge",
                            humantime::format_duration(c.kafka.delivery_timeout + std::time::Duration::from_secs(1))
                        ),
                    );
                }
                if h.max_body_bytes == 0 {
                    bad(format!("sources[{i}].max_body_bytes"), "expected a positive number".into());
                }
                if h.workers == 0 || h.workers > 64 {
                    bad(format!("sources[{i}].workers"), "expected 1 to 64".into());
                }
            }
            SourceConfig::Generator(g) => {
                for (field, msg) in g.problems() {
                    bad(format!("sources[{i}].{field}"), msg);
                }
            }
            SourceConfig::File(f) => {
                if let Err(e) = glob::Pattern::new(&f.path) {
                    bad(format!("sources[{i}].path"), format!("not a glob pattern: {e}"));
                }
                if f.batch_lines == 0 {
                    bad(format!("sources[{i}].batch_lines"), "expected a positive number".into());
                }
                if f.max_line_bytes == 0 {
                    bad(format!("sources[{i}].max_line_bytes"), "expected a positive number".into());
                }
            }
        }
    }

    for (i, s) in c.sinks.iter().enumerate() {
        check_id(format!("sinks[{i}].id"), s.id(), &mut bad);
        for (field, msg) in s.problems() {
            bad(format!("sinks[{i}].{field}"), msg);
        }
    }

    if tracing_subscriber::EnvFilter::try_new(&c.telemetry.log_level).is_err() {
        bad("telemetry.log_level".into(), "expected a tracing filter such as `info` or `info,pix_ingest=debug`".into());
    }
    let s = &c.supervision;
    if s.backoff_initial > s.backoff_max {
        bad("supervision.backoff_initial".into(), "expected at most supervision.backoff_max".into());
    }
    if s.max_restarts == 0 {
        bad("supervision.max_restarts".into(), "expected at least 1".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const GOOD: &str = "kafka:\n  bootstrap_servers: embedded\npix:\n  own_ispbs: [\"99999010\"]\nsources:\n  - id: api\n    type: http\n    listen: 127.0.0.1:8080\n";

    fn load(text: &str) -> Result<Config, ConfigErrors> {
        load_str("test.yaml", text, &HashMap::new())
    }

    #[test]
    fn loads_minimal_config_with_defaults() {
        let c = load(GOOD).unwrap();
        assert_eq!(c.kafka.bootstrap_servers, Bootstrap::Embedded);
        assert_eq!(c.topics.payment.as_str(), "pix.pagamentos");
        assert_eq!(c.topics.dead_letter.as_str(), "pix.dlq");
        assert_eq!(c.sources.len(), 1);
    }

    #[test]
    fn type_error_names_file_line_and_field() {
        let text = GOOD.replace("listen: 127.0.0.1:8080", "listen: not-an-address");
        let e = load(&text).unwrap_err();
        let msg = e.to_string();
        assert_eq!(e.0.len(), 1, "{msg}");
        assert_eq!(e.0[0].file, "test.yaml");
        assert_eq!(e.0[0].line, Some(8), "{msg}");
        assert!(e.0[0].field.contains("listen"), "{msg}");
    }

    #[test]
    fn unknown_field_is_refused_with_its_line() {
        let text = GOOD.replace("pix:\n", "pix:\n  own_ispb: [\"1\"]\n");
        let e = load(&text).unwrap_err();
        assert_eq!(e.0[0].line, Some(4), "{e}");
        assert!(e.to_string().contains("own_ispb"), "{e}");
    }

    #[test]
    fn cross_field_errors_are_all_reported_with_lines() {
        let text = "kafka:\n  bootstrap_servers: embedded\n  properties:\n    acks: 1\npix:\n  own_ispbs: [\"9999901a\"]\nsources:\n  - id: api\n    type: http\n    listen: 127.0.0.1:8080\n  - id: api\n    type: http\n    listen: 127.0.0.1:8080\n    request_timeout: 2s\n";
        let e = load(text).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|e| (e.field.as_str(), e.line)).collect();
        assert!(fields.contains(&("kafka.properties.acks", Some(4))), "{e}");
        assert!(fields.contains(&("pix.own_ispbs[0]", Some(6))), "{e}");
        assert!(fields.contains(&("sources[1].id", Some(11))), "{e}");
        assert!(fields.contains(&("sources[1].listen", Some(13))), "{e}");
        assert!(fields.contains(&("sources[1].request_timeout", Some(14))), "{e}");
    }

    #[test]
    fn strict_booleans_keep_norway_a_string_and_refuse_yes_for_bool() {
        let text = GOOD.replace("kafka:\n", "kafka:\n  create_topics:\n    enabled: yes\n");
        let e = load(&text).unwrap_err();
        assert_eq!(e.0[0].line, Some(3), "{e}");
    }

    #[test]
    fn env_overrides_and_interpolation() {
        let text = GOOD.replace("embedded", "${BROKERS}");
        let vars: HashMap<String, String> =
            [("BROKERS".to_owned(), "b1:9092".to_owned()), ("PIX_INGEST_LOG_FORMAT".to_owned(), "pretty".to_owned())]
                .into();
        let c = load_str("t.yaml", &text, &vars).unwrap();
        assert_eq!(c.kafka.bootstrap_servers, Bootstrap::Brokers("b1:9092".into()));
        assert_eq!(c.telemetry.log_format, LogFormat::Pretty);
        let vars: HashMap<String, String> =
            [("PIX_INGEST_KAFKA_BOOTSTRAP_SERVERS".to_owned(), "b2:9093,b3:9093".to_owned())].into();
        let c = load_str("t.yaml", GOOD, &vars).unwrap();
        assert_eq!(c.kafka.bootstrap_servers, Bootstrap::Brokers("b2:9093,b3:9093".into()));
    }

    #[test]
    fn missing_variable_is_an_error_on_its_line() {
        let text = GOOD.replace("embedded", "${NOPE}");
        let e = load(&text).unwrap_err();
        assert_eq!(e.0[0].line, Some(2));
        assert!(e.to_string().contains("NOPE"));
    }

    #[test]
    fn every_shipped_config_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let vars: HashMap<String, String> = [
            ("PIX_INGEST_ADMIN_TOKEN".to_owned(), "t".to_owned()),
            ("KAFKA_SASL_USERNAME".to_owned(), "u".to_owned()),
            ("KAFKA_SASL_PASSWORD".to_owned(), "p".to_owned()),
            ("WEBHOOK_HMAC_SECRET".to_owned(), "w".to_owned()),
            ("PIX_DELTA_PII_SALT".to_owned(), "0123456789abcdef0123".to_owned()),
            ("SCORING_TOKEN".to_owned(), "s".to_owned()),
        ]
        .into();
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                super::load(&path, &vars).unwrap_or_else(|e| panic!("{e}"));
                n += 1;
            }
        }
        assert!(n >= 3, "expected the dev, local and production example configs");
    }
}
