//! `ByteCursor`: the bounds-checked read position over a byte slice that the
//! MessagePack and CBOR decoders share.
//!
//! It owns the primitives that do not depend on the format: taking the next
//! `n` bytes, fixed-size big-endian reads and peeking at the next byte. Every
//! read checks the bytes actually present first and fails with the format's
//! own truncation error (`CursorError::TRUNCATED`), so a decoder keeps its
//! error messages. Each decoder wraps a `ByteCursor` and adds the
//! format-specific parts (item headers, skipping, building values).

use crate::wire::error::DecodeError;
use std::marker::PhantomData;

/// The error a format reports when its input ends too early.
pub(crate) trait CursorError {
    /// Returned by every read that needs more bytes than are left.
    const TRUNCATED: DecodeError;
}

/// A read position in a byte buffer; `E` names the format's truncation error.
pub(crate) struct ByteCursor<'a, E> {
    buf: &'a [u8],
    pos: usize,
    _err: PhantomData<E>,
}

impl<'a, E: CursorError> ByteCursor<'a, E> {
    /// A cursor at the start of `buf`.
    #[inline]
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        ByteCursor {
            buf,
            pos: 0,
            _err: PhantomData,
        }
    }

    /// The offset of the next byte from the start of the buffer.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when every byte has been read.
    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The next byte, without consuming it.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Consumes the byte `peek` returned (does nothing at the end).
    #[inline]
    pub(crate) fn bump(&mut self) {
        if self.pos < self.buf.len() {
            self.pos += 1;
        }
    }

    /// The next `n` bytes (fails when fewer are left).
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(E::TRUNCATED);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The next `N` bytes as an array.
    #[inline]
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// The next byte.
    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// The next two bytes as a big-endian `u16`.
    #[inline]
    pub(crate) fn u16_be(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// The next four bytes as a big-endian `u32`.
    #[inline]
    pub(crate) fn u32_be(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// The next eight bytes as a big-endian `u64`.
    #[inline]
    pub(crate) fn u64_be(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Test;
    impl CursorError for Test {
        const TRUNCATED: DecodeError = DecodeError::Malformed("test: truncated");
    }

    #[test]
    fn reads_advance_and_stop_at_the_end() {
        let buf = [1u8, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 9];
        let mut c = ByteCursor::<Test>::new(&buf);
        assert_eq!(c.u8(), Ok(1));
        assert_eq!(c.u16_be(), Ok(2));
        assert_eq!(c.u32_be(), Ok(3));
        assert_eq!(c.u64_be(), Ok(4));
        assert_eq!((c.pos(), c.remaining()), (15, 1));
        assert_eq!(c.peek(), Some(9));
        c.bump();
        assert!(c.at_end());
        assert_eq!(c.peek(), None);
        c.bump();
        assert_eq!(c.pos(), 16);
    }

    #[test]
    fn short_reads_fail_with_the_format_error_and_consume_nothing() {
        let mut c = ByteCursor::<Test>::new(&[1, 2, 3]);
        assert_eq!(c.u32_be(), Err(Test::TRUNCATED));
        assert_eq!(c.take(4), Err(Test::TRUNCATED));
        assert_eq!(c.pos(), 0);
        assert_eq!(c.take(3), Ok(&[1u8, 2, 3][..]));
        assert_eq!(c.u8(), Err(Test::TRUNCATED));
    }
}
