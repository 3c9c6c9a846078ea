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
use std::collections::HashMap;
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

/// One output line before rendering.
#[derive(Debug, Clone, Copy)]
struct Line {
    count: u64,
    /// Rank of the thread's `tid:N;` prefix among all threads'.
    thread_rank: u32,
    /// Rank of the stack's text among all lines' stack texts.
    text_rank: u32,
    thread_id: u64,
    /// Node in [`Collapsed::stacks`].
    stack: u32,
}

/// All collapsed lines of a profile in `replay`'s order, held as tree nodes; render them with
/// [`Collapsed::write`] (or [`Collapsed::lines`] in tests).
#[derive(Debug)]
pub struct Collapsed {
    /// Rendered frames (`basename:func:line`), one per distinct (file, line, function).
    parts: Vec<String>,
    /// Stacks of indices into `parts`.
    stacks: StackTree,
    lines: Vec<Line>,
}

/// Decodes all samples and returns the collapsed lines in `replay`'s order.
pub fn collapse(profile: &Profile) -> Result<Vec<CollapsedLine>, ProfileError> {
    Ok(collapse_stacks(profile)?.lines())
}

/// Decodes all samples and orders the collapsed lines without rendering them.
pub fn collapse_stacks(profile: &Profile) -> Result<Collapsed, ProfileError> {
    // Frames identical in (filename, line, funcname) collapse into one part; profiler frames drop.
    let mut ids: HashMap<(&str, i32, &str), u32> = HashMap::new();
    let mut parts: Vec<String> = Vec::new();
    let cmap: Vec<u32> = profile
        .frames()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if profile.is_profiler_frame(i as u32) {
                return DROPPED;
            }
            let file = profile.filename(f);
            let func = profile.funcname(f);
            let line = replay_lineno(f.lineno);
            *ids.entry((file, line, func)).or_insert_with(|| {
                parts.push(render_frame(file, func, line));
                (parts.len() - 1) as u32
            })
        })
        .collect();
    drop(ids);

    // Pass 1, per sample: count by (thread, decoder stack node).
    let mut reader = profile.samples()?;
    let raw = count_by_thread_and_stack(&mut reader)?;

    // Pass 2, per distinct (thread, stack): map the decoder's stack (raw frame indices) to a
    // stack of parts, dropping profiler frames, and merge stacks that render alike (frames
    // differing only in column/opcode).
    let tree = reader.stack_tree();
    let mut stacks = StackTree::new();
    let mut memo = vec![UNKNOWN; tree.len()];
    memo[ROOT as usize] = ROOT;
    let mut chain: Vec<u32> = Vec::with_capacity(256);
    let mut merged: FxHashMap<(u64, u32), usize> = FxHashMap::default();
    let mut lines: Vec<Line> = Vec::new();
    for (thread_id, sid, count) in raw {
        // Stack ids come from this reader, so they are nodes of its tree.
        let node = collapse_node(sid as u32, tree, &cmap, &mut memo, &mut chain, &mut stacks);
        if node == ROOT {
            continue;
        }
        let e = *merged.entry((thread_id, node)).or_insert_with(|| {
            lines.push(Line {
                count: 0,
                thread_rank: 0,
                text_rank: 0,
                thread_id,
                stack: node,
            });
            lines.len() - 1
        });
        lines[e].count += count;
    }
    drop(merged);
    drop(memo);
    drop(reader);

    // Text order: thread prefixes first (`tid:12;` sorts after `tid:123;`), then the stack text.
    let mut tids: Vec<u64> = lines.iter().map(|l| l.thread_id).collect();
    tids.sort_unstable();
    tids.dedup();
    let mut tid_keys: Vec<(String, u64)> = tids.iter().map(|t| (format!("tid:{t};"), *t)).collect();
    tid_keys.sort_unstable();
    let tid_rank: FxHashMap<u64, u32> = tid_keys
        .iter()
        .enumerate()
        .map(|(i, (_, t))| (*t, i as u32))
        .collect();
    let text_rank = rank_lines(&parts, &stacks, lines.iter().map(|l| l.stack));
    for l in &mut lines {
        l.thread_rank = tid_rank[&l.thread_id];
        l.text_rank = text_rank[l.stack as usize];
    }
    // Equal (count, thread, text) means identical lines, so an unstable sort is exact.
    lines.sort_unstable_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.thread_rank.cmp(&b.thread_rank))
            .then(a.text_rank.cmp(&b.text_rank))
    });
    Ok(Collapsed {
        parts,
        stacks,
        lines,
    })
}

