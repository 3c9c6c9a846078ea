//! `replay --collapsed` rendering, byte for byte.
//!
//! CPython sums samples by (stack of (full filename, line, funcname), thread id) after dropping
//! profiler frames, renders each frame as `basename:funcname:line` (bare funcname for the
//! synthetic `~` frames with line 0), and sorts lines by count descending then text ascending.
//! Grouping is by full path, so two files with one basename give identical-looking separate
//! lines; we keep that quirk because the output must match the oracle exactly.
//!
//! No line is rendered before it is written: stacks stay nodes of prefix trees, and the text
//! order comes from ranking a tree of the lines' texts (see [`rank_texts`]), so memory follows
//! the number of distinct stacks, not the size of the output.

use super::stack_tree::{StackTree, ROOT};
use super::{Profile, ProfileError};
use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;

/// One output line: `text` without the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollapsedLine {
    pub text: String,
    pub count: u64,
}

const DROPPED: u32 = u32::MAX;
const UNKNOWN: u32 = u32::MAX;

/// `replay`'s line number for a frame: 0 for unknown (-1).
pub fn replay_lineno(lineno: i32) -> i32 {
    if lineno == -1 {
        0
    } else {
        lineno
    }
}

/// `os.path.basename` on POSIX: everything after the last `/`.
pub fn basename(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, b)| b)
}

/// Renders one frame the way `replay --collapsed` does.
pub fn render_frame(filename: &str, funcname: &str, lineno: i32) -> String {
    let line = replay_lineno(lineno);
    if filename == "~" && line == 0 {
        funcname.to_string()
    } else {
        format!("{}:{}:{}", basename(filename), funcname, line)
    }
}

/// One output line before rendering: 12 bytes. Counts fit in 32 bits: every thread-sample
/// costs at least two bytes of a sample stream capped at 1 GiB.
#[derive(Debug, Clone, Copy)]
struct Line {
    count: u32,
    /// Index into [`Collapsed::threads`].
    thread: u32,
    /// A decoder stack while counting, then a node of [`Collapsed::stacks`].
    stack: u32,
}

/// Rendered frames (`basename:func:line`), one per distinct (file, line, function), in one
/// buffer.
#[derive(Debug, Default)]
struct Parts {
    text: String,
    ends: Vec<u32>,
}

