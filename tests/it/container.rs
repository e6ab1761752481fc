//! The container image as shipped, without a Docker engine (there is none on this machine): the
//! final stage of the `Dockerfile` is read, and its `ENTRYPOINT` + `CMD` and its `HEALTHCHECK`
//! are run exactly as written, with its `ENV`, as its non-root `USER`, in an empty directory
//! owned by that user standing for the `WORKDIR` volume. Only the listen addresses move, from all
//! interfaces to free loopback ports (tests listen on 127.0.0.1 only). Also what an operator
//! scrapes first: `pix_ingest_build_info` with the commit and the `process_*` families.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::repo;
use crate::service::{BIN, free_port, read_log, sigterm, wait_listening};
use crate::wait::{holds, wait_until_blocking};

/// The instructions of the Dockerfile's last stage that decide how the image runs.
#[derive(Debug, Default)]
struct FinalStage {
    user: String,
    workdir: String,
    volumes: Vec<String>,
    env: BTreeMap<String, String>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    healthcheck: Vec<String>,
    /// Packages its `apt-get install` lines install.
    packages: Vec<String>,
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not an exec-form JSON list ({e}): {text}"))
}

/// Reads the last stage: comments dropped, continuation lines joined.
fn final_stage(path: &Path) -> FinalStage {
    let text = std::fs::read_to_string(path).unwrap();
    let joined =
        text.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n").replace("\\\n", " ");
    let mut stage = FinalStage::default();
    for line in joined.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match word {
            "FROM" => stage = FinalStage::default(),
            "USER" => stage.user = rest.trim().to_owned(),
            "WORKDIR" => stage.workdir = rest.trim().to_owned(),
            "VOLUME" => stage.volumes = json_list(rest),
            "ENTRYPOINT" => stage.entrypoint = json_list(rest),
            "CMD" => stage.cmd = json_list(rest),
            "HEALTHCHECK" => stage.healthcheck = json_list(rest.split_once("CMD").expect("HEALTHCHECK CMD").1),
            "RUN" => {
                for install in rest.split("apt-get install").skip(1) {
                    let words = install.split("&&").next().unwrap_or_default().split_whitespace();
                    stage.packages.extend(words.filter(|w| !w.starts_with('-')).map(str::to_owned));
                }
            }
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (k, v) = pair.split_once('=').expect("ENV KEY=VALUE");
                    stage.env.insert(k.to_owned(), v.to_owned());
                }
            }
            _ => {}
        }
    }
    stage
}

/// The Debian package holding `path` (a library `ldd` resolved), by its real path.
fn debian_package(path: &str) -> String {
    let real = std::fs::canonicalize(path).unwrap();
    let real = real.to_str().unwrap();
    // Merged /usr: dpkg knows a library under one of /lib and /usr/lib.
    let candidates = [real.to_owned(), format!("/usr{real}"), real.trim_start_matches("/usr").to_owned()];
    for candidate in candidates {
        let out = Command::new("dpkg").args(["-S", &candidate]).output().expect("dpkg (the runtime image is Debian)");
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            return text.split(':').next().unwrap_or_default().trim().to_owned();
        }
    }
    panic!("no Debian package holds {path}");
}

/// The image's user as (uid, gid), numeric as Kubernetes' runAsNonRoot needs it.
fn ids(user: &str) -> (u32, u32) {
    let (u, g) = user.split_once(':').unwrap_or((user, user));
    (u.parse().expect("a numeric USER"), g.parse().expect("a numeric group"))
}

