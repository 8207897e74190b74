//! cellaudit: audits the data that OpenStack Nova cells must agree on, and reports what is missing, extra or drifted.

pub mod broker;
pub mod checks;
pub mod cli;
pub mod collation;
pub mod config;
pub mod db;
pub mod dburl;
pub(crate) mod demo;
pub(crate) mod engine;
pub(crate) mod engine_v2;
pub mod exit_codes;
pub(crate) mod explain;
pub(crate) mod explain_v2;
pub mod findings;
pub(crate) mod limits;
pub(crate) mod lookup;
pub mod merge;
pub(crate) mod output;
pub(crate) mod packaging;
pub(crate) mod placement;
pub(crate) mod progress;
pub(crate) mod queries;
pub mod release;
pub mod render;
pub(crate) mod snapshot;
pub mod sync;
pub mod topology_v2;
pub(crate) mod v1;
pub mod v1_release;
pub mod v2;

use crate::checks::ids::Check;
use std::io::Write as _;

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: cli::Cli) -> u8 {
    let to_file = match &cli.command {
        cli::Command::Audit(a) => a.output.is_some(),
        cli::Command::Explain(e) => e.audit.output.is_some(),
        _ => false,
    };
    render::term::init(render::term::detect(cli.color, to_file));
    match cli.command {
        cli::Command::Checks => {
            let mut out = String::from("cells v1 (audit --parent/--child):\n");
            for c in checks::V1_CHECKS.iter().chain(checks::OPT_IN_CHECKS) {
                out.push_str(&format!("{:<20} {}\n", c.name, c.about));
            }
            out.push_str("\ncells v2 (audit --api-db/--nova-conf; * also in upgrade-check):\n");
            for c in checks::v2::V2_CHECKS.iter().chain(checks::v2::V2_OPT_IN) {
                let mark = if c.upgrade_title.is_some() { "*" } else { " " };
                out.push_str(&format!("{:<19}{mark} {}\n", c.name, c.about));
            }
            out.push_str("\nplacement (cells v2 with --placement-db/--placement-conf, or placement in the API DB; * also in upgrade-check):\n");
            for (name, about) in placement::CHECKS {
                // placement_aggregates is longer than the column: one space keeps it apart from the mark.
                let gap = if name.as_str().len() >= 19 { " " } else { "" };
                out.push_str(&format!("{name:<19}{gap}* {about}\n"));
            }
            emit(&out)
        }
        cli::Command::Audit(args) if config::wants_v2(&args.v2) => run_audit_v2(&args).await,
        cli::Command::Audit(args) => match config::AuditConfig::from_args(&args) {
            Ok(cfg) => {
                if let Err(code) = check_output(cfg.output.as_deref()) {
                    return code;
                }
                let spinner = progress::Spinner::for_stderr(cfg.quiet);
                let mut plan = engine::V1Plan::from_config(&cfg);
                plan.progress = spinner.as_ref().map(|s| s as &dyn progress::Progress);
                let report = engine::audit_v1_cells(&cfg.parent, &cfg.children, &plan).await;
                drop(spinner);
                let code = exit_codes::for_report(&report);
                match write_report(&report, cfg.format, cfg.output.as_deref()) {
                    exit_codes::CONSISTENT => code,
                    failed => failed,
                }
            }
            Err(e) => {
                say_error(&e);
                exit_codes::AUDIT_ERROR
            }
        },
        cli::Command::Demo(args) => demo::run(&args).await,
        cli::Command::Completions { shell } => emit(&packaging::completions(shell)),
        cli::Command::Man { dir: None } => match packaging::man_page() {
            Ok(page) => emit(&page),
            Err(e) => {
                say_error(&e);
                exit_codes::AUDIT_ERROR
            }
        },
        cli::Command::Man { dir: Some(dir) } => match packaging::man_pages_to(&dir) {
            Ok(pages) => emit(
                &pages
                    .iter()
                    .map(|p| format!("{}\n", p.display()))
                    .collect::<String>(),
            ),
            Err(e) => {
                say_error(&e);
                exit_codes::AUDIT_ERROR
            }
        },
        cli::Command::Sync(args) => match config::SyncConfig::from_args(args) {
            Ok(cfg) => sync::run(&cfg).await,
            Err(e) => {
                eprintln!(
                    "cellaudit sync: {}",
                    render::text::display_safe(&e.to_string(), usize::MAX)
                );
                exit_codes::AUDIT_ERROR
            }
        },
        cli::Command::Explain(args) => run_explain(&args).await,
        cli::Command::UpgradeCheck(args) => run_upgrade_check(&args).await,
    }
}

