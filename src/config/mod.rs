//! Configuration: typed, closed (`deny_unknown_fields`), documented data, one YAML file per
//! environment.
//!
//! `load` reads the file, interpolates `${VAR}`, parses YAML (serde-saphyr, strict booleans),
//! applies the documented `PIX_INGEST_*` overrides and then runs the cross-field checks in
//! `validate`. Every error names the file, the line and the field path. The structs hold no I/O;
//! the app's `start` turns them into clients and actors.

mod error;
mod load;
mod locate;
mod secret;
mod tagged;
pub use tagged::visit_tagged;
mod types;
pub mod vars;

pub use error::{ConfigError, ConfigErrors};
pub use load::{check, load, load_str, parse_entry};
pub use secret::Secret;
pub use types::*;
