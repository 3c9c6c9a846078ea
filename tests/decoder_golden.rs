//! Golden fixtures: real CPython 3.15.2 profiles under tests/data/profiles/ with the oracle's
//! `replay --collapsed` and `replay --jsonl` output beside them (scripts/record-fixtures.sh).
//! `inspect --collapsed` must reproduce the collapsed file byte for byte, and the aggregate must
//! agree with the jsonl per-frame self/cumulative counts.

mod common;

use common::tachygate;

use std::collections::HashMap;
use std::path::PathBuf;
use tachygate::aggregate::{aggregate, AggregateOptions, FunctionId, PathNormalizer};
use tachygate::profile::Profile;

fn fixtures() -> Vec<PathBuf> {
    let dir = common::data_dir().join("profiles");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/data/profiles exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures in {}", dir.display());
    v
}

#[test]
fn inspect_collapsed_matches_replay_for_every_fixture() {
    for bin in fixtures() {
        let expected = std::fs::read(bin.with_extension("collapsed"))
            .unwrap_or_else(|e| panic!("{}: missing .collapsed: {e}", bin.display()));
        let out = inspect(&["--collapsed"], &bin);
        assert!(out.status.success(), "{}: {:?}", bin.display(), out);
        if out.stdout != expected {
            let got = String::from_utf8_lossy(&out.stdout);
            let want = String::from_utf8_lossy(&expected);
            let first = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            panic!(
                "{}: collapsed output differs from replay at line {}\n got: {:?}\nwant: {:?}",
                bin.display(),
                first + 1,
                got.lines().nth(first),
                want.lines().nth(first)
            );
        }
    }
}

#[test]
fn the_fixture_set_covers_the_required_features() {
    let mut names: Vec<String> = fixtures()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for want in [
        "cpu_raw",
        "cpu_zstd",
        "deep_recursion",
        "exception",
        "gil_threads",
        "native_opcodes",
        "same_basename",
        "unicode_names",
        "wall_threads",
    ] {
        assert!(names.iter().any(|n| n == want), "fixture {want} missing");
    }
    let dir = common::data_dir().join("profiles");
    let col = |n: &str| std::fs::read_to_string(dir.join(format!("{n}.collapsed"))).unwrap();
    // Deep recursion is cut to 256 frames (257 fields with the tid).
    assert!(col("deep_recursion")
        .lines()
        .any(|l| l.split(';').count() == 257));
    assert!(col("native_opcodes").contains("<native>"));
    assert!(col("cpu_zstd").contains("<GC>"));
    assert!(col("unicode_names").contains("calculé_数"));
    let raw = Profile::open(&dir.join("cpu_raw.bin")).unwrap();
    assert_eq!(
        raw.meta().compression,
        tachygate::profile::Compression::None
    );
    let threads = Profile::open(&dir.join("wall_threads.bin")).unwrap();
    assert!(threads.meta().thread_count >= 4);
}

#[derive(Default)]
struct FrameAgg {
    self_sum: u64,
    cum_sum: u64,
    cum_max: u64,
}

/// Per-function sums of the jsonl per-frame aggregates, plus the sample total.
fn jsonl_by_function(
    path: &std::path::Path,
    norm: &PathNormalizer,
) -> (u64, HashMap<FunctionId, FrameAgg>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut strings = HashMap::new();
    let mut frames = HashMap::new();
    let mut out: HashMap<FunctionId, FrameAgg> = HashMap::new();
    let mut total = None;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["type"].as_str().unwrap() {
            "string_table" => {
                for s in v["strings"].as_array().unwrap() {
                    strings.insert(
                        s["str_id"].as_u64().unwrap(),
                        s["value"].as_str().unwrap().to_string(),
                    );
                }
            }
            "frame_table" => {
                for f in v["frames"].as_array().unwrap() {
                    let file = strings[&f["path_str_id"].as_u64().unwrap()].clone();
                    let func = strings[&f["func_str_id"].as_u64().unwrap()].clone();
                    frames.insert(
                        f["frame_id"].as_u64().unwrap(),
                        FunctionId::new(norm.normalize(&file), func),
                    );
                }
            }
            "agg" => {
                for e in v["entries"].as_array().unwrap() {
                    let id = frames[&e["frame_id"].as_u64().unwrap()].clone();
                    let a = out.entry(id).or_default();
                    let cum = e["cumulative"].as_u64().unwrap();
                    a.self_sum += e["self"].as_u64().unwrap();
                    a.cum_sum += cum;
                    a.cum_max = a.cum_max.max(cum);
                }
            }
            "end" => total = v["samples_total"].as_u64(),
            _ => {}
        }
    }
    (total.expect("jsonl has an end record"), out)
}