/// `cellaudit audit --api-db/--nova-conf`: the cells v2 audit, rendered like any other report.
async fn run_audit_v2(args: &cli::AuditArgs) -> u8 {
    if let Err(code) = check_output(args.output.as_deref()) {
        return code;
    }
    let cfg = match v2_config_of(args, &args.check) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let report = engine_v2::audit_v2(&cfg).await;
    match write_report(&report, cfg.format, args.output.as_deref()) {
        exit_codes::CONSISTENT => exit_codes::for_report(&report),
        failed => failed,
    }
}

/// `cellaudit upgrade-check`: the v2 checks that matter to an upgrade, one box each, as nova-status prints them.
async fn run_upgrade_check(args: &cli::UpgradeCheckArgs) -> u8 {
    let target = match args
        .target_release
        .as_deref()
        .map(parse_release)
        .transpose()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cellaudit: {e}");
            return exit_codes::AUDIT_ERROR;
        }
    };
    let names: Vec<String> = checks::v2::V2_CHECKS
        .iter()
        .chain(checks::v2::V2_OPT_IN.iter().filter(|_| target.is_some()))
        .filter(|c| c.upgrade_title.is_some())
        .map(|c| c.name.to_string())
        .chain(placement::CHECKS.iter().map(|(n, _)| n.to_string()))
        .collect();
    let mut cfg = match config::v2_config(
        &args.v2,
        args.connect_timeout,
        args.statement_timeout,
        &names,
        render::Format::Table,
    )
    .and_then(|mut c| {
        (c.jobs, c.jobs_per_server) = config::read_limits(&args.read, None, None)?;
        if let Some(l) = args.lag {
            c.lag = std::time::Duration::from_secs(l);
        }
        c.as_of = args.as_of.as_deref().map(config::parse_as_of).transpose()?;
        c.target = target;
        Ok(c)
    }) {
        Ok(c) => c,
        Err(e) => {
            say_error(&e);
            return exit_codes::AUDIT_ERROR;
        }
    };
    // Placement's boxes appear only where placement is found (its own database, or its tables in nova_api).
    cfg.placement.named = false;
    let report = engine_v2::audit_v2(&cfg).await;
    // Unreadable cells are reported by the engine as `connectivity` findings: they belong in the first box.
    let boxes: Vec<(&str, Vec<Check>)> = cfg
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut shown = vec![c.name];
            if i == 0 {
                shown.push(Check::Connectivity);
            }
            (c.upgrade_title.unwrap_or(c.name.as_str()), shown)
        })
        .chain(
            placement::UPGRADE_TITLES
                .iter()
                .filter(|(name, _)| report.checks.iter().any(|c| c.check == *name))
                .map(|(name, title)| (*title, vec![*name])),
        )
        .collect();
    let spec: Vec<render::upgrade::UpgradeBox<'_>> = boxes
        .iter()
        .map(|(title, checks)| render::upgrade::UpgradeBox { title, checks })
        .collect();
    let text = if args.json {
        render::upgrade::render_json(&report, &spec)
    } else {
        render::upgrade::render(&report, &spec)
    };
    match emit(&text) {
        exit_codes::CONSISTENT => exit_codes::for_report(&report),
        failed => failed,
    }
}

/// Refuses an `--output` that can never be written (a directory, a symlink loop) before the audit runs.
fn check_output(output: Option<&std::path::Path>) -> Result<(), u8> {
    match output.map(output::target) {
        Some(Err(e)) => {
            say_error(&e);
            Err(exit_codes::AUDIT_ERROR)
        }
        _ => Ok(()),
    }
}

/// Renders the report and writes it where the configuration says: stdout, or a file replaced atomically.
fn write_report(
    report: &findings::Report,
    format: render::Format,
    output: Option<&std::path::Path>,
) -> u8 {
    // Metrics and report files are read by programs: say why the audit stopped where a job log shows it.
    if let Some(why) = &report.aborted
        && (output.is_some() || format == render::Format::Prometheus)
    {
        say_error(why);
    }
    let Some(path) = output else {
        return emit(&render::render(report, format));
    };
    let text = match format {
        // An aborted audit keeps the last-success time of the file it replaces.
        render::Format::Prometheus => {
            let previous =
                output::previous_text(path).and_then(|t| render::prometheus::last_success_in(&t));
            render::prometheus::render(report, previous)
        }
        other => render::render(report, other),
    };
    match output::write_atomic(path, &text) {
        Ok(()) => exit_codes::CONSISTENT,
        Err(e) => {
            say_error(&e);
            exit_codes::AUDIT_ERROR
        }
    }
}

