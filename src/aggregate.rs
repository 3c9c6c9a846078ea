//! Aggregation: one decoded profile -> per-function self and cumulative sample counts.
//!
//! Function identity is a portable file path plus the qualified name, never the line number
//! (lines move between versions). Paths are made portable so that a baseline recorded on one
//! machine compares with a candidate from another:
//! - inside the workload's repository -> repo-relative (`src/app/core.py`)
//! - standard library -> `<stdlib>/json/encoder.py`
//! - site-packages / dist-packages -> `<site-packages>/pkg/mod.py`
//! - synthetic frames keep their names (`~` file with `<GC>` / `<native>`), and `<frozen runpy>`
//!   style names stay as they are.
//!
//! Cumulative counts count a function once per sample even when it recurses.

use serde::{Deserialize, Serialize};

/// A function, as compared across versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FunctionId {
    /// Portable file path (see module docs).
    pub file: String,
    /// Qualified name (`Klass.meth`, `main.<locals>.<lambda>`).
    pub name: String,
}

impl FunctionId {
    pub fn new(file: impl Into<String>, name: impl Into<String>) -> Self {
        FunctionId {
            file: file.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for FunctionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.name)
    }
}

/// Counts for one function in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionStat {
    #[serde(flatten)]
    pub function: FunctionId,
    /// Samples in which this function is the leaf.
    #[serde(rename = "self")]
    pub self_samples: u64,
    /// Samples in which this function is anywhere on the stack (once per sample).
    #[serde(rename = "cumulative")]
    pub cumulative_samples: u64,
}

/// A merged, function-level stack with its sample count: `frames` index into
/// [`RunAggregate::functions`], root first. Used for flame graphs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackCount {
    pub frames: Vec<u32>,
    pub count: u64,
}

/// Everything later stages need from one run's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunAggregate {
    /// All samples counted (after dropping ignored frames and empty stacks).
    pub total_samples: u64,
    /// Sorted by `function`.
    pub functions: Vec<FunctionStat>,
    /// The sampler's error rate for this run (percent, from the run record), when known.
    /// Failed samples fall unevenly across functions, so sides recorded at different error
    /// rates are not quite comparable; `compare` warns about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate_pct: Option<f64>,
    /// Function-level stacks (optional: baselines omit them to stay small).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stacks: Vec<StackCount>,
}

use crate::profile::{Profile, ProfileError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Why a profile could not be aggregated.
#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// Makes file paths portable (see the module docs for the rules).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathNormalizer {
    /// The workload's repository: paths under it become relative.
    pub repo_root: Option<PathBuf>,
}

impl PathNormalizer {
    pub fn new(repo_root: Option<PathBuf>) -> Self {
        PathNormalizer { repo_root }
    }

    pub fn normalize(&self, filename: &str) -> String {
        // Synthetic (`~`) and frozen/built-in (`<frozen runpy>`, `<string>`) names are already
        // portable and must not be mistaken for relative paths.
        if filename == "~" || filename.starts_with('<') {
            return filename.to_string();
        }
        // Installed packages first: a virtualenv inside the repository still holds third-party
        // code, and site-packages lives under lib/pythonX.Y too.
        for marker in ["/site-packages/", "/dist-packages/"] {
            if let Some(i) = filename.rfind(marker) {
                return format!("<site-packages>/{}", &filename[i + marker.len()..]);
            }
        }
        // The standard library before the repository: tachygate provisions its interpreter
        // inside the repository (`.tachygate/python`), and its stdlib must still compare equal
        // to a system interpreter's.
        if let Some(rest) = stdlib_relative(filename) {
            return format!("<stdlib>/{rest}");
        }
        if let Some(root) = &self.repo_root {
            if let Ok(rel) = Path::new(filename).strip_prefix(root) {
                if !rel.as_os_str().is_empty() {
                    return rel.to_string_lossy().into_owned();
                }
            }
        }
        filename.to_string()
    }
}

