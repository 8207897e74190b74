//! Aggregate checks for cells v1: the aggregates themselves, their metadata and their member hosts, parent against each child.

use super::{CheckRun, V1Context, join_names};
use crate::findings::{Finding, Outcome, Severity};
use crate::v1::{self, AZ_KEY, Aggregate, Aggregates, HostRef};
use serde_json::json;
use std::collections::BTreeSet;

/// The parent's aggregates and each readable child's, or the run that says why not.
pub(super) struct Prepared<'a> {
    pub parent: Aggregates,
    pub children: Vec<(&'a str, Aggregates)>,
    pub run: CheckRun,
}

/// The aggregates of the parent and of every child whose rows are its own; children that read the
/// parent's API database are skipped (same rows), unless `with_shared` (derived AZs still differ).
pub(super) fn prepare<'a>(ctx: &'a V1Context<'a>) -> Result<Prepared<'a>, CheckRun> {
    prepare_with(ctx, false)
}

pub(super) fn prepare_with<'a>(
    ctx: &'a V1Context<'a>,
    with_shared: bool,
) -> Result<Prepared<'a>, CheckRun> {
    let parent = match ctx.parent.data.map(v1::aggregates) {
        Some(Ok(a)) => a,
        Some(Err(reason)) => return Err(CheckRun::skip_all(ctx, format!("parent: {reason}"))),
        None => return Err(CheckRun::skip_all(ctx, "parent unreadable".into())),
    };
    let mut run = CheckRun::default();
    run.outcome(ctx.parent.name, Outcome::Ran);
    let mut children = Vec::new();
    for c in &ctx.children {
        if !with_shared && c.data.is_some() && ctx.shared_api.contains(c.name) {
            run.outcome(
                c.name,
                Outcome::Skipped {
                    reason: "reads the parent's API database: the same aggregates".into(),
                },
            );
            continue;
        }
        match c.data.map(v1::aggregates) {
            None => run.outcome(c.name, Outcome::Unavailable),
            Some(Err(reason)) => run.outcome(c.name, Outcome::Skipped { reason }),
            Some(Ok(a)) => {
                if let Some(Err(reason)) = c.data.map(v1::compute_hosts) {
                    run.outcome(c.name, Outcome::Skipped { reason });
                } else {
                    run.outcome(c.name, Outcome::Ran);
                    children.push((c.name, a));
                }
            }
        }
    }
    Ok(Prepared {
        parent,
        children,
        run,
    })
}

/// The parent aggregate's members that live in `cell`.
fn members_in(ctx: &V1Context<'_>, agg: &Aggregate, cell: &str) -> BTreeSet<String> {
    agg.member_hosts()
        .into_iter()
        .filter(|h| ctx.residency.lives_in(h, cell))
        .collect()
}

fn expected_in(ctx: &V1Context<'_>, agg: &Aggregate, cell: &str) -> bool {
    ctx.expect == super::Expect::All || !members_in(ctx, agg, cell).is_empty()
}

fn summary(agg: &Aggregate) -> serde_json::Value {
    json!({
        "uuid": agg.uuid,
        "availability_zone": agg.az(),
        "hosts": agg.hosts,
        "metadata": agg.metadata,
    })
}

fn az_note(agg: &Aggregate) -> String {
    agg.az()
        .map(|az| format!(" (AZ '{az}')"))
        .unwrap_or_default()
}

/// Whether `agg`, an aggregate that carries only an AZ, is matched on the other side by AZ value
/// rather than by name: every host in `hosts` already has its AZ there (`zones`), or, with no hosts,
/// some aggregate there gives that AZ. The child's `AvailabilityZoneFilter` compares AZ values
/// (`nova/scheduler/filters/availability_zone_filter.py`), so a differently named aggregate giving the
/// same AZ to the same hosts is the same thing. An aggregate naming the default AZ changes nothing.
fn az_matched(
    agg: &Aggregate,
    hosts: &BTreeSet<String>,
    zones: &std::collections::BTreeMap<String, BTreeSet<String>>,
    default_az: &str,
) -> bool {
    if !agg.only_az() {
        return false;
    }
    // An aggregate that only restates the default AZ changes nothing, on either side.
    let Some(az) = agg.zone(default_az) else {
        return true;
    };
    if hosts.is_empty() {
        return zones.values().any(|z| z.contains(az));
    }
    hosts
        .iter()
        .all(|h| zones.get(h).is_some_and(|z| z.contains(az)))
}