/// Prints an error line; data quoted in it (names, values) cannot reach the terminal as control characters.
fn say_error(e: &dyn std::fmt::Display) {
    eprintln!(
        "cellaudit: {}",
        render::text::display_safe(&e.to_string(), usize::MAX)
    );
}

/// Writes the report to stdout; a closed pipe is not worth a panic.
fn emit(text: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => exit_codes::CONSISTENT,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit_codes::CONSISTENT,
        Err(e) => {
            eprintln!("cellaudit: cannot write output: {e}");
            exit_codes::AUDIT_ERROR
        }
    }
}

/// Audits with every check so the explanation can cite findings, then shows the one object.
async fn run_explain(args: &cli::ExplainArgs) -> u8 {
    if config::wants_v2(&args.audit.v2) {
        return run_explain_v2(args).await;
    }
    let cfg = match config::AuditConfig::from_args(&args.audit) {
        Ok(cfg) => cfg,
        Err(e) => {
            say_error(&e);
            return exit_codes::AUDIT_ERROR;
        }
    };
    let plan = engine::V1Plan::from_config(&cfg);
    let audited = engine::audit_v1_keep(&cfg.parent, &cfg.children, &plan, &[], &[]).await;
    if let Some(why) = &audited.report.aborted {
        say_error(why);
        return exit_codes::AUDIT_ERROR;
    }
    let instances = if args.subject == explain::Subject::Instance {
        let rows = lookup::instance(&cfg.parent, &cfg.children, &args.id, cfg.timeouts).await;
        explain::instance_rows(&rows)
    } else {
        Vec::new()
    };
    let e = explain::explain(&audited, args.subject, &args.id, instances);
    emit_explanation(&e, cfg.format)
}

/// `explain` over a cells v2 deployment: the API DB's view of the object next to every cell's.
async fn run_explain_v2(args: &cli::ExplainArgs) -> u8 {
    let cfg = match v2_config_of(&args.audit, &[]) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let audited = engine_v2::audit_v2_keep(&cfg).await;
    if let Some(why) = &audited.report.aborted {
        say_error(why);
        return exit_codes::AUDIT_ERROR;
    }
    let e = explain_v2::explain(&audited, args.subject, &args.id);
    emit_explanation(&e, cfg.format)
}

/// `--target-release`: a release number (31) or series name, case-insensitive ("epoxy", "2025.1 Epoxy").
fn parse_release(raw: &str) -> Result<release::Release, config::ConfigError> {
    let t = raw.trim();
    if let Ok(n) = t.parse::<u8>() {
        return Ok(release::Release(n));
    }
    (12u8..=40)
        .map(release::Release)
        .find(|r| {
            let name = r.name().to_ascii_lowercase();
            let t = t.to_ascii_lowercase();
            name == t || name.rsplit(' ').next() == Some(t.as_str())
        })
        .ok_or_else(|| {
            config::ConfigError(format!(
                "--target-release expects a Nova release number (e.g. 31) or series name (e.g. epoxy), got '{t}'"
            ))
        })
}

/// The cells v2 configuration of an audit command line; on error, says why and gives the exit code.
fn v2_config_of(a: &cli::AuditArgs, checks: &[String]) -> Result<topology_v2::V2Config, u8> {
    config::topology_of(a)
        .and_then(|_| {
            config::v2_config_with(
                &a.v2,
                a.topology.config.as_deref(),
                a.topology.connect_timeout,
                a.topology.statement_timeout,
                checks,
                config::format(a.format),
            )
        })
        .and_then(|mut c| {
            (c.jobs, c.jobs_per_server) = config::read_limits(&a.read, None, None)?;
            if let Some(l) = a.lag {
                c.lag = std::time::Duration::from_secs(l);
            }
            c.as_of = a.as_of.as_deref().map(config::parse_as_of).transpose()?;
            Ok(c)
        })
        .map_err(|e| {
            say_error(&e);
            exit_codes::AUDIT_ERROR
        })
}

/// Prints an explanation (JSON, else the table) and exits on the findings it cites.
fn emit_explanation(e: &explain::Explanation, format: render::Format) -> u8 {
    let text = match format {
        render::Format::Json => render::explain::json(e),
        _ => render::explain::table(e),
    };
    match emit(&text) {
        exit_codes::CONSISTENT if e.found_nowhere() => exit_codes::EXPLAIN_NOT_FOUND,
        exit_codes::CONSISTENT => exit_codes::for_findings(&e.findings),
        failed => failed,
    }
}
