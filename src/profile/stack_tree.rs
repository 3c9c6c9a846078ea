//! The decoder's interning structures: [`StackTree`], every distinct stack as a node of a
//! prefix tree, and [`TransitionMap`], the transition cache ([`SliceMap`], the word-keyed map
//! it replaced, stays for `benches/transition_cache.rs`).
//!
//! Stacks are interned as (parent node, frame) pairs instead of full copies, so a new stack that
//! differs from a known one near the leaf costs one node per new frame, and memory follows the
//! number of distinct stack prefixes, never the depth times the number of stacks. The tree's
//! index is a `hashbrown::HashTable` of node ids hashed with `rustc-hash`.

use hashbrown::HashTable;
use std::hash::{BuildHasher, Hasher};

/// Id of the root node: the empty stack.
pub const ROOT: u32 = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    parent: u32,
    frame: u32,
}

#[inline]
fn node_hash(parent: u32, frame: u32) -> u64 {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write_u64(u64::from(parent) << 32 | u64::from(frame));
    h.finish()
}

/// Prefix tree of stacks. A node is a stack: its parent is the stack without its innermost
/// frame, `ROOT` is the empty stack, and a parent's id is always smaller than its children's
/// (consumers rely on this to aggregate bottom-up by iterating ids backwards). Ids are dense
/// (0, 1, ...) and equal iff the stacks are equal. Ids fit in 32 bits: each node costs the
/// sample region at least one byte, and regions are capped at 1 GiB.
#[derive(Debug, Clone)]
pub struct StackTree {
    nodes: Vec<Node>,
    depth: Vec<u16>,
    index: HashTable<u32>,
}

impl Default for StackTree {
    fn default() -> Self {
        StackTree::new()
    }
}

impl StackTree {
    pub fn new() -> Self {
        StackTree {
            nodes: vec![Node {
                parent: ROOT,
                frame: u32::MAX,
            }],
            depth: vec![0],
            index: HashTable::new(),
        }
    }

    /// Number of nodes (distinct stacks and prefixes, the empty stack included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: the root always exists.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Parent node (the stack without its innermost frame); `ROOT` for the root.
    #[inline]
    pub fn parent(&self, node: u32) -> u32 {
        self.nodes[node as usize].parent
    }

    /// Innermost frame of a non-root node (`u32::MAX` for the root).
    #[inline]
    pub fn frame(&self, node: u32) -> u32 {
        self.nodes[node as usize].frame
    }

    /// Number of frames on the stack.
    #[inline]
    pub fn depth(&self, node: u32) -> usize {
        usize::from(self.depth[node as usize])
    }

    /// The node for `parent` plus `frame` as its new innermost frame, created if new.
    #[inline]
    pub fn child(&mut self, parent: u32, frame: u32) -> u32 {
        let h = node_hash(parent, frame);
        let key = Node { parent, frame };
        let nodes = &self.nodes;
        if let Some(&id) = self.index.find(h, |&id| nodes[id as usize] == key) {
            return id;
        }
        let id = self.nodes.len() as u32;
        let depth = self.depth[parent as usize].saturating_add(1);
        self.nodes.push(key);
        self.depth.push(depth);
        let nodes = &self.nodes;
        self.index.insert_unique(h, id, |&id| {
            let n = nodes[id as usize];
            node_hash(n.parent, n.frame)
        });
        id
    }

    /// The ancestor `up` levels above `node` (the root if `up` reaches past it).
    #[inline]
    pub fn ancestor(&self, mut node: u32, up: usize) -> u32 {
        for _ in 0..up {
            if node == ROOT {
                break;
            }
            node = self.nodes[node as usize].parent;
        }
        node
    }

    /// The node of a stack given innermost first.
    pub fn intern(&mut self, stack: &[u32]) -> u32 {
        self.extend(ROOT, stack)
    }

    /// `base` with `pushed` (innermost first) on top of it.
    #[inline]
    pub fn extend(&mut self, base: u32, pushed: &[u32]) -> u32 {
        pushed.iter().rev().fold(base, |n, &f| self.child(n, f))
    }

    /// The frames of a stack, innermost first.
    pub fn frames(&self, node: u32) -> Frames<'_> {
        Frames { tree: self, node }
    }

    /// Bytes held (for the memory bound in the docs and tests).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.depth.capacity() * 2
            + self.index.allocation_size()
    }
}

/// Iterator over a stack's frames, innermost first (see [`StackTree::frames`]).
pub struct Frames<'t> {
    tree: &'t StackTree,
    node: u32,
}

