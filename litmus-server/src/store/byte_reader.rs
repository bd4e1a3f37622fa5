//! Reading a binary record a piece at a time without panics: each read answers `None` when the
//! record ends before it (the stores' record formats turn that into their own errors).

/// A record being read from the front.
pub(super) struct ByteReader<'a>(&'a [u8]);

impl<'a> ByteReader<'a> {
    /// Reads `bytes` from the start.
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        ByteReader(bytes)
    }

    /// The next `n` bytes.
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    /// The next `N` bytes, as an array.
    pub(super) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// How many bytes are left.
    pub(super) fn left(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_order_and_stops_at_the_end() {
        let mut r = ByteReader::new(&[1, 2, 3, 4, 5]);
        assert_eq!(r.take(1), Some(&[1u8][..]));
        assert_eq!(r.array::<2>(), Some([2, 3]));
        assert_eq!(r.left(), 2);
        assert_eq!(r.array::<4>(), None);
        assert_eq!(r.take(2), Some(&[4u8, 5][..]));
        assert_eq!(r.take(1), None);
    }
}
