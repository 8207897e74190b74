//! The `instance_mappings` check: API DB instance mappings and build requests against the instances of every cell.

use super::super::{CheckRun, join_names};
use super::V2Context;
use crate::checks::ids::{Check, Kind};
use crate::findings::{Finding, Severity};
use crate::v2::{self, Instance};
use std::collections::{BTreeMap, BTreeSet};

const CHECK: Check = Check::InstanceMappings;

pub fn instance_mappings(ctx: &V2Context<'_>) -> CheckRun {
    let m = match ctx.api_read(v2::api_mappings) {
        Ok(v) => v,
        Err(skipped) => return skipped,
    };
    let mut run = CheckRun::v2_outcomes(ctx, |d| v2::instances(d).map(|_| ()));
    // Instances archived to some cell's shadow table: before Queens, archive_deleted_rows left their mappings.
    let archived: BTreeSet<String> = ctx
        .readable()
        .filter_map(|(_, d)| v2::shadow_instances(d).ok())
        .flatten()
        .collect();
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
                    Kind::InstanceUnmapped,
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
        // Two cell mappings naming one database show each of its instances "in both": one row, reported once
        // as cell_mappings/cells_share_database.
        let visible = ctx.distinct_databases(&visible);
        if visible.len() > 1 {
            // A cross-cell resize swaps the copies' `hidden` flags one after the other (target shown first, then
            // source hidden: conductor/tasks/cross_cell_migrate.py @21.0.0, _finish_resize_at_dest and
            // RevertResizeTask), so for a moment both are visible. Only Train+ schemas (main 399) have the flag.
            let in_flight = list.iter().any(|(c, _)| {
                ctx.readable().any(|(cell, d)| {
                    cell.name == *c && d.schema.missing("instances", &["hidden"]).is_none()
                })
            }) && list.iter().filter(|(_, i)| i.visible()).any(|(_, i)| {
                // The copies of a resize in flight are `resized` (vm_state) or in a resize_* task state.
                let resizing = i.vm_state.as_deref() == Some("resized")
                    || i.task_state
                        .as_deref()
                        .is_some_and(|t| t.starts_with("resize"));
                resizing && ctx.recent(i.changed_at)
            });
            let mapped = mapping
                .and_then(|mp| mp.cell_uuid.as_deref())
                .map(|u| ctx.cell_name(u));
            let extra = visible
                .iter()
                .find(|c| Some(**c) != mapped)
                .copied()
                .unwrap_or(visible[0]);
            let (severity, note) = if in_flight {
                (
                    Severity::Info,
                    "; changed within --lag: a cross-cell resize shows both copies while it swaps their hidden flags",
                )
            } else {
                (Severity::Failure, "")
            };
            run.findings.push(
                Finding::new(
                    CHECK,
                    Kind::LiveInSeveralCells,
                    severity,
                    extra,
                    &[("instance", uuid)],
                    format!(
                        "instance {} is live and not hidden in {}{}",
                        label(uuid),
                        join_names(&visible),
                        mapped
                            .map(|c| format!("; its mapping points to {c}"))
                            .unwrap_or_default()
                    ) + note,
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
                if let Some(created) = m.build_requests.get(uuid) {
                    // The conductor deletes the build request once the instance exists in a cell
                    // (conductor/manager.py schedule_and_build_instances); one older than --lag is stuck.
                    if live.is_empty()
                        && unknown.is_empty()
                        && !ctx.recent(*created)
                        && created.is_some()
                    {
                        run.findings.push(
                            Finding::new(
                                CHECK,
                                Kind::BuildStuck,
                                Severity::Warning,
                                ctx.api.name,
                                &key,
                                format!(
                                    "instance {uuid} has had a build request and a mapping without a cell for longer than --lag ({}s); no cell has the instance",
                                    ctx.lag
                                ),
                            )
                            .impact("the server shows as BUILD forever (scheduler or conductor died mid-boot); deleting the server removes the build request and the mapping"),
                        );
                    }
                    continue;
                }
                if !live.is_empty() {
                    run.findings.push(
                        Finding::new(
                            CHECK,
                            Kind::NullCellInstanceExists,
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
                            Kind::NullCellNoInstance,
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
                let present = copies.get(uuid).is_some_and(|v| {
                    v.iter()
                        .any(|(c, _)| *c == target.name || ctx.same_database(c, target.name))
                });
                if !present {
                    if !live.is_empty() {
                        run.findings.push(
                            Finding::new(
                                CHECK,
                                Kind::MappedToWrongCell,
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
                    } else if mapping.queued_for_delete == Some(true) {
                        // Deleted and queued for delete: Nova's own bookkeeping until archive removes it.
                    } else if archived.contains(uuid) && unknown.is_empty() {
                        // Before Queens, archive_deleted_rows moved the instance to shadow_instances and left its
                        // mapping and request spec; 17.0.0 nova/cmd/manage.py deletes them as it archives.
                        run.findings.push(
                            Finding::new(
                                CHECK,
                                Kind::MappedInstanceArchived,
                                Severity::Info,
                                ctx.api.name,
                                &key,
                                format!(
                                    "instance {uuid} is mapped to {}, which archived it to shadow_instances; its mapping was left behind",
                                    target.name
                                ),
                            )
                            .impact("left by `nova-manage db archive_deleted_rows` before Queens (which keeps mappings); harmless except in server lists of deleted servers; `nova-manage db purge` removes the shadow row, the mapping must be deleted by hand"),
                        );
                    } else if unknown.is_empty() {
                        run.findings.push(
                            Finding::new(
                                CHECK,
                                Kind::MappedInstanceMissing,
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
                            Kind::BuildRequestLeftover,
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
    quota_columns(&m, &mut run, ctx.api.name);
    run
}

/// Mappings whose `queued_for_delete` or `user_id` is NULL, one finding per column (there may be thousands).
/// Nova counts quota from placement only for projects whose mappings have both set, else it falls back to
/// counting in every cell (nova/quota.py @20.0.0, _user_id_queued_for_delete_populated); online data migrations
/// fill them (populate_queued_for_delete @18.0.0, populate_user_id @19.0.0 in nova/objects/instance_mapping.py).
fn quota_columns(m: &v2::ApiMappings, run: &mut CheckRun, api: &str) {
    let columns = [
        (
            "queued_for_delete",
            m.has_queued_for_delete,
            m.instances
                .iter()
                .filter(|(_, i)| i.queued_for_delete.is_none())
                .map(|(u, _)| u.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            "user_id",
            m.has_user_id,
            m.instances
                .iter()
                .filter(|(_, i)| i.user_id.is_none())
                .map(|(u, _)| u.as_str())
                .collect(),
        ),
    ];
    for (column, present, nulls) in columns {
        if !present || nulls.is_empty() {
            continue;
        }
        let shown: Vec<&str> = nulls.iter().take(3).copied().collect();
        run.findings.push(
            Finding::new(
                CHECK,
                Kind::MappingColumnNull,
                Severity::Warning,
                api,
                &[("column", column)],
                format!(
                    "{} instance mapping{} ha{} {column} NULL (e.g. {})",
                    nulls.len(),
                    if nulls.len() == 1 { "" } else { "s" },
                    if nulls.len() == 1 { "s" } else { "ve" },
                    join_names(&shown)
                ),
            )
            .impact("`nova-manage db online_data_migrations` has not finished: quota for those projects is counted from every cell, not from placement, and the next release's upgrade check may refuse"),
        );
    }
}
