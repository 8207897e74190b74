//! The releases check for cells v1: each cell's Nova release, where it reads aggregates and flavors, the API databases it needs, and the main-database rows it no longer reads alone.

use super::{CheckRun, V1Context, join_names};
use crate::findings::{Finding, Outcome, Role, Severity};
use crate::v1_release::{CellSource, Era, shown_release};

pub const CHECK: &str = "releases";

/// The kinds of finding this check reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The release reads an API database and none was given for the cell.
    ApiDatabaseNotGiven,
    /// Children read the parent's own API database: nothing to diff for aggregates and flavors.
    ApiDatabaseShared,
    /// Live aggregates left in a main database from Newton on.
    LegacyAggregates,
    /// Live flavors left in a main database from Newton on.
    LegacyFlavors,
    /// A cell's main and API databases, or two cells, are on releases Nova does not run together.
    ReleaseMismatch,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ApiDatabaseNotGiven => "api_database_not_given",
            Kind::ApiDatabaseShared => "api_database_shared",
            Kind::LegacyAggregates => "legacy_aggregates",
            Kind::LegacyFlavors => "legacy_flavors",
            Kind::ReleaseMismatch => "release_mismatch",
        }
    }
}

fn finding(kind: Kind, sev: Severity, cell: &str, message: String) -> Finding {
    Finding::new(CHECK, kind.as_str(), sev, cell, &[("cell", cell)], message)
}

fn listed(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let quoted: Vec<String> = names.iter().take(SHOWN).map(|n| format!("'{n}'")).collect();
    if names.len() > SHOWN {
        format!("{} and {} more", quoted.join(", "), names.len() - SHOWN)
    } else {
        join_names(quoted)
    }
}

/// How the leftovers of a cell can be cleared, as its release's tools allow. `moves` says whether
/// this release's `online_data_migrations` still migrates the kind (`migrate_aggregates` to Queens,
/// `migrate_flavors` to Pike, `nova/cmd/manage.py`); names the API database already has are logged
/// and left by it (`AggregateNameExists` / `FlavorExists`).
fn clearing(moves: bool, all: &[String], clash: &[String], what: &str) -> String {
    let stuck = if clash.is_empty() {
        String::new()
    } else {
        format!(
            "it cannot move {} (the API database already has {}: it logs the clash and leaves the row), so delete {} by hand once it matches the API database's",
            listed(clash),
            if clash.len() == 1 {
                "that name"
            } else {
                "those names"
            },
            if clash.len() == 1 { "it" } else { "them" }
        )
    };
    if moves {
        if clash.len() == all.len() {
            format!(
                "`nova-manage db online_data_migrations` is the command that moves {what} to the API database, but {stuck}"
            )
        } else if clash.is_empty() {
            "move them with `nova-manage db online_data_migrations`".to_string()
        } else {
            format!("move them with `nova-manage db online_data_migrations`; {stuck}")
        }
    } else {
        format!(
            "`nova-manage db online_data_migrations` of this release no longer moves {what} (only older releases' did), so recreate any that matter through the API and delete these rows"
        )
    }
}

fn legacy(s: &CellSource, out: &mut Vec<Finding>) {
    use crate::release::Release;
    let rel = shown_release(s.release);
    let before_ocata = s.release.is_some_and(|r| r < Release::OCATA);
    let ocata = if before_ocata {
        ", and `nova-manage db sync` to Ocata refuses while they exist (345_require_online_migration_completion)"
    } else {
        ""
    };
    if !s.legacy_aggregates.is_empty() {
        let n = s.legacy_aggregates.len();
        let moves = s.era == Era::Merged;
        let clear = clearing(
            moves,
            &s.legacy_aggregates,
            &s.legacy_aggregates_in_api,
            "aggregates",
        );
        let (how, impact) = if s.era == Era::Merged {
            (
                format!("which {rel} still reads merged with its API database's"),
                format!(
                    "Aggregate.create fails with this cell's configuration while they exist ('main database still contains aggregates', nova/objects/aggregate.py){ocata}; {clear}"
                ),
            )
        } else {
            (
                format!(
                    "which {rel} no longer reads (aggregates are read only from the API database since Rocky)"
                ),
                format!(
                    "dead data: changes to them have no effect, and the main database is not where this cell's aggregates are; {clear}"
                ),
            )
        };
        out.push(
            finding(
                Kind::LegacyAggregates,
                Severity::Warning,
                &s.cell,
                format!(
                    "the main database of '{}' holds {n} live aggregate{} ({}), {how}",
                    s.cell,
                    if n == 1 { "" } else { "s" },
                    listed(&s.legacy_aggregates)
                ),
            )
            .impact(impact)
            .values(None::<()>, &s.legacy_aggregates),
        );
    }
    if !s.legacy_flavors.is_empty() {
        let n = s.legacy_flavors.len();
        let merged = crate::v1_release::flavors_merged(s.release);
        let clear = clearing(
            merged,
            &s.legacy_flavors,
            &s.legacy_flavors_in_api,
            "flavors",
        );
        let (how, impact) = if merged {
            (
                format!("which {rel} still reads after its API database's"),
                format!(
                    "Flavor.create fails with this cell's configuration while they exist ('main database still contains flavors', nova/objects/flavor.py){ocata}; {clear}"
                ),
            )
        } else {
            (
                format!(
                    "which {rel} no longer reads (flavors are read only from the API database since Queens)"
                ),
                format!("dead data: changes to them have no effect; {clear}"),
            )
        };
        out.push(
            finding(
                Kind::LegacyFlavors,
                Severity::Warning,
                &s.cell,
                format!(
                    "the main database of '{}' holds {n} live flavor{} (flavorid {}), {how}",
                    s.cell,
                    if n == 1 { "" } else { "s" },
                    listed(&s.legacy_flavors)
                ),
            )
            .impact(impact)
            .values(None::<()>, &s.legacy_flavors),
        );
    }
}

