//! The flavors check for cells v1: every parent flavor in every child, with the same integer id, columns, extra specs and access.

use super::{CheckRun, V1Context};
use crate::db::{Row, Value};
use crate::findings::{Finding, Outcome, Severity};
use crate::queries;
use crate::snapshot::CellData;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

const CHECK: &str = "flavors";

/// The compared `instance_types` columns, in the order `queries/v1_flavors.sql` returns them after
/// (flavorid, id, deleted), with how bad a difference is. A child looks a flavor up in its own
/// database when it resizes (the top sends only the flavorid, bug #1241222), so the child's sizes
/// are the ones an instance gets.
const FIELDS: &[(&str, Severity)] = &[
    ("name", Severity::Warning),
    ("memory_mb", Severity::Failure),
    ("vcpus", Severity::Failure),
    ("swap", Severity::Failure),
    ("vcpu_weight", Severity::Warning),
    ("rxtx_factor", Severity::Warning),
    ("root_gb", Severity::Failure),
    ("ephemeral_gb", Severity::Failure),
    ("disabled", Severity::Warning),
    ("is_public", Severity::Warning),
];
const FIRST_FIELD: usize = 3;

/// `is_public` belongs with the access rows: operators made every child flavor public on purpose
/// (CERN's tool did), since access is enforced only at the top.
const ACCESS_FIELD: &str = "is_public";

#[derive(Debug, Clone, PartialEq)]
struct Flavor {
    id: i64,
    fields: Vec<Value>,
    specs: BTreeMap<String, Option<String>>,
    access: BTreeSet<String>,
}

impl Flavor {
    fn field(&self, name: &str) -> &Value {
        let i = FIELDS.iter().position(|(f, _)| *f == name).unwrap_or(0);
        &self.fields[i]
    }

    fn name(&self) -> String {
        self.field("name").as_text().unwrap_or_default()
    }

    fn summary(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), json!(self.id));
        for ((f, _), v) in FIELDS.iter().zip(&self.fields) {
            m.insert((*f).into(), shown(v));
        }
        m.insert("extra_specs".into(), json!(self.specs));
        m.insert("projects".into(), json!(self.access));
        serde_json::Value::Object(m)
    }
}

/// One database's flavors, matched by flavorid.
#[derive(Debug, Default)]
struct Flavors {
    live: BTreeMap<String, Flavor>,
    /// Flavorids that exist only as soft-deleted rows.
    deleted: BTreeSet<String>,
    /// Live internal id → flavorid: what `instances.instance_type_id` resolves to here.
    by_id: BTreeMap<i64, String>,
}

fn text(row: &Row, i: usize) -> Option<String> {
    row.get(i).and_then(Value::as_text)
}

/// Nova reads with `deleted == 0`; any other value, NULL included, is not live.
fn live(v: &Value) -> bool {
    v.as_int() == Some(0)
}

fn load(data: &CellData, with_access: bool) -> Result<Flavors, String> {
    let rows = data.rows(&queries::FLAVORS)?;
    let specs = data.rows(&queries::FLAVOR_EXTRA_SPECS)?;
    let access = if with_access {
        data.rows(&queries::FLAVOR_PROJECTS)?
    } else {
        &[]
    };
    let mut out = Flavors::default();
    let mut deleted = BTreeSet::new();
    for r in rows {
        let (Some(fid), Some(id)) = (text(r, 0), r[1].as_int()) else {
            continue;
        };
        if !live(&r[2]) {
            deleted.insert(fid);
            continue;
        }
        out.by_id.insert(id, fid.clone());
        out.live.entry(fid).or_insert(Flavor {
            id,
            fields: r[FIRST_FIELD..].to_vec(),
            specs: BTreeMap::new(),
            access: BTreeSet::new(),
        });
    }
    for r in specs {
        if let (Some(id), Some(key)) = (r[0].as_int(), text(r, 1))
            && let Some(f) = out.by_id.get(&id).and_then(|fid| out.live.get_mut(fid))
        {
            f.specs.insert(key, text(r, 2));
        }
    }
    for r in access {
        if let (Some(id), Some(project)) = (r[0].as_int(), text(r, 1))
            && let Some(f) = out.by_id.get(&id).and_then(|fid| out.live.get_mut(fid))
        {
            f.access.insert(project);
        }
    }
    out.deleted = deleted
        .into_iter()
        .filter(|f| !out.live.contains_key(f))
        .collect();
    Ok(out)
}

