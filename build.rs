//! Build script: puts the git revision into `cellaudit --version`, e.g. "0.1.0 (abc1234)".
//!
//! Outside a git checkout (a crate tarball, a distro build) the version is the bare package
//! version, unless the packager names the revision in `CELLAUDIT_GIT_REV`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// The commit HEAD names, read from the files when the git program is missing or fails.
fn head_from_files(git_dir: &Path) -> Option<String> {
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(refname) = head.strip_prefix("ref: ") else {
        return Some(head.to_string());
    };
    if let Ok(id) = std::fs::read_to_string(git_dir.join(refname)) {
        return Some(id.trim().to_string());
    }
    let packed = std::fs::read_to_string(git_dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (id, name) = l.split_once(' ')?;
        (name == refname).then(|| id.to_string())
    })
}

fn main() {
    println!("cargo:rerun-if-env-changed=CELLAUDIT_GIT_REV");
    let git_dir = git(&["rev-parse", "--git-dir"])
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(".git")).filter(|d| d.join("HEAD").is_file()));
    // Rebuild when HEAD moves: HEAD itself (branch switch), the branch's ref (a commit), packed refs.
    // Emitted even if git fails, so a transient failure does not pin the version without a revision.
    if let Some(dir) = &git_dir {
        for path in ["HEAD", "packed-refs"] {
            println!("cargo:rerun-if-changed={}", dir.join(path).display());
        }
        if let Ok(head) = std::fs::read_to_string(dir.join("HEAD"))
            && let Some(refname) = head.trim().strip_prefix("ref: ")
        {
            println!("cargo:rerun-if-changed={}", dir.join(refname).display());
        }
    }
    let rev = std::env::var("CELLAUDIT_GIT_REV")
        .ok()
        .filter(|r| !r.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .or_else(|| {
            git_dir
                .as_deref()
                .and_then(head_from_files)
                .filter(|id| id.len() >= 7 && id.chars().all(|c| c.is_ascii_hexdigit()))
                .map(|id| id[..7].to_string())
        });
    let pkg = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let version = match rev {
        Some(r) => format!("{pkg} ({})", r.trim()),
        None => pkg,
    };
    println!("cargo:rustc-env=CELLAUDIT_VERSION={version}");
}
