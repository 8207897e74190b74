//! The `instance_mappings` check: API DB instance mappings and build requests against the instances of every cell.

use super::super::{CheckRun, join_names};
use super::V2Context;
use crate::findings::{Finding, Severity};
use crate::v2::{self, Instance};
use std::collections::BTreeMap;

const CHECK: &str = "instance_mappings";

pub fn instance_mappings(ctx: &V2Context<'_>) -> CheckRun {
    let m = match ctx.api_read(v2::api_mappings) {
        Ok(v) => v,
        Err(skipped) => return skipped,
    };
    let mut run = CheckRun::v2_outcomes(ctx, |d| v2::instances(d).map(|_| ()));
    // uuid → every copy, with the cell it is in.
    let mut copies: BTreeMap<String, Vec<(&str, Instance)>> = BTreeMap::new();
    for (cell, data) in ctx.readable() {
        if let Ok(list) = v2::instances(data) {
            for i in list {
                copies
                    .entry(i.uuid.clone())
                    .or_default()
                    .push((cell.name, i));
            }
        }
    }
    let unknown = ctx.unknown();
    let label = |uuid: &str| -> String {
        copies
            .get(uuid)
            .and_then(|v| v.iter().find_map(|(_, i)| i.display_name.clone()))
            .filter(|n| !n.is_empty())
            .map(|n| format!("{uuid} ('{n}')"))
            .unwrap_or_else(|| uuid.to_string())
    };
    let live_in = |uuid: &str| -> Vec<&str> {
        copies
            .get(uuid)
            .map(|v| {
                v.iter()
                    .filter(|(_, i)| !i.deleted)
                    .map(|(c, _)| *c)
                    .collect()
            })
            .unwrap_or_default()
    };

    for (uuid, list) in &copies {
        let visible: Vec<&str> = list
            .iter()
            .filter(|(_, i)| i.visible())
            .map(|(c, _)| *c)
            .collect();
        let mapping = m.instances.get(uuid);
        if mapping.is_none() && !visible.is_empty() {
            let i = &list
                .iter()
                .find(|(_, i)| i.visible())
                .expect("visible copy")
                .1;
            run.findings.push(
                Finding::new(
                    CHECK,
                    "instance_unmapped",
                    Severity::Failure,
                    visible[0],
                    &[("instance", uuid)],
                    format!(
                        "instance {} in {} has no instance mapping",
                        i.label(),
                        join_names(&visible)
                    ),
                )
                .impact("GET /servers/{id} returns 404 although the instance runs; `nova-manage cell_v2 map_instances` maps it"),
            );
        }
        if visible.len() > 1 {
            let mapped = mapping
                .and_then(|mp| mp.cell_uuid.as_deref())
                .map(|u| ctx.cell_name(u));
            let extra = visible
                .iter()
                .find(|c| Some(**c) != mapped)
                .copied()
                .unwrap_or(visible[0]);
            run.findings.push(
                Finding::new(
                    CHECK,
                    "live_in_several_cells",
                    Severity::Failure,
                    extra,
                    &[("instance", uuid)],
                    format!(
                        "instance {} is live and not hidden in {}{}",
                        label(uuid),
                        join_names(&visible),
                        mapped
                            .map(|c| format!("; its mapping points to {c}"))
                            .unwrap_or_default()
                    ),
                )
                .impact("two cells each run or account for the same server (bug #1775934); quota counts it twice")
                .values(mapped, &visible),
            );
        }
    }

    for (uuid, mapping) in &m.instances {
        let key = [("instance", uuid.as_str())];
        let live = live_in(uuid);
        match mapping.cell_uuid.as_deref() {
            None => {
                if m.build_requests.contains_key(uuid) {
                    continue;
                }
                if !live.is_empty() {
                    run.findings.push(
                        Finding::new(
                            CHECK,
                            "null_cell_instance_exists",
                            Severity::Failure,
                            ctx.api.name,
                            &key,
                            format!(
                                "the mapping of instance {} has no cell and there is no build request, yet the instance is live in {}",
                                label(uuid),
                                join_names(&live)
                            ),
                        )
                        .impact("the API cannot find the instance's cell: it is invisible or stuck (verify_instance rc 2)")
                        .values(None::<()>, &live),
                    );
                } else if unknown.is_empty() {
                    run.findings.push(
                        Finding::new(
                            CHECK,
                            "null_cell_no_instance",
                            Severity::Warning,
                            ctx.api.name,
                            &key,
                            format!(
                                "the mapping of instance {uuid} has no cell and there is no build request; no cell has the instance"
                            ),
                        )
                        .impact("an orphan from a boot that was deleted or failed midway; it shows in server lists as a phantom and skews quota counts"),
                    );
                }
            }
            Some(cell_uuid) => {
                let target = ctx.cell(cell_uuid);
                let Some(target) = target.filter(|t| t.data.is_some()) else {
                    continue;
                };
                let present = copies
                    .get(uuid)
                    .is_some_and(|v| v.iter().any(|(c, _)| *c == target.name));
                if !present {
                    if !live.is_empty() {
                        run.findings.push(
                            Finding::new(
                                CHECK,
                                "mapped_to_wrong_cell",
                                Severity::Failure,
                                ctx.api.name,
                                &key,
                                format!(
                                    "instance {} is mapped to {}, which does not have it; it is in {}",
                                    label(uuid),
                                    target.name,
                                    join_names(&live)
                                ),
                            )
                            .impact(format!(
                                "every API call for it goes to {}'s database and fails with 404; map_instances never corrects an existing mapping",
                                target.name
                            ))
                            .values(target.name, &live),
                        );
                    } else if mapping.queued_for_delete != Some(true) && unknown.is_empty() {
                        run.findings.push(
                            Finding::new(
                                CHECK,
                                "mapped_instance_missing",
                                Severity::Warning,
                                ctx.api.name,
                                &key,
                                format!(
                                    "instance {} is mapped to {}, which does not have it, and neither does any other cell",
                                    label(uuid),
                                    target.name
                                ),
                            )
                            .impact("the server lists as existing but every action on it fails (verify_instance rc 4 if archived); quota counts it"),
                        );
                    }
                }
                if m.build_requests.contains_key(uuid) && !live.is_empty() {
                    run.findings.push(
                        Finding::new(
                            CHECK,
                            "build_request_leftover",
                            Severity::Warning,
                            ctx.api.name,
                            &key,
                            format!(
                                "a build request for instance {} is left although the instance is live in {}",
                                label(uuid),
                                join_names(&live)
                            ),
                        )
                        .impact("server lists may show it twice, once as BUILD; conductor deletes build requests once the instance is created"),
                    );
                }
            }
        }
    }
    run
}
