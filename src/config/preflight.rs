//! What `check-config` and `run` check beyond [`super::load`]: the files the config names and
//! librdkafka's verdict on a client built offline. Loading stays a pure function of the text (the
//! shipped examples load anywhere); this reads the TLS certificates, keys and CA bundles of every
//! listener and of the HTTP sinks, and the `kafka.properties` files (`ssl.ca.location`, ...).

use std::path::Path;

use super::error::{ConfigError, ConfigErrors};
use super::locate::locate;
use super::types::Config;
use crate::base::vars::{VarSource, interpolate};
use crate::sinks::SinkConfig;
use crate::sources::SourceConfig;

/// `load`, then the file checks; every error names the file, the line and the field.
pub fn load_checked(path: &Path, vars: &dyn VarSource) -> Result<Config, ConfigErrors> {
    let config = super::load(path, vars)?;
    // `load` read and interpolated the same text just now; errors here only need its lines.
    let text = std::fs::read_to_string(path).ok().and_then(|t| interpolate(&t, vars).ok()).unwrap_or_default();
    check_files(&path.display().to_string(), &text, &config)?;
    Ok(config)
}

/// `load_str`, then the file checks.
pub fn load_str_checked(file: &str, text: &str, vars: &dyn VarSource) -> Result<Config, ConfigErrors> {
    let config = super::load_str(file, text, vars)?;
    check_files(file, &interpolate(text, vars).unwrap_or_default(), &config)?;
    Ok(config)
}

/// Every file problem of `config`, as (field path, message).
pub fn file_problems(config: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, s) in config.sources.iter().enumerate() {
        if let SourceConfig::Http(h) = s
            && let Some(tls) = &h.tls
            && let Err(e) = crate::tls::server_config(tls)
        {
            out.push((format!("sources[{i}].tls"), e.to_string()));
        }
        if let SourceConfig::ApiPixPoll(p) = s
            && let Some(tls) = &p.tls
            && let Err(e) = crate::tls::client_config(tls)
        {
            out.push((format!("sources[{i}].tls"), e.to_string()));
        }
    }
    for (i, s) in config.sinks.iter().enumerate() {
        if let SinkConfig::Http(h) = s
            && let Some(tls) = &h.tls
            && let Err(e) = crate::tls::client_config(tls)
        {
            out.push((format!("sinks[{i}].tls"), e.to_string()));
        }
    }
    if config.admin.enabled
        && let Some(tls) = &config.admin.tls
        && let Err(e) = crate::tls::server_config(tls)
    {
        out.push(("admin.tls".into(), e.to_string()));
    }
    out.extend(crate::kafka::security::preflight(&config.kafka).into_iter().map(|(f, m)| (format!("kafka.{f}"), m)));
    out
}

/// The file problems of `config` as errors located in `text` (its interpolated source).
pub(super) fn check_files(file: &str, text: &str, config: &Config) -> Result<(), ConfigErrors> {
    let errors: Vec<ConfigError> = file_problems(config)
        .into_iter()
        .map(|(field, message)| {
            let (line, column) = locate(text, &field).map_or((None, None), |(l, c)| (Some(l), Some(c)));
            ConfigError { file: file.to_owned(), line, column, field, message }
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(ConfigErrors(errors)) }
}
