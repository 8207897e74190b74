//! `cellaudit sync`: plans, from the audit's findings, the rows the children lack, shows them as SQL, and applies or undoes them safely.

pub mod apply;
pub mod journal;
pub mod plan;
pub mod render;
pub mod sql;
pub mod tx;

pub use apply::Hooks;
pub use plan::SYNC_CHECKS;

use crate::config::{AuditConfig, SyncConfig};
use crate::engine::{Audited, V1Plan, audit_v1_keep};
use crate::exit_codes;
use crate::findings::Report;
use journal::{ChildJournal, ChildStatus, Journal, JournalFile};
use plan::{FindingRef, Plan};
use std::io::{IsTerminal as _, Write};

/// What sync reads besides the checks' datasets, in the same snapshots: the full rows it copies.
const PARENT_SETS: &[&crate::queries::Dataset] =
    &[&sql::PARENT_AGGREGATE_TIMES, &sql::PARENT_FLAVORS];
const CHILD_SETS: &[&crate::queries::Dataset] = &[&sql::CHILD_FLAVOR_IDS];

/// How the run asks the operator before changing anything.
pub enum Confirm<'a> {
    /// `--yes`: do not ask.
    Yes,
    /// Ask on the terminal; the function shows the question and returns the answer.
    Ask(&'a mut dyn FnMut(&str) -> bool),
    /// No terminal to ask on, and no `--yes`: refuse.
    NoTerminal,
}

/// Runs `cellaudit sync` as the command line asked, on stdout and the terminal.
pub async fn run(cfg: &SyncConfig) -> u8 {
    let mut ask = |question: &str| -> bool {
        eprint!("{question} Type 'yes' to continue: ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).is_ok() && answer.trim() == "yes"
    };
    let confirm = if cfg.yes {
        Confirm::Yes
    } else if std::io::stdin().is_terminal() {
        Confirm::Ask(&mut ask)
    } else {
        Confirm::NoTerminal
    };
    let mut out = std::io::stdout().lock();
    execute(cfg, &Hooks::default(), &mut out, confirm).await
}

fn say(out: &mut dyn Write, text: &str) {
    // A closed pipe must not stop an apply half-way: the journal, not stdout, is the record.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn stamp_now() -> (String, String) {
    let now = sqlx::types::chrono::Utc::now();
    (
        now.format("%Y-%m-%d %H:%M:%S").to_string(),
        now.format("%Y%m%dT%H%M%SZ").to_string(),
    )
}

async fn audit(cfg: &AuditConfig) -> Audited {
    let plan = V1Plan::from_config(cfg);
    audit_v1_keep(&cfg.parent, &cfg.children, &plan, PARENT_SETS, CHILD_SETS).await
}

fn ask(confirm: Confirm<'_>, question: &str, out: &mut dyn Write) -> Result<(), u8> {
    match confirm {
        Confirm::Yes => Ok(()),
        Confirm::Ask(f) => {
            if f(question) {
                Ok(())
            } else {
                say(out, "Not confirmed; nothing was changed.\n");
                Err(exit_codes::SYNC_REFUSED)
            }
        }
        Confirm::NoTerminal => {
            say(
                out,
                "Refusing to change anything: standard input is not a terminal to confirm on; add --yes to apply without asking.\n",
            );
            Err(exit_codes::SYNC_REFUSED)
        }
    }
}

/// Runs a sync (plan, and apply or undo when asked), writing its text to `out`. The library entry point.
pub async fn execute(
    cfg: &SyncConfig,
    hooks: &Hooks,
    out: &mut dyn Write,
    confirm: Confirm<'_>,
) -> u8 {
    if let Some(path) = &cfg.undo {
        return undo(cfg, path, out, confirm).await;
    }
    let (now, stamp) = stamp_now();
    let audited = audit(&cfg.audit).await;
    let plan = match plan::build(&plan::Inputs {
        audited: &audited,
        specs: &cfg.audit.children,
        apis: &cfg.audit.apis,
        cells: &cfg.cells,
        checks: &cfg.sync_checks,
        fix_drift: cfg.fix_drift,
        now,
    }) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cellaudit sync: cannot plan: {e}");
            return exit_codes::AUDIT_ERROR;
        }
    };
    say(out, &render::plan(&plan, cfg.apply));
    let unplanned = plan.children.iter().any(|c| c.unavailable.is_some());
    if !cfg.apply {
        return if plan.steps() > 0 {
            exit_codes::SYNC_PLANNED
        } else if unplanned {
            exit_codes::SYNC_INCOMPLETE
        } else {
            exit_codes::SYNC_DONE
        };
    }
    if plan.steps() == 0 {
        return if unplanned {
            exit_codes::SYNC_INCOMPLETE
        } else {
            exit_codes::SYNC_DONE
        };
    }
    let targets: Vec<String> = plan
        .children
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| c.cell.clone())
        .collect();
    if let Err(code) = ask(
        confirm,
        &format!(
            "Apply {} statements to {}?",
            plan.steps(),
            crate::checks::join_names(&targets)
        ),
        out,
    ) {
        return code;
    }
    apply_plan(cfg, &plan, &stamp, hooks, out, unplanned).await
}

