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
        let release = data
            .schema_version
            .as_deref()
            .and_then(crate::release::of_schema_version);
        let rel = Reads::of(release.map(|r| r.oldest));
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
                    rel.aggregates.0,
                    cell.name,
                    &[("aggregate", name)],
                    format!(
                        "{}'s own aggregates table has live aggregate '{name}' ({az_text}{members} host{}); {api_says}",
                        cell.name,
                        if *members == 1 { "" } else { "s" }
                    ),
                )
                .impact(rel.aggregates.1),
            );
        }
        for (flavorid, name) in &l.flavors {
            run.findings.push(
                Finding::new(
                    CHECK,
                    "legacy_flavor",
                    rel.flavors.0,
                    cell.name,
                    &[("flavor", flavorid)],
                    format!(
                        "{}'s own instance_types table has live flavor '{name}' (flavorid {flavorid}); cells v2 keeps flavors in the API DB",
                        cell.name
                    ),
                )
                .impact(rel.flavors.1),
            );
        }
        for (user, name) in &l.key_pairs {
            run.findings.push(
                Finding::new(
                    CHECK,
                    "legacy_key_pair",
                    rel.key_pairs.0,
                    cell.name,
                    &[("user", user), ("key_pair", name)],
                    format!(
                        "{}'s own key_pairs table has live key pair '{name}' of user {user}; cells v2 keeps key pairs in the API DB",
                        cell.name
                    ),
                )
                .impact(rel.key_pairs.1),
            );
        }
    }
    run
}

/// How much a cell's live legacy rows matter, by the release that runs the cell (the oldest its schema allows).
struct Reads {
    aggregates: (Severity, &'static str),
    flavors: (Severity, &'static str),
    key_pairs: (Severity, &'static str),
}

impl Reads {
    fn of(release: Option<crate::release::Release>) -> Reads {
        use crate::release::Release;
        let Some(r) = release else {
            return Reads {
                aggregates: (
                    Severity::Warning,
                    "release unknown: Ocata to Queens read these aggregates alongside the API DB's and refuse to create one of the same name; from Rocky they are never read",
                ),
                flavors: (
                    Severity::Warning,
                    "release unknown: up to Pike Nova falls back to the cell DB's flavors; from Queens they are never read",
                ),
                key_pairs: (
                    Severity::Warning,
                    "release unknown: up to Xena a key pair is still found by name in the cell DB (not listed by the API); from Yoga never read",
                ),
            };
        };
        Reads {
            // nova/objects/aggregate.py @17.0.0 reads db.aggregate_get* (the main DB) besides the API DB;
            // @18.0.0 ("Remove deprecated aggregate DB compatibility") no longer does.
            aggregates: if r <= Release::QUEENS {
                (
                    Severity::Failure,
                    "this release reads the cell DB's aggregates merged with the API DB's: the API and scheduler see an aggregate (and AZ) that os-aggregates cannot edit, and creating one of that name fails",
                )
            } else {
                (
                    Severity::Info,
                    "from Rocky (nova/objects/aggregate.py @18.0.0) Nova never reads these rows: dead data, safe to soft-delete",
                )
            },
            // nova/objects/flavor.py @16.0.0 falls back to db.flavor_get*; @17.0.0 no longer does.
            flavors: if r <= Release::PIKE {
                (
                    Severity::Warning,
                    "this release falls back to the cell DB's flavors: instances and APIs can resolve a flavor the API DB does not list",
                )
            } else {
                (
                    Severity::Info,
                    "from Queens (nova/objects/flavor.py @17.0.0) Nova never reads these rows: dead data",
                )
            },
            // nova/objects/keypair.py @24.0.0 still falls back to main_db_api.key_pair_get; @25.0.0 does not.
            key_pairs: if r <= Release::XENA {
                (
                    Severity::Warning,
                    "the key pair is usable by name (Nova falls back to the cell DB's key_pairs) but never listed by the API; migrate it with online_data_migrations",
                )
            } else {
                (
                    Severity::Info,
                    "from Yoga (nova/objects/keypair.py @25.0.0) Nova never reads these rows: the key pair is gone for its owner",
                )
            },
        }
    }
}