pub fn releases(ctx: &V1Context<'_>) -> CheckRun {
    let mut run = CheckRun::default();
    for s in &ctx.sources {
        run.outcome(&s.cell, Outcome::Ran);
        if let Some(flag) = &s.api_missing_flag {
            run.findings.push(
                finding(
                    Kind::ApiDatabaseNotGiven,
                    Severity::Failure,
                    &s.cell,
                    format!(
                        "'{}' runs {}, which reads aggregates and flavors from the API database named in its nova.conf [api_database]; none was given, so they were not audited: give {flag}",
                        s.cell,
                        shown_release(s.release)
                    ),
                )
                .impact("its aggregates, availability zones and flavors are unknown; the main database's tables are not what this release reads"),
            );
        }
        if let (Some(m), Some(a)) = (s.release, s.api_release)
            && m != a
        {
            run.findings.push(
                finding(
                    Kind::ReleaseMismatch,
                    Severity::Warning,
                    &s.cell,
                    format!(
                        "the main database of '{}' is at {} but its API database at {}",
                        s.cell,
                        shown_release(Some(m)),
                        shown_release(Some(a))
                    ),
                )
                .impact("`nova-manage db sync` and `api_db sync` of one release are run together; one of them was not, and the release read here is the main database's"),
            );
        }
        legacy(s, &mut run.findings);
    }
    for c in &ctx.children {
        if c.data.is_none() {
            run.outcome(c.name, Outcome::Unavailable);
        }
    }
    // Nova's RPC (and cells v1's messages) span one release: a child two releases from its parent cannot talk to it.
    let parent = ctx.sources.iter().find(|s| s.role == Role::Parent);
    if let Some((p, pr)) = parent.and_then(|p| p.release.map(|r| (p, r))) {
        for s in ctx.sources.iter().filter(|s| s.role != Role::Parent) {
            if let Some(cr) = s.release
                && cr.0.abs_diff(pr.0) > 1
            {
                run.findings.push(
                    finding(
                        Kind::ReleaseMismatch,
                        Severity::Warning,
                        &s.cell,
                        format!(
                            "'{}' runs {} and its parent '{}' {}: more than one release apart",
                            s.cell,
                            shown_release(s.release),
                            p.cell,
                            shown_release(p.release)
                        ),
                    )
                    .impact("Nova supports services one release apart during an upgrade; the cells' messages between them may not be understood"),
                );
            }
        }
    }
    if !ctx.shared_api.is_empty() {
        let names: Vec<&String> = ctx.shared_api.iter().collect();
        run.findings.push(
            finding(
                Kind::ApiDatabaseShared,
                Severity::Info,
                ctx.parent.name,
                format!(
                    "{} read{} the parent's own API database: their aggregates and flavors are the parent's rows, so there is nothing to diff",
                    join_names(names.iter().map(|n| format!("'{n}'"))),
                    if names.len() == 1 { "s" } else { "" }
                ),
            )
            .impact("still checked: that every aggregate member is a compute of its child, and that each host's AZ at the top (members named path!cell@host) equals its AZ in its child (members by plain name)"),
        );
    }
    run
}
