//! Shell completion scripts and man pages, generated from the clap definitions so they never drift from `--help`.

use crate::cli::Cli;
use clap::CommandFactory as _;
use std::path::{Path, PathBuf};

/// The version `--version` prints: the package version and, when built from git, the revision.
pub const VERSION: &str = env!("CELLAUDIT_VERSION");

/// The completion script for `shell`, to be sourced or installed where the shell looks for it.
pub fn completions(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "cellaudit", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The cellaudit(1) page in roff, listing the subcommands.
pub fn man_page() -> Result<String, String> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Writes cellaudit.1 and one page per subcommand (cellaudit-audit.1, ...) into `dir`.
pub fn man_pages_to(dir: &Path) -> Result<Vec<PathBuf>, String> {
    clap_mangen::generate_to(Cli::command(), dir)
        .map_err(|e| format!("cannot write man pages to {}: {e}", dir.display()))?;
    let mut written: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("cellaudit") && n.ends_with(".1"))
        })
        .collect();
    written.sort();
    Ok(written)
}
