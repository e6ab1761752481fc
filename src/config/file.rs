//! Which config a command uses: `--config FILE`, else the file named by `PIX_INGEST_CONFIG`,
//! else the bundled demo (`config/dev.yaml`, compiled into the binary). The bundled demo serves
//! every build: a sink whose kind this binary was built without is left out and reported, while
//! in a file an operator wrote the same entry is an error.

use std::path::PathBuf;

use super::error::ConfigErrors;
use super::load::{LeftOut, NotBuilt, load_text};
use super::preflight::check_files;
use super::types::Config;
use crate::base::vars::{VarSource, interpolate};

/// The variable that names the config file when `--config` is absent.
pub const CONFIG_VAR: &str = "PIX_INGEST_CONFIG";

/// The bundled demo config: embedded broker, loopback listeners, a generator and file and Delta
/// sinks under `./data/`.
pub const BUNDLED: &str = include_str!("../../config/dev.yaml");

/// Where a command's config comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigFile {
    /// A file on disk.
    Path(PathBuf),
    /// The bundled demo.
    Bundled,
}

/// A loaded config and the sinks the bundled demo left out (always empty for a file).
#[derive(Debug)]
pub struct Loaded {
    /// The validated config.
    pub config: Config,
    /// Sinks left out because their kind is not built into this binary.
    pub left_out: Vec<LeftOut>,
}

impl ConfigFile {
    /// `flag` when given, else `PIX_INGEST_CONFIG` when set and not empty, else the bundled demo.
    pub fn choose(flag: Option<PathBuf>, vars: &dyn VarSource) -> Self {
        match flag.or_else(|| vars.get(CONFIG_VAR).filter(|v| !v.trim().is_empty()).map(PathBuf::from)) {
            Some(path) => Self::Path(path),
            None => Self::Bundled,
        }
    }

    /// How errors and logs name it.
    pub fn name(&self) -> String {
        match self {
            Self::Path(p) => p.display().to_string(),
            Self::Bundled => "config/dev.yaml (bundled)".to_owned(),
        }
    }

    /// Reads, interpolates, parses and validates it, and checks the files it names (what
    /// `check-config` and `run` need: `load_checked`).
    pub fn load(&self, vars: &dyn VarSource) -> Result<Loaded, ConfigErrors> {
        let (config, left_out) = match self {
            Self::Path(path) => (super::load_checked(path, vars)?, Vec::new()),
            Self::Bundled => {
                let (config, left_out) = load_text(&self.name(), BUNDLED, vars, NotBuilt::LeaveOut)?;
                check_files(&self.name(), &interpolate(BUNDLED, vars).unwrap_or_default(), &config)?;
                (config, left_out)
            }
        };
        Ok(Loaded { config, left_out })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_flag_wins_then_the_variable_then_the_bundled_demo() {
        let env = vars(&[(CONFIG_VAR, "/etc/pix-ingest/config.yaml")]);
        assert_eq!(ConfigFile::choose(Some("a.yaml".into()), &env), ConfigFile::Path("a.yaml".into()));
        assert_eq!(ConfigFile::choose(None, &env), ConfigFile::Path("/etc/pix-ingest/config.yaml".into()));
        assert_eq!(ConfigFile::choose(None, &vars(&[(CONFIG_VAR, " ")])), ConfigFile::Bundled);
        assert_eq!(ConfigFile::choose(None, &vars(&[])), ConfigFile::Bundled);
    }

    #[test]
    fn the_bundled_demo_runs_the_whole_pipeline_in_every_build() {
        let loaded = ConfigFile::Bundled.load(&vars(&[])).unwrap_or_else(|e| panic!("{e}"));
        let c = &loaded.config;
        assert!(c.sources.iter().any(|s| s.type_name() == "generator"), "a generator feeds the demo");
        assert!(c.sinks.iter().any(|s| s.type_name() == "file"), "a file sink");
        if cfg!(feature = "delta") {
            assert!(c.sinks.iter().any(|s| s.type_name() == "delta"), "a Delta sink");
            assert!(loaded.left_out.is_empty());
        } else {
            assert!(c.sinks.iter().all(|s| s.type_name() != "delta"));
            assert_eq!(loaded.left_out.len(), 1, "{:?}", loaded.left_out);
            assert_eq!(loaded.left_out[0].feature, "delta");
        }
    }

    /// The same entry in a file an operator wrote is refused, naming the feature.
    #[cfg(not(feature = "delta"))]
    #[test]
    fn a_file_with_a_sink_kind_not_built_is_refused() {
        let e = super::super::load_str("ops.yaml", BUNDLED, &vars(&[])).unwrap_err();
        assert!(e.to_string().contains("cargo feature `delta`"), "{e}");
    }
}