impl Parts {
    fn get(&self, i: u32) -> &str {
        let end = self.ends[i as usize] as usize;
        let start = match i {
            0 => 0,
            _ => self.ends[i as usize - 1] as usize,
        };
        &self.text[start..end]
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// All collapsed lines of a profile in `replay`'s order, held as tree nodes; render them with
/// [`Collapsed::write`] (or [`Collapsed::lines`] in tests).
#[derive(Debug)]
pub struct Collapsed {
    parts: Parts,
    /// Stacks of part indices.
    stacks: StackTree,
    threads: Vec<u64>,
    lines: Vec<Line>,
}

/// Decodes all samples and returns the collapsed lines in `replay`'s order.
pub fn collapse(profile: &Profile) -> Result<Vec<CollapsedLine>, ProfileError> {
    Ok(collapse_stacks(profile)?.lines())
}

/// Frame index -> part index (DROPPED for profiler frames), and the parts. Frames identical
/// in (filename text, line, funcname text) share a part: the table holds one frame per
/// (location, column, opcode), and strings are not guaranteed unique.
fn parts_of(profile: &Profile) -> (Vec<u32>, Parts) {
    let strings = profile.strings();
    let mut by_text: FxHashMap<&str, u32> = FxHashMap::default();
    let canon: Vec<u32> = strings
        .iter()
        .enumerate()
        .map(|(i, s)| *by_text.entry(s.as_str()).or_insert(i as u32))
        .collect();
    drop(by_text);
    let frames = profile.frames();
    // (file, line, function) packed in one integer: cheaper to sort than a tuple.
    let key = |i: u32| {
        let f = &frames[i as usize];
        let c = |s: u32| u128::from(canon.get(s as usize).copied().unwrap_or(u32::MAX));
        c(f.filename) << 64 | u128::from(replay_lineno(f.lineno) as u32) << 32 | c(f.funcname)
    };
    let mut order: Vec<u32> = (0..frames.len() as u32)
        .filter(|&i| !profile.is_profiler_frame(i))
        .collect();
    order.sort_unstable_by_key(|&i| key(i));
    let mut cmap = vec![DROPPED; frames.len()];
    let mut parts = Parts::default();
    let mut prev = None;
    for i in order {
        let k = key(i);
        if prev != Some(k) {
            let f = &frames[i as usize];
            let (file, func) = (profile.filename(f), profile.funcname(f));
            let line = replay_lineno(f.lineno);
            if file == "~" && line == 0 {
                parts.text.push_str(func);
            } else {
                use std::fmt::Write as _;
                let _ = write!(parts.text, "{}:{}:{}", basename(file), func, line);
            }
            // Frames and strings come from a file of at most 4 GiB... but their rendering can
            // be longer; a profile whose parts exceed u32 offsets is not a real one.
            parts
                .ends
                .push(u32::try_from(parts.text.len()).unwrap_or(u32::MAX));
            prev = Some(k);
        }
        cmap[i as usize] = (parts.ends.len() - 1) as u32;
    }
    (cmap, parts)
}

/// Decodes all samples and orders the collapsed lines without rendering them.
pub fn collapse_stacks(profile: &Profile) -> Result<Collapsed, ProfileError> {
    let (cmap, parts) = parts_of(profile);

    // Pass 1, per sample: count by (thread, decoder stack).
    let mut reader = profile.samples()?;
    let (threads, mut lines) = count_by_thread_and_stack(&mut reader)?;

    // Pass 2, per distinct (thread, stack): map the decoder's stack (raw frame indices) to a
    // stack of parts, dropping profiler frames; then merge stacks that render alike (frames
    // differing only in column/opcode) and drop the ones left empty.
    let tree = reader.stack_tree();
    let mut stacks = StackTree::new();
    let mut memo = vec![UNKNOWN; tree.len()];
    memo[ROOT as usize] = ROOT;
    let mut chain: Vec<u32> = Vec::with_capacity(256);
    for l in &mut lines {
        l.stack = collapse_node(l.stack, tree, &cmap, &mut memo, &mut chain, &mut stacks);
    }
    drop(memo);
    drop(reader);
    lines.retain(|l| l.stack != ROOT);
    lines.sort_unstable_by_key(|l| (l.thread, l.stack));
    lines.dedup_by(|later, kept| {
        let same = later.thread == kept.thread && later.stack == kept.stack;
        if same {
            kept.count = kept.count.saturating_add(later.count);
        }
        same
    });
    lines.shrink_to_fit();

    // Text order: thread prefixes first (`tid:123;` sorts before `tid:12;`), then the stack's
    // text.
    let mut by_prefix: Vec<(String, u32)> = threads
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("tid:{t};"), i as u32))
        .collect();
    by_prefix.sort_unstable();
    let mut thread_rank = vec![0u32; threads.len()];
    for (r, (_, i)) in by_prefix.iter().enumerate() {
        thread_rank[*i as usize] = r as u32;
    }
    match rank_stacks(&parts, &stacks) {
        // Equal (count, thread, text) means identical lines, so the order among them is moot.
        Some(text_rank) => lines.sort_by_cached_key(|l| {
            (
                std::cmp::Reverse(l.count),
                thread_rank[l.thread as usize],
                text_rank[l.stack as usize],
            )
        }),
        None => {
            // A frame text holds a `;`: compare rendered lines (rare; costs their text).
            let c = Collapsed {
                parts,
                stacks,
                threads,
                lines,
            };
            let mut keyed: Vec<(String, Line)> = c.lines.iter().map(|&l| (c.text(&l), l)).collect();
            keyed.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
            return Ok(Collapsed {
                lines: keyed.into_iter().map(|(_, l)| l).collect(),
                ..c
            });
        }
    }
    Ok(Collapsed {
        parts,
        stacks,
        threads,
        lines,
    })
}

