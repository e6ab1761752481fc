//! Build script: records the commit the binary is built from, for `pix_ingest_build_info` and
//! `pix-ingest --version`, as the compile-time variable `PIX_INGEST_COMMIT`.
//!
//! Where the commit comes from, first match wins: the variable `PIX_INGEST_BUILD_COMMIT` (set it
//! where there is no `.git`, e.g. `docker build --build-arg PIX_INGEST_BUILD_COMMIT=...`), then
//! `git rev-parse` when this package is the top of its own git work tree, else `unknown` (a source
//! tarball). The script reruns when HEAD or the current branch moves, so the value is never stale.
#![allow(clippy::print_stdout)] // a build script talks to cargo on stdout
#![allow(clippy::disallowed_methods)] // and reads the variables cargo and the builder set

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PIX_INGEST_BUILD_COMMIT");
    let commit = std::env::var("PIX_INGEST_BUILD_COMMIT")
        .ok()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=PIX_INGEST_COMMIT={commit}");
}

/// The output of `git ARGS` run in the package directory, when it succeeds and is not empty.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// HEAD's short hash, when this package is the top of a git work tree (not a tarball unpacked
/// inside some other repository); also tells cargo which git files to watch.
fn git_commit() -> Option<String> {
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let here = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let same = |a: &str, b: &str| Path::new(a).canonicalize().ok() == Path::new(b).canonicalize().ok();
    if !same(&top, &here) {
        return None;
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    let branch_ref = git(&["symbolic-ref", "-q", "HEAD"]);
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"]), git(&["rev-parse", "--git-path", "packed-refs"])];
    if let Some(r) = branch_ref {
        watched.push(git(&["rev-parse", "--git-path", &r]));
    }
    // Only files that exist: cargo reruns a script every time for a watched path that is missing.
    for path in watched.into_iter().flatten().filter(|p| Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
    Some(commit)
}
