//! The real binary as a child process: start it on a config, wait for a port, read its log.
//! For the tests that must kill it (-9 or SIGTERM) or read what it prints.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::wait::{holds, wait_until_blocking};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_pix-ingest");

/// `pix-ingest run --config <config>`, stdout and stderr appended to `log`.
pub fn spawn(config: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(BIN)
        .args(["run", "--config", config.to_str().unwrap()])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap()
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
