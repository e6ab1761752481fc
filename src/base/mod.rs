//! The vocabulary every other module uses, and nothing of pix-ingest's own behaviour: secrets that
//! never print, the one place the process environment is read (`vars`), and the deserialization of
//! `type`-tagged config entries that keeps YAML positions (`tagged`), and what the build recorded
//! about itself (`VERSION`, `COMMIT`: see `build.rs`). A leaf: it imports no other
//! module of this crate, so sources, sinks and the config root can all stand on it.

pub(crate) mod registry;
pub mod secret;
pub mod tagged;
pub mod vars;

pub(crate) use registry::kind_registry;
pub use secret::Secret;
pub use tagged::visit_tagged;

/// The package version (`Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit the binary was built from (short hash), or `unknown` (see `build.rs`).
pub const COMMIT: &str = env!("PIX_INGEST_COMMIT");

/// An error and its causes, `: `-separated: client libraries such as reqwest keep the operating
/// system's reason (`Connection refused`) in a source, not in their own message.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
