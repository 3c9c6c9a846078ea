//! Export of one profile in speedscope's file format
//! (<https://www.speedscope.app/file-format-schema.json>): one "sampled" profile per thread,
//! in time order, so speedscope's "Time Order" view shows what each thread did when, and its
//! "Left Heavy" and "Sandwich" views aggregate. Runs of identical consecutive samples of a
//! thread become one sample with their summed weight, which keeps files small for the long
//! flat stretches typical of a hot loop.
//!
//! Frames are identified the way `replay --collapsed` does (full filename, line, function;
//! profiler frames dropped), so the exported stacks and `inspect --collapsed` agree.

use crate::profile::collapsed::replay_lineno;
use crate::profile::{Profile, ProfileError};
use serde::Serialize;
use std::collections::HashMap;

pub const SCHEMA_URL: &str = "https://www.speedscope.app/file-format-schema.json";

/// The file (`FileFormat.File` in speedscope's schema).
#[derive(Debug, Clone, Serialize)]
pub struct File {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub name: String,
    pub exporter: String,
    #[serde(rename = "activeProfileIndex")]
    pub active_profile_index: usize,
    pub shared: Shared,
    pub profiles: Vec<SampledProfile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Shared {
    pub frames: Vec<Frame>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<i32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SampledProfile {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub unit: &'static str,
    #[serde(rename = "startValue")]
    pub start_value: u64,
    #[serde(rename = "endValue")]
    pub end_value: u64,
    /// Stacks as indices into `shared.frames`, root first.
    pub samples: Vec<Vec<usize>>,
    pub weights: Vec<u64>,
}

/// Status flag of a sample taken on the main thread.
const MAIN_THREAD: u8 = 32;

struct Thread {
    id: u64,
    main: bool,
    /// (stack id, samples) runs in time order.
    runs: Vec<(u64, u64)>,
}

/// Builds the speedscope file for `profile`; `name` is shown as the file's title.
pub fn export(profile: &Profile, name: &str) -> Result<File, ProfileError> {
    let interval = profile.meta().interval_us;
    // Without a sampling interval the weights can only be counts.
    let (unit, per_sample) = if interval > 0 {
        ("microseconds", interval)
    } else {
        ("none", 1)
    };
    let mut threads: Vec<Thread> = Vec::new();
    let mut slot: HashMap<u64, usize> = HashMap::new();
    let mut reader = profile.samples()?;
    while let Some(s) = reader.next_sample() {
        let s = s?;
        let i = *slot.entry(s.thread_id).or_insert_with(|| {
            threads.push(Thread {
                id: s.thread_id,
                main: false,
                runs: Vec::new(),
            });
            threads.len() - 1
        });
        let t = &mut threads[i];
        t.main |= s.status & MAIN_THREAD != 0;
        match t.runs.last_mut() {
            Some((sid, n)) if *sid == s.stack_id => *n += s.weight,
            _ => t.runs.push((s.stack_id, s.weight)),
        }
    }

    // Frames are shared by all threads: one per (file, line, function), like `replay`.
    let mut frames: Vec<Frame> = Vec::new();
    let mut frame_ids: HashMap<(&str, i32, &str), usize> = HashMap::new();
    let mut by_index: Vec<Option<usize>> = Vec::with_capacity(profile.frames().len());
    for (i, f) in profile.frames().iter().enumerate() {
        if profile.is_profiler_frame(i as u32) {
            by_index.push(None);
            continue;
        }
        let (file, func, line) = (
            profile.filename(f),
            profile.funcname(f),
            replay_lineno(f.lineno),
        );
        let id = *frame_ids.entry((file, line, func)).or_insert_with(|| {
            // `~` with line 0 is a synthetic frame (`<GC>`, `<native>`): no source location.
            let synthetic = file == "~" && line == 0;
            frames.push(Frame {
                name: func.to_string(),
                file: (!synthetic).then(|| file.to_string()),
                line: (line > 0).then_some(line),
            });
            frames.len() - 1
        });
        by_index.push(Some(id));
    }

    let mut stacks: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut profiles = Vec::with_capacity(threads.len());
    for t in &threads {
        let mut samples = Vec::with_capacity(t.runs.len());
        let mut weights = Vec::with_capacity(t.runs.len());
        for &(sid, n) in &t.runs {
            let stack = stacks.entry(sid).or_insert_with(|| {
                reader
                    .stack(sid)
                    .unwrap_or_default()
                    .iter()
                    .rev()
                    .filter_map(|&f| by_index.get(f as usize).copied().flatten())
                    .collect()
            });
            // Only profiler frames (or none): `replay` drops such samples too.
            if stack.is_empty() {
                continue;
            }
            // Consecutive samples can become equal once profiler frames are dropped.
            if samples.last() == Some(&*stack) {
                if let Some(w) = weights.last_mut() {
                    *w += n * per_sample;
                }
                continue;
            }
            samples.push(stack.clone());
            weights.push(n * per_sample);
        }
        profiles.push(SampledProfile {
            kind: "sampled",
            name: format!("thread {}{}", t.id, if t.main { " (main)" } else { "" }),
            unit,
            start_value: 0,
            end_value: weights.iter().sum(),
            samples,
            weights,
        });
    }
    // speedscope opens on the busiest thread (the first of equals): in a threaded program the
    // main thread often only waits.
    let active = profiles
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.end_value.cmp(&b.end_value).then(j.cmp(i)))
        .map_or(0, |(i, _)| i);
    Ok(File {
        schema: SCHEMA_URL,
        name: name.to_string(),
        exporter: format!(
            "tachygate {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            env!("TACHYGATE_GIT_COMMIT")
        ),
        active_profile_index: active,
        shared: Shared { frames },
        profiles,
    })
}
