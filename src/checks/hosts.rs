//! The hosts check for cells v1: each compute host lives in one child, and instances sit on compute hosts of the cell that holds them.
//!
//! Aggregate members named at the top are checked by `aggregate_hosts` (host_in_no_child,
//! cell_path_mismatch); this check owns the "one host, several children" finding for every host.

use super::{CheckRun, V1Context, join_names};
use crate::db::Row;
use crate::findings::{Finding, Outcome, Severity};
use crate::snapshot::CellData;
use crate::{queries, v1};
use std::collections::BTreeMap;

const CHECK: &str = "hosts";

/// Live instances on one host, as `queries/v1_instance_hosts.sql` groups them.
#[derive(Debug, Clone, PartialEq)]
struct Placed {
    count: i64,
    /// The smallest uuid among them, to name one in a finding.
    example: String,
}

impl Placed {
    fn merge(&mut self, other: Placed) {
        self.count += other.count;
        if other.example < self.example {
            self.example = other.example;
        }
    }

    fn text(&self) -> String {
        if self.count == 1 {
            format!("1 live instance ({})", self.example)
        } else {
            format!("{} live instances (e.g. {})", self.count, self.example)
        }
    }
}

/// (host, cell_name) → instances there; cell_name is NULL in a child and `api!<child>` at the top.
fn placements(data: &CellData) -> Result<BTreeMap<(String, Option<String>), Placed>, String> {
    let mut out: BTreeMap<(String, Option<String>), Placed> = BTreeMap::new();
    for r in data.rows(&queries::INSTANCE_HOSTS)? {
        if let Some((key, p)) = placed(r) {
            match out.get_mut(&key) {
                Some(e) => e.merge(p),
                None => {
                    out.insert(key, p);
                }
            }
        }
    }
    Ok(out)
}

fn placed(r: &Row) -> Option<((String, Option<String>), Placed)> {
    let host = r.first()?.as_text()?;
    let cell_name = r.get(1).and_then(|v| v.as_text());
    let count = r.get(2)?.as_int()?;
    let example = r.get(3)?.as_text()?;
    Some(((host, cell_name), Placed { count, example }))
}

/// The child a top-level `instances.cell_name` routes to: the last `!` segment of `api!child1`.
fn routed_child(cell_name: &str) -> Option<&str> {
    cell_name.rsplit('!').next().filter(|s| !s.is_empty())
}

pub fn hosts(ctx: &V1Context<'_>) -> CheckRun {
    let mut run = CheckRun::default();
    multi_cell_hosts(ctx, &mut run);
    match ctx.parent.data {
        None => run.outcome(ctx.parent.name, Outcome::Unavailable),
        Some(data) => match parent_references(ctx, data, &mut run.findings) {
            Ok(()) => run.outcome(ctx.parent.name, Outcome::Ran),
            Err(reason) => run.outcome(ctx.parent.name, Outcome::Skipped { reason }),
        },
    }
    for c in &ctx.children {
        let Some(data) = c.data else {
            run.outcome(c.name, Outcome::Unavailable);
            continue;
        };
        match child_instances(ctx, c.name, data, &mut run.findings) {
            Ok(()) => run.outcome(c.name, Outcome::Ran),
            Err(reason) => run.outcome(c.name, Outcome::Skipped { reason }),
        }
    }
    run
}

/// A compute host belongs to one cell; the same live nova-compute in two children is reported in each.
fn multi_cell_hosts(ctx: &V1Context<'_>, run: &mut CheckRun) {
    for (host, cells) in &ctx.residency.cells_of {
        if cells.len() < 2 {
            continue;
        }
        for cell in cells {
            run.findings.push(
                Finding::new(
                    CHECK,
                    "host_in_multiple_cells",
                    Severity::Warning,
                    cell,
                    &[("host", host)],
                    format!("host '{host}' runs a live nova-compute in {} at once", join_names(cells)),
                )
                // Under cells v1 the top addresses hosts as path!cell@host, so the two are distinct to
                // it; cells v2 keys hosts by name alone (API DB host_mappings.host is UNIQUE).
                .impact("cells v1 tells them apart (the top names hosts path!cell@host), but a host name maps to one cell in cells v2: `nova-manage cell_v2 discover_hosts` cannot map it twice (host_mappings.host is unique), which blocks the move to cells v2; and an aggregate member by plain name applies in both children")
                .values(None::<()>, cells),
            );
        }
    }
}

