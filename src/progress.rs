//! Progress of a long audit: the engine reports stages through [`Progress`]; [`Spinner`] shows them on a terminal's stderr.
//!
//! Checks and renderers know nothing of this; a listener only ever sees stage names and counts.

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::Duration;

/// A stage of an audit, as the engine reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Reading this many cells' databases has begun, all at once.
    Reading { cells: usize },
    /// One more cell has been read (or has failed).
    CellRead,
    /// Probing the message brokers (the opt-in brokers check).
    ProbingBrokers,
    /// A check that reads whole tables row by row starts doing so.
    Streaming { name: &'a str },
    /// A check starts; `index` counts from 1 up to `total`.
    Check {
        name: &'a str,
        index: usize,
        total: usize,
    },
}

/// Anything that wants to follow an audit.
pub trait Progress: Send + Sync {
    fn event(&self, e: Event<'_>);
}

/// A spinner with the current stage and the elapsed time on stderr; cleared when dropped.
pub struct Spinner {
    bar: indicatif::ProgressBar,
    cells: Mutex<(usize, usize)>,
}

impl Spinner {
    /// A spinner when stderr is a terminal and `quiet` is off; otherwise nothing, so job logs stay clean.
    pub fn for_stderr(quiet: bool) -> Option<Spinner> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Some(Spinner {
            bar,
            cells: Mutex::new((0, 0)),
        })
    }
}

impl Progress for Spinner {
    fn event(&self, e: Event<'_>) {
        let msg = match e {
            Event::Reading { cells } => {
                if let Ok(mut c) = self.cells.lock() {
                    *c = (0, cells);
                }
                format!("reading {cells} databases (0/{cells} done)")
            }
            Event::CellRead => {
                let Ok(mut c) = self.cells.lock() else { return };
                c.0 += 1;
                format!("reading {} databases ({}/{} done)", c.1, c.0, c.1)
            }
            Event::ProbingBrokers => "probing message brokers".to_string(),
            Event::Streaming { name } => format!("check {name}: streaming rows from every cell"),
            Event::Check { name, index, total } => format!("check {index}/{total}: {name}"),
        };
        self.bar.set_message(msg);
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Sends `e` to the listener, if there is one.
pub fn emit(p: Option<&dyn Progress>, e: Event<'_>) {
    if let Some(p) = p {
        p.event(e);
    }
}

/// Runs `fut` and reports one more cell read when it ends.
pub async fn cell_read<T>(
    p: Option<&dyn Progress>,
    fut: impl std::future::Future<Output = T>,
) -> T {
    let out = fut.await;
    emit(p, Event::CellRead);
    out
}
