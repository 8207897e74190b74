//! The raw command line as clap parses it; `config` turns it into something validated.
//!
//! These structs hold URLs exactly as typed, passwords included, so they deliberately have no `Debug`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "cellaudit",
    version = crate::packaging::VERSION,
    about = "Audit OpenStack Nova cells (v1 and v2) for data the databases must agree on, explain one object across cells, and sync missing rows",
    long_about = long_about(),
    after_help = "Examples:\n  \
                  cellaudit demo                                   # a small deployment with known drift, audited\n  \
                  cellaudit audit --nova-conf /etc/nova/nova.conf  # cells v2: the API DB and every cell\n  \
                  cellaudit audit --config /etc/cellaudit/cellaudit.toml --format html -o report.html\n\n\
                  Exit codes (as nova-status upgrade check): 0 consistent, 1 warnings only, 2 failures, 255 the audit could not run.\n\
                  Output fits the terminal (COLUMNS, else the terminal's width, else 100 columns when not a terminal); \
                  colour follows --color, NO_COLOR and CLICOLOR_FORCE."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour in human output: `auto` (only when stdout is a terminal; NO_COLOR turns it off,
    /// CLICOLOR_FORCE on), `always` or `never`. JSON, Prometheus and HTML are never coloured.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: crate::render::term::ColorChoice,
}

#[derive(Subcommand)]
pub enum Command {
    /// Audit a deployment: cells v1 (--parent/--child or --config) or cells v2 (--api-db or --nova-conf).
    #[command(after_help = audit_after_help())]
    Audit(AuditArgs),
    /// Build a small cells v1 deployment in SQLite with known drift and audit it.
    #[command(
        after_help = "Examples:\n  cellaudit demo\n  cellaudit demo --format html > demo.html\n  \
                      cellaudit demo --keep /tmp/demo   # keep the SQLite files to try explain and sync on them"
    )]
    Demo(DemoArgs),
    /// List every check (cells v1 and cells v2) with one line each.
    #[command(
        after_help = "Examples:\n  cellaudit checks\n  cellaudit audit --nova-conf /etc/nova/nova.conf --check host_mappings,instance_mappings"
    )]
    Checks,
    /// Print a shell completion script to stdout (e.g. `cellaudit completions bash > /etc/bash_completion.d/cellaudit`).
    #[command(
        after_help = "Examples:\n  cellaudit completions bash > /usr/share/bash-completion/completions/cellaudit\n  \
                      cellaudit completions zsh > /usr/local/share/zsh/site-functions/_cellaudit\n  \
                      cellaudit completions fish > ~/.config/fish/completions/cellaudit.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the cellaudit(1) man page (roff) to stdout, or write every page into a directory.
    #[command(
        after_help = "Examples:\n  cellaudit man | man -l -\n  cellaudit man --dir /usr/local/share/man/man1"
    )]
    Man {
        /// Write cellaudit.1 and one page per subcommand into this directory instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Cells v1: plan (and with --apply, execute) what fixes the children's missing or drifted aggregates,
    /// aggregate metadata and members, and flavors, from the parent; a dry run unless --apply.
    Sync(SyncArgs),
    /// Show one aggregate, host, availability zone or instance side by side across every database
    /// (cells v1: the parent and each child; cells v2: the API database and each cell).
    #[command(after_help = EXPLAIN_AFTER_HELP)]
    Explain(ExplainArgs),
    /// Cells v2: run the checks that block or endanger an upgrade and print them as `nova-status upgrade check` does.
    UpgradeCheck(UpgradeCheckArgs),
}

/// Check names of one family, from the registry the audit runs (so help never lags behind it).
fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

fn v1_names() -> String {
    names(crate::checks::V1_CHECKS.iter().map(|c| c.name.as_str()))
}

fn opt_in_names() -> String {
    names(crate::checks::OPT_IN_CHECKS.iter().map(|c| c.name.as_str()))
}

fn v2_names() -> String {
    names(crate::checks::v2::V2_CHECKS.iter().map(|c| c.name.as_str()))
}

fn long_about() -> String {
    format!(
        "Audit OpenStack Nova cells for data the databases must agree on, explain one object across cells, \
         and sync missing rows.\n\n\
         Cells v1 (--parent and --child, or --config): the parent against every child: {}; opt-in: {} (--brokers).\n\
         Cells v2 (--api-db or --nova-conf): the API database against every cell: {}.\n\n\
         `cellaudit checks` says what each check covers. Nothing is written to a database unless \
         `sync --apply` (or `sync --undo`) is given.",
        v1_names(),
        opt_in_names(),
        v2_names()
    )
}

