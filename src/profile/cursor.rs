//! Bounds-checked reader over a byte slice: fixed-width integers in either byte order, LEB128
//! varints and zigzag. Every read either succeeds or returns a typed error naming the offset;
//! nothing here can index out of bounds or loop without consuming input.

use super::error::{ProfileError, Region};

#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Added to `pos` when reporting offsets (the slice may start mid-file or mid-stream).
    base: u64,
    region: Region,
    big_endian: bool,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8], base: u64, region: Region, big_endian: bool) -> Self {
        Cursor {
            buf,
            pos: 0,
            base,
            region,
            big_endian,
        }
    }

    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Absolute offset of the next byte, for error messages.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The unread bytes (for tight loops that then [`Cursor::advance`]).
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Skips `n` bytes already examined through [`Cursor::rest`]; `n` must not exceed
    /// [`Cursor::remaining`] (clamped, so a wrong `n` cannot run past the end).
    #[inline]
    pub fn advance(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn region(&self) -> Region {
        self.region
    }

    pub fn truncated(&self, what: &'static str) -> ProfileError {
        ProfileError::Truncated {
            region: self.region,
            offset: self.offset(),
            what,
        }
    }

    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProfileError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.truncated(what))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ProfileError> {
        let s = self.bytes(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    pub fn u8(&mut self, what: &'static str) -> Result<u8, ProfileError> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.truncated(what)),
        }
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, ProfileError> {
        let a = self.array::<4>(what)?;
        Ok(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }

    pub fn u64(&mut self, what: &'static str) -> Result<u64, ProfileError> {
        let a = self.array::<8>(what)?;
        Ok(if self.big_endian {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        })
    }

    pub fn f64(&mut self, what: &'static str) -> Result<f64, ProfileError> {
        Ok(f64::from_bits(self.u64(what)?))
    }

    /// Unsigned LEB128, at most 10 bytes. Padded encodings are accepted (the writer's
    /// counterpart accepts them too); bits beyond 64 are an overflow.
    #[inline(always)]
    pub fn varint(&mut self, what: &'static str) -> Result<u64, ProfileError> {
        // Fast path: single-byte values dominate real files (frame indices, deltas, counts).
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
            if let Some(&b2) = self.buf.get(self.pos + 1) {
                if b2 < 0x80 {
                    self.pos += 2;
                    return Ok(u64::from(b & 0x7f) | u64::from(b2) << 7);
                }
            }
        }
        self.varint_slow(what)
    }

    #[cold]
    #[inline(never)]
    fn varint_slow(&mut self, what: &'static str) -> Result<u64, ProfileError> {
        let start = self.offset();
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let b = self.u8(what)?;
            let low = u64::from(b & 0x7f);
            if i == 9 && low > 1 {
                return Err(ProfileError::VarintOverflow {
                    region: self.region,
                    offset: start,
                });
            }
            value |= low << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProfileError::VarintTooLong {
            region: self.region,
            offset: start,
        })
    }

    #[inline]
    pub fn varint_u32(&mut self, what: &'static str) -> Result<u32, ProfileError> {
        let offset = self.offset();
        let v = self.varint(what)?;
        u32::try_from(v).map_err(|_| ProfileError::U32Overflow {
            region: self.region,
            offset,
            value: v,
            what,
        })
    }

    pub fn zigzag(&mut self, what: &'static str) -> Result<i32, ProfileError> {
        let u = self.varint_u32(what)?;
        Ok(((u >> 1) as i32) ^ -((u & 1) as i32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(b: &[u8]) -> Cursor<'_> {
        Cursor::new(b, 0, Region::File, false)
    }

    #[test]
    fn varint_single_and_multi_byte() {
        assert_eq!(cur(&[0x00]).varint("v").unwrap(), 0);
        assert_eq!(cur(&[0x7f]).varint("v").unwrap(), 127);
        assert_eq!(cur(&[0x80, 0x01]).varint("v").unwrap(), 128);
        assert_eq!(cur(&[0xe5, 0x8e, 0x26]).varint("v").unwrap(), 624_485);
    }

    #[test]
    fn varint_padded_encoding_is_zero() {
        let mut c = cur(&[0x80, 0x80, 0x00, 0x05]);
        assert_eq!(c.varint("v").unwrap(), 0);
        assert_eq!(c.pos(), 3);
    }

    #[test]
    fn varint_u64_max_uses_ten_bytes() {
        let b = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(cur(&b).varint("v").unwrap(), u64::MAX);
    }

    #[test]
    fn varint_eleventh_byte_is_rejected() {
        let b = [
            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
        ];
        assert!(matches!(
            cur(&b).varint("v"),
            Err(ProfileError::VarintTooLong { offset: 0, .. })
        ));
    }

    #[test]
    fn varint_overflowing_64_bits_is_rejected() {
        let b = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(matches!(
            cur(&b).varint("v"),
            Err(ProfileError::VarintOverflow { .. })
        ));
    }

    #[test]
    fn varint_truncated_reports_offset() {
        let mut c = Cursor::new(&[0x80], 100, Region::File, false);
        assert!(matches!(
            c.varint("v"),
            Err(ProfileError::Truncated { offset: 101, .. })
        ));
    }

    #[test]
    fn varint_u32_rejects_values_above_u32_max() {
        assert_eq!(
            cur(&[0xff, 0xff, 0xff, 0xff, 0x0f])
                .varint_u32("v")
                .unwrap(),
            u32::MAX
        );
        assert!(matches!(
            cur(&[0x80, 0x80, 0x80, 0x80, 0x10]).varint_u32("v"),
            Err(ProfileError::U32Overflow {
                value: 0x1_0000_0000,
                ..
            })
        ));
    }

    #[test]
    fn zigzag_decodes_small_signed_values() {
        assert_eq!(cur(&[0x00]).zigzag("z").unwrap(), 0);
        assert_eq!(cur(&[0x01]).zigzag("z").unwrap(), -1);
        assert_eq!(cur(&[0x02]).zigzag("z").unwrap(), 1);
        assert_eq!(cur(&[0x03]).zigzag("z").unwrap(), -2);
        assert_eq!(
            cur(&[0xfe, 0xff, 0xff, 0xff, 0x0f]).zigzag("z").unwrap(),
            i32::MAX
        );
        assert_eq!(
            cur(&[0xff, 0xff, 0xff, 0xff, 0x0f]).zigzag("z").unwrap(),
            i32::MIN
        );
    }

    #[test]
    fn fixed_width_in_both_byte_orders() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(cur(&b).u32("x").unwrap(), 0x0403_0201);
        assert_eq!(
            Cursor::new(&b, 0, Region::File, true).u32("x").unwrap(),
            0x0102_0304
        );
        assert_eq!(cur(&b).u64("x").unwrap(), 0x0807_0605_0403_0201);
        assert_eq!(
            Cursor::new(&b, 0, Region::File, true).u64("x").unwrap(),
            0x0102_0304_0506_0708
        );
        assert!(cur(&b[..3]).u32("x").is_err());
    }
}