async fn apply_plan(
    cfg: &SyncConfig,
    plan: &Plan,
    stamp: &str,
    hooks: &Hooks,
    out: &mut dyn Write,
    unplanned: bool,
) -> u8 {
    let work: Vec<&plan::ChildPlan> = plan.children.iter().filter(|c| !c.is_empty()).collect();
    let journal = Journal {
        tool: "cellaudit".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started_at: plan.now.clone(),
        parent: plan.parent.clone(),
        children: work
            .iter()
            .map(|c| ChildJournal {
                cell: c.cell.clone(),
                url: c.shown.clone(),
                api_database: c.api,
                status: ChildStatus::Pending,
                message: None,
                entries: Vec::new(),
            })
            .collect(),
        checksum: String::new(),
    };
    let dir = match &cfg.journal_dir {
        Some(d) => d.clone(),
        None => match journal::default_dir_here() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("cellaudit sync: {e}; nothing was changed");
                return exit_codes::AUDIT_ERROR;
            }
        },
    };
    let mut jf = match JournalFile::create(&dir, journal, stamp) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("cellaudit sync: {e}; nothing was changed");
            return exit_codes::AUDIT_ERROR;
        }
    };
    say(out, &format!("\nJournal: {}\n", jf.path.display()));
    let mut stopped = false;
    let mut fixed: Vec<FindingRef> = Vec::new();
    let mut committed: Vec<String> = Vec::new();
    let (mut agg_cells, mut flavor_cells) = (Vec::new(), Vec::new());
    for c in work {
        if stopped {
            if let Some(j) = jf.journal.child_mut(&c.cell) {
                j.status = ChildStatus::NotAttempted;
            }
            let _ = jf.save();
            if let Some(j) = jf.journal.children.iter().find(|j| j.cell == c.cell) {
                say(out, &render::applied(j));
            }
            continue;
        }
        let target = if c.api {
            &cfg.audit.apis
        } else {
            &cfg.audit.children
        };
        let Some(Ok(url)) = target
            .iter()
            .find(|s| s.name == c.cell)
            .map(|s| s.url.as_ref())
        else {
            // Only children that were read get a plan, so this cannot happen; if it does, the journal says so.
            if let Some(j) = jf.journal.child_mut(&c.cell) {
                j.status = ChildStatus::NotAttempted;
            }
            let _ = jf.save();
            continue;
        };
        let mut cj = jf
            .journal
            .children
            .iter()
            .find(|j| j.cell == c.cell)
            .cloned()
            .expect("journal has every planned child");
        let mut save = |j: &ChildJournal| -> Result<(), String> {
            if let Some(slot) = jf.journal.child_mut(&j.cell) {
                *slot = j.clone();
            }
            jf.save()
        };
        let result =
            apply::apply_child(c, url, cfg.audit.timeouts, hooks, &mut cj, &mut save).await;
        say(out, &render::applied(&cj));
        match result {
            Ok(()) => {
                committed.push(c.cell.clone());
                let touches = |object: &str| {
                    c.steps
                        .iter()
                        .any(|s| sql::object_of(s.table.name) == Some(object))
                };
                if touches("aggregate") {
                    agg_cells.push(c.cell.clone());
                }
                if touches("flavor") {
                    flavor_cells.push(c.cell.clone());
                }
                fixed.extend(c.steps.iter().filter_map(|s| s.fixes.clone()));
            }
            Err(_) => stopped = true,
        }
    }
    say(out, &format!("Journal written: {}\n", jf.path.display()));
    if !committed.is_empty() {
        say(
            out,
            &format!(
                "Undo this run with: cellaudit sync --undo {} (same --parent/--child/--config)\n",
                jf.path.display()
            ),
        );
    }
    let mut code = if stopped {
        exit_codes::SYNC_ROLLED_BACK
    } else if unplanned {
        exit_codes::SYNC_INCOMPLETE
    } else {
        exit_codes::SYNC_DONE
    };
    if !committed.is_empty() {
        let after = audit(&cfg.audit).await;
        let still = still_present(&after.report, &fixed);
        if still.is_empty() {
            say(
                out,
                &format!(
                    "\nRe-audit: all {} findings this run fixed are gone.\n",
                    fixed.len()
                ),
            );
        } else {
            let mut t = format!(
                "\nRe-audit: {} of {} findings this run meant to fix are still reported:\n",
                still.len(),
                fixed.len()
            );
            for f in &still {
                t.push_str(&format!("  {}\n", f.text()));
            }
            say(out, &t);
            if code == exit_codes::SYNC_DONE {
                code = exit_codes::SYNC_INCOMPLETE;
            }
        }
        say(
            out,
            &format!("\n{}", render::caches(&agg_cells, &flavor_cells)),
        );
    }
    code
}