pub fn aggregates(ctx: &V1Context<'_>) -> CheckRun {
    const CHECK: &str = "aggregates";
    let p = match prepare(ctx) {
        Ok(p) => p,
        Err(run) => return run,
    };
    let mut run = p.run;
    duplicates(CHECK, ctx.parent.name, &p.parent, &mut run);
    for (cell, child) in &p.children {
        duplicates(CHECK, cell, child, &mut run);
        let child_zones = super::zones::zones_by_host(child, &ctx.default_az);
        let top_zones = super::zones::top_zones(ctx, &p.parent, cell);
        for agg in p.parent.iter() {
            if !expected_in(ctx, agg, cell) {
                continue;
            }
            let here = members_in(ctx, agg, cell);
            if child.find(&agg.name).is_none()
                && az_matched(agg, &here, &child_zones, &ctx.default_az)
            {
                continue;
            }
            match child.find(&agg.name) {
                None => {
                    let severity = if agg.az().is_some() {
                        Severity::Failure
                    } else {
                        Severity::Warning
                    };
                    let whose = if here.is_empty() {
                        "--expect all asks for every parent aggregate in every child".to_string()
                    } else {
                        if here.len() == 1 {
                            format!("its member host {} lives in {cell}", join_names(&here))
                        } else {
                            format!("its member hosts {} live in {cell}", join_names(&here))
                        }
                    };
                    let state = if child.is_deleted(&agg.name) {
                        "is soft-deleted in"
                    } else {
                        "is missing from"
                    };
                    let impact = match agg.az() {
                        Some(az) if !here.is_empty() => format!(
                            "{cell}'s scheduler reads only its own database: there {} not in AZ '{az}', so boots into '{az}' fail with NoValidHost or land in the default AZ",
                            if here.len() == 1 {
                                format!("host {} is", join_names(&here))
                            } else {
                                format!("hosts {} are", join_names(&here))
                            }
                        ),
                        Some(az) => format!("{cell} does not know AZ '{az}'"),
                        None => format!(
                            "scheduler filters in {cell} that read aggregate metadata do not see this aggregate"
                        ),
                    };
                    run.findings.push(
                        Finding::new(
                            CHECK,
                            "missing_in_child",
                            severity,
                            cell,
                            &[("aggregate", &agg.name)],
                            format!(
                                "aggregate '{}'{} exists in the parent but {state} {cell}; {whose}",
                                agg.name,
                                az_note(agg)
                            ),
                        )
                        .impact(impact)
                        .values(summary(agg), None::<()>),
                    );
                }
                Some(copy) => {
                    if copy.name != agg.name {
                        run.findings.push(
                            Finding::new(
                                CHECK,
                                "name_differs_by_case_or_space",
                                Severity::Warning,
                                cell,
                                &[("aggregate", &agg.name)],
                                format!(
                                    "aggregate {:?} in the parent is {:?} in {cell}: one name to {cell}'s database, whose collation ignores {}, but two to Nova's Python code",
                                    agg.name,
                                    copy.name,
                                    child.name_collation.ignores()
                                ),
                            )
                            .impact(format!(
                                "not missing (and sync must not copy it: {cell} would then hold two aggregates its database calls one name); Nova compares names and AZ values as Python strings, so a lookup or comparison by the parent's spelling does not match {cell}'s row; rename one with the API so both match exactly"
                            ))
                            .values(&agg.name, &copy.name),
                        );
                    }
                    if let (Some(pu), Some(cu)) = (&agg.uuid, &copy.uuid)
                        && pu != cu
                    {
                        run.findings.push(
                            Finding::new(
                                CHECK,
                                "uuid_differs",
                                Severity::Info,
                                cell,
                                &[("aggregate", &agg.name)],
                                format!("aggregate '{}' has uuid {pu} in the parent and {cu} in {cell}", agg.name),
                            )
                            .impact("harmless under cells v1 (ids and uuids are per database); matters only to tools that match by uuid")
                            .values(pu, cu),
                        );
                    }
                }
            }
        }
        for (name, copies) in &child.live {
            // A parent aggregate that the child's collation calls the same name is this one.
            let key = child.name_collation.key(name);
            if p.parent.get(name).is_some()
                || p.parent
                    .iter()
                    .any(|a| child.name_collation.key(&a.name) == key)
            {
                continue;
            }
            let copy = &copies[0];
            // A main-database leftover is the releases check's legacy finding, not the child's own aggregate.
            if copy.legacy {
                continue;
            }
            let members = copy.member_hosts();
            if az_matched(copy, &members, &top_zones, &ctx.default_az) {
                continue;
            }
            let (kind, what) = if p.parent.deleted.contains(name) {
                (
                    "deleted_in_parent",
                    "was deleted in the parent but is live in",
                )
            } else {
                ("only_in_child", "exists only in")
            };
            run.findings.push(
                Finding::new(
                    CHECK,
                    kind,
                    Severity::Warning,
                    cell,
                    &[("aggregate", name)],
                    format!("aggregate '{name}'{} {what} {cell}", az_note(copy)),
                )
                .impact(format!(
                    "the API does not show it, yet {cell}'s scheduler still applies it{}",
                    if copy.hosts.is_empty() {
                        String::new()
                    } else {
                        format!(" to {}", join_names(&copy.hosts))
                    }
                ))
                .values(None::<()>, summary(copy)),
            );
        }
    }
    run
}