#[test]
fn aggregate_agrees_with_replay_jsonl() {
    let norm = PathNormalizer::new(Some(common::data_dir()));
    let opts = AggregateOptions {
        paths: norm.clone(),
        ignore: None,
        keep_stacks: true,
    };
    for bin in fixtures() {
        let jsonl = bin.with_extension("jsonl");
        if !jsonl.exists() {
            continue;
        }
        let (total, by_fn) = jsonl_by_function(&jsonl, &norm);
        let agg = aggregate(&Profile::open(&bin).unwrap(), &opts).unwrap();
        let name = bin.display();
        assert_eq!(agg.total_samples, total, "{name}: total samples");
        let ours: HashMap<_, _> = agg
            .functions
            .iter()
            .map(|f| (f.function.clone(), f))
            .collect();
        assert_eq!(ours.len(), by_fn.len(), "{name}: function count");
        for (id, a) in &by_fn {
            let f = ours
                .get(id)
                .unwrap_or_else(|| panic!("{name}: {id} missing"));
            assert_eq!(f.self_samples, a.self_sum, "{name}: self of {id}");
            // A function at several lines has several jsonl frames: its cumulative count lies
            // between the largest frame's and their sum (equal when there is one frame).
            assert!(
                f.cumulative_samples >= a.cum_max && f.cumulative_samples <= a.cum_sum,
                "{name}: cumulative of {id}: {} not in [{}, {}]",
                f.cumulative_samples,
                a.cum_max,
                a.cum_sum
            );
        }
        let stack_total: u64 = agg.stacks.iter().map(|s| s.count).sum();
        assert_eq!(
            stack_total, total,
            "{name}: merged stacks must cover every sample"
        );
        for s in &agg.stacks {
            let leaf = *s.frames.last().unwrap() as usize;
            assert!(leaf < agg.functions.len());
        }
    }
}

#[test]
fn inspect_json_reports_metadata() {
    let bin = common::data_dir().join("profiles/native_opcodes.bin");
    let out = inspect(&["--json"], &bin);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["python_version"], "3.15.2");
    assert_eq!(v["features"]["native"], true);
    assert_eq!(v["features"]["opcodes"], true);
    assert_eq!(v["byte_order"], "little");
    assert!(v["frame_count"].as_u64().unwrap() > 0);
    assert!(v["stats"]["sample_rate"].as_f64().unwrap() > 0.0);
}

#[test]
fn inspect_rejects_garbage_with_exit_2_and_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk.bin");
    std::fs::write(&p, b"definitely not a profile, but long enough to have a header and a footer....................").unwrap();
    let out = inspect(&["--collapsed"], &p);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad magic"), "{err}");
    assert!(err.contains("junk.bin"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// Runs `tachygate inspect ARGS PROFILE`.
fn inspect(args: &[&str], profile: &std::path::Path) -> std::process::Output {
    tachygate()
        .arg("inspect")
        .args(args)
        .arg(profile)
        .output()
        .unwrap()
}

fn inspect_stdout(args: &[&str]) -> String {
    let out = tachygate().arg("inspect").args(args).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// (self, cumulative, function) rows of a --top table.
fn top_rows(text: &str) -> Vec<(u64, u64, String)> {
    text.lines()
        .skip(2)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].parse().unwrap(),
                f[2].parse().unwrap(),
                f[4..].join(" "),
            )
        })
        .collect()
}

#[test]
fn inspect_top_sorts_by_self_by_default_and_by_cumulative_on_request() {
    let bin = common::data_dir().join("profiles/cpu_zstd.bin");
    let bin = bin.to_str().unwrap();
    let default = inspect_stdout(&[bin]);
    let rows = top_rows(&default);
    assert!(!rows.is_empty() && rows.len() <= 20);
    assert!(rows.windows(2).all(|w| w[0].0 >= w[1].0), "{default}");
    assert!(default.contains("~:<GC>"), "{default}");

    let cum = inspect_stdout(&["--top", "3", "--by", "cumulative", bin]);
    let rows = top_rows(&cum);
    assert_eq!(rows.len(), 3, "{cum}");
    assert!(rows.windows(2).all(|w| w[0].1 >= w[1].1), "{cum}");
    let total: u64 = cum.split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(rows[0].1, total, "the entry point is on every stack: {cum}");
}