/// Equal as Nova would read them; `rxtx_factor` is a MySQL FLOAT, so compare at f32 precision.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => (*x as f32) == (*y as f32),
        (Value::Float(x), Value::Int(y)) | (Value::Int(y), Value::Float(x)) => {
            (*x as f32) == (*y as f32)
        }
        _ => a == b,
    }
}

fn shown(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(*f as f32),
        Value::Text(s) => json!(s),
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::Float(f) => (*f as f32).to_string(),
        other => other.as_text().unwrap_or_default(),
    }
}

fn spec_text(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("NULL")
}

pub fn flavors(ctx: &V1Context<'_>) -> CheckRun {
    let with_access = !ctx.ignore_flavor_access;
    let parent = match ctx.parent.data.map(|d| load(d, with_access)) {
        Some(Ok(f)) => f,
        Some(Err(reason)) => return CheckRun::skip_all(ctx, format!("parent: {reason}")),
        None => return CheckRun::skip_all(ctx, "parent unreadable".into()),
    };
    let parent_reads_main = ctx
        .sources
        .iter()
        .find(|s| s.cell == ctx.parent.name)
        .is_none_or(|s| {
            matches!(
                s.era,
                crate::v1_release::Era::MainDb | crate::v1_release::Era::Unknown
            )
        });
    if parent.live.is_empty() && parent_reads_main {
        // From Newton on flavors moved to the nova_api database; the main-DB table is then empty at the top.
        return CheckRun::skip_all(
            ctx,
            "the parent has no live flavors in instance_types (from Newton on they live in the nova_api database: give --parent-api and --child-api)".into(),
        );
    }
    let mut run = CheckRun::default();
    run.outcome(ctx.parent.name, Outcome::Ran);
    for c in &ctx.children {
        if c.data.is_some() && ctx.shared_api.contains(c.name) {
            run.outcome(
                c.name,
                Outcome::Skipped {
                    reason: "reads the parent's API database: the same flavors".into(),
                },
            );
            continue;
        }
        match c.data.map(|d| load(d, with_access)) {
            None => run.outcome(c.name, Outcome::Unavailable),
            Some(Err(reason)) => run.outcome(c.name, Outcome::Skipped { reason }),
            Some(Ok(child)) => {
                run.outcome(c.name, Outcome::Ran);
                compare(&parent, &child, c.name, with_access, &mut run.findings);
            }
        }
    }
    run
}

