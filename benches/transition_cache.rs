//! Transition-cache benchmark: the decoder's hand-written open-addressing `SliceMap` against
//! `hashbrown::HashTable` holding the same entries (key span in one arena, value inline), hashed
//! with the decoder's two-lane word hash and with `rustc-hash`'s FxHasher over the key bytes.
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
use tachygate::profile::stack_tree::{hash_words, SliceMap};

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

    let mut hand = SliceMap::new();
    let mut hb = TableMap::new(hash_words);
    let mut hb_fx = TableMap::new(fx_bytes);
    for (i, k) in keys.iter().enumerate() {
        hand.insert(k, i as u32);
        hb.insert(k, i as u32);
        hb_fx.insert(k, i as u32);
    }
    let sum = |get: &dyn Fn(&[u32]) -> Option<u32>| -> u64 {
        stream.iter().map(|k| u64::from(get(k).unwrap_or(1))).sum()
    };
    let (t_hand, a) = best_of(runs, || sum(&|k| hand.get(k)));
    let (t_hb, b) = best_of(runs, || sum(&|k| hb.get(k)));
    let (t_fx, c) = best_of(runs, || sum(&|k| hb_fx.get(k)));
    assert!(a == b && b == c, "the maps disagree");
    let ns = |t: Duration| t.as_nanos() as f64 / lookups as f64;
    println!("{lookups} lookups, {distinct} keys, best of {runs}:");
    println!("  hand-written SliceMap           {:6.1} ns/lookup", ns(t_hand));
    println!("  hashbrown + two-lane word hash  {:6.1} ns/lookup", ns(t_hb));
    println!("  hashbrown + rustc-hash FxHasher {:6.1} ns/lookup", ns(t_fx));
}
