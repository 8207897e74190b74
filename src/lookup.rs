//! Point lookups of one object in every cell (for `explain`), each read in its own read-only snapshot.

use crate::config::CellSpec;
use crate::db::{Pool, Row, Timeouts};
use crate::queries::EXPLAIN_INSTANCE;

/// The instance's rows in one cell, or why the cell could not answer.
pub type CellRows = (String, Result<Vec<Row>, String>);

async fn one(spec: &CellSpec, uuid: &str, timeouts: Timeouts) -> CellRows {
    let url = match &spec.url {
        Ok(u) => u,
        Err(e) => return (spec.name.clone(), Err(e.clone())),
    };
    let result = async {
        let pool = Pool::connect(url, timeouts).await?;
        // The pool is closed on every path, not left to drop, so a failed lookup holds no connection.
        let rows = async {
            let mut s = pool.snapshot(timeouts).await?;
            let q = &EXPLAIN_INSTANCE;
            let rows = match s.schema().await {
                Err(e) => Err(e),
                Ok(schema) => match schema.missing(q.table, q.columns) {
                    Some(reason) => Err(reason),
                    None => s.fetch_bound(q.sql, &[uuid]).await,
                },
            };
            s.finish().await;
            rows
        }
        .await;
        pool.close().await;
        rows
    }
    .await;
    (spec.name.clone(), result.map_err(|e| url.scrub(&e)))
}

/// Reads the rows of instance `uuid` from the parent and every child concurrently.
pub async fn instance(
    parent: &CellSpec,
    children: &[CellSpec],
    uuid: &str,
    timeouts: Timeouts,
) -> Vec<CellRows> {
    let all = std::iter::once(parent).chain(children);
    futures::future::join_all(all.map(|c| one(c, uuid, timeouts))).await
}
