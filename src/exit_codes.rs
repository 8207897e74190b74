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
