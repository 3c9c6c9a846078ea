//! Transition-cache benchmark: the hand-written open-addressing table the decoder used to have
//! (`HandMap`, below) against `hashbrown::HashTable` holding the same entries (key span in one
//! arena, value inline; the decoder's `SliceMap` now), hashed with the decoder's two-lane word
//! hash and with `rustc-hash`'s FxHasher; and the decoder's `TransitionMap` (since issue 13),
//! which takes the same keys as (previous stack, encoding, body bytes) read in place.
//!
//! Keys and the lookup stream mimic the benchmark profile's records: ~9,000 distinct keys of
//! 3-9 words (previous stack, encoding + length, record bytes), looked up 4,000,000 times,
//! 90% hits. The same process times all three, best of 7.
//!
//! Run: `cargo bench --bench transition_cache`.

use hashbrown::HashTable;
use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tachygate::profile::stack_tree::{hash_words, SliceMap, TransitionMap};

#[inline]
fn same_words(a: &[u32], b: &[u32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(true, |eq, (x, y)| eq & (x == y))
}

fn best_of(n: usize, mut f: impl FnMut() -> u64) -> (Duration, u64) {
    let mut best = Duration::MAX;
    let mut out = 0;
    for _ in 0..n {
        let t = Instant::now();
        out = black_box(f());
        best = best.min(t.elapsed());
    }
    (best, out)
}

#[allow(dead_code)]
/// The hand-written open-addressing table the decoder used before (kept here for comparison).
/// cache: a lookup is one slot load (full hash and value inline) and one key comparison,
/// instead of a slot, then key span, key and value loads, which are dependent misses.
struct HandMap {
    /// Per slot: (full hash, key start in `arena`, key length + 1 (0 = empty), value).
    slots: Vec<(u64, u32, u32, u32)>,
    shift: u32,
    len: usize,
    arena: Vec<u32>,
}

impl Default for HandMap {
    fn default() -> Self {
        HandMap::new()
    }
}

impl HandMap {
    const INITIAL_BITS: u32 = 10;

    fn new() -> Self {
        HandMap {
            slots: vec![(0, 0, 0, 0); 1 << Self::INITIAL_BITS],
            shift: 64 - Self::INITIAL_BITS,
            len: 0,
            arena: Vec::new(),
        }
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
    fn get(&self, key: &[u32]) -> Option<u32> {
        self.find(hash_words(key), key).ok()
    }

    /// Stores `value` for `key` unless the key is present (the first value stays). Keys longer
    /// than `u32::MAX - 1` words, or an arena beyond `u32` offsets, are not stored.
    fn insert(&mut self, key: &[u32], value: u32) {
        let h = hash_words(key);
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

/// `hashbrown::HashTable` with the decoder's layout: (hash, key start, key length, value).
struct TableMap<H: Fn(&[u32]) -> u64> {
    table: HashTable<(u64, u32, u32, u32)>,
    arena: Vec<u32>,
    hash: H,
}

impl<H: Fn(&[u32]) -> u64> TableMap<H> {
    fn new(hash: H) -> Self {
        TableMap {
            table: HashTable::new(),
            arena: Vec::new(),
            hash,
        }
    }

    #[inline]
    fn get(&self, key: &[u32]) -> Option<u32> {
        let h = (self.hash)(key);
        let arena = &self.arena;
        self.table
            .find(h, |&(eh, s, l, _)| {
                eh == h && l as usize == key.len() && &arena[s as usize..(s + l) as usize] == key
            })
            .map(|e| e.3)
    }

    fn insert(&mut self, key: &[u32], value: u32) {
        if self.get(key).is_some() {
            return;
        }
        let h = (self.hash)(key);
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(key);
        self.table
            .insert_unique(h, (h, start, key.len() as u32, value), |e| e.0);
    }
}

fn fx_bytes(key: &[u32]) -> u64 {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    for &w in key {
        h.write_u32(w);
    }
    h.write_usize(key.len());
    h.finish()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (distinct, lookups, runs) = if full {
        (9_000usize, 4_000_000usize, 7)
    } else {
        (500, 20_000, 1)
    };
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let keys: Vec<Vec<u32>> = (0..distinct)
        .map(|_| {
            let len = 3 + (rnd() % 7) as usize;
            (0..len).map(|_| rnd() as u32 % 4096).collect()
        })
        .collect();
    let misses: Vec<Vec<u32>> = (0..distinct)
        .map(|_| (0..5).map(|_| rnd() as u32 | 1 << 31).collect())
        .collect();
    let stream: Vec<&[u32]> = (0..lookups)
        .map(|i| {
            let r = rnd() as usize;
            if i % 10 == 0 {
                &misses[r % distinct][..]
            } else {
                &keys[r % distinct][..]
            }
        })
        .collect();

    let mut hand = HandMap::new();
    let mut hb = SliceMap::new();
    let mut hb_fx = TableMap::new(fx_bytes);
    let mut tm = TransitionMap::new();
    // The same keys as the transition map sees them: previous stack, encoding, body bytes.
    let as_bytes = |k: &[u32]| -> (u32, u8, Vec<u8>) {
        let body = k[1..].iter().flat_map(|w| w.to_le_bytes()).collect();
        (k[0], (k[1] % 3) as u8 + 1, body)
    };
    for (i, k) in keys.iter().enumerate() {
        hand.insert(k, i as u32);
        hb.insert(k, i as u32);
        hb_fx.insert(k, i as u32);
        let (prev, enc, body) = as_bytes(k);
        tm.insert(prev, enc, &body, i as u32);
    }
    let byte_stream: Vec<(u32, u8, Vec<u8>)> = stream.iter().map(|k| as_bytes(k)).collect();
    let sum = |get: &dyn Fn(&[u32]) -> Option<u32>| -> u64 {
        stream.iter().map(|k| u64::from(get(k).unwrap_or(1))).sum()
    };
    let (t_hand, a) = best_of(runs, || sum(&|k| hand.get(k)));
    let (t_hb, b) = best_of(runs, || sum(&|k| hb.get(k)));
    let (t_fx, c) = best_of(runs, || sum(&|k| hb_fx.get(k)));
    let (t_tm, d) = best_of(runs, || {
        byte_stream
            .iter()
            .map(|(p, e, b)| u64::from(tm.get(*p, *e, b).unwrap_or(1)))
            .sum()
    });
    assert!(a == b && b == c && c == d, "the maps disagree");
    let ns = |t: Duration| t.as_nanos() as f64 / lookups as f64;
    println!("{lookups} lookups, {distinct} keys, best of {runs}:");
    println!(
        "  hand-written open addressing    {:6.1} ns/lookup",
        ns(t_hand)
    );
    println!(
        "  hashbrown + two-lane word hash  {:6.1} ns/lookup",
        ns(t_hb)
    );
    println!(
        "  hashbrown + rustc-hash FxHasher {:6.1} ns/lookup",
        ns(t_fx)
    );
    println!(
        "  TransitionMap (bytes in place)  {:6.1} ns/lookup",
        ns(t_tm)
    );
}
