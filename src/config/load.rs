//! Reading a config file: interpolate, parse (with field paths), override, validate.

use std::path::Path;

use super::error::{ConfigError, ConfigErrors};
use super::locate::locate;
use super::types::Config;
use crate::base::vars::{VarSource, interpolate};
use crate::kafka::Bootstrap;
use crate::telemetry::LogFormat;

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
    load_text(file, text, vars, NotBuilt::Refuse).map(|(config, _)| config)
}

/// What loading does with a sink whose kind this binary was built without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotBuilt {
    /// An error naming the entry and the cargo feature (every file an operator wrote).
    Refuse,
    /// Left out of the config and reported (the bundled demo, which serves every build).
    LeaveOut,
}

/// A sink left out because its kind is not built in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The sink id.
    pub id: String,
    /// Its `type`.
    pub kind: &'static str,
    /// The cargo feature it needs.
    pub feature: &'static str,
}

/// Loads config text, with `not_built` deciding about sink kinds this binary lacks.
pub fn load_text(
    file: &str,
    text: &str,
    vars: &dyn VarSource,
    not_built: NotBuilt,
) -> Result<(Config, Vec<LeftOut>), ConfigErrors> {
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
    let mut left_out = Vec::new();
    if not_built == NotBuilt::LeaveOut {
        config.sinks.retain(|s| match s.kind().compiled_out() {
            Some(feature) => {
                left_out.push(LeftOut { id: s.id().to_owned(), kind: s.type_name(), feature });
                false
            }
            None => true,
        });
    }
    for (field, message) in super::check::check(&config) {
        let (line, column) = locate(&text, &field).map_or((None, None), |(l, c)| (Some(l), Some(c)));
        errors.push(err(line, column, &field, message));
    }
    if errors.is_empty() { Ok((config, left_out)) } else { Err(ConfigErrors(errors)) }
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
            Err(e) => env_err("PIX_INGEST_KAFKA_BOOTSTRAP_SERVERS", e.0),
        }
    }
    if let Some(v) = vars.get("PIX_INGEST_KAFKA_INSTANCE_ID") {
        match crate::kafka::config::check_instance_id(&v) {
            Ok(()) => config.kafka.instance_id = Some(v),
            Err(e) => env_err("PIX_INGEST_KAFKA_INSTANCE_ID", e.0),
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
    if let Err((var, message)) = config.telemetry.apply_otel_env(vars) {
        env_err(var, message);
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