fn audit_after_help() -> String {
    format!(
        "Examples:
  cellaudit audit --parent mysql://nova@db-api/nova --child child1=mysql://nova@db-c1/nova --password-file child1=/etc/cellaudit/child1.pw
  cellaudit audit --nova-conf /etc/nova/nova.conf --format json -o /var/lib/cellaudit/report.json
  cellaudit audit --config /etc/cellaudit/cellaudit.toml --format html -o report.html

Cells v1 checks: {}; opt-in: {}.
Cells v2 checks: {}.
`cellaudit checks` says what each one covers.
The table fits the terminal; when findings would not fit a table, each is printed as a compact block.
Exit codes: 0 consistent, 1 warnings only, 2 failures, 255 the audit could not run.",
        v1_names(),
        opt_in_names(),
        v2_names()
    )
}

const EXPLAIN_AFTER_HELP: &str = "Examples:
  cellaudit explain aggregate az-west-agg --config /etc/cellaudit/cellaudit.toml
  cellaudit explain host cmp-03 --nova-conf /etc/nova/nova.conf
  cellaudit explain instance 5f3b0c52-0c1e-4a55-9a49-0b6c4b3c2f10 --config /etc/cellaudit/cellaudit.toml --format json

Exit codes: as audit, for the findings about this object.";

#[derive(Args)]
#[command(
    after_help = "Exit codes: 0 no problem found, 1 warnings, 2 failures about the object, 3 it exists in no audited cell, 255 cannot run."
)]
pub struct ExplainArgs {
    /// What to explain.
    #[arg(value_enum)]
    pub subject: crate::explain::Subject,
    /// Aggregate name or uuid, host name, availability zone name, or instance uuid.
    pub id: String,
    #[command(flatten)]
    pub audit: AuditArgs,
}

