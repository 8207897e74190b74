//! cellaudit: audits the data that OpenStack Nova cells must agree on, and reports what is missing, extra or drifted.

pub mod checks;
pub mod cli;
pub mod config;
pub mod db;
pub mod dburl;
pub mod demo;
pub mod engine;
pub mod exit_codes;
pub mod findings;
pub mod output;
pub mod packaging;
pub mod queries;
pub mod render;
pub mod snapshot;
pub mod v1;

use std::io::Write as _;

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: cli::Cli) -> u8 {
    match cli.command {
        cli::Command::Checks => {
            let mut out = String::new();
            for c in checks::V1_CHECKS {
                out.push_str(&format!("{:<20} {}\n", c.name, c.about));
            }
            emit(&out)
        }
        cli::Command::Audit(args) => match config::AuditConfig::from_args(&args) {
            Ok(cfg) => {
                let report = engine::audit_v1(&cfg).await;
                let code = exit_codes::for_report(&report);
                match write_report(&report, &cfg) {
                    exit_codes::CONSISTENT => code,
                    failed => failed,
                }
            }
            Err(e) => {
                eprintln!("cellaudit: {e}");
                exit_codes::AUDIT_ERROR
            }
        },
        cli::Command::Demo(args) => demo::run(&args).await,
        cli::Command::Completions { shell } => emit(&packaging::completions(shell)),
        cli::Command::Man { dir: None } => match packaging::man_page() {
            Ok(page) => emit(&page),
            Err(e) => {
                eprintln!("cellaudit: {e}");
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
                eprintln!("cellaudit: {e}");
                exit_codes::AUDIT_ERROR
            }
        },
    }
}

/// Renders the report and writes it where the configuration says: stdout, or a file replaced atomically.
fn write_report(report: &findings::Report, cfg: &config::AuditConfig) -> u8 {
    // Metrics and report files are read by programs: say why the audit stopped where a job log shows it.
    if let Some(why) = &report.aborted
        && (cfg.output.is_some() || cfg.format == render::Format::Prometheus)
    {
        eprintln!("cellaudit: {why}");
    }
    let Some(path) = &cfg.output else {
        return emit(&render::render(report, cfg.format));
    };
    let text = match cfg.format {
        // An aborted audit keeps the last-success time of the file it replaces.
        render::Format::Prometheus => {
            let previous = std::fs::read_to_string(path)
                .ok()
                .and_then(|t| render::prometheus::last_success_in(&t));
            render::prometheus::render(report, previous)
        }
        other => render::render(report, other),
    };
    match output::write_atomic(path, &text) {
        Ok(()) => exit_codes::CONSISTENT,
        Err(e) => {
            eprintln!("cellaudit: {e}");
            exit_codes::AUDIT_ERROR
        }
    }
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