fn compare(
    parent: &Flavors,
    child: &Flavors,
    cell: &str,
    with_access: bool,
    out: &mut Vec<Finding>,
) {
    for (fid, pf) in &parent.live {
        let Some(cf) = child.live.get(fid) else {
            let state = if child.deleted.contains(fid) {
                "is soft-deleted in"
            } else {
                "is missing from"
            };
            out.push(
                Finding::new(
                    CHECK,
                    "missing_in_child",
                    Severity::Failure,
                    cell,
                    &[("flavor", fid)],
                    format!("flavor '{}' (flavorid {fid}, id {}) exists in the parent but {state} {cell}", pf.name(), pf.id),
                )
                .impact(format!(
                    "{cell} looks flavors up in its own database: resizes to '{}' fail there, and the top's flavor API never writes to {cell}",
                    pf.name()
                ))
                .values(pf.summary(), None::<()>),
            );
            continue;
        };
        let name = pf.name();
        // Merged main-database rows carry negated ids (`crate::v1_release`): their ids are another table's.
        if pf.id != cf.id && pf.id > 0 && cf.id > 0 {
            let there = match parent.by_id.get(&cf.id) {
                Some(other) => format!("flavor '{other}'"),
                None => "no live flavor".to_string(),
            };
            out.push(
                Finding::new(
                    CHECK,
                    "id_differs",
                    Severity::Failure,
                    cell,
                    &[("flavor", fid)],
                    format!("flavor '{name}' (flavorid {fid}) has id {} in the parent but id {} in {cell}", pf.id, cf.id),
                )
                .impact(format!(
                    "cells v1 copies instances.instance_type_id up unchanged: {cell}'s instances of '{name}' show at the top as {there} (id {})",
                    cf.id
                ))
                .values(pf.id, cf.id),
            );
        }
        for (i, (field, sev)) in FIELDS.iter().enumerate() {
            if *field == ACCESS_FIELD && !with_access {
                continue;
            }
            let (pv, cv) = (&pf.fields[i], &cf.fields[i]);
            if same(pv, cv) {
                continue;
            }
            let impact = match *field {
                ACCESS_FIELD => format!(
                    "access is enforced at the top; a private flavor in {cell} hides it from non-admin resizes there (children are often all public on purpose: --ignore-flavor-access)"
                ),
                "name" => "the API shows the parent's name; tools and operators reading the child see another".to_string(),
                "disabled" => format!("{cell} refuses or allows resizes to '{name}' differently from the API"),
                "vcpu_weight" | "rxtx_factor" => format!("instances resized to '{name}' in {cell} get the child's {field}"),
                _ => format!(
                    "instances resized to '{name}' in {cell} get the child's {field}, while the top accounts quota with the parent's"
                ),
            };
            out.push(
                Finding::new(
                    CHECK,
                    "value_differs",
                    *sev,
                    cell,
                    &[("flavor", fid), ("field", field)],
                    format!(
                        "flavor '{name}' (flavorid {fid}) has {field}={} in the parent but {field}={} in {cell}",
                        display(pv),
                        display(cv)
                    ),
                )
                .impact(impact)
                .values(shown(pv), shown(cv)),
            );
        }
        specs(fid, &name, pf, cf, cell, out);
        if with_access {
            access(fid, &name, pf, cf, cell, out);
        }
    }
    for (fid, cf) in &child.live {
        if parent.live.contains_key(fid) {
            continue;
        }
        let (kind, what) = if parent.deleted.contains(fid) {
            (
                "deleted_in_parent",
                "was deleted in the parent but is live in",
            )
        } else {
            ("only_in_child", "exists only in")
        };
        out.push(
            Finding::new(
                CHECK,
                kind,
                Severity::Warning,
                cell,
                &[("flavor", fid)],
                format!(
                    "flavor '{}' (flavorid {fid}, id {}) {what} {cell}",
                    cf.name(),
                    cf.id
                ),
            )
            .impact("the API does not offer it, yet resizes inside the child can still find it")
            .values(None::<()>, cf.summary()),
        );
        if let Some(other) = parent.by_id.get(&cf.id).filter(|o| *o != fid) {
            out.push(
                Finding::new(
                    CHECK,
                    "id_collision",
                    Severity::Failure,
                    cell,
                    &[("flavor", fid)],
                    format!(
                        "flavor '{}' (flavorid {fid}) in {cell} has id {}, which is parent flavor '{other}'",
                        cf.name(),
                        cf.id
                    ),
                )
                .impact(format!(
                    "cells v1 copies instances.instance_type_id up unchanged: {cell}'s instances of '{}' show at the top as '{other}', and '{other}' cannot be copied to {cell} with its id",
                    cf.name()
                ))
                .values(other, fid),
            );
        }
    }
}

