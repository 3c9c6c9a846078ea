//! The pipeline's layering, checked on the source: no module imports from a later stage, and
//! no two files import each other. See docs/architecture.md for the layout.
//!
//! Imports are read from `use` statements and inline `crate::` / `super::` paths, outside
//! comments and outside `#[cfg(test)]` modules (tests may render a later stage's output to
//! check their own).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Rank of each top-level module: a module may import only modules of a lower rank (and
/// itself). `profile` is a leaf library (the sampler's file format): the runner decodes each
/// profile it records to check its health, so the decoder sits below `run` although its data
/// comes after it. `cli`, `commands` and `main` are the top: they glue the stages together.
const RANKS: &[(&str, u32)] = &[
    ("exit", 0),
    ("fsutil", 0),
    ("git", 0),
    ("python", 0),
    ("scenario", 1),
    ("profile", 1),
    ("run", 2),
    ("aggregate", 3),
    ("baseline", 4),
    ("compare", 5),
    ("report", 6),
    ("cli", 7),
    ("commands", 7),
    ("main", 7),
    ("lib", 7),
];

/// The glue layer, whose modules may use each other.
const TOP: u32 = 7;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to (`src/run/env.rs` -> `run`).
fn top_module(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The file's code without comments and without its `#[cfg(test)]` modules.
fn production_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            let next = lines.peek().map(|l| l.trim_start()).unwrap_or("");
            if next.starts_with("mod ") || next.starts_with("pub mod ") {
                // rustfmt puts a test module's closing brace at its own indentation.
                let indent = line.len() - t.len();
                let close = format!("{}}}", " ".repeat(indent));
                for l in lines.by_ref() {
                    if l == close {
                        break;
                    }
                }
            }
            continue;
        }
        if t.starts_with("//") {
            continue;
        }
        let code = match line.find("//") {
            // A `//` inside a string (a URL) is rare in import lines; keep the line whole then.
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every `crate::...` and `super::...` path in `code`, braces of `use` groups expanded one
/// level (`use super::{a, b::c}` gives `super::a` and `super::b::c`).
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if at > 0 && (is_ident(bytes[at - 1]) || bytes[at - 1] == b':') {
                continue;
            }
            let mut end = at;
            while end < bytes.len() && (is_ident(bytes[end]) || bytes[end] == b':') {
                end += 1;
            }
            let prefix = code[at..end].trim_end_matches(':').to_string();
            if code[..end].ends_with("::") && bytes.get(end) == Some(&b'{') {
                let close = code[end..].find('}').map_or(code.len(), |j| end + j);
                for item in code[end + 1..close].split(',') {
                    let item: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    let item = item.trim_end_matches(':');
                    if !item.is_empty() && item != "self" {
                        found.push(format!("{prefix}::{item}"));
                    } else {
                        found.push(prefix.clone());
                    }
                }
            } else {
                found.push(prefix);
            }
        }
    }
    found
}

/// The source file a path names: the deepest module file along its segments.
fn resolve(from: &Path, path: &str) -> Option<PathBuf> {
    let mut segs = path.split("::").peekable();
    let mut dir = match segs.next()? {
        "crate" => src(),
        _ => {
            // `super` from `a/b.rs` is module `a` (dir `a/`); from `a/mod.rs` it is the crate.
            let parent = from.parent()?.to_path_buf();
            let mut dir = if from.file_name()? == "mod.rs" {
                parent.parent()?.to_path_buf()
            } else {
                parent
            };
            while segs.peek() == Some(&"super") {
                segs.next();
                dir = dir.parent()?.to_path_buf();
            }
            dir
        }
    };
    let mut file = if dir == src() {
        src().join("lib.rs")
    } else {
        dir.join("mod.rs")
    };
    for seg in segs {
        let as_file = dir.join(format!("{seg}.rs"));
        let as_dir = dir.join(seg).join("mod.rs");
        if as_file.is_file() {
            file = as_file;
            dir = dir.join(seg);
        } else if as_dir.is_file() {
            file = as_dir;
            dir = dir.join(seg);
        } else {
            break;
        }
    }
    file.is_file().then_some(file)
}

/// File -> the files it imports (itself excluded).
fn imports() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut graph = BTreeMap::new();
    for entry in walkdir::WalkDir::new(src()) {
        let entry = entry.unwrap();
        let file = entry.path().to_path_buf();
        if file.extension().map_or(true, |e| e != "rs") {
            continue;
        }
        let code = production_code(&std::fs::read_to_string(&file).unwrap());
        let targets: BTreeSet<PathBuf> = paths(&code)
            .iter()
            .filter_map(|p| resolve(&file, p))
            .filter(|t| *t != file)
            .collect();
        graph.insert(file, targets);
    }
    graph
}

fn rank(module: &str) -> u32 {
    RANKS
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, r)| *r)
        .unwrap_or_else(|| panic!("module `{module}` has no rank in tests/layering.rs RANKS"))
}

fn rel(p: &Path) -> String {
    p.strip_prefix(src()).unwrap().display().to_string()
}

#[test]
fn no_module_imports_from_a_later_stage() {
    let mut bad = Vec::new();
    for (file, targets) in imports() {
        let (m, r) = (top_module(&file), rank(&top_module(&file)));
        for t in targets {
            let tm = top_module(&t);
            let later = rank(&tm) > r || (rank(&tm) == r && r < TOP);
            if tm != m && later {
                bad.push(format!("{} imports {} ({m} -> {tm})", rel(&file), rel(&t)));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the pipeline order:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other() {
    let graph = imports();
    let mut bad = Vec::new();
    for (a, targets) in &graph {
        for b in targets {
            if a < b && graph.get(b).is_some_and(|t| t.contains(a)) {
                bad.push(format!("{} <-> {}", rel(a), rel(b)));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "files importing each other:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_sees_imports_and_cycles() {
    // A check that sees nothing would pass vacuously: pin what it must see.
    let graph = imports();
    let get = |f: &str| graph.get(&src().join(f)).unwrap();
    assert!(get("aggregate.rs").contains(&src().join("profile/mod.rs")));
    assert!(get("report/view.rs").contains(&src().join("report/format.rs")));
    assert!(get("commands/check.rs").contains(&src().join("commands/common.rs")));
    let code = production_code(
        "use super::{exit, run::select_scenarios};\n// use crate::report;\n#[cfg(test)]\nmod tests {\n    use crate::commands;\n}\nfn f() { crate::aggregate::merge_stacks(&[]); }\n",
    );
    assert_eq!(
        paths(&code),
        [
            "crate::aggregate::merge_stacks",
            "super::exit",
            "super::run::select_scenarios"
        ]
    );
}