/// The fixed findings that a later audit still reports.
pub fn still_present<'a>(report: &Report, fixed: &'a [FindingRef]) -> Vec<&'a FindingRef> {
    fixed
        .iter()
        .filter(|r| report.findings.iter().any(|f| r.matches(f)))
        .collect()
}

async fn undo(
    cfg: &SyncConfig,
    path: &std::path::Path,
    out: &mut dyn Write,
    confirm: Confirm<'_>,
) -> u8 {
    let mut jf = match JournalFile::open(path) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("cellaudit sync: {e}");
            return exit_codes::AUDIT_ERROR;
        }
    };
    for c in &cfg.cells {
        if !jf.journal.children.iter().any(|j| &j.cell == c) {
            eprintln!("cellaudit sync: --cell {c}: the journal records nothing for this child");
            return exit_codes::AUDIT_ERROR;
        }
    }
    let undone: Vec<String> = jf
        .journal
        .children
        .iter()
        .filter(|c| c.status == ChildStatus::Undone)
        .map(|c| c.cell.clone())
        .collect();
    let todo: Vec<ChildJournal> = jf
        .journal
        .children
        .iter()
        .filter(|c| c.status.may_have_rows() && !c.entries.is_empty())
        .filter(|c| cfg.cells.is_empty() || cfg.cells.contains(&c.cell))
        .cloned()
        .collect();
    if todo.is_empty() {
        let mut t = String::from("The journal records no committed rows left to undo");
        if !undone.is_empty() {
            t.push_str(&format!(
                " ({} already undone)",
                crate::checks::join_names(&undone)
            ));
        }
        say(out, &format!("{t}: nothing to undo.\n"));
        return exit_codes::SYNC_DONE;
    }
    // Every statement comes from the entries' structured fields; the preview shows exactly those.
    let mut targets = Vec::new();
    let mut problems = Vec::new();
    for c in &todo {
        let configured = if c.api_database {
            &cfg.audit.apis
        } else {
            &cfg.audit.children
        };
        let Some(spec) = configured.iter().find(|s| s.name == c.cell) else {
            eprintln!(
                "cellaudit sync: the journal has rows in child '{}', which is not configured; give its --child",
                c.cell
            );
            return exit_codes::AUDIT_ERROR;
        };
        if spec.shown != c.url {
            eprintln!(
                "cellaudit sync: child '{}' is {} now but the journal was written for {}; refusing to undo elsewhere",
                c.cell, spec.shown, c.url
            );
            return exit_codes::SYNC_REFUSED;
        }
        let url = match &spec.url {
            Ok(u) => u,
            Err(e) => {
                eprintln!("cellaudit sync: {e}");
                return exit_codes::AUDIT_ERROR;
            }
        };
        match apply::undo_steps(c) {
            Ok(steps) => targets.push((c, url, steps)),
            Err(p) => problems.extend(p),
        }
    }
    if !problems.is_empty() {
        let mut t =
            String::from("Refusing to undo: the journal holds entries sync cannot reverse:\n");
        for p in &problems {
            t.push_str(&format!("  {}\n", sql::comment_text(p)));
        }
        t.push_str("Nothing was changed.\n");
        say(out, &t);
        return exit_codes::SYNC_REFUSED;
    }
    let mut preview = format!(
        "cellaudit sync --undo: reversing the run of {} (parent '{}'); these statements run, in this order:\n",
        sql::comment_text(&jf.journal.started_at),
        sql::comment_text(&jf.journal.parent)
    );
    if !undone.is_empty() {
        preview.push_str(&format!(
            "-- already undone by an earlier --undo: {}\n",
            crate::checks::join_names(&undone)
        ));
    }
    for (c, url, steps) in &targets {
        preview.push_str(&format!(
            "\n-- == {} ({})\n",
            c.cell,
            sql::comment_text(&c.url)
        ));
        preview.push_str(&apply::undo_script(apply::dialect_of(url), steps));
    }
    say(out, &preview);
    let rows: usize = targets.iter().map(|(_, _, s)| s.len()).sum();
    let names: Vec<&str> = targets.iter().map(|(c, _, _)| c.cell.as_str()).collect();
    if let Err(code) = ask(
        confirm,
        &format!("Undo {rows} rows in {}?", crate::checks::join_names(&names)),
        out,
    ) {
        return code;
    }
    // Every child is checked, and locked, before any is changed: undo is all or nothing as far as it can be.
    let mut ready = Vec::new();
    let mut already = Vec::new();
    for (c, url, steps) in targets {
        match apply::prepare_undo(&c.cell, steps, url, cfg.audit.timeouts).await {
            Ok(apply::Prepared::Ready(u)) => ready.push(u),
            Ok(apply::Prepared::AlreadyReversed) => already.push(c.cell.clone()),
            Err(p) => problems.extend(p),
        }
    }
    if !problems.is_empty() {
        for u in ready {
            u.abandon().await;
        }
        let mut t =
            String::from("\nRefusing to undo: the rows are no longer as this run wrote them:\n");
        for p in &problems {
            t.push_str(&format!("  {p}\n"));
        }
        t.push_str("Nothing was changed.\n");
        say(out, &t);
        return exit_codes::SYNC_REFUSED;
    }
    let mut code = exit_codes::SYNC_DONE;
    let mut reversed = Vec::new();
    let mut failed = Vec::new();
    let touched = |cell: &str, object: &str| {
        todo.iter().any(|c| {
            c.cell == cell
                && c.entries
                    .iter()
                    .any(|e| sql::object_of(&e.table) == Some(object))
        })
    };
    let (now, _) = stamp_now();
    for cell in &already {
        if let Some(j) = jf.journal.child_mut(cell) {
            j.status = ChildStatus::Undone;
            j.message = Some(format!(
                "found already reversed at {now} UTC: every row was as before the run; nothing ran"
            ));
        }
        let saved = jf.save();
        say(
            out,
            &format!(
                "{cell}: nothing to reverse: every row is already as it was before the run (an earlier undo or the run's COMMIT did not report back); recorded as undone\n"
            ),
        );
        if let Err(e) = saved {
            say(
                out,
                &format!("WARNING: could not record the undo in the journal: {e}\n"),
            );
        }
    }
    for u in ready {
        let cell = u.cell.clone();
        let result = u.run().await;
        // The journal records each child's outcome as soon as it is known, so a later --undo
        // skips what is undone and finishes the rest.
        if let Some(j) = jf.journal.child_mut(&cell) {
            match &result {
                Ok(done) => {
                    j.status = ChildStatus::Undone;
                    j.message = Some(format!("undone at {now} UTC: {} rows reversed", done.len()));
                }
                Err(e) => {
                    j.message = Some(format!("undo failed at {now} UTC: {e}"));
                }
            }
        }
        let saved = jf.save();
        match result {
            Ok(done) => {
                say(
                    out,
                    &format!("{cell}: undone, {} rows reversed\n", done.len()),
                );
                for s in &done {
                    say(out, &format!("  {s};\n"));
                }
                reversed.push(cell);
            }
            Err(e) => {
                say(
                    out,
                    &format!("{cell}: NOT undone: {}\n", sql::comment_text(&e)),
                );
                failed.push(cell);
                code = exit_codes::SYNC_ROLLED_BACK;
            }
        }
        if let Err(e) = saved {
            say(
                out,
                &format!("WARNING: could not record the undo in the journal: {e}\n"),
            );
        }
    }
    if !failed.is_empty() {
        say(
            out,
            &format!(
                "\nThe journal {} records what was undone; fix the cause and run the same --undo again to finish {} (--cell limits it to some children).\n",
                jf.path.display(),
                crate::checks::join_names(&failed)
            ),
        );
    }
    let agg: Vec<String> = reversed
        .iter()
        .filter(|c| touched(c, "aggregate"))
        .cloned()
        .collect();
    let fl: Vec<String> = reversed
        .iter()
        .filter(|c| touched(c, "flavor"))
        .cloned()
        .collect();
    if !reversed.is_empty() {
        say(out, &format!("\n{}", render::caches(&agg, &fl)));
    }
    code
}