fn specs(fid: &str, name: &str, pf: &Flavor, cf: &Flavor, cell: &str, out: &mut Vec<Finding>) {
    let keys: BTreeSet<&String> = pf.specs.keys().chain(cf.specs.keys()).collect();
    for key in keys {
        let k = [("flavor", fid), ("key", key.as_str())];
        let finding = match (pf.specs.get(key), cf.specs.get(key)) {
            (Some(pv), None) => Finding::new(
                CHECK,
                "spec_missing_in_child",
                Severity::Warning,
                cell,
                &k,
                format!("flavor '{name}' has extra spec {key}={} in the parent but no '{key}' in {cell} (keys are case-sensitive)", spec_text(pv)),
            )
            .impact(format!("{cell} resizes to '{name}' without '{key}': scheduling filters and the virt driver do not see it"))
            .values(pv, None::<()>),
            (None, Some(cv)) => Finding::new(
                CHECK,
                "spec_extra_in_child",
                Severity::Warning,
                cell,
                &k,
                format!("flavor '{name}' has extra spec {key}={} in {cell} but no '{key}' in the parent (keys are case-sensitive)", spec_text(cv)),
            )
            .impact(format!("{cell} applies '{key}' on resizes to '{name}', which the API does not show"))
            .values(None::<()>, cv),
            (Some(pv), Some(cv)) if pv != cv => Finding::new(
                CHECK,
                "spec_value_differs",
                Severity::Warning,
                cell,
                &k,
                format!("flavor '{name}' has extra spec {key}={} in the parent but {key}={} in {cell}", spec_text(pv), spec_text(cv)),
            )
            .impact(format!("{cell} applies a different '{key}' on resizes to '{name}' than the API shows"))
            .values(pv, cv),
            _ => continue,
        };
        out.push(finding);
    }
}

fn access(fid: &str, name: &str, pf: &Flavor, cf: &Flavor, cell: &str, out: &mut Vec<Finding>) {
    for project in pf.access.difference(&cf.access) {
        out.push(
            Finding::new(
                CHECK,
                "access_missing_in_child",
                Severity::Warning,
                cell,
                &[("flavor", fid), ("project", project)],
                format!("project {project} may use flavor '{name}' in the parent but has no access row in {cell}"),
            )
            .impact("access is enforced at the top; children may differ by design (--ignore-flavor-access skips these)")
            .values(project, None::<()>),
        );
    }
    for project in cf.access.difference(&pf.access) {
        out.push(
            Finding::new(
                CHECK,
                "access_extra_in_child",
                Severity::Warning,
                cell,
                &[("flavor", fid), ("project", project)],
                format!("project {project} has an access row for flavor '{name}' in {cell} but not in the parent"),
            )
            .impact("access is enforced at the top; children may differ by design (--ignore-flavor-access skips these)")
            .values(None::<()>, project),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_compare_at_the_precision_mysql_stores() {
        let stored = Value::Float(f64::from(1.1f32));
        assert!(same(&stored, &Value::Float(1.1)));
        assert!(!same(&Value::Float(1.1), &Value::Float(1.2)));
        assert!(same(&Value::Int(1), &Value::Float(1.0)));
        assert!(!same(&Value::Null, &Value::Int(0)));
        assert_eq!(display(&stored), "1.1");
    }

    fn flavor(id: i64, specs: &[(&str, &str)]) -> Flavor {
        Flavor {
            id,
            fields: FIELDS
                .iter()
                .map(|(f, _)| match *f {
                    "name" => Value::Text("m1.test".into()),
                    _ => Value::Int(1),
                })
                .collect(),
            specs: specs
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect(),
            access: BTreeSet::new(),
        }
    }

    #[test]
    fn spec_keys_differing_only_in_case_are_different_keys() {
        let p = flavor(1, &[("hw:cpu_policy", "dedicated")]);
        let c = flavor(1, &[("HW:CPU_POLICY", "dedicated")]);
        let mut out = Vec::new();
        specs("f1", "m1.test", &p, &c, "child1", &mut out);
        let kinds: Vec<(&str, String)> =
            out.iter().map(|f| (f.kind, f.key["key"].clone())).collect();
        assert_eq!(
            kinds,
            vec![
                ("spec_extra_in_child", "HW:CPU_POLICY".to_string()),
                ("spec_missing_in_child", "hw:cpu_policy".to_string()),
            ]
        );
    }
}
