//! The differential flame graph's data: the candidate's function-level stacks merged into a
//! tree, each function tagged with its change, serialised compactly for the page's script
//! (which only lays the tree out and draws it).
//!
//! Frames are coloured by the function's **self** change: the functions whose own cost
//! changed stand out, and their callers - whose cumulative share merely contains the change -
//! stay neutral, outlined as carriers. Coloured by cumulative change, `main` was painted as
//! dark as the culprit.
//!
//! Stacks come from a file: frame indices are checked against the function table and stacks
//! with an out-of-range index are dropped, never indexed blindly.

use super::format::pp;
use super::sanitize::{clean_line, json_for_script};
use crate::compare::{FlameData, FunctionComparison, Metric, Verdict};
use serde::Serialize;
use std::collections::HashMap;

/// Beyond this many nodes the smallest subtrees are dropped: they would be far below a pixel
/// wide, and every node costs ~15 bytes of HTML.
pub const MAX_NODES: usize = 120_000;

pub struct FlameBuilt {
    /// Ready to embed in `<script type="application/json">`.
    pub json: String,
    pub nodes: usize,
    pub pruned: bool,
}

#[derive(Serialize)]
struct FlameJson<'a> {
    total: u64,
    /// Per function: `[name, file, self change text or "", self verdict or "", colour class
    /// -3..3 (from the self change), cumulative change text or "", cumulative verdict or "",
    /// role: "culprit" (own cost changed), "carrier" (carries a culprit's change) or ""]`.
    #[serde(rename = "fn")]
    functions: Vec<FlameFn<'a>>,
    /// Flat preorder `[parent, function, samples, ...]`; node 0 is the root (`parent` and
    /// `function` -1), parents always precede their children.
    n: Vec<i64>,
    dropped_stacks: usize,
}

type FlameFn<'a> = (
    String,
    String,
    String,
    &'a str,
    i8,
    String,
    &'a str,
    &'static str,
);

struct Node {
    func: u32,
    value: u64,
    children: Vec<u32>,
}

/// Colour class: sign = direction (red grew, blue shrank), magnitude 1..3 = size of the
/// change in multiples of `min_effect` (<2, <4, >=4); 0 = within noise or not compared.
fn colour(f: &FunctionComparison) -> i8 {
    let dir: i8 = match f.verdict {
        Verdict::Regressed | Verdict::New => 1,
        Verdict::Improved | Verdict::Gone => -1,
        Verdict::Unchanged | Verdict::Inconclusive => 0,
    };
    let me = if f.min_effect.is_finite() && f.min_effect > 0.0 {
        f.min_effect
    } else {
        0.01
    };
    let ratio = if f.delta.is_finite() {
        f.delta.abs() / me
    } else {
        0.0
    };
    let level = if ratio < 2.0 {
        1
    } else if ratio < 4.0 {
        2
    } else {
        3
    };
    dir * level
}

pub fn build(data: &FlameData, comparisons: &[FunctionComparison]) -> FlameBuilt {
    let (nodes, dropped_stacks) = tree(data);
    let (flat, emitted, threshold) = flatten(&nodes);
    let json = FlameJson {
        total: nodes[0].value,
        functions: function_table(data, comparisons),
        n: flat,
        dropped_stacks,
    };
    // Serialising plain strings and integers cannot fail; fall back to an empty graph anyway.
    let text =
        serde_json::to_string(&json).unwrap_or_else(|_| "{\"total\":0,\"fn\":[],\"n\":[]}".into());
    FlameBuilt {
        json: json_for_script(&text),
        nodes: emitted,
        pruned: threshold > 0,
    }
}

/// The stacks merged into a tree (node 0 is the root), and how many stacks were dropped for
/// naming a function outside the table.
fn tree(data: &FlameData) -> (Vec<Node>, usize) {
    let nf = data.functions.len();
    let mut nodes = vec![Node {
        func: u32::MAX,
        value: 0,
        children: Vec::new(),
    }];
    let mut index: HashMap<(u32, u32), u32> = HashMap::new();
    let mut dropped_stacks = 0usize;
    for s in &data.stacks {
        if s.frames.iter().any(|&f| f as usize >= nf) {
            dropped_stacks += 1;
            continue;
        }
        nodes[0].value = nodes[0].value.saturating_add(s.count);
        let mut at = 0u32;
        for &f in &s.frames {
            let next = nodes.len() as u32;
            let child = *index.entry((at, f)).or_insert(next);
            if child == next {
                nodes.push(Node {
                    func: f,
                    value: 0,
                    children: Vec::new(),
                });
                if let Some(p) = nodes.get_mut(at as usize) {
                    p.children.push(child);
                }
            }
            if let Some(n) = nodes.get_mut(child as usize) {
                n.value = n.value.saturating_add(s.count);
            }
            at = child;
        }
    }
    (nodes, dropped_stacks)
}

