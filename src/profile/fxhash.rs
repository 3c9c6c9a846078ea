//! A small, fast, non-cryptographic hasher (the rustc "Fx" hash) for the stack tables built
//! while streaming samples: keys are frame-index slices we produced ourselves, so HashDoS
//! resistance buys nothing and SipHash would dominate the decode time.

use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            self.add(u64::from_le_bytes(a));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut a = [0u8; 8];
            a[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(a) ^ (rest.len() as u64) << 56);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub type FxBuildHasher = BuildHasherDefault<FxHasher>;
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuildHasher>;

/// Hash of a frame-index slice: two independent Fx lanes over 8-byte words (half the latency
/// of one chain), folded with the length.
#[inline]
pub fn hash_stack(key: &[u32]) -> u64 {
    let mut a: u64 = key.len() as u64;
    let mut b: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut pairs = key.chunks_exact(4);
    for c in &mut pairs {
        a = (a.rotate_left(5) ^ (u64::from(c[0]) | u64::from(c[1]) << 32)).wrapping_mul(SEED);
        b = (b.rotate_left(5) ^ (u64::from(c[2]) | u64::from(c[3]) << 32)).wrapping_mul(SEED);
    }
    for &x in pairs.remainder() {
        a = (a.rotate_left(5) ^ u64::from(x)).wrapping_mul(SEED);
    }
    (a ^ b.rotate_left(29)).wrapping_mul(SEED)
}