/// `argv` as the image would run it: the program (`/usr/local/bin/pix-ingest` or `pix-ingest`
/// on the PATH) is `bin`; as `uid:gid` through setpriv when the test runs as root.
fn as_image_user(bin: &Path, argv: &[String], (uid, gid): (u32, u32), root: bool) -> Command {
    assert!(argv[0] == "/usr/local/bin/pix-ingest" || argv[0] == "pix-ingest", "{argv:?}");
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args([format!("--reuid={uid}"), format!("--regid={gid}"), "--clear-groups".to_owned()]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(&argv[1..]).env_clear().env("PATH", "/usr/local/bin:/usr/bin:/bin");
    cmd
}

/// The image's `ENV`, listen addresses moved from all interfaces to `ports` on loopback.
fn image_env(stage: &FinalStage, ports: &[(&str, u16)]) -> BTreeMap<String, String> {
    let mut env = stage.env.clone();
    for (var, port) in ports {
        let v = env.get_mut(*var).unwrap_or_else(|| panic!("the image sets {var}"));
        assert!(v.starts_with("0.0.0.0:"), "{var}={v}: the image listens on every interface");
        *v = format!("127.0.0.1:{port}");
    }
    env
}

/// The binary copied where the image keeps it: a root-owned directory outside the WORKDIR.
fn install(dir: &Path) -> PathBuf {
    let bin = dir.join("pix-ingest");
    std::fs::copy(BIN, &bin).unwrap();
    bin
}

#[test]
fn the_image_runs_its_default_command_as_its_user_in_an_empty_volume() {
    let stage = final_stage(&repo().join("Dockerfile"));
    let (uid, gid) = ids(&stage.user);
    assert_ne!(uid, 0, "a non-root USER");
    assert_eq!(stage.volumes, std::slice::from_ref(&stage.workdir), "the WORKDIR is the declared volume");
    assert_eq!(
        (stage.entrypoint.as_slice(), stage.cmd.as_slice()),
        (&["/usr/local/bin/pix-ingest".to_owned()][..], &["run".to_owned()][..])
    );
    let root = nix_is_root();
    let (bin_dir, volume) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let bin = install(bin_dir.path());
    if root {
        std::os::unix::fs::chown(volume.path(), Some(uid), Some(gid)).unwrap();
    }
    let (api, admin) = (free_port(), free_port());
    let mut env = image_env(&stage, &[("PIX_INGEST_LISTEN", api), ("PIX_INGEST_ADMIN_LISTEN", admin)]);
    env.insert("PIX_INGEST_ADMIN_TOKEN".into(), "container-test-token".into());
    let log = bin_dir.path().join("log");
    let out = std::fs::File::create(&log).unwrap();
    let argv: Vec<String> = stage.entrypoint.iter().chain(&stage.cmd).cloned().collect();
    let mut child = as_image_user(&bin, &argv, (uid, gid), root)
        .envs(&env)
        .current_dir(volume.path())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(&mut child, admin, &log);
    let healthcheck = || as_image_user(&bin, &stage.healthcheck, (uid, gid), root).envs(&env).output().unwrap();
    wait_until_blocking("the HEALTHCHECK to pass", Duration::from_secs(30), || {
        let out = healthcheck();
        holds(out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    });

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let base = format!("http://127.0.0.1:{admin}");
    let (metrics, paused) = rt.block_on(async {
        let c = reqwest::Client::new();
        let metrics = c.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
        let paused = c
            .post(format!("{base}/api/v1/actors/demo-generator/pause"))
            .bearer_auth("container-test-token")
            .send()
            .await
            .unwrap()
            .status();
        (metrics, paused)
    });
    assert!(paused.is_success(), "pause through the admin API: {paused}");
    let state = volume.path().join("data/admin-state.json");
    assert!(state.exists(), "the admin state file is written in the volume:\n{}", read_log(&log));
    // The demo's sinks write into the volume: the landing files, and the Delta table when built.
    let landing = volume.path().join("data/landing");
    let lake = volume.path().join("data/lake/pix_events/_delta_log");
    let wanted: Vec<&PathBuf> = if cfg!(feature = "delta") { vec![&landing, &lake] } else { vec![&landing] };
    wait_until_blocking("the demo's sinks writing in the volume", Duration::from_secs(60), || {
        holds(wanted.iter().all(|p| p.exists()), read_log(&log))
    });
    if root {
        for p in [&state].into_iter().chain(wanted) {
            assert_eq!(std::fs::metadata(p).unwrap().uid(), uid, "{} owned by the image's user", p.display());
        }
    }
    let info =
        format!("pix_ingest_build_info{{commit=\"{}\",version=\"{}\"}} 1", git_head(), env!("CARGO_PKG_VERSION"));
    assert!(metrics.contains(&info), "{info} in:\n{metrics}");
    for family in
        ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"]
    {
        assert!(metrics.contains(&format!("\n{family} ")), "{family} on /metrics");
    }

    let status = sigterm(&mut child);
    assert!(status.success(), "exit {status:?}:\n{}", read_log(&log));
    let after = healthcheck();
    assert_eq!(after.status.code(), Some(1), "unhealthy once stopped");
    assert!(String::from_utf8_lossy(&after.stderr).contains("Connection refused"), "{after:?}");
}

/// Every shared library the binary needs directly comes from a package the runtime stage
/// installs, or from the slim base image itself (libc6, libgcc-s1). This machine runs the same
/// Debian release as the image's base, so the packages that hold the libraries here are the
/// image's packages.
#[test]
fn the_runtime_image_installs_every_library_the_binary_links() {
    let stage = final_stage(&repo().join("Dockerfile"));
    let readelf = Command::new("readelf").args(["-d", BIN]).output().expect("readelf (binutils)");
    let needed: Vec<String> = String::from_utf8_lossy(&readelf.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split_once('[')?.1.trim_end_matches(']').to_owned()))
        .collect();
    assert!(needed.iter().any(|l| l.starts_with("libssl")), "{needed:?}");
    let ldd = String::from_utf8_lossy(&Command::new("ldd").arg(BIN).output().unwrap().stdout).into_owned();
    let base = ["libc6", "libgcc-s1"];
    for lib in needed.iter().filter(|l| !l.starts_with("ld-linux")) {
        let line = ldd
            .lines()
            .find(|l| l.trim_start().starts_with(lib.as_str()))
            .unwrap_or_else(|| panic!("{lib} in ldd:\n{ldd}"));
        let path =
            line.split("=>").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or_else(|| panic!("{line}"));
        let package = debian_package(path);
        assert!(
            stage.packages.contains(&package) || base.contains(&package.as_str()),
            "{lib} ({package}) is not installed by the runtime stage ({:?})",
            stage.packages
        );
    }
}

fn nix_is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// HEAD as build.rs records it (the binary under test was built from this tree).
fn git_head() -> String {
    let out = Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).current_dir(repo()).output().unwrap();
    if out.status.success() { String::from_utf8_lossy(&out.stdout).trim().to_owned() } else { "unknown".to_owned() }
}
