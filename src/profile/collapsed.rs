//! `replay --collapsed` rendering, byte for byte.
//!
//! CPython sums samples by (stack of (full filename, line, funcname), thread id) after dropping
//! profiler frames, renders each frame as `basename:funcname:line` (bare funcname for the
//! synthetic `~` frames with line 0), and sorts lines by count descending then text ascending.
//! Grouping is by full path, so two files with one basename give identical-looking separate
//! lines; we keep that quirk because the output must match the oracle exactly.

use super::fxhash::FxHashMap;
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

    // Key: thread id as two u32 words, then collapsed frame ids innermost first.
    let mut table: FxHashMap<Box<[u32]>, usize> = FxHashMap::default();
    let mut counts: Vec<(u64, u64)> = Vec::new(); // (thread id, count) per entry
    let mut keys: Vec<Box<[u32]>> = Vec::new();
    let mut key: Vec<u32> = Vec::with_capacity(258);
    let mut last: Option<(u64, Option<usize>)> = None;

    let mut reader = profile.samples()?;
    while let Some(s) = reader.next_sample() {
        let s = s?;
        if let Some((id, entry)) = last {
            if id == s.stack_id {
                if let Some(e) = entry {
                    counts[e].1 += s.weight;
                }
                continue;
            }
        }
        key.clear();
        key.push(s.thread_id as u32);
        key.push((s.thread_id >> 32) as u32);
        key.extend(
            s.stack
                .iter()
                .filter_map(|&f| cmap.get(f as usize).copied().filter(|&c| c != DROPPED)),
        );
        let entry = if key.len() == 2 {
            None
        } else if let Some(&e) = table.get(key.as_slice()) {
            counts[e].1 += s.weight;
            Some(e)
        } else {
            let e = counts.len();
            counts.push((s.thread_id, s.weight));
            let boxed: Box<[u32]> = key.as_slice().into();
            keys.push(boxed.clone());
            table.insert(boxed, e);
            Some(e)
        };
        last = Some((s.stack_id, entry));
    }

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