#[derive(Args)]
pub struct TopologyArgs {
    /// TOML file with one [parent] and a [[child]] list (name, url, password_env or password_file).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Parent (API cell) database URL: mysql://user@host/nova, Nova's mysql+pymysql://..., or sqlite:///path.
    #[arg(long, value_name = "URL")]
    pub parent: Option<String>,
    /// Name the parent is reported under.
    #[arg(long, value_name = "NAME")]
    pub parent_name: Option<String>,
    /// A child cell: its short name (as in the parent's `cells` table) and database URL. Repeatable.
    #[arg(long = "child", value_name = "NAME=URL")]
    pub children: Vec<String>,
    /// Read a cell's database password from an environment variable instead of its URL. Repeatable.
    #[arg(long = "password-env", value_name = "CELL=VAR")]
    pub password_env: Vec<String>,
    /// Read a cell's database password from the first line of a file. Repeatable.
    #[arg(long = "password-file", value_name = "CELL=PATH")]
    pub password_file: Vec<String>,
    /// Seconds to wait for each database server to accept a connection, 1 to 86400 [default: 10].
    #[arg(long, value_name = "SECS", value_parser = crate::config::parse_connect_timeout, allow_negative_numbers = true)]
    pub connect_timeout: Option<u64>,
    /// Seconds any one query may run, 1 to 604800 [default: 600].
    #[arg(long, value_name = "SECS", value_parser = crate::config::parse_statement_timeout, allow_negative_numbers = true)]
    pub statement_timeout: Option<u64>,
    /// Newton to Stein: the parent's own API database (its nova.conf `[api_database] connection`).
    #[arg(long, value_name = "URL")]
    pub parent_api: Option<String>,
    /// Newton to Stein: a child's API database (its nova.conf `[api_database] connection`); may be the parent's. Repeatable.
    #[arg(long = "child-api", value_name = "NAME=URL")]
    pub child_api: Vec<String>,
    /// Read the password of a cell's API database from an environment variable. Repeatable.
    #[arg(long = "api-password-env", value_name = "CELL=VAR")]
    pub api_password_env: Vec<String>,
    /// Read the password of a cell's API database from the first line of a file. Repeatable.
    #[arg(long = "api-password-file", value_name = "CELL=PATH")]
    pub api_password_file: Vec<String>,
    /// A `[cells] cells_config` JSON file holding a cell's neighbours instead of its `cells` table:
    /// FILE for the parent, NAME=FILE for a child. Repeatable.
    #[arg(long = "cells-config", value_name = "[NAME=]FILE")]
    pub cells_config: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    /// Metrics in the Prometheus text format, for node_exporter's textfile collector.
    Prometheus,
    /// One self-contained HTML page (no external assets, no script) to hand on; use with -o FILE.
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExpectArg {
    /// A parent aggregate is expected in a child when one of its member hosts lives there.
    Members,
    /// Every parent aggregate is expected in every child.
    All,
}

#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    #[command(flatten)]
    pub v2: V2Args,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Comma-separated checks to run (see `cellaudit checks`) [default: all].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub check: Vec<String>,
    /// Also probe every cell's message brokers (the opt-in `brokers` check): connects to each AMQP host.
    #[arg(long)]
    pub brokers: bool,
    /// Write the report to FILE instead of stdout: a regular file (or a symlink's target) is replaced
    /// atomically, keeping its mode; a FIFO or device (/dev/stdout, /dev/null) is written directly.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// No progress bar and no notes on stderr; errors are still printed.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Which parent aggregates each child must hold.
    #[arg(long, value_enum)]
    pub expect: Option<ExpectArg>,
    /// Do not compare flavor access rows or is_public: the default since children look resize flavors
    /// up by flavorid with an admin context; kept so older command lines still run.
    #[arg(long, conflicts_with = "flavor_access")]
    pub ignore_flavor_access: bool,
    /// Also compare flavor access rows (instance_type_projects / flavor_projects) and is_public.
    #[arg(long)]
    pub flavor_access: bool,
    /// Seconds: a difference on an instance changed this recently (either side) is reported as
    /// lagging (info), not drift; Nova's instance_updated_at_threshold; 0 to 315360000 [default: 3600].
    #[arg(long, value_name = "SECS", value_parser = crate::config::parse_lag, allow_negative_numbers = true)]
    pub lag: Option<u64>,
    /// Count --lag back from this UTC time instead of now ('YYYY-MM-DD HH:MM:SS'), e.g. for a restored backup.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// How the instances check reads rows: `stream` (uuid order, merge-joined; memory stays flat),
    /// `hash` (unordered uuids and row hashes sorted in memory, only differing rows re-read; faster,
    /// about 32 bytes per instance row), or `auto`: hash while the databases' estimated instance rows
    /// fit --memory-budget at 64 bytes each, else stream [default: auto].
    #[arg(long, value_name = "MODE", value_parser = ["auto", "stream", "hash"])]
    pub instances_mode: Option<String>,
    /// MiB `--instances-mode auto` may spend on hash mode (config `memory_budget`) [default: 512].
    #[arg(long, value_name = "MIB")]
    pub memory_budget: Option<u64>,
}

/// How hard the audit may press on the databases.
#[derive(Default, Args)]
pub struct ReadArgs {
    /// Databases read at the same time (config `jobs`), 1 to 256 [default: 8].
    #[arg(long, value_name = "N", value_parser = crate::config::parse_jobs, allow_negative_numbers = true)]
    pub jobs: Option<usize>,
    /// Databases read at the same time on one database server (same host:port or socket), e.g. every cell on
    /// one Galera cluster (config `jobs_per_server`), 1 to 256 [default: 1: one full scan per server at a time].
    #[arg(long, value_name = "N", value_parser = crate::config::parse_jobs, allow_negative_numbers = true)]
    pub jobs_per_server: Option<usize>,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Keep the demo databases in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

#[derive(Args)]
#[command(after_help = "Examples:\n  \
                  cellaudit sync --config /etc/cellaudit/cellaudit.toml                 # dry run: the SQL it would run\n  \
                  cellaudit sync --config /etc/cellaudit/cellaudit.toml --cell child2 --apply\n  \
                  cellaudit sync --config /etc/cellaudit/cellaudit.toml --undo JOURNAL\n\n\
                  Without --apply nothing is changed: the plan is printed as the SQL that --apply would execute.\n\
                  Exit codes: 0 nothing to do, or applied/undone and verified; 1 dry run with statements planned;\n\
                  2 applied but a re-audit still shows a fixed finding, or a child could not be planned;\n\
                  3 refused (no --yes without a terminal, not confirmed, undo found changed rows);\n\
                  4 a child rolled back (concurrent change, lost connection; see the journal); 255 cannot run.")]
pub struct SyncArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Plan only for these children (repeatable or comma-separated) [default: every child].
    #[arg(long = "cell", value_name = "NAME", value_delimiter = ',')]
    pub cells: Vec<String>,
    /// Comma-separated checks whose findings to fix [default: every check sync can fix].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub check: Vec<String>,
    /// Execute the plan, child by child, each in one transaction, and write a journal.
    #[arg(long)]
    pub apply: bool,
    /// Do not ask for confirmation (required when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Also update values that differ from the parent's (shown with old and new value); never done by default.
    #[arg(long)]
    pub fix_drift: bool,
    /// Reverse the run recorded in this journal (only rows still exactly as it wrote them; the
    /// statements are shown first). A partly failed undo is finished by running it again; with
    /// --cell, only those children are undone.
    #[arg(long, value_name = "JOURNAL", conflicts_with_all = ["apply", "fix_drift", "check"])]
    pub undo: Option<PathBuf>,
    /// Directory for the journals of applied runs (created 0700; journals are 0600)
    /// [default: $XDG_STATE_HOME/cellaudit, else /var/lib/cellaudit for root, else ~/.local/state/cellaudit].
    #[arg(long, value_name = "DIR")]
    pub journal_dir: Option<PathBuf>,
}

