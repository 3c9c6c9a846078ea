//! `replay --collapsed` rendering, byte for byte.
//!
//! CPython sums samples by (stack of (full filename, line, funcname), thread id) after dropping
//! profiler frames, renders each frame as `basename:funcname:line` (bare funcname for the
//! synthetic `~` frames with line 0), and sorts lines by count descending then text ascending.
//! Grouping is by full path, so two files with one basename give identical-looking separate
//! lines; we keep that quirk because the output must match the oracle exactly.

use super::fxhash::StackTable;
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

    // Pass 1, per sample: count raw stacks (frame indices as decoded) per thread id. Interning
    // the decoder's slice directly avoids building a key per sample; REPEAT runs skip even that.
    let mut per_thread: Vec<(u64, StackTable, Vec<u64>)> = Vec::new();
    let mut last_stack: Option<(u64, usize)> = None;
    let mut t = 0usize;
    let mut reader = profile.samples()?;
    while let Some(s) = reader.next_sample() {
        let s = s?;
        if let Some((id, e)) = last_stack {
            if id == s.stack_id {
                per_thread[t].2[e] += s.weight;
                continue;
            }
        }
        if per_thread.get(t).map_or(true, |p| p.0 != s.thread_id) {
            t = match per_thread.iter().position(|p| p.0 == s.thread_id) {
                Some(i) => i,
                None => {
                    per_thread.push((s.thread_id, StackTable::new(), Vec::new()));
                    per_thread.len() - 1
                }
            };
        }
        let (_, table, counts) = &mut per_thread[t];
        let e = table.intern(s.stack);
        if e == counts.len() {
            counts.push(0);
        }
        counts[e] += s.weight;
        last_stack = Some((s.stack_id, e));
    }

    // Pass 2, per distinct raw stack: map to (thread id, collapsed frames), dropping profiler
    // frames, and merge raw stacks that render alike (frames differing only in column/opcode).
    let mut table = StackTable::new();
    let mut counts: Vec<(u64, u64)> = Vec::new(); // (thread id, count) per entry
    let mut key: Vec<u32> = Vec::with_capacity(258);
    for (tid, raw, raw_counts) in &per_thread {
        for (e, &weight) in raw_counts.iter().enumerate() {
            key.clear();
            key.push(*tid as u32);
            key.push((*tid >> 32) as u32);
            key.extend(
                raw.key(e)
                    .iter()
                    .filter_map(|&f| cmap.get(f as usize).copied().filter(|&c| c != DROPPED)),
            );
            if key.len() == 2 {
                continue;
            }
            let id = table.intern(&key);
            if id == counts.len() {
                counts.push((*tid, 0));
            }
            counts[id].1 += weight;
        }
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
