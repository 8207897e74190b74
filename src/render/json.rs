//! The JSON renderer: one document with `cells`, `checks`, `findings` and `summary`, for audit jobs.

pub fn render(report: &crate::findings::Report) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
