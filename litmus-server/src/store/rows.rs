//! The few SQL primitives both backends offer for plain row storage (people, sessions,
//! sign-in tokens): run a query and read its rows as [`Cell`]s, and run a batch of statements
//! in one transaction. Stores of such rows (`crate::store::people`) are written once over
//! [`Rows`], with their SQL in `crate::store::sql`; each backend only binds and reads cells.

use std::future::Future;

use super::StoreError;

/// A parameter or a column value: what the plain tables hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// An integer (`bigint` on PostgreSQL, `INTEGER` on SQLite).
    Int(i64),
    /// Text (`text` or `jsonb` on PostgreSQL, `TEXT` on SQLite).
    Text(String),
}

impl Cell {
    /// The text, if the cell holds text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if the cell holds one.
    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(n) => Some(*n),
            _ => None,
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Null, Into::into)
    }
}

/// A row read back: its cells in the order the query selects them.
pub type Row = Vec<Cell>;

/// The text of cell `i` of `row`, if it holds text.
pub fn text(row: &Row, i: usize) -> Option<String> {
    row.get(i).and_then(Cell::text).map(str::to_owned)
}

/// The integer of cell `i` of `row`, if it holds one.
pub fn int(row: &Row, i: usize) -> Option<i64> {
    row.get(i).and_then(Cell::int)
}

/// `value` as JSON text, to store.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

/// The error for a stored `what` that does not read as one.
pub fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("a stored {what} cannot be read"))
}

/// One statement of a [`Rows::batch`].
#[derive(Debug, Clone)]
pub struct Step {
    /// The SQL (`$1`, `$2`, … numbered in order of first appearance).
    pub sql: &'static str,
    /// The parameters.
    pub params: Vec<Cell>,
    /// Whether the step must change a row: when it changes none, the whole batch rolls back.
    pub required: bool,
}

impl Step {
    /// A statement whose count does not matter.
    pub fn new(sql: &'static str, params: Vec<Cell>) -> Self {
        Step {
            sql,
            params,
            required: false,
        }
    }

    /// A statement that must change a row, or the batch rolls back.
    pub fn must(sql: &'static str, params: Vec<Cell>) -> Self {
        Step {
            sql,
            params,
            required: true,
        }
    }
}

/// How a batch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Batch {
    /// Every step ran and the transaction committed: how many rows each changed.
    Done(Vec<u64>),
    /// The required step at this index changed no row: the transaction rolled back.
    Refused(usize),
}

/// The primitives: a query, and a batch in one transaction.
pub trait Rows: Send + Sync + 'static {
    /// The rows `sql` selects with `params`.
    fn query(
        &self,
        sql: &'static str,
        params: Vec<Cell>,
    ) -> impl Future<Output = Result<Vec<Row>, StoreError>> + Send;
    /// Runs `steps` in one transaction, all or nothing (see [`Step::required`]).
    fn batch(&self, steps: Vec<Step>) -> impl Future<Output = Result<Batch, StoreError>> + Send;
}
