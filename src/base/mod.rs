//! The vocabulary every other module uses, and nothing of pix-ingest's own behaviour: secrets that
//! never print, the one place the process environment is read (`vars`), and the deserialization of
//! `type`-tagged config entries that keeps YAML positions (`tagged`). A leaf: it imports no other
//! module of this crate, so sources, sinks and the config root can all stand on it.

pub(crate) mod registry;
pub mod secret;
pub mod tagged;
pub mod vars;

pub(crate) use registry::kind_registry;
pub use secret::Secret;
pub use tagged::visit_tagged;