/// The top's own services and its instances' hosts: each must live in the child that `cell_name` routes to.
fn parent_references(
    ctx: &V1Context<'_>,
    data: &CellData,
    out: &mut Vec<Finding>,
) -> Result<(), String> {
    let pname = ctx.parent.name;
    let placed = placements(data)?;
    for host in v1::compute_hosts(data)? {
        out.push(
            Finding::new(
                CHECK,
                "compute_in_parent",
                Severity::Warning,
                pname,
                &[("host", &host)],
                format!("the parent '{pname}' has a live nova-compute service on host '{host}'"),
            )
            .impact("under cells v1 the API cell runs no computes: the service is stale or the cell misconfigured, and it shows up in host and AZ listings at the top")
            .values(&host, None::<()>),
        );
    }
    let children = ctx.child_names();
    for ((host, cell_name), p) in &placed {
        // A NULL or unknown cell_name is the instances check's finding; here only the host is at stake.
        let Some(raw) = cell_name else { continue };
        let Some(named) = routed_child(raw).filter(|c| children.contains(c)) else {
            continue;
        };
        if ctx.residency.unknown.iter().any(|u| u == named) {
            continue;
        }
        let cells = ctx.residency.cells(host);
        if cells.iter().any(|c| c == named) {
            continue;
        }
        let key = [("host", host.as_str()), ("cell_name", raw.as_str())];
        let finding = if cells.is_empty() {
            let (sev, note) = ctx.residency.in_no_child();
            Finding::new(
                CHECK,
                "instance_host_in_no_child",
                sev,
                pname,
                &key,
                format!("the parent has {} with cell_name '{raw}' on host '{host}', which is not a live nova-compute in any child{note}", p.text()),
            )
            .impact("the host was renamed or decommissioned with instances left on it: actions on them reach no compute")
        } else {
            Finding::new(
                CHECK,
                "instance_host_in_other_cell",
                Severity::Warning,
                pname,
                &key,
                format!(
                    "the parent has {} with cell_name '{raw}' on host '{host}', but '{host}' lives in {}, not {named}",
                    p.text(),
                    join_names(cells)
                ),
            )
            .impact(format!("actions are routed to {named}, whose computes do not include '{host}'; the AZ shown at the top is looked up for the wrong host"))
        };
        out.push(finding.values(raw, cells));
    }
    Ok(())
}

/// A child's instances must sit on that child's own live nova-compute hosts.
fn child_instances(
    ctx: &V1Context<'_>,
    cell: &str,
    data: &CellData,
    out: &mut Vec<Finding>,
) -> Result<(), String> {
    let own = v1::compute_hosts(data)?;
    let mut by_host: BTreeMap<String, Placed> = BTreeMap::new();
    for ((host, _), p) in placements(data)? {
        match by_host.get_mut(&host) {
            Some(e) => e.merge(p),
            None => {
                by_host.insert(host, p);
            }
        }
    }
    for (host, p) in &by_host {
        if own.contains(host) {
            continue;
        }
        let elsewhere = ctx.residency.cells(host);
        let where_ = if elsewhere.is_empty() {
            "it is a live nova-compute in no audited child".to_string()
        } else {
            format!("it lives in {}", join_names(elsewhere))
        };
        out.push(
            Finding::new(
                CHECK,
                "instance_host_not_in_cell",
                Severity::Failure,
                cell,
                &[("host", host)],
                format!("{cell} has {} on host '{host}', which runs no live nova-compute in {cell}; {where_}", p.text()),
            )
            .impact(format!("{cell} casts actions on these instances to compute.{host} on its own message queue, where no compute listens: reboots, resizes and deletes hang"))
            .values(None::<()>, elsewhere),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Value;

    #[test]
    fn cell_name_routes_to_its_last_path_segment() {
        assert_eq!(routed_child("api!child1"), Some("child1"));
        assert_eq!(routed_child("top!region!child2"), Some("child2"));
        assert_eq!(routed_child("child3"), Some("child3"));
        assert_eq!(routed_child("api!"), None);
    }

    #[test]
    fn grouped_rows_merge_into_a_count_and_the_smallest_uuid() {
        let row = |uuid: &str, n: i64| {
            vec![
                Value::Text("cmp-01".into()),
                Value::Null,
                Value::Int(n),
                Value::Text(uuid.into()),
            ]
        };
        let (key, mut a) = placed(&row("b0", 2)).unwrap();
        assert_eq!(key, ("cmp-01".to_string(), None));
        a.merge(placed(&row("a9", 3)).unwrap().1);
        assert_eq!(
            a,
            Placed {
                count: 5,
                example: "a9".into()
            }
        );
        assert_eq!(a.text(), "5 live instances (e.g. a9)");
    }
}
