//! The real binary as a child process: start it on a config, wait for a port, read its log.
//! For the tests that must kill it (-9 or SIGTERM) or read what it prints. The child runs in the
//! directory of its config (a temp dir: relative paths such as the default admin state file
//! `data/admin-state.json` land there, never in the repository), and without the variables that
//! choose a config, listen addresses or trace export, unless a test sets them.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::wait::{holds, wait_until_blocking};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_pix-ingest");

/// Variables of the environment the binary reads besides `${VAR}` references.
const CHOOSING_VARS: [&str; 8] = [
    "PIX_INGEST_CONFIG",
    "PIX_INGEST_LISTEN",
    "PIX_INGEST_ADMIN_LISTEN",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SERVICE_NAME",
];

/// `pix-ingest run --config <config>` in the config's directory, stdout and stderr appended to
/// `log`.
pub fn spawn(config: &Path, log: &Path) -> Child {
    spawn_with(config, &[], log)
}

/// `spawn` with `env` set (e.g. `PIX_INGEST_KAFKA_INSTANCE_ID` for static group membership).
pub fn spawn_with(config: &Path, env: &[(&str, &str)], log: &Path) -> Child {
    let dir = config.parent().unwrap();
    command(dir, &["run", "--config", config.to_str().unwrap()], env, log).spawn().unwrap()
}

/// `pix-ingest ARGS` in `dir` with `env` set (and the other choosing variables unset), stdout
/// and stderr appended to `log`; not started yet.
pub fn command(dir: &Path, args: &[&str], env: &[(&str, &str)], log: &Path) -> Command {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).stdout(log.try_clone().unwrap()).stderr(log).stdin(Stdio::null());
    for var in CHOOSING_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd
}

/// Waits until the child listens on 127.0.0.1:`port`; fails if it exits first.
pub fn wait_listening(child: &mut Child, port: u16, log: &Path) {
    wait_until_blocking("the service to listen", Duration::from_secs(60), || {
        assert!(child.try_wait().unwrap().is_none(), "the service exited early:\n{}", read_log(log));
        holds(TcpStream::connect(("127.0.0.1", port)).is_ok(), format!("nothing on port {port}"))
    });
}

/// SIGTERM by the child's pid, then its exit status.
pub fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    child.wait().unwrap()
}

/// Everything the child wrote.
pub fn read_log(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
