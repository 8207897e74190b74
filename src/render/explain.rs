//! Renders an explanation of one object across cells, for the operator at the terminal or as JSON.

use super::term::Term;
use super::text::{Cell, KEY_MAX, TEXT_MAX, Table, display_safe, wrap};
use crate::explain::Explanation;
use std::fmt::Write as _;

/// A value from a database, made safe and short enough for a table cell.
fn v(s: &str) -> String {
    display_safe(s, KEY_MAX).into_owned()
}

/// Renders a table of safe strings when it fits the terminal unwrapped; otherwise one block per row
/// (`cell: child2` then `  field: value` lines), which reads better than a table of cut words.
fn fit(head: &[String], rows: Vec<Vec<String>>, term: &Term) -> String {
    let t = table_of(head, &rows);
    t.render(Some(term.width), term.color)
        .unwrap_or_else(|| t.records(term.width, term.color))
}

fn table_of(head: &[String], rows: &[Vec<String>]) -> Table {
    let mut t = Table::from_head(head.iter().map(|h| Cell::plain(h.clone())).collect());
    for r in rows {
        t.push(r.iter().map(|c| Cell::plain(c.clone())).collect());
    }
    t
}

/// Prints `text` (ours, with safe data in it) wrapped to the terminal, each line after `indent`.
fn para(out: &mut String, text: &str, indent: usize, term: &Term) {
    for l in super::text::wrap_indented(text, term.width, indent) {
        let _ = writeln!(out, "{l}");
    }
}

fn lines(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.iter().map(|i| v(i)).collect::<Vec<_>>().join("\n")
    }
}

fn zones(z: &[String]) -> String {
    if z.is_empty() {
        "(default)".into()
    } else {
        z.iter().map(|i| v(i)).collect::<Vec<_>>().join(", ")
    }
}

/// Renders for this run's terminal.
pub fn table(e: &Explanation) -> String {
    table_for(e, super::term::current())
}