/// (thread id, stack id, count) per distinct pair, in first-seen order.
fn count_by_thread_and_stack(
    reader: &mut super::SampleReader<'_>,
) -> Result<Vec<(u64, u64, u64)>, ProfileError> {
    // The decoder numbers stacks densely, so the usual case is one array lookup: a per-thread
    // table indexed by stack id while the tables' total stays under DENSE_BUDGET entries (which
    // bounds their memory), else a map.
    const DENSE_BUDGET: usize = 1 << 21;
    let mut dense: Vec<(u64, Vec<u32>)> = Vec::new(); // per thread: stack id -> entry + 1
    let mut dense_total = 0usize;
    let mut index: FxHashMap<(u64, u64), usize> = FxHashMap::default();
    let mut raw: Vec<(u64, u64, u64)> = Vec::new();
    let mut last: Option<(u64, u64, usize)> = None;
    let mut t = usize::MAX;
    while let Some(s) = reader.next_stack_id() {
        let (thread_id, stack_id) = s?;
        if let Some((tid, sid, e)) = last {
            if tid == thread_id && sid == stack_id {
                raw[e].2 += 1;
                continue;
            }
        }
        if dense.get(t).map_or(true, |d| d.0 != thread_id) {
            t = match dense.iter().position(|d| d.0 == thread_id) {
                Some(i) => i,
                None if dense.len() < 64 => {
                    dense.push((thread_id, Vec::new()));
                    dense.len() - 1
                }
                None => usize::MAX,
            };
        }
        let slot = match dense.get_mut(t) {
            Some((_, ids)) if (stack_id as usize) < ids.len() => Some(&mut ids[stack_id as usize]),
            Some((_, ids)) if dense_total + (stack_id as usize + 1 - ids.len()) <= DENSE_BUDGET => {
                dense_total += stack_id as usize + 1 - ids.len();
                ids.resize(stack_id as usize + 1, 0);
                Some(&mut ids[stack_id as usize])
            }
            _ => None,
        };
        let e = match slot {
            Some(slot) => {
                if *slot == 0 {
                    raw.push((thread_id, stack_id, 0));
                    *slot = raw.len() as u32;
                }
                (*slot - 1) as usize
            }
            None => *index.entry((thread_id, stack_id)).or_insert_with(|| {
                raw.push((thread_id, stack_id, 0));
                raw.len() - 1
            }),
        };
        raw[e].2 += 1;
        last = Some((thread_id, stack_id, e));
    }
    Ok(raw)
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

/// For each node of `stacks` that ends a line, its rank in the byte order of the lines' texts
/// (the parts joined by `;`). Other entries are unspecified.
///
/// The texts are arranged as a tree of `;`-free segments (a part containing `;` spans several),
/// merging equal segments under one parent: every line's text is then one node's path, and
/// comparing two texts means comparing, below their last common node, one child's segment
/// followed by `;` (the text goes on) or by nothing (it ends there) with the other's. Sorting
/// each node's children by those keys and walking the tree depth first visits the texts in
/// order.
fn rank_lines(parts: &[String], stacks: &StackTree, ends: impl Iterator<Item = u32>) -> Vec<u32> {
    // Segments, deduplicated by text.
    let mut seg_ids: HashMap<&str, u32> = HashMap::new();
    let mut segs: Vec<&str> = Vec::new();
    let mut part_segs: Vec<Vec<u32>> = Vec::with_capacity(parts.len());
    for p in parts {
        part_segs.push(
            p.split(';')
                .map(|s| {
                    *seg_ids.entry(s).or_insert_with(|| {
                        segs.push(s);
                        (segs.len() - 1) as u32
                    })
                })
                .collect(),
        );
    }
    // Text tree: each line's parts, root first, as segments.
    let mut texts = StackTree::new();
    let mut memo = vec![UNKNOWN; stacks.len()];
    memo[ROOT as usize] = ROOT;
    let mut line_text: Vec<(u32, u32)> = Vec::new();
    let mut chain: Vec<u32> = Vec::with_capacity(256);
    for end in ends {
        chain.clear();
        let mut n = end;
        while memo[n as usize] == UNKNOWN {
            chain.push(n);
            n = stacks.parent(n);
        }
        let mut t = memo[n as usize];
        for &c in chain.iter().rev() {
            for &s in &part_segs[stacks.frame(c) as usize] {
                t = texts.child(t, s);
            }
            memo[c as usize] = t;
        }
        line_text.push((end, memo[end as usize]));
    }
    let text_rank = rank_texts(&texts, |s| segs[s as usize].as_bytes());
    let mut rank = memo; // reuse: stack node -> rank
    for (end, t) in line_text {
        rank[end as usize] = text_rank[t as usize];
    }
    rank
}

/// Depth-first rank of every node of a tree of `;`-free segments in the byte order of the
/// texts the nodes spell (segments joined by `;`): see [`rank_lines`]. Siblings must have
/// distinct segment texts.
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
        let ka = seg(texts.frame(a.0)).iter().chain(if a.1 { &b";"[..] } else { &[] });
        let kb = seg(texts.frame(b.0)).iter().chain(if b.1 { &b";"[..] } else { &[] });
        ka.cmp(kb)
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
        let mut chain: Vec<u32> = Vec::with_capacity(256);
        for l in &self.lines {
            write!(out, "tid:{}", l.thread_id)?;
            chain.clear();
            chain.extend(self.stacks.frames(l.stack));
            for &p in chain.iter().rev() {
                out.write_all(b";")?;
                out.write_all(self.parts[p as usize].as_bytes())?;
            }
            writeln!(out, " {}", l.count)?;
        }
        Ok(())
    }

    /// The lines rendered (tests and small profiles; [`Collapsed::write`] streams them).
    pub fn lines(&self) -> Vec<CollapsedLine> {
        self.lines
            .iter()
            .map(|l| {
                let mut text = format!("tid:{}", l.thread_id);
                let frames: Vec<u32> = self.stacks.frames(l.stack).collect();
                for &p in frames.iter().rev() {
                    text.push(';');
                    text.push_str(&self.parts[p as usize]);
                }
                CollapsedLine {
                    text,
                    count: l.count,
                }
            })
            .collect()
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
