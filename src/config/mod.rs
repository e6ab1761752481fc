//! Configuration: typed, closed (`deny_unknown_fields`), documented data, one YAML file per
//! environment.
//!
//! `ConfigFile` chooses the file (`--config`, `PIX_INGEST_CONFIG`, or the bundled demo); `load`
//! reads it, interpolates `${VAR}`, parses YAML (serde-saphyr, strict booleans),
//! applies the documented `PIX_INGEST_*` overrides and then runs the cross-field checks of
//! `check`. Every error names the file, the line and the field path. The section types live with
//! the modules that own them; this module composes them into [`Config`] and holds the checks
//! that span sections. The structs hold no I/O; `app` turns them into clients and actors.
//! `load_checked` (what the binary uses) adds the checks that read the files a config names.

mod check;
mod error;
mod file;
mod load;
mod locate;
mod preflight;
mod secrets;
mod types;

pub use crate::base::{Secret, vars};
pub use check::check;
pub use error::{ConfigError, ConfigErrors};
pub use file::{BUNDLED, CONFIG_VAR, ConfigFile, Loaded};
pub use load::{LeftOut, NotBuilt, load, load_str, load_text, parse_entry};
pub use preflight::{file_problems, load_checked, load_str_checked};
pub use secrets::require_references;
pub use types::{AdminConfig, Config, ShutdownConfig};
