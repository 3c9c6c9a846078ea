//! `replay --collapsed` rendering, byte for byte.
//!
//! CPython sums samples by (stack of (full filename, line, funcname), thread id) after dropping
//! profiler frames, renders each frame as `basename:funcname:line` (bare funcname for the
//! synthetic `~` frames with line 0), and sorts lines by count descending then text ascending.
//! Grouping is by full path, so two files with one basename give identical-looking separate
//! lines; we keep that quirk because the output must match the oracle exactly.

use super::fxhash::{FxHashMap, StackTable};
use super::{Profile, ProfileError};
use std::collections::HashMap;
use std::io::Write;

/// One output line: `text` without the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollapsedLine {
    pub text: String,
    pub count: u64,
}

const DROPPED: u32 = u32::MAX;

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

struct IdSample {
    thread_id: u64,
    stack_id: u64,
    weight: u64,
}

/// Decodes all samples and returns the collapsed lines in `replay`'s order.
pub fn collapse(profile: &Profile) -> Result<Vec<CollapsedLine>, ProfileError> {
    // Frames identical in (filename, line, funcname) collapse into one id; profiler frames drop.
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

    // Pass 1, per sample: count by (thread id, stack id). The decoder interns stacks, so the
    // usual case is two array lookups: a per-thread table indexed by stack id (for the first
    // DENSE_THREADS threads and ids below DENSE_IDS, which bounds its memory), else a map.
    const DENSE_THREADS: usize = 32;
    const DENSE_IDS: u64 = 1 << 16;
    let mut dense: Vec<(u64, Vec<u32>)> = Vec::new(); // per thread: stack id -> entry + 1
    let mut index: FxHashMap<(u64, u64), usize> = FxHashMap::default();
    let mut raw: Vec<(u64, u64, u64)> = Vec::new(); // (thread id, stack id, count)
    let mut last: Option<(u64, u64, usize)> = None;
    let mut t = 0usize;
    let mut reader = profile.samples()?;
    while let Some(s) = reader.next_stack_id() {
        let (thread_id, stack_id) = s?;
        let s = IdSample {
            thread_id,
            stack_id,
            weight: 1,
        };
        if let Some((tid, sid, e)) = last {
            if tid == s.thread_id && sid == s.stack_id {
                raw[e].2 += s.weight;
                continue;
            }
        }
        if dense.get(t).map_or(true, |d| d.0 != s.thread_id) {
            t = match dense.iter().position(|d| d.0 == s.thread_id) {
                Some(i) => i,
                None if dense.len() < DENSE_THREADS => {
                    dense.push((s.thread_id, Vec::new()));
                    dense.len() - 1
                }
                None => usize::MAX,
            };
        }
        let e = match dense.get_mut(t) {
            Some((_, ids)) if s.stack_id < DENSE_IDS => {
                let sid = s.stack_id as usize;
                if sid >= ids.len() {
                    ids.resize(sid + 1, 0);
                }
                if ids[sid] == 0 {
                    raw.push((s.thread_id, s.stack_id, 0));
                    ids[sid] = raw.len() as u32;
                }
                (ids[sid] - 1) as usize
            }
            _ => *index.entry((s.thread_id, s.stack_id)).or_insert_with(|| {
                raw.push((s.thread_id, s.stack_id, 0));
                raw.len() - 1
            }),
        };
        raw[e].2 += s.weight;
        last = Some((s.thread_id, s.stack_id, e));
    }
    drop(index);
    drop(dense);

    // Pass 2, per distinct (thread, stack): map to (thread id, collapsed frames), dropping
    // profiler frames, and merge stacks that render alike (frames differing only in
    // column/opcode).
    let mut table = StackTable::new();
    let mut counts: Vec<(u64, u64)> = Vec::new(); // (thread id, count) per entry
    let mut key: Vec<u32> = Vec::with_capacity(258);
    for &(tid, sid, weight) in &raw {
        let stack = reader.stack(sid).unwrap_or(&[]);
        key.clear();
        key.push(tid as u32);
        key.push((tid >> 32) as u32);
        key.extend(
            stack
                .iter()
                .filter_map(|&f| cmap.get(f as usize).copied().filter(|&c| c != DROPPED)),
        );
        if key.len() == 2 {
            continue;
        }
        let id = table.intern(&key);
        if id == counts.len() {
            counts.push((tid, 0));
        }
        counts[id].1 += weight;
    }
    let keys: Vec<&[u32]> = (0..table.len()).map(|i| table.key(i)).collect();

    let mut lines: Vec<CollapsedLine> = keys
        .iter()
        .zip(&counts)
        .map(|(k, &(tid, count))| {
            let mut text = format!("tid:{tid}");
            for &c in k[2..].iter().rev() {
                text.push(';');
                text.push_str(parts.get(c as usize).map_or("", String::as_str));
            }
            CollapsedLine { text, count }
        })
        .collect();
    // Stable sort, like Python's: equal lines keep first-seen order (they are identical anyway).
    lines.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.text.cmp(&b.text)));
    Ok(lines)
}

/// Writes lines as `replay --collapsed` does: `<text> <count>\n`.
pub fn write_collapsed(lines: &[CollapsedLine], out: &mut impl Write) -> std::io::Result<()> {
    for l in lines {
        out.write_all(l.text.as_bytes())?;
        writeln!(out, " {}", l.count)?;
    }
    Ok(())
}