/// The cells v2 deployment: the API database, from which the cells are discovered.
#[derive(Default, Args)]
pub struct V2Args {
    /// Cells v2: the API database (nova_api) URL, e.g. mysql+pymysql://nova:PW@db/nova_api; cells come from its cell_mappings.
    #[arg(long, value_name = "URL")]
    pub api_db: Option<String>,
    /// Cells v2: read [api_database] connection, [database] connection (for templated cell URLs) and
    /// [DEFAULT] default_availability_zone from this nova.conf.
    #[arg(long, value_name = "PATH")]
    pub nova_conf: Option<PathBuf>,
    /// The [database] connection that templated cell_mappings URLs are rendered from, as Nova renders them.
    #[arg(long, value_name = "URL")]
    pub database_connection: Option<String>,
    /// Audit only this cell (name or uuid); repeatable or comma-separated [default: every cell].
    #[arg(long = "cell", value_name = "NAME|UUID", value_delimiter = ',')]
    pub cells: Vec<String>,
    /// Read this cell (name or uuid) at URL instead of its cell_mappings database_connection. Repeatable.
    #[arg(long = "cell-url", value_name = "NAME|UUID=URL")]
    pub cell_urls: Vec<String>,
    /// The availability zone of hosts in no AZ aggregate [default: nova, or (cells v2) nova.conf's default_availability_zone].
    #[arg(long, value_name = "AZ")]
    pub default_az: Option<String>,
    /// Placement's database URL, for the placement checks (or [placement] url in --config). Without it,
    /// placement's tables are read from the API DB when its schema is Newton's to Stein's.
    #[arg(long, value_name = "URL")]
    pub placement_db: Option<String>,
    /// Read placement's database URL from this placement.conf's [placement_database] connection.
    #[arg(long, value_name = "PATH", conflicts_with = "placement_db")]
    pub placement_conf: Option<PathBuf>,
}

#[derive(Args)]
#[command(
    after_help = "Examples:\n  cellaudit upgrade-check --nova-conf /etc/nova/nova.conf\n  \
                  cellaudit upgrade-check --api-db mysql+pymysql://nova@db/nova_api --json\n\n\
                  Exit codes (as nova-status upgrade check): 0 every check passed, 1 warnings, 2 failures, 255 the checks could not run."
)]
pub struct UpgradeCheckArgs {
    #[command(flatten)]
    pub v2: V2Args,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Seconds: a build younger than this is in flight, not stuck [default: 3600].
    #[arg(long, value_name = "SECS")]
    pub lag: Option<u64>,
    /// Count --lag back from this UTC time instead of now ('YYYY-MM-DD HH:MM:SS'), e.g. for a restored backup.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// The release being upgraded to (its number, e.g. 31, or series name, e.g. epoxy): adds the
    /// "Older than N-1 computes" check (services.version against what that release supports; 23 to 33).
    #[arg(long, value_name = "RELEASE")]
    pub target_release: Option<String>,
    /// Print oslo.upgradecheck's JSON form instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for each database server to accept a connection, 1 to 86400 [default: 10].
    #[arg(long, value_name = "SECS", value_parser = crate::config::parse_connect_timeout, allow_negative_numbers = true)]
    pub connect_timeout: Option<u64>,
    /// Seconds any one query may run, 1 to 604800 [default: 600].
    #[arg(long, value_name = "SECS", value_parser = crate::config::parse_statement_timeout, allow_negative_numbers = true)]
    pub statement_timeout: Option<u64>,
}
