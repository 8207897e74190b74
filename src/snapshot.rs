//! Reads the datasets the chosen checks need from one cell, all inside one consistent read-only snapshot.

use crate::db::{Pool, Row, Schema, Session, Timeouts};
use crate::queries::Dataset;
use std::collections::BTreeMap;

/// What one cell's database held at one instant, dataset by dataset.
#[derive(Debug, Default)]
pub struct CellData {
    pub schema: Schema,
    pub schema_version: Option<String>,
    /// `Err` carries why the dataset could not be read (missing table or column, query error).
    pub sets: BTreeMap<&'static str, Result<Vec<Row>, String>>,
}

impl CellData {
    pub fn rows(&self, dataset: &Dataset) -> Result<&[Row], String> {
        match self.sets.get(dataset.name) {
            Some(Ok(rows)) => Ok(rows),
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("dataset {} was not read", dataset.name)),
        }
    }
}

/// Connects, opens the snapshot, and reads every dataset that this cell's schema can answer.
pub async fn read_cell(
    pool: &Pool,
    datasets: &[&'static Dataset],
    timeouts: Timeouts,
) -> Result<CellData, String> {
    let (data, session) = read_cell_open(pool, datasets, timeouts).await?;
    session.finish().await;
    Ok(data)
}

/// Like [`read_cell`], but leaves the snapshot open for checks that then stream whole tables from it.
pub async fn read_cell_open(
    pool: &Pool,
    datasets: &[&'static Dataset],
    timeouts: Timeouts,
) -> Result<(CellData, Session), String> {
    let mut session = pool.snapshot(timeouts).await?;
    let schema = session.schema().await?;
    let schema_version = session.schema_version(&schema).await;
    let mut sets = BTreeMap::new();
    for ds in datasets {
        let chosen = ds
            .variants
            .iter()
            .find(|q| schema.missing(q.table, q.columns).is_none());
        let result = match chosen {
            Some(q) => session
                .fetch_all(q.sql)
                .await
                .map_err(|e| format!("reading {}: {e}", ds.name)),
            None => Err(schema
                .missing(ds.variants[0].table, ds.variants[0].columns)
                .unwrap_or_default()),
        };
        sets.insert(ds.name, result);
    }
    Ok((
        CellData {
            schema,
            schema_version,
            sets,
        },
        session,
    ))
}