/// Thread ids, and one line (count, thread index, decoder stack id) per distinct pair (in no
/// particular order: the caller sorts them).
fn count_by_thread_and_stack(
    reader: &mut super::SampleReader<'_>,
) -> Result<(Vec<u64>, Vec<Line>), ProfileError> {
    // The decoder numbers stacks densely, so the usual case is one array increment: a
    // per-thread table of counts indexed by stack id while the tables' total stays under
    // DENSE_BUDGET entries (which bounds their memory), else a map. Counting in place, rather
    // than through a line index, keeps one dependent memory access per sample (the low-card
    // benchmark's main thread stalled on the second one).
    const DENSE_BUDGET: usize = 1 << 21;
    let mut threads: Vec<u64> = Vec::new();
    let mut thread_index: FxHashMap<u64, usize> = FxHashMap::default();
    // Reader slot (thread id, interpreter id) -> index into `threads`: an array lookup per
    // sample instead of hashing the thread id (4 interleaved threads change it every record).
    let mut slot_index: Vec<u32> = Vec::new();
    let mut dense: Vec<Vec<u32>> = Vec::new(); // per thread: stack id -> count
    let mut dense_total = 0usize;
    let mut index: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    while let Some(s) = reader.next_slot_stack() {
        let (rslot, sid) = s?;
        let t = match slot_index.get(rslot as usize) {
            Some(&t) if t != u32::MAX => t as usize,
            _ => {
                let Some((thread_id, _)) = reader.slot_thread(rslot) else {
                    continue;
                };
                // A map, not a scan: hostile files can name hundreds of thousands of threads.
                let t = *thread_index.entry(thread_id).or_insert_with(|| {
                    threads.push(thread_id);
                    dense.push(Vec::new());
                    threads.len() - 1
                });
                if slot_index.len() <= rslot as usize {
                    slot_index.resize(rslot as usize + 1, u32::MAX);
                }
                slot_index[rslot as usize] = t as u32;
                t
            }
        };
        let counts = &mut dense[t];
        let count = if (sid as usize) < counts.len() {
            &mut counts[sid as usize]
        } else if dense_total + (sid as usize + 1 - counts.len()) <= DENSE_BUDGET {
            dense_total += sid as usize + 1 - counts.len();
            counts.resize(sid as usize + 1, 0);
            &mut counts[sid as usize]
        } else {
            index.entry((t as u32, sid)).or_insert(0)
        };
        *count = count.saturating_add(1);
    }
    let mut lines: Vec<Line> = Vec::new();
    for (t, counts) in dense.iter().enumerate() {
        lines.extend(
            counts
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c > 0)
                .map(|(sid, &count)| Line {
                    count,
                    thread: t as u32,
                    stack: sid as u32,
                }),
        );
    }
    lines.extend(index.into_iter().map(|((thread, stack), count)| Line {
        count,
        thread,
        stack,
    }));
    Ok((threads, lines))
}

/// The collapsed stack (a node of `stacks`, frames are parts) of decoder stack `sid`: walks
/// up to the nearest ancestor already mapped in `memo`, then maps the chain top down, skipping
/// dropped frames. Each decoder node is mapped once.
fn collapse_node(
    sid: u32,
    tree: &StackTree,
    cmap: &[u32],
    memo: &mut [u32],
    chain: &mut Vec<u32>,
    stacks: &mut StackTree,
) -> u32 {
    chain.clear();
    let mut n = sid;
    while memo[n as usize] == UNKNOWN {
        chain.push(n);
        n = tree.parent(n);
    }
    let mut c = memo[n as usize];
    for &d in chain.iter().rev() {
        if let Some(&p) = cmap.get(tree.frame(d) as usize) {
            if p != DROPPED {
                c = stacks.child(c, p);
            }
        }
        memo[d as usize] = c;
    }
    c
}

