//! [`Rows`] on PostgreSQL: cells bound by the column type the statement expects (`bigint`,
//! `integer`, `text`, `jsonb`) and read back by the column's type.

use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::{PostgresStore, backend};
use crate::store::StoreError;
use crate::store::rows::{Batch, Cell, Row, Rows, Step};

/// The types a [`Cell`] binds to.
const CELL_TYPES: [Type; 5] = [
    Type::INT8,
    Type::INT4,
    Type::TEXT,
    Type::VARCHAR,
    Type::JSONB,
];

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Cell {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
            Cell::Int(n) => n.to_sql(ty, out),
            Cell::Text(s) if *ty == Type::JSONB => {
                // jsonb's binary format: a version byte, then the JSON text.
                out.extend_from_slice(&[1]);
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            Cell::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        CELL_TYPES.contains(ty)
    }

    to_sql_checked!();
}

/// The cell of column `i` of `row`, read by the column's type.
fn cell(row: &tokio_postgres::Row, i: usize) -> Result<Cell, StoreError> {
    let ty = row
        .columns()
        .get(i)
        .map(|c| c.type_().clone())
        .ok_or_else(|| backend("a column past the row's end"))?;
    Ok(if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i).map_err(backend)?.into()
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)
            .map_err(backend)?
            .map(i64::from)
            .into()
    } else if ty == Type::JSONB {
        row.try_get::<_, Option<serde_json::Value>>(i)
            .map_err(backend)?
            .map(|v| v.to_string())
            .into()
    } else {
        row.try_get::<_, Option<String>>(i).map_err(backend)?.into()
    })
}

/// The parameters as the driver takes them.
fn bound(params: &[Cell]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Rows for PostgresStore {
    async fn query(&self, sql: &'static str, params: Vec<Cell>) -> Result<Vec<Row>, StoreError> {
        let c = self.client().await?;
        let rows = c.query(sql, &bound(&params)).await.map_err(backend)?;
        rows.iter()
            .map(|r| (0..r.len()).map(|i| cell(r, i)).collect())
            .collect()
    }

    async fn batch(&self, steps: Vec<Step>) -> Result<Batch, StoreError> {
        let mut client = self.client().await?;
        // Dropped without a commit, the transaction rolls back.
        let tx = client.transaction().await.map_err(backend)?;
        let mut counts = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let n = tx
                .execute(step.sql, &bound(&step.params))
                .await
                .map_err(backend)?;
            if step.required && n == 0 {
                return Ok(Batch::Refused(i));
            }
            counts.push(n);
        }
        tx.commit().await.map_err(backend)?;
        Ok(Batch::Done(counts))
    }
}
