//! The `legacy_tables` check: live rows left in a cell DB's pre-cells-v2 aggregates, instance_types and key_pairs tables.

use super::super::CheckRun;
use super::V2Context;
use crate::findings::{Finding, Severity};
use crate::v2;
use std::collections::BTreeSet;

const CHECK: &str = "legacy_tables";

pub fn legacy_tables(ctx: &V2Context<'_>) -> CheckRun {
    let aggs = match ctx.api_read(v2::api_aggregates) {
        Ok(v) => v,
        Err(skipped) => return skipped,
    };
    let api_names: BTreeSet<&str> = aggs.iter().map(|a| a.name.as_str()).collect();
    let api_azs: BTreeSet<&str> = aggs.iter().filter_map(|a| a.az()).collect();
    let mut run = CheckRun::v2_outcomes(ctx, |d| v2::legacy(d).map(|_| ()));
    for (cell, data) in ctx.readable() {
        let Ok(l) = v2::legacy(data) else { continue };
        for (name, az, members) in &l.aggregates {
            let mut gaps = Vec::new();
            if !api_names.contains(name.as_str()) {
                gaps.push(format!("no aggregate named '{name}'"));
            }
            if let Some(az) = az
                && !api_azs.contains(az.as_str())
            {
                gaps.push(format!("no AZ '{az}'"));
            }
            let api_says = if gaps.is_empty() {
                "the API DB has both".to_string()
            } else {
                format!("the API DB has {}", gaps.join(" and "))
            };
            let az_text = az
                .as_deref()
                .map(|a| format!("AZ '{a}', "))
                .unwrap_or_default();
            run.findings.push(
                Finding::new(
                    CHECK,
                    "legacy_aggregate",
                    Severity::Failure,
                    cell.name,
                    &[("aggregate", name)],
                    format!(
                        "{}'s own aggregates table has live aggregate '{name}' ({az_text}{members} host{}); {api_says}",
                        cell.name,
                        if *members == 1 { "" } else { "s" }
                    ),
                )
                .impact("Ocata's db sync refuses live legacy aggregates (migration 345); anything still reading the cell DB sees aggregates the API does not"),
            );
        }
        for (flavorid, name) in &l.flavors {
            run.findings.push(
                Finding::new(
                    CHECK,
                    "legacy_flavor",
                    Severity::Warning,
                    cell.name,
                    &[("flavor", flavorid)],
                    format!(
                        "{}'s own instance_types table has live flavor '{name}' (flavorid {flavorid}); cells v2 keeps flavors in the API DB",
                        cell.name
                    ),
                )
                .impact("never migrated to the API DB's flavors (or migrated and left behind); tools reading the cell DB see a flavor the API does not"),
            );
        }
        for (user, name) in &l.key_pairs {
            run.findings.push(
                Finding::new(
                    CHECK,
                    "legacy_key_pair",
                    Severity::Warning,
                    cell.name,
                    &[("user", user), ("key_pair", name)],
                    format!(
                        "{}'s own key_pairs table has live key pair '{name}' of user {user}; cells v2 keeps key pairs in the API DB",
                        cell.name
                    ),
                )
                .impact("a key pair never migrated to the API DB is invisible to its owner"),
            );
        }
    }
    run
}