/// For every node of `stacks` (stacks of parts), its rank in the byte order of the texts they
/// render to (parts joined by `;`); `None` if a part holds a `;`, which this ranking cannot
/// handle.
///
/// Every line's text is one node's path. Comparing two texts means comparing, below their last
/// common node, one child's part followed by `;` (the text goes on) or by nothing (it ends
/// there) with the other's; with `;`-free parts no such key is a prefix of a sibling's unless
/// the parts are equal. So sorting each node's children by those keys and walking the tree
/// depth first visits the texts in order. Parts from different files can render alike (same
/// basename): then the stacks are first re-keyed by text, so equal texts share one node.
fn rank_stacks(parts: &Parts, stacks: &StackTree) -> Option<Vec<u32>> {
    if parts.text.contains(';') {
        return None;
    }
    // Text id per part: equal texts share an id. Sorting by (text hash, text) groups them
    // while comparing strings only on equal hashes.
    let hash = |p: u32| {
        let mut h = rustc_hash::FxBuildHasher.build_hasher();
        h.write(parts.get(p).as_bytes());
        h.finish()
    };
    let mut order: Vec<(u64, u32)> = (0..parts.len() as u32).map(|p| (hash(p), p)).collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| parts.get(a.1).cmp(parts.get(b.1)))
    });
    let mut text_id = vec![0u32; parts.len()];
    let mut distinct = 0u32;
    for (k, &(h, p)) in order.iter().enumerate() {
        if k > 0 && (order[k - 1].0 != h || parts.get(order[k - 1].1) != parts.get(p)) {
            distinct += 1;
        }
        text_id[p as usize] = distinct;
    }
    drop(order);
    if distinct as usize + 1 >= parts.len() {
        // Every part renders differently: the stacks are their own text tree.
        return Some(rank_texts(stacks, |p| parts.get(p).as_bytes()));
    }
    let mut rep = vec![0u32; distinct as usize + 1];
    for (p, &t) in text_id.iter().enumerate() {
        rep[t as usize] = p as u32;
    }
    let mut texts = StackTree::new();
    let mut to_text = vec![ROOT; stacks.len()];
    // Parents precede children, so one pass in id order maps every node.
    for node in 1..stacks.len() as u32 {
        let parent = to_text[stacks.parent(node) as usize];
        to_text[node as usize] = texts.child(parent, text_id[stacks.frame(node) as usize]);
    }
    let text_rank = rank_texts(&texts, |t| parts.get(rep[t as usize]).as_bytes());
    Some(to_text.iter().map(|&t| text_rank[t as usize]).collect())
}