fn duplicates(check: &'static str, cell: &str, aggs: &Aggregates, run: &mut CheckRun) {
    for (name, all) in &aggs.live {
        // A merged main-database row of the same name is a legacy leftover, reported as such.
        let copies: Vec<&Aggregate> = all.iter().filter(|a| !a.legacy).collect();
        if copies.len() > 1 {
            let ids: Vec<String> = copies.iter().map(|a| a.id.to_string()).collect();
            run.findings.push(
                Finding::new(
                    check,
                    "duplicate_name",
                    Severity::Warning,
                    cell,
                    &[("aggregate", name)],
                    format!("{cell} has {} live aggregates named '{name}' (ids {})", copies.len(), ids.join(", ")),
                )
                .impact("Nova refuses duplicate names through the API; lookups by name pick one arbitrarily (only the lowest id is compared here)"),
            );
        }
    }
}

pub fn aggregate_metadata(ctx: &V1Context<'_>) -> CheckRun {
    const CHECK: &str = "aggregate_metadata";
    let p = match prepare(ctx) {
        Ok(p) => p,
        Err(run) => return run,
    };
    let mut run = p.run;
    for (cell, child) in &p.children {
        for agg in p.parent.iter() {
            let Some(copy) = child.find(&agg.name) else {
                continue;
            };
            let keys: BTreeSet<&String> = agg.metadata.keys().chain(copy.metadata.keys()).collect();
            for key in keys {
                // The default AZ named explicitly is the same as no AZ (`--default-az`, Nova's `nova`).
                if key == AZ_KEY && agg.zone(&ctx.default_az) == copy.zone(&ctx.default_az) {
                    continue;
                }
                let sev = if key == AZ_KEY {
                    Severity::Failure
                } else {
                    Severity::Warning
                };
                let k = [("aggregate", agg.name.as_str()), ("key", key.as_str())];
                let finding = match (agg.metadata.get(key), copy.metadata.get(key)) {
                    (Some(pv), None) => Finding::new(
                        CHECK,
                        "missing_in_child",
                        sev,
                        cell,
                        &k,
                        format!("aggregate '{}' has {key}={pv} in the parent but no '{key}' in {cell}", agg.name),
                    )
                    .impact(if key == AZ_KEY {
                        format!("{cell} puts the aggregate's hosts in the default AZ, not '{pv}'")
                    } else {
                        format!("{cell}'s scheduler does not see '{key}' on this aggregate")
                    })
                    .values(pv, None::<()>),
                    (None, Some(cv)) => Finding::new(
                        CHECK,
                        "extra_in_child",
                        sev,
                        cell,
                        &k,
                        format!("aggregate '{}' has {key}={cv} in {cell} but no '{key}' in the parent", agg.name),
                    )
                    .impact(if key == AZ_KEY {
                        format!("{cell} schedules its hosts into AZ '{cv}', which the API does not show")
                    } else {
                        format!("{cell}'s scheduler applies '{key}' that the API does not show")
                    })
                    .values(None::<()>, cv),
                    (Some(pv), Some(cv)) if pv != cv => Finding::new(
                        CHECK,
                        "value_differs",
                        sev,
                        cell,
                        &k,
                        format!("aggregate '{}' has {key}={pv} in the parent but {key}={cv} in {cell}", agg.name),
                    )
                    .impact(if key == AZ_KEY {
                        format!("users ask for AZ '{pv}' but {cell}'s scheduler knows these hosts as '{cv}'")
                    } else {
                        format!("{cell}'s scheduler applies a different '{key}' than the API shows")
                    })
                    .values(pv, cv),
                    _ => continue,
                };
                run.findings.push(finding);
            }
        }
    }
    run
}

