//! The audit's result as plain data: findings, per-cell status and per-check outcome, shared by every renderer.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Failure,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Failure => "failure",
        }
    }
}

/// What a database is in the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Parent,
    Child,
    /// Cells v2: the API database (`nova_api`).
    Api,
    /// Cells v2: a cell of `cell_mappings`.
    Cell,
    /// Cells v2: cell0, recognised by its uuid.
    Cell0,
    /// The placement database (or nova_api, where placement's tables lived until Stein).
    Placement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellState {
    /// Read completely inside one snapshot.
    Ok,
    /// Could not be reached or read; its error says why.
    Unreachable,
    /// Its configuration is wrong (bad URL, unreadable password file); never contacted.
    Misconfigured,
}

#[derive(Debug, Clone, Serialize)]
pub struct CellStatus {
    pub name: String,
    pub role: Role,
    pub status: CellState,
    /// One line, password already masked.
    pub error: Option<String>,
    /// Where the data came from, password masked.
    pub url: String,
    /// Schema revision found (`alembic_version` or `migrate_version`), when readable.
    pub schema_version: Option<String>,
    /// Seconds spent reading this database's datasets (connect, snapshot, queries), not counting the wait for a
    /// read slot (`--jobs`); tables the v1 instances check streams afterwards are not included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_seconds: Option<f64>,
    /// Rows those dataset queries returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_read: Option<u64>,
    /// The Nova release(s) whose `db sync` leaves that revision (see `release.rs`), when it is one Nova shipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
}

/// One thing that is wrong (or worth knowing) about one object in one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub kind: &'static str,
    pub severity: Severity,
    /// The cell where the problem is visible and would be fixed.
    pub cell: String,
    /// Natural-key fields naming the object, e.g. `{"aggregate": "az-west-agg", "host": "cmp-03"}`.
    pub key: BTreeMap<&'static str, String>,
    pub message: String,
    /// What the problem breaks, for the operator reading it at night.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child: Option<serde_json::Value>,
}

impl Finding {
    pub fn new(
        check: &'static str,
        kind: &'static str,
        severity: Severity,
        cell: &str,
        key: &[(&'static str, &str)],
        message: String,
    ) -> Self {
        Finding {
            check,
            kind,
            severity,
            cell: cell.to_string(),
            key: key.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            message,
            impact: None,
            parent: None,
            child: None,
        }
    }

    pub fn impact(mut self, text: impl Into<String>) -> Self {
        self.impact = Some(text.into());
        self
    }

    pub fn values(mut self, parent: impl Serialize, child: impl Serialize) -> Self {
        self.parent = serde_json::to_value(parent).ok();
        self.child = serde_json::to_value(child).ok();
        self
    }
}

/// Whether a check could run against a cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    Ran,
    Skipped {
        reason: String,
    },
    /// The cell (or the parent) could not be read.
    Unavailable,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub check: &'static str,
    pub cell: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub topology: &'static str,
    pub cells: Vec<CellStatus>,
    pub checks: Vec<CheckOutcome>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Set when the audit could not run at all (e.g. the parent is unreachable).
    pub aborted: Option<String>,
    /// Wall-clock seconds the audit took, from the first connection to the last check; set by the engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// When the audit ended, in seconds since the Unix epoch; set by the engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// Every message broker probed by the opt-in brokers check.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub brokers: Vec<BrokerStatus>,
}

/// One message broker as the brokers check found it (cells v1); the URL's credentials are never kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrokerStatus {
    /// The database whose `cells` row names the broker.
    pub registered_in: String,
    /// The neighbour that row names.
    pub cell: String,
    /// `host:port`.
    pub broker: String,
    pub up: bool,
    /// The server's product and version, or why it did not answer.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub failure: usize,
    pub warning: usize,
    pub info: usize,
}

impl Report {
    pub fn new(topology: &'static str, cells: Vec<CellStatus>) -> Self {
        Report {
            tool: "cellaudit",
            version: env!("CARGO_PKG_VERSION"),
            topology,
            cells,
            checks: Vec::new(),
            findings: Vec::new(),
            summary: Summary::default(),
            aborted: None,
            duration_seconds: None,
            finished_at: None,
            brokers: Vec::new(),
        }
    }

    /// Records how long the audit took since `started` and when it ended.
    pub fn stamp(&mut self, started: std::time::Instant) {
        self.duration_seconds = Some(started.elapsed().as_secs_f64());
        self.finished_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs() as i64);
    }

    /// Sorts findings into a stable order and recounts the summary; renderers rely on both.
    pub fn finish(&mut self) {
        let order: Vec<String> = self.cells.iter().map(|c| c.name.clone()).collect();
        let pos = |cell: &str| order.iter().position(|c| c == cell).unwrap_or(usize::MAX);
        self.findings.sort_by(|a, b| {
            (
                pos(&a.cell),
                std::cmp::Reverse(a.severity),
                a.check,
                a.kind,
                &a.key,
            )
                .cmp(&(
                    pos(&b.cell),
                    std::cmp::Reverse(b.severity),
                    b.check,
                    b.kind,
                    &b.key,
                ))
        });
        self.findings.dedup();
        let mut s = Summary::default();
        for f in &self.findings {
            match f.severity {
                Severity::Failure => s.failure += 1,
                Severity::Warning => s.warning += 1,
                Severity::Info => s.info += 1,
            }
        }
        self.summary = s;
    }

    pub fn worst_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}