#[test]
fn inspect_top_normalizes_stdlib_paths_of_the_provisioned_interpreter() {
    let bin = common::data_dir().join("profiles/wall_threads.bin");
    let out = inspect_stdout(&["--by", "cumulative", bin.to_str().unwrap()]);
    assert!(
        out.contains("<stdlib>/threading.py:Thread._bootstrap"),
        "{out}"
    );
}

/// Every class of corruption that CPython's reader rejects (format spec, section 9) must reach
/// the user as exit 2 and one line that names the file and a byte offset — not a panic, not a
/// partial output. Each case corrupts one field of a real raw (uncompressed) fixture.
#[test]
fn inspect_rejects_each_section_9_corruption_with_exit_2_and_an_offset() {
    let good = std::fs::read(common::data_dir().join("profiles/cpu_raw.bin")).unwrap();
    let n = good.len();
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let string_table = u64_at(&good, 0x28) as usize;
    // The fixture's layout this test relies on: little-endian, raw samples, first record FULL.
    assert_eq!(&good[0..4], b"HCAT");
    assert_eq!(u32_at(&good, 0x38), 0, "fixture must be uncompressed");
    assert_eq!(good[64 + 12], 1, "first record must be FULL");

    type Edit = Box<dyn Fn(&mut Vec<u8>)>;
    let put32 = |at: usize, v: u32| -> Edit {
        Box::new(move |b| b[at..at + 4].copy_from_slice(&v.to_le_bytes()))
    };
    let put64 = |at: usize, v: u64| -> Edit {
        Box::new(move |b| b[at..at + 8].copy_from_slice(&v.to_le_bytes()))
    };
    let cases: Vec<(&str, Edit)> = vec![
        ("truncated to 40 bytes", Box::new(|b| b.truncate(40))),
        ("truncated mid-file", Box::new(move |b| b.truncate(n / 2))),
        ("bad magic", Box::new(|b| b[0..4].copy_from_slice(b"XXXX"))),
        ("version 2", put32(4, 2)),
        ("mode bits 6", Box::new(|b| b[0x3C] = (b[0x3C] & !7) | 6)),
        ("string table offset past the end", put64(0x28, 1 << 40)),
        ("frame table before string table", put64(0x30, 100)),
        ("string count too large", put32(n - 32, 1_000_000)),
        ("frame count too large", put32(n - 28, 1_000_000)),
        ("encoding 7", Box::new(|b| b[64 + 12] = 7)),
        (
            "varint with an 11th byte",
            Box::new(|b| {
                b[77..87].fill(0x80);
                b[87] = 0x01;
            }),
        ),
        (
            "sample count one too many",
            Box::new(move |b| {
                let c = u64::from_le_bytes(b[0x1C..0x24].try_into().unwrap());
                b[0x1C..0x24].copy_from_slice(&(c + 1).to_le_bytes());
            }),
        ),
        ("fewer threads declared than present", put32(0x24, 0)),
        (
            "garbage after the last record",
            Box::new(move |b| {
                b.splice(string_table..string_table, [0u8; 5]);
                for at in [0x28, 0x30] {
                    let v = u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) + 5;
                    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
                }
                let len = b.len();
                b[len - 24..len - 16].copy_from_slice(&(len as u64).to_le_bytes());
            }),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, edit) in cases {
        let mut bytes = good.clone();
        edit(&mut bytes);
        let p = dir.path().join("corrupt.bin");
        std::fs::write(&p, &bytes).unwrap();
        let out = inspect(&["--collapsed"], &p);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{name}: printed output for a corrupt file"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        // A file too short to hold a header has no meaningful offset; it names the size.
        let located = err.contains("offset") || err.contains("too short");
        assert!(err.contains("corrupt.bin") && located, "{name}: {err}");
        eprintln!("{name}: {}", err.trim_end());
    }
}
