//! PostgreSQL's binary COPY format, written directly: for rows whose bytes are prepared once
//! and sent as they are (event keys, the rollup worker's rows), without a value per field.

/// The signature, flags and header extension length.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A binary COPY payload being written.
pub(super) struct CopyBuffer {
    bytes: Vec<u8>,
}

impl CopyBuffer {
    /// An empty payload with room for `bytes` bytes.
    pub(super) fn with_capacity(bytes: usize) -> Self {
        let mut buffer = Vec::with_capacity(HEADER.len() + bytes + 2);
        buffer.extend_from_slice(HEADER);
        Self { bytes: buffer }
    }

    /// Starts a row of `fields` fields.
    pub(super) fn row(&mut self, fields: i16) {
        self.bytes.extend_from_slice(&fields.to_be_bytes());
    }

    /// Appends one field: its length, then its bytes. Event fields are limited to 32 KB by
    /// core, far below the format's `i32` lengths.
    pub(super) fn field(&mut self, value: &[u8]) {
        let len = i32::try_from(value.len()).unwrap_or(i32::MAX);
        self.bytes.extend_from_slice(&len.to_be_bytes());
        self.bytes.extend_from_slice(value);
    }

    /// Appends a `timestamptz` field at `unix_ms`.
    pub(super) fn timestamptz(&mut self, unix_ms: i64) {
        let micros = unix_ms.saturating_mul(1000).saturating_sub(PG_EPOCH_MICROS);
        self.field(&micros.to_be_bytes());
    }

    /// Appends a null field.
    pub(super) fn null(&mut self) {
        self.bytes.extend_from_slice(&(-1i32).to_be_bytes());
    }

    /// The complete payload (with its trailer).
    pub(super) fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&(-1i16).to_be_bytes());
        self.bytes
    }
}

/// Runs `statement` (a `COPY ... FROM STDIN BINARY`, as text or prepared) with `payload` as
/// its data.
pub(super) async fn copy_payload<S: tokio_postgres::ToStatement + ?Sized>(
    tx: &deadpool_postgres::Transaction<'_>,
    statement: &S,
    payload: Vec<u8>,
) -> Result<u64, tokio_postgres::Error> {
    let sink = tx.copy_in::<_, bytes::Bytes>(statement).await?;
    futures_util::pin_mut!(sink);
    futures_util::SinkExt::send(&mut sink, bytes::Bytes::from(payload)).await?;
    sink.finish().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_header_rows_and_trailer() {
        let mut b = CopyBuffer::with_capacity(0);
        b.row(3);
        b.field(b"ab");
        b.null();
        b.timestamptz(946_684_800_001);
        let bytes = b.finish();
        let mut expected = HEADER.to_vec();
        expected.extend_from_slice(&[0, 3, 0, 0, 0, 2, b'a', b'b', 0xff, 0xff, 0xff, 0xff]);
        expected.extend_from_slice(&[0, 0, 0, 8]);
        expected.extend_from_slice(&1000i64.to_be_bytes());
        expected.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(bytes, expected);
    }
}
