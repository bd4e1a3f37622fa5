//! [`Rows`] on SQLite: cells bound and read through rusqlite's dynamic values.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{ToSql, params_from_iter};

use super::{SqliteStore, backend};
use crate::store::StoreError;
use crate::store::rows::{Batch, Cell, Row, Rows, Step};

impl ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Cell::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Cell::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// The cell of a column value (reals are not stored in these tables; a blob is read as text).
fn cell(value: ValueRef<'_>) -> Cell {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(n) => Cell::Int(n),
        ValueRef::Real(x) => Cell::Int(x as i64),
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            Cell::Text(String::from_utf8_lossy(b).into_owned())
        }
    }
}

impl Rows for SqliteStore {
    async fn query(&self, sql: &'static str, params: Vec<Cell>) -> Result<Vec<Row>, StoreError> {
        self.with(move |c| {
            let mut stmt = c.prepare_cached(sql).map_err(backend)?;
            let width = stmt.column_count();
            let rows = stmt
                .query_map(params_from_iter(params.iter()), |r| {
                    (0..width).map(|i| r.get_ref(i).map(cell)).collect()
                })
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn batch(&self, steps: Vec<Step>) -> Result<Batch, StoreError> {
        self.with(move |c| {
            // Dropped without a commit, the transaction rolls back.
            let tx = c.transaction().map_err(backend)?;
            let mut counts = Vec::with_capacity(steps.len());
            for (i, step) in steps.iter().enumerate() {
                let n = tx
                    .prepare_cached(step.sql)
                    .and_then(|mut s| s.execute(params_from_iter(step.params.iter())))
                    .map_err(backend)?;
                if step.required && n == 0 {
                    return Ok(Batch::Refused(i));
                }
                counts.push(n as u64);
            }
            tx.commit().map_err(backend)?;
            Ok(Batch::Done(counts))
        })
        .await
    }
}
