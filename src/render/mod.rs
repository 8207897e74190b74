//! Renderers: turn a finished report into text; they never touch a database.

pub mod explain;
pub mod html;
mod json;
pub mod prometheus;
pub mod table;
pub mod term;
pub mod text;
pub mod upgrade;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Prometheus,
    /// One self-contained HTML page, to hand on (e.g. attached to a change request).
    Html,
}

pub fn render(report: &crate::findings::Report, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => json::render(report),
        Format::Prometheus => prometheus::render(report, None),
        Format::Html => html::render(report, &term::current().command),
    }
}
