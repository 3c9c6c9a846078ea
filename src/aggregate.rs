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

/// Data for the candidate's flame graph: function-level stacks plus the function table they
/// index into. Frames are coloured by their function's cumulative `delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FlameData {
    pub functions: Vec<FunctionId>,
    pub stacks: Vec<StackCount>,
}

use crate::profile::stack_tree::{StackTree, ROOT};
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

/// Decodes the profile at `path` and aggregates it: the stage's entry point for a profile
/// on disk.
pub fn aggregate_file(
    path: &Path,
    opts: &AggregateOptions,
) -> Result<RunAggregate, AggregateError> {
    aggregate(&Profile::open(path)?, opts)
}

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
    // The frame table has one entry per (location, column, opcode): often 100x more entries
    // than functions. Resolve each (filename, funcname) string pair once.
    let mut by_strings: rustc_hash::FxHashMap<(u32, u32), u32> = Default::default();
    let fmap: Vec<u32> = profile
        .frames()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if profile.is_profiler_frame(i as u32) {
                return DROPPED;
            }
            *by_strings
                .entry((f.filename, f.funcname))
                .or_insert_with(|| {
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
        })
        .collect();
    drop(by_strings);

    // Samples per decoder stack. The decoder interns stacks as a prefix tree (parents before
    // children) and hands out node ids, so nothing here is per sample beyond one increment, and
    // the per-function counts below are one pass over the tree, never a walk per stack.
    let mut weights: Vec<u64> = Vec::new();
    let mut reader = profile.samples()?;
    while let Some(s) = reader.next_stack_id() {
        let (_, id) = s?;
        let id = id as usize;
        if id >= weights.len() {
            weights.resize(id + 1, 0);
        }
        weights[id] += 1;
    }
    let tree = reader.stack_tree();
    weights.resize(tree.len(), 0);

    let mut merged: HashMap<Vec<u32>, u64> = HashMap::new();
    if opts.keep_stacks {
        let mut fstack: Vec<u32> = Vec::with_capacity(256);
        for (node, &w) in weights.iter().enumerate().skip(1) {
            if w == 0 {
                continue;
            }
            fstack.clear();
            fstack.extend(
                tree.frames(node as u32)
                    .filter_map(|f| fmap.get(f as usize).copied().filter(|&c| c != DROPPED)),
            );
            if fstack.is_empty() {
                continue;
            }
            fstack.reverse(); // root first
            *merged.entry(fstack.clone()).or_insert(0) += w;
        }
    }
    let n = fn_list.len();
    let (self_counts, cum_counts, total) = count_functions(tree, &fmap, weights, n);

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

/// Self and cumulative samples per function (and their total) over the decoder's stack tree,
/// from the samples per node (`own`, consumed). `fmap` maps a frame to its function or DROPPED.
///
/// - self: a node's samples go to its innermost kept function (none: the stack is empty once
///   dropped frames are removed, and its samples are not counted at all);
/// - cumulative: a function counts a sample once however deep it recurses, so it gets the
///   subtree total of each node where it appears with no ancestor of the same function.
///
/// Linear in the number of nodes: a few words per node, nothing per sample or per frame of
/// each stack.
fn count_functions(
    tree: &StackTree,
    fmap: &[u32],
    mut own: Vec<u64>,
    nfuncs: usize,
) -> (Vec<u64>, Vec<u64>, u64) {
    let n = tree.len();
    let func = |node: u32| -> u32 {
        if node == ROOT {
            DROPPED
        } else {
            fmap.get(tree.frame(node) as usize)
                .copied()
                .unwrap_or(DROPPED)
        }
    };
    let mut self_counts = vec![0u64; nfuncs];
    let mut total = 0u64;
    {
        // Innermost kept function per node; parents come before children.
        let mut leaf = vec![DROPPED; n];
        for node in 1..n as u32 {
            let f = func(node);
            let l = if f != DROPPED {
                f
            } else {
                leaf[tree.parent(node) as usize]
            };
            leaf[node as usize] = l;
            let w = own[node as usize];
            if w > 0 && l != DROPPED {
                self_counts[l as usize] += w;
                total += w;
            }
        }
    }
    // Subtree totals, children before parents.
    for node in (1..n as u32).rev() {
        let w = own[node as usize];
        own[tree.parent(node) as usize] += w;
    }
    let subtree = own;
    // Children lists (CSR), then a depth-first walk counting how often each function is on
    // the current path.
    let mut start = vec![0u32; n + 1];
    for node in 1..n as u32 {
        start[tree.parent(node) as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut kids = vec![0u32; n.saturating_sub(1)];
    {
        let mut fill = start.clone();
        for node in 1..n as u32 {
            let p = tree.parent(node) as usize;
            kids[fill[p] as usize] = node;
            fill[p] += 1;
        }
    }
    let children = |p: u32| &kids[start[p as usize] as usize..start[p as usize + 1] as usize];
    let mut on_path = vec![0u32; nfuncs];
    let mut cum_counts = vec![0u64; nfuncs];
    // (node, leaving): leaving entries undo the node's function on the path.
    let mut work: Vec<(u32, bool)> = children(ROOT).iter().map(|&c| (c, false)).collect();
    while let Some((node, leaving)) = work.pop() {
        let f = func(node);
        if leaving {
            on_path[f as usize] -= 1;
            continue;
        }
        if subtree[node as usize] == 0 {
            continue;
        }
        if f != DROPPED {
            if on_path[f as usize] == 0 {
                cum_counts[f as usize] += subtree[node as usize];
            }
            on_path[f as usize] += 1;
            work.push((node, true));
        }
        work.extend(children(node).iter().map(|&c| (c, false)));
    }
    (self_counts, cum_counts, total)
}

/// Merges runs' function stacks into one table (the candidate's flame graph, and the stacks
/// the comparison attributes callers' changes by); `None` when the runs kept no stacks
/// (baselines never do).
pub fn merge_stacks(runs: &[RunAggregate]) -> Option<FlameData> {
    let mut table: Vec<FunctionId> = Vec::new();
    let mut ids: HashMap<FunctionId, u32> = HashMap::new();
    let mut merged: HashMap<Vec<u32>, u64> = HashMap::new();
    for run in runs {
        for st in &run.stacks {
            let mut frames = Vec::with_capacity(st.frames.len());
            for &fr in &st.frames {
                // An out-of-range index means a malformed aggregate: skip the stack rather
                // than draw a wrong one.
                let Some(f) = run.functions.get(fr as usize) else {
                    frames.clear();
                    break;
                };
                let next = table.len() as u32;
                let id = *ids.entry(f.function.clone()).or_insert_with(|| {
                    table.push(f.function.clone());
                    next
                });
                frames.push(id);
            }
            if !frames.is_empty() {
                *merged.entry(frames).or_insert(0) += st.count;
            }
        }
    }
    if merged.is_empty() {
        return None;
    }
    let mut stacks: Vec<StackCount> = merged
        .into_iter()
        .map(|(frames, count)| StackCount { frames, count })
        .collect();
    stacks.sort_by(|a, b| a.frames.cmp(&b.frames));
    Some(FlameData {
        functions: table,
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
