//! At start: the YAML's sources and sinks with what the admin API changed laid over them (the
//! desired-state overlay), and the children that must start paused.

use crate::base::vars::VarSource;
use crate::config::{ConfigErrors, parse_entry};
use crate::sinks::SinkConfig;
use crate::sources::SourceConfig;

use super::registry::ChildConfig;
use super::state::DesiredState;

/// What to start.
#[derive(Debug, Default)]
pub struct Plan {
    /// Every child, sinks first (they are ready to drain before input arrives).
    pub children: Vec<ChildConfig>,
    /// Ids that start paused.
    pub paused: Vec<String>,
}

/// Applies the overlay to the YAML's entries. A persisted entry is parsed with the same code (and
/// the same `${VAR}` rules, through `vars`) as when it was submitted.
pub fn reconcile(
    sources: &[SourceConfig],
    sinks: &[SinkConfig],
    desired: &DesiredState,
    vars: &dyn VarSource,
) -> Result<Plan, ConfigErrors> {
    let mut children: Vec<ChildConfig> =
        sinks.iter().cloned().map(ChildConfig::Sink).chain(sources.iter().cloned().map(ChildConfig::Source)).collect();
    let mut paused = Vec::new();
    for (id, o) in &desired.actors {
        if o.deleted {
            children.retain(|c| c.id() != id);
            continue;
        }
        if let Some(body) = &o.body {
            let what = format!("admin state ({id})");
            let parsed = match o.kind.as_str() {
                "source" => parse_entry::<SourceConfig>(&what, body, vars).map(ChildConfig::Source),
                _ => parse_entry::<SinkConfig>(&what, body, vars).map(ChildConfig::Sink),
            }?;
            children.retain(|c| c.id() != id);
            children.push(parsed);
        }
        if o.paused {
            paused.push(id.clone());
        }
    }
    Ok(Plan { children, paused })
}