/// Depth-first rank of every node of a tree of `;`-free texts in the byte order of the texts
/// the nodes spell (joined by `;`): see [`rank_stacks`]. Siblings must have distinct texts.
fn rank_texts<'a>(texts: &StackTree, seg: impl Fn(u32) -> &'a [u8]) -> Vec<u32> {
    let n = texts.len();
    // Children lists (CSR): parents precede children, so one counting pass each way.
    let mut start = vec![0u32; n + 1];
    for id in 1..n as u32 {
        start[texts.parent(id) as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut kids = vec![0u32; n.saturating_sub(1)];
    for id in 1..n as u32 {
        let p = texts.parent(id) as usize;
        kids[fill[p] as usize] = id;
        fill[p] += 1;
    }
    drop(fill);
    let children = |p: u32| &kids[start[p as usize] as usize..start[p as usize + 1] as usize];
    let has_children = |p: u32| start[p as usize] != start[p as usize + 1];
    // Key of an entry: the child's segment, then `;` if the entry stands for its subtree.
    let cmp = |a: &(u32, bool), b: &(u32, bool)| -> Ordering {
        let (sa, sb) = (seg(texts.frame(a.0)), seg(texts.frame(b.0)));
        let n = sa.len().min(sb.len());
        // One memcmp for the common length; then the rest of the longer text, or the `;`.
        sa[..n].cmp(&sb[..n]).then_with(|| {
            let semi = |sub: bool| if sub { &b";"[..] } else { &[][..] };
            let ta = sa[n..].iter().chain(semi(a.1));
            let tb = sb[n..].iter().chain(semi(b.1));
            ta.cmp(tb)
        })
    };
    let mut rank = vec![u32::MAX; n];
    let mut next = 0u32;
    let mut entries: Vec<(u32, bool)> = Vec::new();
    let mut work: Vec<(u32, bool)> = vec![(ROOT, true)];
    while let Some((node, subtree)) = work.pop() {
        if !subtree {
            rank[node as usize] = next;
            next += 1;
            continue;
        }
        entries.clear();
        for &c in children(node) {
            entries.push((c, false));
            if has_children(c) {
                entries.push((c, true));
            }
        }
        entries.sort_unstable_by(cmp);
        work.extend(entries.iter().rev());
    }
    rank
}

impl Collapsed {
    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Writes the lines as `replay --collapsed` does: `<text> <count>\n`.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let tids: Vec<String> = self.threads.iter().map(|t| format!("tid:{t}")).collect();
        // Lines come in text order within each count, so consecutive lines mostly share a
        // prefix: keep the previous line's stack (root first) and its rendered text, and
        // render only the frames below the deepest node they share.
        let mut path: Vec<u32> = Vec::with_capacity(256);
        let mut ends: Vec<usize> = Vec::with_capacity(256);
        let mut text: Vec<u8> = Vec::with_capacity(1 << 12);
        let mut chain: Vec<u32> = Vec::with_capacity(256);
        let mut digits = [0u8; 20];
        for l in &self.lines {
            chain.clear();
            let mut n = l.stack;
            let mut d = self.stacks.depth(n);
            while n != ROOT && path.get(d - 1) != Some(&n) {
                chain.push(n);
                n = self.stacks.parent(n);
                d -= 1;
            }
            path.truncate(d);
            ends.truncate(d);
            text.truncate(ends.last().copied().unwrap_or(0));
            for &c in chain.iter().rev() {
                text.push(b';');
                text.extend_from_slice(self.parts.get(self.stacks.frame(c)).as_bytes());
                path.push(c);
                ends.push(text.len());
            }
            out.write_all(tids[l.thread as usize].as_bytes())?;
            out.write_all(&text)?;
            out.write_all(b" ")?;
            out.write_all(decimal(u64::from(l.count), &mut digits))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn text(&self, l: &Line) -> String {
        let mut text = format!("tid:{}", self.threads[l.thread as usize]);
        let frames: Vec<u32> = self.stacks.frames(l.stack).collect();
        for &p in frames.iter().rev() {
            text.push(';');
            text.push_str(self.parts.get(p));
        }
        text
    }

    /// The lines rendered (tests and small profiles; [`Collapsed::write`] streams them).
    pub fn lines(&self) -> Vec<CollapsedLine> {
        self.lines
            .iter()
            .map(|l| CollapsedLine {
                text: self.text(l),
                count: u64::from(l.count),
            })
            .collect()
    }
}

/// `n` in decimal, in the tail of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Writes lines as `replay --collapsed` does: `<text> <count>\n`.
pub fn write_collapsed(lines: &[CollapsedLine], out: &mut impl Write) -> std::io::Result<()> {
    for l in lines {
        out.write_all(l.text.as_bytes())?;
        writeln!(out, " {}", l.count)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn parts(texts: &[&str]) -> Parts {
        let mut p = Parts::default();
        for t in texts {
            p.text.push_str(t);
            p.ends.push(p.text.len() as u32);
        }
        p
    }

    fn render(parts: &Parts, stacks: &StackTree, node: u32) -> String {
        let mut f: Vec<u32> = stacks.frames(node).collect();
        f.reverse();
        f.iter()
            .map(|&p| parts.get(p))
            .collect::<Vec<_>>()
            .join(";")
    }

    #[test]
    fn stack_ranks_follow_the_byte_order_of_the_rendered_texts() {
        // Prefix relations around `;` (0x3b): `!` sorts before it, `z` and `é` after; two
        // parts render alike (same basename, different files), one is empty.
        let texts = [
            "a", "a!", "ab", "a:f:1", "a:f:12", "x.py:g:3", "x.py:g:3", "", "é",
        ];
        for unique in [false, true] {
            let texts: Vec<&str> = if unique {
                texts
                    .iter()
                    .copied()
                    .filter(|t| !t.is_empty())
                    .take(6)
                    .collect()
            } else {
                texts.to_vec()
            };
            let parts = parts(&texts);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let mut stacks = StackTree::new();
            let mut nodes = Vec::new();
            for _ in 0..400 {
                let depth = rng.gen_range(1..6);
                let s: Vec<u32> = (0..depth)
                    .map(|_| rng.gen_range(0..texts.len() as u32))
                    .collect();
                nodes.push(stacks.intern(&s));
            }
            let rank = rank_stacks(&parts, &stacks).unwrap();
            let mut by_rank = nodes.clone();
            by_rank.sort_by_key(|&n| rank[n as usize]);
            let got: Vec<String> = by_rank
                .iter()
                .map(|&n| render(&parts, &stacks, n))
                .collect();
            let mut want = got.clone();
            want.sort();
            assert_eq!(got, want, "unique texts: {unique}");
            // Equal texts get equal ranks; different texts different ones.
            for &a in &nodes {
                for &b in &nodes {
                    let same = render(&parts, &stacks, a) == render(&parts, &stacks, b);
                    assert_eq!(rank[a as usize] == rank[b as usize], same);
                }
            }
        }
    }

    #[test]
    fn a_part_with_a_semicolon_is_left_to_the_rendering_sort() {
        let parts = parts(&["a;b:f:1", "a"]);
        let mut stacks = StackTree::new();
        stacks.intern(&[0]);
        assert!(rank_stacks(&parts, &stacks).is_none());
    }
}
