//! Renders an explanation of one object across cells, for the operator at the terminal or as JSON.

use crate::explain::Explanation;
use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::Style;

fn lines(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join("\n")
    }
}

fn zones(z: &[String]) -> String {
    if z.is_empty() {
        "(default)".into()
    } else {
        z.join(", ")
    }
}

pub fn table(e: &Explanation) -> String {
    let mut out = String::new();
    let subject = format!("{:?}", e.subject).to_lowercase();
    let _ = writeln!(
        out,
        "explain {subject} '{}' across {} cells\n",
        e.id,
        e.cells.len()
    );
    let down: Vec<String> = e
        .cells
        .iter()
        .filter_map(|c| {
            c.error
                .as_ref()
                .map(|err| format!("  {} is {:?}: {err}", c.name, c.status).to_lowercase())
        })
        .collect();
    if !down.is_empty() {
        let _ = writeln!(out, "NOT READ\n{}\n", down.join("\n"));
    }
    if !e.aggregates.is_empty() {
        let mut b = Builder::default();
        b.push_record([
            "cell",
            "aggregate",
            "state",
            "uuid",
            "availability zone",
            "metadata",
            "hosts",
        ]);
        for r in &e.aggregates {
            let meta: Vec<String> = r.metadata.iter().map(|(k, v)| format!("{k}={v}")).collect();
            b.push_record([
                r.cell.clone(),
                r.name.clone().unwrap_or_else(|| "-".into()),
                match &r.note {
                    Some(n) => format!("{} ({n})", r.state),
                    None => r.state.to_string(),
                },
                r.uuid.clone().unwrap_or_else(|| "-".into()),
                r.availability_zone.clone().unwrap_or_else(|| "-".into()),
                lines(&meta),
                lines(&r.hosts),
            ]);
        }
        let mut t = b.build();
        t.with(Style::sharp());
        let _ = writeln!(out, "AGGREGATES\n{t}\n");
    }
    if !e.instances.is_empty() {
        const SHOWN_V1: [&str; 11] = [
            "display_name",
            "host",
            "node",
            "vm_state",
            "task_state",
            "power_state",
            "availability_zone",
            "project_id",
            "instance_type_id",
            "cell_name",
            "updated_at",
        ];
        const SHOWN_V2: [&str; 8] = [
            "mapped_cell",
            "queued_for_delete",
            "build_request",
            "display_name",
            "host",
            "vm_state",
            "availability_zone",
            "hidden",
        ];
        let shown: &[&str] = if e.topology == "cells-v2" {
            &SHOWN_V2
        } else {
            &SHOWN_V1
        };
        let mut b = Builder::default();
        let mut head = vec!["column".to_string()];
        head.extend(
            e.instances
                .iter()
                .map(|r| format!("{} ({})", r.cell, r.state)),
        );
        b.push_record(head);
        for col in shown {
            let mut row = vec![col.to_string()];
            row.extend(
                e.instances
                    .iter()
                    .map(|r| r.columns.get(col).cloned().unwrap_or_else(|| "-".into())),
            );
            b.push_record(row);
        }
        let mut t = b.build();
        t.with(Style::sharp());
        let _ = writeln!(out, "INSTANCE\n{t}\n");
        for r in e.instances.iter().filter(|r| r.note.is_some()) {
            let _ = writeln!(
                out,
                "  {}: {}",
                r.cell,
                r.note.as_deref().unwrap_or_default()
            );
        }
    }
    if !e.hosts.is_empty() && e.topology == "cells-v2" {
        let mut b = Builder::default();
        b.push_record([
            "host",
            "compute host in",
            "host mapping",
            "AZ (API DB aggregates)",
            "aggregates",
        ]);
        for h in &e.hosts {
            // The API DB's aggregates as they are; any other source (placement) says whose view it is.
            let aggs = h
                .aggregates
                .iter()
                .flat_map(|(src, names)| {
                    names.iter().map(move |n| {
                        if src == crate::topology_v2::API_NAME {
                            n.clone()
                        } else {
                            format!("{src}: {n}")
                        }
                    })
                })
                .collect::<Vec<_>>();
            b.push_record([
                h.host.clone(),
                lines(&h.lives_in),
                h.mapped_to.clone().unwrap_or_else(|| "(none)".into()),
                zones(&h.parent_az),
                lines(&aggs),
            ]);
        }
        let mut t = b.build();
        t.with(Style::sharp());
        let _ = writeln!(out, "HOSTS\n{t}\n");
    }
    if !e.hosts.is_empty() && e.topology == "cells-v1" {
        let parent = e.cells.first().map(|c| c.name.as_str()).unwrap_or("parent");
        let mut b = Builder::default();
        b.push_record([
            "host".to_string(),
            "lives in".to_string(),
            format!("AZ at the parent ({parent})"),
            "AZ in its own child".to_string(),
            "aggregates per cell".to_string(),
        ]);
        for h in &e.hosts {
            let child: Vec<String> = h
                .child_az
                .iter()
                .map(|(c, z)| format!("{c}: {}", zones(z)))
                .collect();
            let aggs: Vec<String> = h
                .aggregates
                .iter()
                .map(|(c, a)| {
                    format!(
                        "{c}: {}",
                        if a.is_empty() {
                            "-".into()
                        } else {
                            a.join(", ")
                        }
                    )
                })
                .collect();
            b.push_record([
                h.host.clone(),
                lines(&h.lives_in),
                zones(&h.parent_az),
                lines(&child),
                lines(&aggs),
            ]);
        }
        let mut t = b.build();
        t.with(Style::sharp());
        let _ = writeln!(out, "HOSTS\n{t}\n");
    }
    let _ = writeln!(out, "VERDICT");
    for v in &e.verdict {
        let _ = writeln!(out, "  * {v}");
    }
    if !e.fixes.is_empty() {
        let _ = writeln!(out, "\nFIX");
        for f in &e.fixes {
            let _ = writeln!(out, "  {f}");
        }
    }
    out
}

pub fn json(e: &Explanation) -> String {
    let mut s =
        serde_json::to_string_pretty(e).unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
    s.push('\n');
    s
}
