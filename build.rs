//! Build script: puts the git revision into `cellaudit --version`, e.g. "0.1.0 (abc1234)".
//!
//! Outside a git checkout (a crate tarball, a distro build) the version is the bare package
//! version, unless the packager names the revision in `CELLAUDIT_GIT_REV`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=CELLAUDIT_GIT_REV");
    // Rebuild when HEAD moves: HEAD itself (branch switch), the branch's ref (a commit), packed refs.
    for path in ["HEAD", "packed-refs"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(p) =
        git(&["symbolic-ref", "-q", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r]))
    {
        println!("cargo:rerun-if-changed={p}");
    }
    let rev = std::env::var("CELLAUDIT_GIT_REV")
        .ok()
        .filter(|r| !r.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]));
    let pkg = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let version = match rev {
        Some(r) => format!("{pkg} ({})", r.trim()),
        None => pkg,
    };
    println!("cargo:rustc-env=CELLAUDIT_VERSION={version}");
}