impl Iterator for Frames<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.node == ROOT {
            return None;
        }
        let n = self.tree.nodes[self.node as usize];
        self.node = n.parent;
        Some(n.frame)
    }
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Hash of a word slice: two independent Fx lanes over 8-byte words (half the latency of one
/// chain), folded with the length.
#[inline]
pub fn hash_words(key: &[u32]) -> u64 {
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

/// Map from word-slice keys to `u32` values, insert-only, for the decoder's transition cache:
/// a `hashbrown::HashTable` whose entries hold the full hash, the key's span in one arena and
/// the value, so a lookup is one probe and one key comparison (no allocation per key).
///
/// `benches/transition_cache.rs` (4,000,000 lookups over 9,000 keys of 3-9 words, 90% hits,
/// best of 7, shared 2-core VM): this table 25.2 ns per lookup, the hand-written
/// open-addressing table it replaced 28.6 ns; with rustc-hash's FxHasher instead of
/// [`hash_words`] 29.5 ns, which is why the two-lane word hash stays.
#[derive(Debug, Clone, Default)]
pub struct SliceMap {
    /// (hash, key start in `arena`, key length, value).
    table: HashTable<(u64, u32, u32, u32)>,
    arena: Vec<u32>,
}

impl SliceMap {
    pub fn new() -> Self {
        SliceMap::default()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Words held by all keys.
    pub fn arena_words(&self) -> usize {
        self.arena.len()
    }

    #[inline]
    fn find(&self, h: u64, key: &[u32]) -> Option<u32> {
        let arena = &self.arena;
        self.table
            .find(h, |&(eh, start, len, _)| {
                eh == h
                    && len as usize == key.len()
                    && arena
                        .get(start as usize..start as usize + len as usize)
                        .is_some_and(|k| same_words(k, key))
            })
            .map(|e| e.3)
    }

    /// The value stored for `key`.
    #[inline]
    pub fn get(&self, key: &[u32]) -> Option<u32> {
        self.find(hash_words(key), key)
    }

    /// Stores `value` for `key` unless the key is present (the first value stays). Keys longer
    /// than `u32::MAX` words, or an arena beyond `u32` offsets, are not stored.
    pub fn insert(&mut self, key: &[u32], value: u32) {
        let h = hash_words(key);
        let (Ok(start), Ok(len)) = (u32::try_from(self.arena.len()), u32::try_from(key.len()))
        else {
            return;
        };
        if self.find(h, key).is_none() {
            self.arena.extend_from_slice(key);
            self.table.insert_unique(h, (h, start, len, value), |e| e.0);
        }
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.table.allocation_size() + self.arena.capacity() * 4
    }
}

/// The first (up to) eight bytes of `window[..len]`, zero-padded, as a little-endian word.
/// With eight readable bytes it is one load and a mask (the decoder's windows nearly always
/// have them), else a byte loop.
#[inline(always)]
fn head_word(window: &[u8], len: usize) -> u64 {
    if let Some(w) = window.get(..8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let x = u64::from_le_bytes(a);
        if len >= 8 {
            x
        } else {
            x & ((1u64 << (8 * len)) - 1)
        }
    } else {
        window[..len.min(8)]
            .iter()
            .enumerate()
            .fold(0u64, |x, (i, &b)| x | u64::from(b) << (8 * i))
    }
}

/// Hash of a transition key: previous stack, tag, the body's first word and its remaining
/// bytes, Fx-style, eight bytes at a time (no key is copied for a lookup). The body's length is
/// not hashed separately (callers fold it into `tag`); equality always compares it.
#[inline(always)]
fn transition_hash(prev: u32, tag: u32, head: u64, rest: &[u8]) -> u64 {
    let mut a: u64 = (u64::from(prev) << 32 | u64::from(tag)).wrapping_mul(SEED);
    a = (a.rotate_left(5) ^ head).wrapping_mul(SEED);
    let mut words = rest.chunks_exact(8);
    for w in &mut words {
        let mut x = [0u8; 8];
        x.copy_from_slice(w);
        a = (a.rotate_left(5) ^ u64::from_le_bytes(x)).wrapping_mul(SEED);
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        // Byte by byte: a variable-length copy into a padded word is a memcpy call.
        let x = tail
            .iter()
            .enumerate()
            .fold(0u64, |x, (i, &b)| x | u64::from(b) << (8 * i));
        a = (a.rotate_left(5) ^ x).wrapping_mul(SEED);
    }
    a ^ a >> 29
}

/// Byte-slice equality without a libc call, a word at a time: the bytes compared are a
/// body's beyond its first eight, short, and (once the full hash matched) almost always equal.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // Slice `==` and iterator zips compiled to a memcmp call and an outlined fold here (15M
    // of the low-card benchmark's 398M instructions, cachegrind); words and indices do not.
    let word = |w: &[u8]| {
        let mut x = [0u8; 8];
        x.copy_from_slice(w);
        u64::from_le_bytes(x)
    };
    let (mut x, mut y) = (a.chunks_exact(8), b.chunks_exact(8));
    for (u, v) in (&mut x).zip(&mut y) {
        if word(u) != word(v) {
            return false;
        }
    }
    let (r, t) = (x.remainder(), y.remainder());
    (0..r.len().min(t.len())).all(|i| r[i] == t[i])
}

/// The decoder's transition cache: (previous stack, encoding, record body bytes) -> new stack,
/// insert-only. A `hashbrown::HashTable` of 24-byte entries (the body's first eight bytes,
/// previous stack, encoding and body length, the span of the rest of the body in one byte
/// arena, value): most bodies are at most eight bytes (small POP_PUSH / SUFFIX changes), so a
/// lookup is one probe and a compare of two words with the body read where it lies in the
/// decompressed stream; nothing is copied. The full hash is not stored: a hit's cost is the
/// cache miss on its entry, so entries are kept small (40 -> 24 bytes measured, see
/// docs/decoder.md).
///
/// It replaced [`SliceMap`] keyed by the body packed into words (a key built per record);
/// docs/decoder.md gives the instruction counts and times of both on the benchmark profile.
#[derive(Debug, Clone, Default)]
pub struct TransitionMap {
    table: HashTable<TransitionEntry>,
    arena: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
struct TransitionEntry {
    head: u64,
    prev: u32,
    /// Encoding | body length << 8.
    tag: u32,
    /// The body's bytes from the ninth on: `arena[start..start + len - 8]`.
    start: u32,
    value: u32,
}

/// Longest body stored (the tag keeps its length in 24 bits; real bodies are under 3 KB).
const MAX_BODY: usize = 1 << 24;

impl TransitionMap {
    pub fn new() -> Self {
        TransitionMap::default()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Bytes held in the arena (bodies beyond their first eight bytes).
    pub fn arena_bytes(&self) -> usize {
        self.arena.len()
    }

    #[inline(always)]
    fn find(&self, h: u64, prev: u32, tag: u32, head: u64, body: &[u8]) -> Option<u32> {
        let arena = &self.arena;
        let rest = body.get(8..).unwrap_or(&[]);
        self.table
            .find(h, |e| {
                e.head == head
                    && e.prev == prev
                    && e.tag == tag
                    && (rest.is_empty()
                        || arena
                            .get(e.start as usize..e.start as usize + rest.len())
                            .is_some_and(|k| same_bytes(k, rest)))
            })
            .map(|e| e.value)
    }

    /// The value stored for the key whose body is `window[..len]` (`len <= window.len()`;
    /// bytes after it are ignored, but let the first word be read in one load).
    #[inline(always)]
    pub fn get_in(&self, prev: u32, encoding: u8, window: &[u8], len: usize) -> Option<u32> {
        let body = window.get(..len)?;
        if len >= MAX_BODY {
            return None;
        }
        let tag = u32::from(encoding) | (len as u32) << 8;
        let head = head_word(window, len);
        let h = transition_hash(prev, tag, head, body.get(8..).unwrap_or(&[]));
        self.find(h, prev, tag, head, body)
    }

    /// The value stored for the key.
    #[inline]
    pub fn get(&self, prev: u32, encoding: u8, body: &[u8]) -> Option<u32> {
        self.get_in(prev, encoding, body, body.len())
    }

    /// Stores `value` unless the key is present (the first value stays). Bodies of 2^24
    /// bytes or more, or an arena beyond `u32` offsets, are not stored.
    pub fn insert(&mut self, prev: u32, encoding: u8, body: &[u8], value: u32) {
        let rest = body.get(8..).unwrap_or(&[]);
        let Ok(start) = u32::try_from(self.arena.len()) else {
            return;
        };
        if body.len() >= MAX_BODY || start.checked_add(body.len() as u32).is_none() {
            return;
        }
        let tag = u32::from(encoding) | (body.len() as u32) << 8;
        let head = head_word(body, body.len());
        let h = transition_hash(prev, tag, head, rest);
        if self.find(h, prev, tag, head, body).is_none() {
            self.arena.extend_from_slice(rest);
            let arena = &self.arena;
            self.table.insert_unique(
                h,
                TransitionEntry {
                    head,
                    prev,
                    tag,
                    start,
                    value,
                },
                |e| {
                    let len = (e.tag >> 8) as usize;
                    let rest = match len.checked_sub(8) {
                        Some(n) => &arena[e.start as usize..e.start as usize + n],
                        None => &[][..],
                    };
                    transition_hash(e.prev, e.tag, e.head, rest)
                },
            );
        }
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.table.allocation_size() + self.arena.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_tree_interns_stacks_as_prefixes_with_dense_ids() {
        let mut t = StackTree::new();
        let a = t.intern(&[3, 2, 1]); // innermost first
        assert_eq!(t.len(), 4, "one node per frame of the first stack");
        let b = t.intern(&[4, 2, 1]);
        assert_eq!(t.len(), 5, "a sibling leaf costs one node");
        assert_eq!(t.intern(&[3, 2, 1]), a);
        assert_ne!(a, b);
        assert_eq!(t.frames(a).collect::<Vec<_>>(), vec![3, 2, 1]);
        assert_eq!(t.depth(b), 3);
        assert_eq!(t.parent(a), t.parent(b));
        assert_eq!(t.ancestor(a, 2), t.intern(&[1]));
        assert_eq!(t.ancestor(a, 99), ROOT);
        assert_eq!(t.intern(&[]), ROOT);
        assert_eq!(t.extend(t.parent(a), &[7]), t.intern(&[7, 2, 1]));
        // Same frames in another order are another stack; parents precede children.
        let c = t.intern(&[1, 2, 3]);
        assert_ne!(c, a);
        assert!((1..t.len() as u32).all(|n| t.parent(n) < n));
    }

    #[test]
    fn stack_tree_keeps_ids_across_growth() {
        let mut t = StackTree::new();
        let stacks: Vec<Vec<u32>> = (0..5000u32)
            .map(|i| (0..(i % 40)).map(|d| d * 31 + i).collect())
            .collect();
        let ids: Vec<u32> = stacks.iter().map(|s| t.intern(s)).collect();
        for (s, &id) in stacks.iter().zip(&ids) {
            assert_eq!(t.intern(s), id);
            assert_eq!(t.frames(id).collect::<Vec<_>>(), *s);
            assert_eq!(t.depth(id), s.len());
        }
    }

    #[test]
    fn transition_map_keeps_first_value_and_separates_key_parts() {
        let mut m = TransitionMap::new();
        let bodies: Vec<Vec<u8>> = (0..5000u32)
            .map(|i| {
                i.to_le_bytes()
                    .into_iter()
                    .chain((0..(i % 23)).map(|d| (d * 7 + i) as u8))
                    .collect()
            })
            .collect();
        for (i, b) in bodies.iter().enumerate() {
            let prev = i as u32 % 97;
            assert_eq!(m.get(prev, 3, b), None);
            m.insert(prev, 3, b, i as u32);
            m.insert(prev, 3, b, u32::MAX);
        }
        for (i, b) in bodies.iter().enumerate() {
            let prev = i as u32 % 97;
            assert_eq!(m.get(prev, 3, b), Some(i as u32));
            // Another previous stack or tag is another key.
            assert_ne!(m.get(prev + 1, 3, b), Some(i as u32));
            assert_ne!(m.get(prev, 2, b), Some(i as u32));
        }
        assert_eq!(m.get(0, 0, &[]), None);
        m.insert(0, 0, &[], 9);
        assert_eq!(m.get(0, 0, &[]), Some(9));
        // A body and the same body with a trailing zero byte differ (the padded words are
        // equal), within and beyond the first word; bytes after the body are ignored.
        m.insert(1, 1, &[5, 6], 1);
        assert_eq!(m.get(1, 1, &[5, 6, 0]), None);
        assert_eq!(m.get(1, 1, &[5, 6]), Some(1));
        assert_eq!(m.get_in(1, 1, &[5, 6, 7, 8, 9, 10, 11, 12, 13], 2), Some(1));
        let long: Vec<u8> = (1..=19).collect();
        m.insert(1, 1, &long, 2);
        assert_eq!(m.get(1, 1, &long), Some(2));
        assert_eq!(m.get(1, 1, &long[..18]), None);
        let mut padded = long.clone();
        padded.push(0);
        assert_eq!(m.get(1, 1, &padded), None);
        assert_eq!(m.get_in(1, 1, &padded, 19), Some(2));
        let mut other = long.clone();
        other[15] = 99;
        assert_eq!(m.get(1, 1, &other), None);
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
