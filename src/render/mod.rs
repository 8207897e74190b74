//! Renderers: turn a finished report into text; they never touch a database.

pub mod explain;
mod json;
pub mod prometheus;
mod table;
pub mod upgrade;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Prometheus,
}

pub fn render(report: &crate::findings::Report, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => json::render(report),
        Format::Prometheus => prometheus::render(report, None),
    }
}