/// The tree as flat preorder `[parent, function, samples, ...]`, at most [`MAX_NODES`] nodes:
/// returns it, the nodes emitted and the value threshold applied (0: none pruned).
fn flatten(nodes: &[Node]) -> (Vec<i64>, usize, u64) {
    // Keep the largest nodes when there are too many; a node is never smaller than a child,
    // so a value threshold drops whole subtrees.
    let mut threshold = 0u64;
    if nodes.len() > MAX_NODES {
        let mut values: Vec<u64> = nodes.iter().map(|n| n.value).collect();
        values.sort_unstable_by(|a, b| b.cmp(a));
        threshold = values
            .get(MAX_NODES)
            .copied()
            .unwrap_or(0)
            .saturating_add(1);
    }
    let mut flat: Vec<i64> = Vec::with_capacity(nodes.len().min(MAX_NODES) * 3);
    let mut emitted = 0usize;
    // Iterative preorder (stacks can be deep); children largest first.
    let mut todo: Vec<(u32, i64)> = vec![(0, -1)];
    while let Some((id, parent)) = todo.pop() {
        let Some(node) = nodes.get(id as usize) else {
            continue;
        };
        let me = emitted as i64;
        emitted += 1;
        let func = if node.func == u32::MAX {
            -1
        } else {
            i64::from(node.func)
        };
        flat.extend_from_slice(&[parent, func, node.value as i64]);
        let mut kids: Vec<u32> = node
            .children
            .iter()
            .copied()
            .filter(|&c| nodes.get(c as usize).is_some_and(|n| n.value >= threshold))
            .collect();
        kids.sort_by(|&a, &b| {
            let (na, nb) = (&nodes[a as usize], &nodes[b as usize]);
            nb.value.cmp(&na.value).then(na.func.cmp(&nb.func))
        });
        // Reverse so the largest child is popped (emitted) first.
        for c in kids.into_iter().rev() {
            todo.push((c, me));
        }
    }
    (flat, emitted, threshold)
}

/// Per function of the table: its names, both changes and its role (see [`FlameJson`]).
fn function_table<'a>(data: &FlameData, comparisons: &'a [FunctionComparison]) -> Vec<FlameFn<'a>> {
    let by_metric = |m: Metric| -> HashMap<_, _> {
        comparisons
            .iter()
            .filter(|c| c.metric == m)
            .map(|c| (&c.function, c))
            .collect()
    };
    let (selfs, cums) = (by_metric(Metric::SelfShare), by_metric(Metric::Cumulative));
    data.functions
        .iter()
        .map(|f| {
            let s = selfs.get(f);
            let c = cums.get(f);
            let changed = |r: &&FunctionComparison| {
                matches!(r.verdict, Verdict::Regressed | Verdict::Improved)
            };
            let role = if s.is_some_and(changed) {
                "culprit"
            } else if c.is_some_and(|c| changed(c) && c.is_carried()) {
                "carrier"
            } else {
                ""
            };
            (
                clean_line(&f.name, 300),
                clean_line(&f.file, 300),
                s.map(|s| pp(s.delta)).unwrap_or_default(),
                s.map_or("", |s| s.label()),
                s.map_or(0, |s| colour(s)),
                c.map(|c| pp(c.delta)).unwrap_or_default(),
                c.map_or("", |c| c.label()),
                role,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{FunctionId, StackCount};

    #[test]
    fn frames_are_coloured_by_self_change_and_carriers_are_marked() {
        let fixture = crate::report::fixture::sample_report();
        let s = &fixture.scenarios[0];
        let b = build(s.flame.as_ref().unwrap(), &s.functions);
        let v: serde_json::Value = serde_json::from_str(&b.json).unwrap();
        let fns = v["fn"].as_array().unwrap();
        let culprits: Vec<&serde_json::Value> = fns.iter().filter(|f| f[7] == "culprit").collect();
        assert!(!culprits.is_empty(), "{fns:?}");
        for f in &culprits {
            assert_ne!(f[4], 0, "a culprit is coloured: {f:?}");
        }
        for f in fns.iter().filter(|f| f[7] == "carrier") {
            // Its own cost did not change: neutral colour, only the outline says "carries".
            assert!(f[3] != "regressed" && f[3] != "improved", "{f:?}");
        }
        assert!(fns.iter().any(|f| f[7] == "carrier"), "{fns:?}");
    }

    fn data() -> FlameData {
        FlameData {
            functions: vec![
                FunctionId::new("a.py", "main"),
                FunctionId::new("a.py", "f"),
                FunctionId::new("a.py", "g"),
            ],
            stacks: vec![
                StackCount {
                    frames: vec![0, 1],
                    count: 5,
                },
                StackCount {
                    frames: vec![0, 2],
                    count: 3,
                },
                StackCount {
                    frames: vec![0, 1, 2],
                    count: 2,
                },
                StackCount {
                    frames: vec![0],
                    count: 1,
                },
                // Out of range: dropped, not a panic.
                StackCount {
                    frames: vec![0, 7],
                    count: 100,
                },
            ],
        }
    }

    #[test]
    fn stacks_merge_into_a_preorder_tree_with_largest_children_first() {
        let b = build(&data(), &[]);
        let v: serde_json::Value = serde_json::from_str(&b.json).unwrap();
        assert_eq!(v["total"], 11);
        assert_eq!(v["dropped_stacks"], 1);
        let n: Vec<i64> = serde_json::from_value(v["n"].clone()).unwrap();
        // root, main, f (7), g under f (2), g (3)
        assert_eq!(n, vec![-1, -1, 11, 0, 0, 11, 1, 1, 7, 2, 2, 2, 1, 2, 3]);
        assert_eq!(b.nodes, 5);
        assert!(!b.pruned);
    }

    #[test]
    fn too_many_nodes_prunes_smallest_subtrees() {
        let functions: Vec<FunctionId> = (0..10)
            .map(|i| FunctionId::new("x.py", format!("f{i}")))
            .collect();
        let mut stacks = Vec::new();
        for i in 0..(MAX_NODES as u32 + 10) {
            stacks.push(StackCount {
                frames: vec![
                    i % 10,
                    (i / 10) % 10,
                    (i / 100) % 10,
                    (i / 1000) % 10,
                    (i / 10_000) % 10,
                    i / 100_000,
                ],
                count: u64::from(i % 7) + 1,
            });
        }
        let b = build(&FlameData { functions, stacks }, &[]);
        assert!(b.pruned);
        assert!(b.nodes <= MAX_NODES + 1, "{}", b.nodes);
    }
}
