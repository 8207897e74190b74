//! Text for `sync`: the plan as readable SQL with a summary per child, what an apply or undo did, Nova's caches; it touches no database.

use super::journal::{ChildJournal, ChildStatus};
use super::plan::{Action, ChildPlan, Expect, Plan};
use super::sql::{SQLITE_NEW_IDS, comment_text, new_id_label, render, set_new_id};
use crate::db::Dialect;
use std::fmt::Write as _;

fn begin(d: Dialect) -> &'static str {
    match d {
        Dialect::MySql => "START TRANSACTION;",
        Dialect::Sqlite => "BEGIN IMMEDIATE;",
    }
}

fn last_id(d: Dialect) -> &'static str {
    match d {
        Dialect::MySql => "LAST_INSERT_ID()",
        Dialect::Sqlite => "last_insert_rowid()",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Writes `text` as one `--` comment line, data in it escaped ([`comment_text`]).
fn comment(o: &mut String, text: &str) {
    let _ = writeln!(o, "-- {}", comment_text(text));
}

/// One line per child: what the plan would do there.
pub fn child_summary(c: &ChildPlan) -> String {
    if let Some(why) = &c.unavailable {
        return comment_text(&format!("not planned: the child could not be read ({why})"));
    }
    let mut parts = Vec::new();
    // Every table sync writes, in catalogue order: main-database and API-database ones alike.
    for t in super::sql::TABLES.iter().map(|t| t.name) {
        let n = c.count(t, true);
        if n > 0 {
            parts.push(format!("{} into {t}", plural(n, "insert", "inserts")));
        }
    }
    for t in super::sql::TABLES.iter().map(|t| t.name) {
        let n = c.count(t, false);
        if n > 0 {
            parts.push(format!("{} of {t}", plural(n, "update", "updates")));
        }
    }
    if parts.is_empty() {
        parts.push("nothing to change".into());
    }
    if !c.refused.is_empty() {
        parts.push(format!("{} not done (see below)", c.refused.len()));
    }
    parts.join(", ")
}

/// The dry run: every statement the apply would execute, in order, with its values inline.
///
/// Each child's part, from its `==` comment to its `COMMIT;`, is a script that the dialect's
/// client runs as printed (`mariadb` or `sqlite3` on that child's database): every value is a
/// literal that no data can leave, every word from the data is inside an escaped comment, and the
/// ids the inserts get are carried in `@newN` variables (MySQL) or a temporary table (SQLite).
/// Only the re-checks differ: the client shows their rows, while `--apply` stops on an unexpected one.
pub fn plan(p: &Plan, apply: bool) -> String {
    let mut o = String::new();
    comment(
        &mut o,
        &format!(
            "cellaudit sync: plan from the audit of parent '{}' ({}); rows are stamped {} UTC",
            p.parent,
            if apply {
                "to be applied now"
            } else {
                "dry run: nothing is changed; --apply executes exactly these statements"
            },
            p.now
        ),
    );
    for c in &p.children {
        let place = if c.api {
            "its API database, where its release reads aggregates and flavors"
        } else {
            "its main database"
        };
        o.push('\n');
        comment(&mut o, &format!("== {} ({}: {place})", c.cell, c.shown));
        let _ = writeln!(o, "-- {}", child_summary(c));
        if c.unavailable.is_some() {
            continue;
        }
        let d = c.dialect;
        if !c.steps.is_empty() {
            let _ = writeln!(o, "{}", begin(d));
            if d == Dialect::Sqlite && c.steps.iter().any(|s| s.defines.is_some()) {
                let _ = writeln!(
                    o,
                    "CREATE TEMP TABLE IF NOT EXISTS {} (slot INTEGER PRIMARY KEY, id INTEGER NOT NULL);",
                    SQLITE_NEW_IDS.trim_start_matches("temp.")
                );
            }
        }
        for s in &c.steps {
            let head = match (&s.fixes, &s.action) {
                (_, Action::Update { old, new, .. }) => {
                    format!("update {}: old '{old}', new '{new}'", s.what)
                }
                (Some(f), _) => format!("fixes {}: insert {}", f.text(), s.what),
                (None, _) => format!("  with it: {}", s.what),
            };
            comment(&mut o, &head);
            if let Some(w) = &s.warning {
                comment(&mut o, &format!("WARNING: {w}"));
            }
            for g in &s.guards {
                let want = match &g.expect {
                    Expect::NoRow => "must find no row".to_string(),
                    Expect::SomeRow => "must find a row".to_string(),
                    Expect::OneRowWithValue { value, .. } => {
                        format!("must find one row with value '{}'", comment_text(value))
                    }
                };
                let _ = writeln!(
                    o,
                    "{};  -- re-check, {want}",
                    render(d, g.stmt.query.sql(d), &g.stmt.binds)
                );
            }
            let _ = writeln!(o, "{};", render(d, s.stmt.query.sql(d), &s.stmt.binds));
            if let Some(slot) = s.defines {
                let _ = writeln!(
                    o,
                    "--   {} below is the id this row gets ({})",
                    new_id_label(slot),
                    last_id(d)
                );
                let _ = writeln!(o, "{}", set_new_id(d, slot, s.fixed_id));
            }
        }
        if !c.steps.is_empty() {
            let _ = writeln!(o, "COMMIT;");
            if d == Dialect::Sqlite && c.steps.iter().any(|s| s.defines.is_some()) {
                let _ = writeln!(o, "DROP TABLE {SQLITE_NEW_IDS};");
            }
        }
        if !c.refused.is_empty() {
            let _ = writeln!(o, "-- not done:");
            for r in &c.refused {
                let what = r
                    .finding
                    .as_ref()
                    .map(|f| f.text())
                    .unwrap_or_else(|| r.what.clone());
                comment(&mut o, &format!("  {what}: {}", r.reason));
            }
        }
        if !c.not_here.is_empty() {
            comment(
                &mut o,
                &format!(
                    "parent members not added here, as they do not live in {}: {}",
                    c.cell,
                    c.not_here.join("; ")
                ),
            );
        }
        if !c.left_alone.is_empty() {
            let _ = writeln!(o, "-- left alone:");
            for l in &c.left_alone {
                comment(&mut o, &format!("  {l}"));
            }
        }
    }
    let _ = writeln!(o, "\nSUMMARY");
    let w = p
        .children
        .iter()
        .map(|c| c.cell.len())
        .max()
        .unwrap_or(5)
        .max(5);
    for c in &p.children {
        let _ = writeln!(o, "  {:<w$}  {}", c.cell, child_summary(c));
    }
    let n = p.steps();
    let _ = writeln!(
        o,
        "{}",
        if n == 0 {
            "Nothing to apply.".to_string()
        } else if apply {
            format!("{} to apply.", plural(n, "statement", "statements"))
        } else {
            format!(
                "{} planned; nothing was changed. Run again with --apply to execute them.",
                plural(n, "statement", "statements")
            )
        }
    );
    o
}

/// What the apply did in one child.
pub fn applied(c: &ChildJournal) -> String {
    match c.status {
        ChildStatus::Committed => {
            let mut o = format!(
                "{}: committed, {}:\n",
                c.cell,
                plural(c.entries.len(), "row written", "rows written")
            );
            for e in &c.entries {
                let _ = writeln!(o, "  {} (id {}): {}", e.table, e.id, e.sql);
            }
            o
        }
        // Messages can quote database errors, which can quote data: shown escaped.
        ChildStatus::RolledBack => format!(
            "{}: ROLLED BACK: {}\n",
            c.cell,
            comment_text(c.message.as_deref().unwrap_or("stopped"))
        ),
        ChildStatus::CommitUnknown => format!(
            "{}: UNKNOWN: {}\n",
            c.cell,
            comment_text(c.message.as_deref().unwrap_or("COMMIT got no answer"))
        ),
        ChildStatus::NotAttempted => format!(
            "{}: not attempted (an earlier child stopped the run)\n",
            c.cell
        ),
        ChildStatus::Undone => format!(
            "{}: undone: {}\n",
            c.cell,
            c.message.as_deref().unwrap_or("")
        ),
        ChildStatus::Pending | ChildStatus::Committing => match &c.message {
            Some(m) => format!("{}: {:?}: {}\n", c.cell, c.status, comment_text(m)),
            None => format!("{}: {:?}\n", c.cell, c.status),
        },
    }
}

/// What Nova keeps in memory, so that the operator makes the change take effect.
///
/// `aggregate_cells` are the children whose aggregates changed, `flavor_cells` those whose flavors changed.
pub fn caches(aggregate_cells: &[String], flavor_cells: &[String]) -> String {
    let mut o = String::from("Nova caches what was just changed; for it to take effect:\n");
    if !aggregate_cells.is_empty() {
        let list = crate::checks::join_names(aggregate_cells);
        o.push_str(&format!(
            "  - nova-scheduler in {list} loads host aggregates and their metadata at start and refreshes them only\n\
             \x20   on update_aggregates casts, which a direct database write never sends: restart nova-scheduler there.\n\
             \x20 - nova-api and nova-compute cache availability zone names (AZ_CACHE_SECONDS, one hour; in memcached\n\
             \x20   when configured): restart them or flush that cache to see new or changed AZs at once.\n"
        ));
    }
    if !flavor_cells.is_empty() {
        o.push_str(&format!(
            "  - flavors are read from the database when needed, so {} can use the copied flavors at once;\n\
             \x20   instances keep the flavor they were built with (it is stored with each instance).\n",
            crate::checks::join_names(flavor_cells)
        ));
    }
    o
}
