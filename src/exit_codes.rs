//! Process exit codes, chosen to match `nova-status upgrade check` so that existing monitoring reads them unchanged.

use crate::findings::{Report, Severity};

/// Every check passed and every cell was read.
pub const CONSISTENT: u8 = 0;
/// Only warnings: worth a look, does not block anything.
pub const WARNINGS: u8 = 1;
/// At least one failure: something is broken for users now or will break.
pub const FAILURES: u8 = 2;
/// The audit itself could not run (bad configuration, parent unreachable, internal error).
pub const AUDIT_ERROR: u8 = 255;

/// The exit code a set of findings deserves (for `explain`, which reports on one object).
pub fn for_findings(findings: &[crate::findings::Finding]) -> u8 {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Failure) => FAILURES,
        Some(Severity::Warning) => WARNINGS,
        Some(Severity::Info) | None => CONSISTENT,
    }
}

/// The exit code a finished report deserves.
pub fn for_report(report: &Report) -> u8 {
    if report.aborted.is_some() {
        return AUDIT_ERROR;
    }
    match report.worst_severity() {
        Some(Severity::Failure) => FAILURES,
        Some(Severity::Warning) => WARNINGS,
        Some(Severity::Info) | None => CONSISTENT,
    }
}

/// `sync`: nothing to do; or the plan was applied and a re-audit no longer shows what it fixed; or `--undo` finished.
pub const SYNC_DONE: u8 = 0;
/// `sync` dry run: statements are planned; nothing was changed.
pub const SYNC_PLANNED: u8 = 1;
/// `sync`: applied, but a re-audit still shows a finding it fixed, or a child could not be read to plan it.
pub const SYNC_INCOMPLETE: u8 = 2;
/// `sync`: refused before changing anything (no `--yes` without a terminal, not confirmed, `--undo` found changed rows).
pub const SYNC_REFUSED: u8 = 3;
/// `sync --apply`: a child rolled back (concurrent change, lost connection); children before it stay committed (see the journal).
pub const SYNC_ROLLED_BACK: u8 = 4;

/// `explain`: the object exists in no audited cell (a typo, or long deleted everywhere).
pub const EXPLAIN_NOT_FOUND: u8 = 3;