/// Slice equality without a libc call: keys are short (transition keys are a few words), and
/// the full 64-bit hash has already matched, so they are almost always equal.
#[inline]
fn same_words(a: &[u32], b: &[u32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(true, |eq, (x, y)| eq & (x == y))
}

/// Interning table for frame-index slices: each distinct slice gets a dense id (0, 1, ...).
/// Keys live in one arena (no allocation per key, good locality); slots keep 32 hash bits so
/// most mismatches are rejected without comparing keys. Ids fit in 32 bits: a profile's sample
/// region (at most 1 GiB) cannot hold 2^32 distinct stacks.
#[derive(Debug, Clone)]
pub struct StackTable {
    /// Per slot: high 32 bits of the key's hash, and entry id + 1 in the low 32; 0 = empty.
    slots: Vec<u64>,
    shift: u32,
    hashes: Vec<u64>,
    spans: Vec<(usize, usize)>,
    arena: Vec<u32>,
}

impl Default for StackTable {
    fn default() -> Self {
        StackTable::new()
    }
}

impl StackTable {
    const INITIAL_BITS: u32 = 10;

    pub fn new() -> Self {
        StackTable {
            slots: vec![0; 1 << Self::INITIAL_BITS],
            shift: 64 - Self::INITIAL_BITS,
            hashes: Vec::new(),
            spans: Vec::new(),
            arena: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The key of entry `id` (ids come from [`StackTable::intern`]).
    pub fn key(&self, id: usize) -> &[u32] {
        let (start, len) = self.spans[id];
        &self.arena[start..start + len]
    }

    /// Words held by all keys (bounds caches built on this table).
    pub fn arena_words(&self) -> usize {
        self.arena.len()
    }

    /// Id of `key` if present, without inserting it.
    #[inline]
    pub fn get(&self, key: &[u32]) -> Option<usize> {
        let h = hash_stack(key);
        let mask = self.slots.len() - 1;
        let tag = h >> 32;
        let mut i = (h >> self.shift) as usize;
        loop {
            let s = self.slots[i];
            if s == 0 {
                return None;
            }
            if s >> 32 == tag {
                let id = (s as u32 - 1) as usize;
                if same_words(self.key(id), key) {
                    return Some(id);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Id of `key`, inserting it if new.
    #[inline]
    pub fn intern(&mut self, key: &[u32]) -> usize {
        let h = hash_stack(key);
        let mask = self.slots.len() - 1;
        // Slots hold (high 32 hash bits << 32) | (id + 1): most mismatches are rejected
        // without touching the entry arrays.
        let tag = h >> 32;
        // High bits pick the slot: the final multiply leaves the low bits poorly mixed.
        let mut i = (h >> self.shift) as usize;
        loop {
            let s = self.slots[i];
            if s == 0 {
                break;
            }
            if s >> 32 == tag {
                let id = (s as u32 - 1) as usize;
                if same_words(self.key(id), key) {
                    return id;
                }
            }
            i = (i + 1) & mask;
        }
        let id = self.spans.len();
        self.slots[i] = tag << 32 | (id as u64 + 1);
        self.hashes.push(h);
        self.spans.push((self.arena.len(), key.len()));
        self.arena.extend_from_slice(key);
        if self.spans.len() * 2 > self.slots.len() {
            self.grow();
        }
        id
    }

    fn grow(&mut self) {
        let bits = 64 - self.shift + 1;
        self.shift = 64 - bits;
        self.slots = vec![0; 1 << bits];
        let mask = self.slots.len() - 1;
        for (id, &h) in self.hashes.iter().enumerate() {
            let mut i = (h >> self.shift) as usize;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = (h >> 32) << 32 | (id as u64 + 1);
        }
    }
}

/// Map from frame-index-slice keys to `u32` values, insert-only, for the decoder's transition
/// cache: a lookup is one slot load (full hash and value inline) and one key comparison,
/// instead of [`StackTable`]'s slot, span, key and value loads, which are dependent misses.
#[derive(Debug, Clone)]
pub struct SliceMap {
    /// Per slot: (full hash, key start in `arena`, key length + 1 (0 = empty), value).
    slots: Vec<(u64, u32, u32, u32)>,
    shift: u32,
    len: usize,
    arena: Vec<u32>,
}

impl Default for SliceMap {
    fn default() -> Self {
        SliceMap::new()
    }
}

impl SliceMap {
    const INITIAL_BITS: u32 = 10;

    pub fn new() -> Self {
        SliceMap {
            slots: vec![(0, 0, 0, 0); 1 << Self::INITIAL_BITS],
            shift: 64 - Self::INITIAL_BITS,
            len: 0,
            arena: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Words held by all keys.
    pub fn arena_words(&self) -> usize {
        self.arena.len()
    }

    #[inline]
    fn find(&self, h: u64, key: &[u32]) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            let (sh, start, len1, value) = self.slots[i];
            if len1 == 0 {
                return Err(i);
            }
            if sh == h && len1 as usize == key.len() + 1 {
                let start = start as usize;
                let k = self.arena.get(start..start + key.len()).unwrap_or(&[]);
                if same_words(k, key) {
                    return Ok(value);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// The value stored for `key`.
    #[inline]
    pub fn get(&self, key: &[u32]) -> Option<u32> {
        self.find(hash_stack(key), key).ok()
    }

    /// Stores `value` for `key` unless the key is present (the first value stays). Keys longer
    /// than `u32::MAX - 1` words, or an arena beyond `u32` offsets, are not stored.
    pub fn insert(&mut self, key: &[u32], value: u32) {
        let h = hash_stack(key);
        let (Ok(start), Ok(len1)) = (
            u32::try_from(self.arena.len()),
            u32::try_from(key.len() + 1),
        ) else {
            return;
        };
        if let Err(i) = self.find(h, key) {
            self.slots[i] = (h, start, len1, value);
            self.arena.extend_from_slice(key);
            self.len += 1;
            if self.len * 2 > self.slots.len() {
                self.grow();
            }
        }
    }

    fn grow(&mut self) {
        let bits = 64 - self.shift + 1;
        self.shift = 64 - bits;
        let old = std::mem::replace(&mut self.slots, vec![(0, 0, 0, 0); 1 << bits]);
        let mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|s| s.2 != 0) {
            let mut i = (s.0 >> self.shift) as usize;
            while self.slots[i].2 != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_table_interns_distinct_keys_densely_across_growth() {
        let mut t = StackTable::new();
        let keys: Vec<Vec<u32>> = (0..5000u32)
            .map(|i| {
                std::iter::once(i)
                    .chain((0..(i % 40)).map(|d| d * 31 + i))
                    .collect()
            })
            .collect();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.intern(k), i);
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(t.intern(k), i);
            assert_eq!(t.key(i), &k[..]);
        }
        assert_eq!(t.len(), 5000);
        // Same words, different lengths or order, are different keys.
        let mut u = StackTable::new();
        assert_ne!(u.intern(&[1, 2]), u.intern(&[2, 1]));
        assert_ne!(u.intern(&[]), u.intern(&[0]));
        assert_eq!(u.len(), 4);
        assert_eq!(u.get(&[2, 1]), Some(1));
        assert_eq!(u.get(&[2, 1, 0]), None);
        assert_eq!(u.arena_words(), 5);
    }

    #[test]
    fn slice_map_keeps_first_value_and_finds_keys_across_growth() {
        let mut m = SliceMap::new();
        let keys: Vec<Vec<u32>> = (0..5000u32)
            .map(|i| (0..(i % 17)).map(|d| d * 7 + i).chain([i]).collect())
            .collect();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(m.get(k), None);
            m.insert(k, i as u32);
            m.insert(k, u32::MAX);
        }
        assert_eq!(m.len(), 5000);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(m.get(k), Some(i as u32));
        }
        assert_eq!(m.get(&[]), None);
        m.insert(&[], 9);
        assert_eq!(m.get(&[]), Some(9));
        assert_eq!(m.get(&[9, 9, 9]), None);
    }
}
