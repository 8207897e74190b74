//! The opt-in `old_computes` check (`upgrade-check --target-release`): nova-compute services too old for the target
//! release, as nova-status's "Older than N-1 computes" check (Wallaby on) judges them.

use super::super::CheckRun;
use super::V2Context;
use crate::checks::ids::{Check, Kind};
use crate::findings::{Finding, Severity};
use crate::release::Release;
use crate::v2;

pub const CHECK: Check = Check::OldComputes;

/// For each target release, the release its computes must be at least (OLDEST_SUPPORTED_SERVICE_VERSION) and that
/// release's service version (SERVICE_VERSION_ALIASES), both from nova/objects/service.py at the target's .0.0 tag
/// (23.0.0 ... 33.0.0). The check first shipped in Wallaby (nova/cmd/status.py @23.0.0, _check_old_computes).
const OLDEST_SUPPORTED: &[(u8, &str, i64)] = &[
    (23, "Victoria", 52),
    (24, "Wallaby", 54),
    (25, "Xena", 57),
    (26, "Yoga", 61),
    (27, "Yoga", 61),
    (28, "Antelope", 66),
    (29, "Antelope", 66),
    (30, "Caracal", 66),
    (31, "Caracal", 66),
    (32, "Epoxy", 68),
    (33, "Epoxy", 68),
];

/// The oldest release (and its service version) that computes may run for `target`, when known.
pub fn oldest_supported(target: Release) -> Option<(&'static str, i64)> {
    OLDEST_SUPPORTED
        .iter()
        .find(|(r, _, _)| *r == target.0)
        .map(|(_, name, v)| (*name, *v))
}

pub fn old_computes(ctx: &V2Context<'_>) -> CheckRun {
    let mut run = CheckRun::v2_outcomes(ctx, |d| v2::cell_hosts(d).map(|_| ()));
    let Some(target) = ctx.target else {
        return CheckRun::v2_skip_all(ctx, "no --target-release given".into());
    };
    let Some((oldest, min)) = oldest_supported(target) else {
        return CheckRun::v2_skip_all(
            ctx,
            format!(
                "no compute version floor is known for {target} (nova-status has the check from Wallaby, 23, to 33)"
            ),
        );
    };
    for (cell, data) in ctx.readable() {
        let Ok(h) = v2::cell_hosts(data) else {
            continue;
        };
        // Nova takes the minimum over live services not forced down (nova/db/main/api.py @33.0.0,
        // service_get_minimum_version); 0 means "never reported" (nova/utils.py @33.0.0 raise_if_old_compute).
        for s in h
            .service_rows
            .iter()
            .filter(|s| !s.forced_down && s.version.is_some_and(|v| v > 0 && v < min))
        {
            let v = s.version.unwrap_or_default();
            run.findings.push(
                Finding::new(
                    CHECK,
                    Kind::ComputeTooOld,
                    Severity::Failure,
                    cell.name,
                    &[("host", &s.host)],
                    format!(
                        "nova-compute on '{}' in {} reports service version {v}; {target} supports computes from {oldest} (version {min}) on",
                        s.host, cell.name
                    ),
                )
                .impact(format!("after the upgrade {target}'s services refuse to start (TooOldComputeService) until this compute is upgraded or its service deleted"))
                .values(min, v),
            );
        }
    }
    run
}