/// The part after `/lib/pythonX.Y/` (also `pythonX.Yt` free-threaded builds), if present.
fn stdlib_relative(filename: &str) -> Option<&str> {
    let mut search = filename;
    let mut consumed = 0;
    let mut found = None;
    while let Some(i) = search.find("/lib/python") {
        let after = &search[i + "/lib/python".len()..];
        if let Some(slash) = after.find('/') {
            let ver = &after[..slash];
            let ver_core = ver.strip_suffix('t').unwrap_or(ver);
            let valid = ver_core
                .split_once('.')
                .is_some_and(|(a, b)| is_digits(a) && is_digits(b));
            if valid {
                let start = consumed + i + "/lib/python".len() + slash + 1;
                found = Some(start);
            }
        }
        let step = i + 1;
        consumed += step;
        search = &search[step..];
    }
    found.map(|s| &filename[s..])
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// How to turn a profile into a [`RunAggregate`].
#[derive(Debug, Clone, Default)]
pub struct AggregateOptions {
    pub paths: PathNormalizer,
    /// Functions to drop from stacks, matched against `file:function` portable names
    /// (e.g. `<stdlib>/threading.py:*`).
    pub ignore: Option<globset::GlobSet>,
    /// Keep merged function-level stacks (for flame graphs).
    pub keep_stacks: bool,
}

const DROPPED: u32 = u32::MAX;

/// Aggregates all samples of all threads into per-function self and cumulative counts.
///
/// Profiler frames and ignored functions are dropped from each stack; stacks left empty are
/// skipped and do not count towards `total_samples`.
pub fn aggregate(
    profile: &Profile,
    opts: &AggregateOptions,
) -> Result<RunAggregate, AggregateError> {
    // Frame index -> provisional function id (first-seen order), or DROPPED.
    let mut fn_ids: HashMap<FunctionId, u32> = HashMap::new();
    let mut fn_list: Vec<FunctionId> = Vec::new();
    let mut norm_cache: HashMap<&str, String> = HashMap::new();
    let fmap: Vec<u32> = profile
        .frames()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if profile.is_profiler_frame(i as u32) {
                return DROPPED;
            }
            let raw = profile.filename(f);
            let file = norm_cache
                .entry(raw)
                .or_insert_with(|| opts.paths.normalize(raw))
                .clone();
            let id = FunctionId::new(file, profile.funcname(f));
            if let Some(set) = &opts.ignore {
                if set.is_match(id.to_string()) {
                    return DROPPED;
                }
            }
            *fn_ids.entry(id.clone()).or_insert_with(|| {
                fn_list.push(id);
                (fn_list.len() - 1) as u32
            })
        })
        .collect();

    // Weight per distinct raw stack: the decoder interns stacks and hands out dense ids, so
    // functions are resolved once per distinct stack instead of once per sample.
    let mut weights: Vec<u64> = Vec::new();
    let mut reader = profile.samples()?;
    while let Some(s) = reader.next_sample() {
        let s = s?;
        let id = s.stack_id as usize;
        if id >= weights.len() {
            weights.resize(id + 1, 0);
        }
        weights[id] += s.weight;
    }
    let stacks: Vec<(&[u32], u64)> = weights
        .iter()
        .enumerate()
        .filter(|(_, &w)| w > 0)
        .map(|(id, &w)| (reader.stack(id as u64).unwrap_or(&[]), w))
        .collect();

    let n = fn_list.len();
    let mut self_counts = vec![0u64; n];
    let mut cum_counts = vec![0u64; n];
    let mut seen = vec![false; n];
    let mut total = 0u64;
    let mut merged: HashMap<Vec<u32>, u64> = HashMap::new();
    let mut fstack: Vec<u32> = Vec::with_capacity(256);
    for &(raw, w) in &stacks {
        fstack.clear();
        // Root first.
        fstack.extend(
            raw.iter()
                .rev()
                .filter_map(|&f| fmap.get(f as usize).copied().filter(|&c| c != DROPPED)),
        );
        let Some(&leaf) = fstack.last() else { continue };
        total += w;
        self_counts[leaf as usize] += w;
        for &f in &fstack {
            if !seen[f as usize] {
                seen[f as usize] = true;
                cum_counts[f as usize] += w;
            }
        }
        for &f in &fstack {
            seen[f as usize] = false;
        }
        if opts.keep_stacks {
            *merged.entry(fstack.clone()).or_insert(0) += w;
        }
    }

    // Sort functions and renumber; functions never seen in a counted stack are omitted.
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&i| cum_counts[i as usize] > 0)
        .collect();
    order.sort_by(|&a, &b| fn_list[a as usize].cmp(&fn_list[b as usize]));
    let mut renumber = vec![u32::MAX; n];
    for (new, &old) in order.iter().enumerate() {
        renumber[old as usize] = new as u32;
    }
    let functions = order
        .iter()
        .map(|&i| FunctionStat {
            function: fn_list[i as usize].clone(),
            self_samples: self_counts[i as usize],
            cumulative_samples: cum_counts[i as usize],
        })
        .collect();
    let mut stacks: Vec<StackCount> = merged
        .into_iter()
        .map(|(frames, count)| StackCount {
            frames: frames.iter().map(|&f| renumber[f as usize]).collect(),
            count,
        })
        .collect();
    stacks.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.frames.cmp(&b.frames)));
    Ok(RunAggregate {
        total_samples: total,
        functions,
        // Known to the run record, not the profile: set by whoever holds both.
        error_rate_pct: None,
        stacks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_site_packages_and_dist_packages() {
        let p = PathNormalizer::default();
        assert_eq!(
            p.normalize("/venv/lib/python3.15/site-packages/numpy/core.py"),
            "<site-packages>/numpy/core.py"
        );
        assert_eq!(
            p.normalize("/usr/lib/python3/dist-packages/yaml/__init__.py"),
            "<site-packages>/yaml/__init__.py"
        );
    }

    #[test]
    fn normalize_stdlib() {
        let p = PathNormalizer::default();
        assert_eq!(
            p.normalize("/opt/py/lib/python3.15/json/encoder.py"),
            "<stdlib>/json/encoder.py"
        );
        assert_eq!(
            p.normalize("/usr/lib/python3.15t/threading.py"),
            "<stdlib>/threading.py"
        );
        // Not a version directory: left alone.
        assert_eq!(
            p.normalize("/srv/lib/pythonic/x.py"),
            "/srv/lib/pythonic/x.py"
        );
    }

    #[test]
    fn normalize_repo_relative_and_synthetic() {
        let p = PathNormalizer::new(Some(PathBuf::from("/home/ci/proj")));
        assert_eq!(
            p.normalize("/home/ci/proj/src/app/core.py"),
            "src/app/core.py"
        );
        // A sibling directory sharing the prefix string is not inside the repo.
        assert_eq!(
            p.normalize("/home/ci/project2/x.py"),
            "/home/ci/project2/x.py"
        );
        assert_eq!(p.normalize("~"), "~");
        assert_eq!(p.normalize("<frozen runpy>"), "<frozen runpy>");
        assert_eq!(
            p.normalize("/home/ci/proj/.venv/lib/python3.15/site-packages/req/api.py"),
            "<site-packages>/req/api.py"
        );
        // An interpreter provisioned inside the repository still has a portable stdlib.
        assert_eq!(
            p.normalize("/home/ci/proj/.tachygate/python/usr/lib/python3.15/threading.py"),
            "<stdlib>/threading.py"
        );
    }
}