pub fn table_for(e: &Explanation, term: &Term) -> String {
    let mut out = String::new();
    let subject = format!("{:?}", e.subject).to_lowercase();
    para(
        &mut out,
        &format!(
            "explain {subject} '{}' across {} cells",
            v(&e.id),
            e.cells.len()
        ),
        0,
        term,
    );
    out.push('\n');
    let down: Vec<String> = e
        .cells
        .iter()
        .filter_map(|c| {
            c.error.as_ref().map(|err| {
                format!(
                    "{} is {}: {}",
                    v(&c.name),
                    format!("{:?}", c.status).to_lowercase(),
                    display_safe(err, TEXT_MAX)
                )
            })
        })
        .collect();
    if !down.is_empty() {
        let _ = writeln!(out, "NOT READ");
        for d in &down {
            para(&mut out, d, 2, term);
        }
        out.push('\n');
    }
    if !e.aggregates.is_empty() {
        let head: Vec<String> = [
            "cell",
            "aggregate",
            "state",
            "uuid",
            "availability zone",
            "metadata",
            "hosts",
        ]
        .map(String::from)
        .to_vec();
        let rows = e
            .aggregates
            .iter()
            .map(|r| {
                let meta: Vec<String> = r
                    .metadata
                    .iter()
                    .map(|(k, val)| format!("{}={}", v(k), v(val)))
                    .collect();
                vec![
                    v(&r.cell),
                    r.name.as_deref().map(v).unwrap_or_else(|| "-".into()),
                    match &r.note {
                        Some(n) => format!("{} ({})", r.state, display_safe(n, TEXT_MAX)),
                        None => r.state.to_string(),
                    },
                    r.uuid.as_deref().map(v).unwrap_or_else(|| "-".into()),
                    r.availability_zone
                        .as_deref()
                        .map(v)
                        .unwrap_or_else(|| "-".into()),
                    if meta.is_empty() {
                        "-".into()
                    } else {
                        meta.join("\n")
                    },
                    lines(&r.hosts),
                ]
            })
            .collect();
        let _ = writeln!(out, "AGGREGATES\n{}\n", fit(&head, rows, term));
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
        let mut head = vec!["column".to_string()];
        head.extend(
            e.instances
                .iter()
                .map(|r| format!("{} ({})", v(&r.cell), r.state)),
        );
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|col| {
                let mut row = vec![col.to_string()];
                row.extend(e.instances.iter().map(|r| {
                    r.columns
                        .get(col)
                        .map(|x| v(x))
                        .unwrap_or_else(|| "-".into())
                }));
                row
            })
            .collect();
        // Too wide as a column per cell: one block per cell instead.
        let columns: Vec<Vec<String>> = (0..head.len())
            .map(|j| rows.iter().map(|r: &Vec<String>| r[j].clone()).collect())
            .collect();
        let shown = match table_of(&head, &rows).render(Some(term.width), term.color) {
            Some(s) => s,
            None => {
                let mut fields = vec!["cell".to_string()];
                fields.extend(columns[0].iter().cloned());
                let per_cell: Vec<Vec<String>> = columns[1..]
                    .iter()
                    .zip(&head[1..])
                    .map(|(col, h)| {
                        std::iter::once(h.clone())
                            .chain(col.iter().cloned())
                            .collect()
                    })
                    .collect();
                table_of(&fields, &per_cell).records(term.width, term.color)
            }
        };
        let _ = writeln!(out, "INSTANCE\n{shown}\n");
        for r in e.instances.iter().filter(|r| r.note.is_some()) {
            para(
                &mut out,
                &format!(
                    "{}: {}",
                    v(&r.cell),
                    display_safe(r.note.as_deref().unwrap_or_default(), TEXT_MAX)
                ),
                2,
                term,
            );
        }
    }
    if !e.hosts.is_empty() && e.topology == "cells-v2" {
        let head: Vec<String> = [
            "host",
            "compute host in",
            "host mapping",
            "AZ (API DB aggregates)",
            "aggregates",
        ]
        .map(String::from)
        .to_vec();
        let rows = e
            .hosts
            .iter()
            .map(|h| {
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
                vec![
                    v(&h.host),
                    lines(&h.lives_in),
                    h.mapped_to
                        .as_deref()
                        .map(v)
                        .unwrap_or_else(|| "(none)".into()),
                    zones(&h.parent_az),
                    lines(&aggs),
                ]
            })
            .collect();
        let _ = writeln!(out, "HOSTS\n{}\n", fit(&head, rows, term));
    }
    if !e.hosts.is_empty() && e.topology == "cells-v1" {
        let parent = e
            .cells
            .first()
            .map(|c| v(&c.name))
            .unwrap_or("parent".into());
        let head = vec![
            "host".to_string(),
            "lives in".to_string(),
            format!("AZ at the parent ({parent})"),
            "AZ in its own child".to_string(),
            "aggregates per cell".to_string(),
        ];
        let rows = e
            .hosts
            .iter()
            .map(|h| {
                let child: Vec<String> = h
                    .child_az
                    .iter()
                    .map(|(c, z)| format!("{}: {}", v(c), zones(z)))
                    .collect();
                let aggs: Vec<String> = h
                    .aggregates
                    .iter()
                    .map(|(c, a)| {
                        format!(
                            "{}: {}",
                            v(c),
                            if a.is_empty() {
                                "-".into()
                            } else {
                                a.iter().map(|x| v(x)).collect::<Vec<_>>().join(", ")
                            }
                        )
                    })
                    .collect();
                vec![
                    v(&h.host),
                    lines(&h.lives_in),
                    zones(&h.parent_az),
                    if child.is_empty() {
                        "-".into()
                    } else {
                        child.join("\n")
                    },
                    if aggs.is_empty() {
                        "-".into()
                    } else {
                        aggs.join("\n")
                    },
                ]
            })
            .collect();
        let _ = writeln!(out, "HOSTS\n{}\n", fit(&head, rows, term));
    }
    let _ = writeln!(out, "VERDICT");
    for verdict in &e.verdict {
        let text = format!("* {}", display_safe(verdict, TEXT_MAX));
        for (i, l) in wrap(&text, term.width.saturating_sub(4).max(1))
            .iter()
            .enumerate()
        {
            let _ = writeln!(out, "{}{l}", if i == 0 { "  " } else { "    " });
        }
    }
    if !e.fixes.is_empty() {
        let _ = writeln!(out, "\nFIX");
        // Fix lines are commands to copy: wrapped only where they must be, never shortened.
        for f in &e.fixes {
            para(&mut out, &display_safe(f, usize::MAX), 2, term);
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
