//! Where human output goes: how wide it may be and whether it is coloured, decided once per run.
//!
//! Width: `COLUMNS` when it is a positive number; else the terminal's width when stdout is a terminal
//! (80 if the terminal does not say); else [`PIPED_WIDTH`]. Reports piped to a file, a pager or a ticket
//! are read later in some other terminal or viewer; a fixed 100 columns keeps them readable there and
//! makes the layout the same whoever ran the job (set `COLUMNS` for another width).
//!
//! Colour follows the usual conventions: `--color always|never` wins; with `auto` (the default) a
//! non-empty `NO_COLOR` turns it off, a `CLICOLOR_FORCE` other than `0` turns it on, and otherwise only
//! a terminal on stdout (not `TERM=dumb`, and no `-o FILE`) gets colour. JSON, Prometheus and HTML
//! output are never coloured.

use std::io::IsTerminal as _;
use std::sync::OnceLock;

/// Width used when stdout is not a terminal and `COLUMNS` is not set.
pub const PIPED_WIDTH: usize = 100;
/// Narrowest width honoured: below it, layouts would be nothing but wrapped fragments.
pub const MIN_WIDTH: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it).
    #[default]
    Auto,
    Always,
    Never,
}

/// The width and colour of this run's human output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub width: usize,
    pub color: bool,
    /// The command line, passwords masked, for reports that say how they were made.
    pub command: String,
}

impl Term {
    /// A fixed width without colour, for tests and for text that is not going to a terminal.
    pub fn plain(width: usize) -> Term {
        Term {
            width,
            color: false,
            command: String::new(),
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The width rule of the module documentation, given what stdout is.
pub fn width_for(stdout_tty: bool, tty_cols: Option<usize>, columns: Option<&str>) -> usize {
    if let Some(n) = columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n.max(MIN_WIDTH);
    }
    if stdout_tty {
        return tty_cols.filter(|&c| c > 0).unwrap_or(80).max(MIN_WIDTH);
    }
    PIPED_WIDTH
}

/// The colour rule of the module documentation.
pub fn color_for(
    choice: ColorChoice,
    to_tty: bool,
    no_color: Option<&str>,
    force: Option<&str>,
    term: Option<&str>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if no_color.is_some_and(|v| !v.is_empty()) {
                false
            } else if force.is_some_and(|v| !v.is_empty() && v != "0") {
                true
            } else {
                to_tty && term != Some("dumb")
            }
        }
    }
}

/// Decides width and colour from the process's stdout and environment.
pub fn detect(choice: ColorChoice, to_file: bool) -> Term {
    let tty = std::io::stdout().is_terminal();
    let cols = if tty {
        console::Term::stdout()
            .size_checked()
            .map(|(_, c)| usize::from(c))
    } else {
        None
    };
    Term {
        width: width_for(tty, cols, env_nonempty("COLUMNS").as_deref()),
        color: color_for(
            choice,
            tty && !to_file,
            env_nonempty("NO_COLOR").as_deref(),
            env_nonempty("CLICOLOR_FORCE").as_deref(),
            env_nonempty("TERM").as_deref(),
        ),
        command: masked_command_line(std::env::args()),
    }
}

static CURRENT: OnceLock<Term> = OnceLock::new();

/// Sets this run's terminal once, at start; later calls are ignored.
pub fn init(term: Term) {
    let _ = CURRENT.set(term);
}

/// This run's terminal, or (in a library user that never called [`init`]) the environment's, uncoloured.
pub fn current() -> &'static Term {
    CURRENT.get_or_init(|| detect(ColorChoice::Never, false))
}

/// The command line as typed, each argument's URL passwords masked and control characters escaped,
/// arguments with spaces or quotes single-quoted so it can be read back.
pub fn masked_command_line(args: impl Iterator<Item = String>) -> String {
    args.enumerate()
        .map(|(i, a)| {
            let a = if i == 0 {
                // The program as installed, not wherever it was run from.
                std::path::Path::new(&a)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or(a)
            } else {
                crate::dburl::mask_url(&a)
            };
            let a = super::text::display_safe(&a, usize::MAX).into_owned();
            if a.is_empty() || a.contains([' ', '\'', '"', '$', '`', '\\', ';', '&', '|']) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_wins_then_the_terminal_then_the_piped_default() {
        assert_eq!(width_for(true, Some(120), Some("90")), 90);
        assert_eq!(width_for(false, None, Some("200")), 200);
        assert_eq!(width_for(true, Some(120), None), 120);
        assert_eq!(width_for(true, None, None), 80);
        assert_eq!(width_for(true, Some(0), Some("junk")), 80);
        assert_eq!(width_for(false, None, None), PIPED_WIDTH);
        assert_eq!(width_for(false, None, Some("5")), MIN_WIDTH);
    }

    #[test]
    fn colour_follows_flag_then_no_color_then_clicolor_force_then_the_tty() {
        use ColorChoice::*;
        assert!(color_for(Always, false, Some("1"), None, None));
        assert!(!color_for(Never, true, None, Some("1"), None));
        assert!(!color_for(Auto, true, Some("1"), Some("1"), None));
        assert!(color_for(Auto, false, None, Some("1"), None));
        assert!(!color_for(Auto, false, None, Some("0"), None));
        assert!(color_for(Auto, true, None, None, Some("xterm-256color")));
        assert!(!color_for(Auto, true, None, None, Some("dumb")));
        assert!(!color_for(Auto, false, None, None, None));
        assert!(color_for(Auto, true, Some(""), None, None));
    }

    #[test]
    fn the_command_line_hides_passwords() {
        let line = masked_command_line(
            [
                "/usr/local/bin/cellaudit",
                "audit",
                "--parent",
                "mysql://nova:S3CRET@db/nova",
                "--child",
                "c1=mysql+pymysql://nova:S3CRET@db1/nova",
                "-o",
                "my report.html",
            ]
            .into_iter()
            .map(String::from),
        );
        assert!(!line.contains("S3CRET"), "{line}");
        assert!(
            line.starts_with("cellaudit audit --parent mysql://nova:"),
            "{line}"
        );
        assert!(line.ends_with("-o 'my report.html'"), "{line}");
    }
}