pub fn aggregate_hosts(ctx: &V1Context<'_>) -> CheckRun {
    const CHECK: &str = "aggregate_hosts";
    let p = match prepare(ctx) {
        Ok(p) => p,
        Err(run) => return run,
    };
    let mut run = p.run;
    let pname = ctx.parent.name;
    for agg in p.parent.iter() {
        for raw in &agg.hosts {
            let r = HostRef::parse(raw);
            let cells = ctx.residency.cells(&r.host);
            let key = [("aggregate", agg.name.as_str()), ("host", r.host.as_str())];
            match cells.len() {
                0 => {
                    let (sev, note) = ctx.residency.in_no_child();
                    run.findings.push(
                        Finding::new(
                            CHECK,
                            "host_in_no_child",
                            sev,
                            pname,
                            &key,
                            format!("'{raw}', a member of aggregate '{}' in the parent, is not a live nova-compute in any child{note}", agg.name),
                        )
                        .impact("the membership has no effect: a typo, a decommissioned host, or a hypervisor hostname given instead of the service host")
                        .values(raw, None::<()>),
                    );
                }
                1 => {
                    if let Some(named) = &r.cell
                        && ctx.child_names().contains(named.as_str())
                        && named != &cells[0]
                    {
                        run.findings.push(
                            Finding::new(
                                CHECK,
                                "cell_path_mismatch",
                                Severity::Warning,
                                pname,
                                &key,
                                format!("the parent stores member '{raw}' of aggregate '{}' under cell '{named}', but the host lives in '{}'", agg.name, cells[0]),
                            )
                            .impact("the parent's AZ listing for this host looks in the wrong cell")
                            .values(raw, None::<()>),
                        );
                    }
                }
                // A host in several children is the hosts check's finding, reported once for every host.
                _ => {}
            }
        }
    }
    for (cell, child) in &p.children {
        for agg in p.parent.iter() {
            let Some(copy) = child.find(&agg.name) else {
                continue;
            };
            let expected = members_in(ctx, agg, cell);
            let parent_members = agg.member_hosts();
            let actual = copy.member_hosts();
            // Hosts the child's aggregate_hosts.host collation calls equal are one member to its
            // database, but not to its scheduler: HostManager keeps `host_aggregates_map[host]`, a
            // Python dict keyed by the member string (nova/scheduler/host_manager.py at 13.0.0).
            let hc = child.host_collation;
            let keys = |set: &BTreeSet<String>| -> BTreeSet<String> {
                set.iter().map(|h| hc.key(h).into_owned()).collect()
            };
            let (actual_keys, parent_keys) = (keys(&actual), keys(&parent_members));
            for h in expected.difference(&actual) {
                if let Some(theirs) = actual.iter().find(|a| hc.key(a) == hc.key(h)) {
                    run.findings.push(
                        Finding::new(
                            CHECK,
                            "host_differs_by_case_or_space",
                            Severity::Warning,
                            cell,
                            &[("aggregate", &agg.name), ("host", h)],
                            format!(
                                "host {h:?} of aggregate '{}' in the parent is listed as {theirs:?} in {cell}: one host to {cell}'s database, whose collation ignores {}, but two to Nova's Python code",
                                agg.name,
                                hc.ignores()
                            ),
                        )
                        .impact(format!(
                            "not missing (the unique key on aggregate_hosts would reject a second copy), but {cell}'s scheduler keys aggregate members by the exact host string, so it does not apply this aggregate to '{h}'"
                        ))
                        .values(h, theirs),
                    );
                }
            }
            let expected: BTreeSet<String> = expected
                .into_iter()
                .filter(|h| !actual_keys.contains(hc.key(h).as_ref()))
                .collect();
            let actual: BTreeSet<String> = actual
                .into_iter()
                .filter(|h| !parent_keys.contains(hc.key(h).as_ref()))
                .collect();
            let parent_members = BTreeSet::new();
            let sev = if agg.az().is_some() {
                Severity::Failure
            } else {
                Severity::Warning
            };
            for h in expected.difference(&actual) {
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "missing_in_child",
                        sev,
                        cell,
                        &[("aggregate", &agg.name), ("host", h)],
                        format!("host '{h}' is a member of aggregate '{}' in the parent and lives in {cell}, but {cell}'s copy does not list it", agg.name),
                    )
                    .impact(match agg.az() {
                        Some(az) => format!("{cell} keeps '{h}' out of AZ '{az}'"),
                        None => format!("{cell}'s scheduler does not apply this aggregate to '{h}'"),
                    })
                    .values(h, None::<()>),
                );
            }
            for h in actual.difference(&parent_members) {
                run.findings.push(
                    Finding::new(
                        CHECK,
                        "extra_in_child",
                        sev,
                        cell,
                        &[("aggregate", &agg.name), ("host", h)],
                        format!("{cell}'s copy of aggregate '{}' lists host '{h}', which the parent's does not", agg.name),
                    )
                    .impact(match copy.az() {
                        Some(az) => format!("{cell} schedules '{h}' as AZ '{az}' while the API does not show it there"),
                        None => format!("{cell}'s scheduler applies this aggregate to '{h}' behind the API's back"),
                    })
                    .values(None::<()>, h),
                );
            }
        }
    }
    run
}
