//! `inspect --speedscope`: the export validates against the schema shipped in the speedscope
//! npm package (tests/data/speedscope), and it carries the same samples as the CPython oracle's
//! `replay --collapsed` output for every fixture profile: re-collapsing the exported stacks
//! per thread gives the oracle's lines and counts.

mod common;

use common::tachygate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tachygate::profile::collapsed::render_frame;
use tachygate::profile::Profile;
use tachygate::report::speedscope;

fn validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(common::data_dir().join("speedscope/file-format-schema.json"))
            .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("speedscope's schema compiles")
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::data_dir().join("profiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "{v:?}");
    v
}

/// `text -> count`, summed (two files with one basename render alike).
fn oracle(path: &Path) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for line in std::fs::read_to_string(path.with_extension("collapsed"))
        .unwrap()
        .lines()
    {
        let (text, n) = line.rsplit_once(' ').unwrap();
        *m.entry(text.to_string()).or_default() += n.parse::<u64>().unwrap();
    }
    m
}

fn recollapse(file: &serde_json::Value, interval: u64) -> BTreeMap<String, u64> {
    let frames = file["shared"]["frames"].as_array().unwrap();
    let mut m = BTreeMap::new();
    for p in file["profiles"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let tid = name
            .strip_prefix("thread ")
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let samples = p["samples"].as_array().unwrap();
        let weights = p["weights"].as_array().unwrap();
        assert_eq!(samples.len(), weights.len(), "{name}");
        let total: u64 = weights.iter().map(|w| w.as_u64().unwrap()).sum();
        assert_eq!(
            p["endValue"].as_u64().unwrap() - p["startValue"].as_u64().unwrap(),
            total
        );
        for (stack, w) in samples.iter().zip(weights) {
            let mut text = format!("tid:{tid}");
            for i in stack.as_array().unwrap() {
                let f = &frames[i.as_u64().unwrap() as usize];
                text.push(';');
                text.push_str(&render_frame(
                    f["file"].as_str().unwrap_or("~"),
                    f["name"].as_str().unwrap(),
                    f["line"].as_i64().unwrap_or(0) as i32,
                ));
            }
            let w = w.as_u64().unwrap();
            assert_eq!(w % interval, 0, "weights are whole samples");
            *m.entry(text).or_default() += w / interval;
        }
    }
    m
}

#[test]
fn every_fixture_exports_a_schema_valid_file_with_the_oracles_samples() {
    let v = validator();
    for path in fixtures() {
        let profile = Profile::open(&path).unwrap();
        let file = speedscope::export(&profile, "x.bin").unwrap();
        let doc = serde_json::to_value(&file).unwrap();
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{}: {errs:?}", path.display());
        assert_eq!(doc["$schema"], speedscope::SCHEMA_URL);
        assert!(!file.profiles.is_empty(), "{}", path.display());
        let interval = profile.meta().interval_us.max(1);
        assert_eq!(
            recollapse(&doc, interval),
            oracle(&path),
            "{}: exported stacks differ from replay --collapsed",
            path.display()
        );
    }
}

#[test]
fn the_schema_check_catches_a_broken_file() {
    // Guards against a validator that accepts anything.
    let v = validator();
    let profile = Profile::open(&common::data_dir().join("profiles/cpu_raw.bin")).unwrap();
    let mut doc = serde_json::to_value(speedscope::export(&profile, "x").unwrap()).unwrap();
    assert!(errors(&v, &doc).is_empty());
    doc["profiles"][0]
        .as_object_mut()
        .unwrap()
        .remove("weights");
    assert!(!errors(&v, &doc).is_empty());
    let mut doc = serde_json::to_value(speedscope::export(&profile, "x").unwrap()).unwrap();
    doc["profiles"][0]["unit"] = "parsecs".into();
    assert!(!errors(&v, &doc).is_empty());
}

#[test]
fn threads_are_separate_profiles_and_the_busiest_opens_first() {
    let profile = Profile::open(&common::data_dir().join("profiles/gil_threads.bin")).unwrap();
    let file = speedscope::export(&profile, "x").unwrap();
    assert!(file.profiles.len() >= 3, "{}", file.profiles.len());
    // The main thread is named; here it only waits for its workers.
    assert!(
        file.profiles[0].name.ends_with("(main)"),
        "{}",
        file.profiles[0].name
    );
    let max = file.profiles.iter().map(|p| p.end_value).max().unwrap();
    let active = &file.profiles[file.active_profile_index];
    assert_eq!(active.end_value, max);
    assert!(!active.name.ends_with("(main)"), "{}", active.name);
}

#[test]
fn inspect_writes_the_file_and_keeps_stdout_for_the_other_outputs() {
    let d = tempfile::tempdir().unwrap();
    let bin = common::data_dir().join("profiles/cpu_zstd.bin");
    let out = d.path().join("p.speedscope.json");
    let o = tachygate()
        .arg("inspect")
        .arg(&bin)
        .arg("--speedscope")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(errors(&validator(), &doc).is_empty());
    assert_eq!(doc["name"], "cpu_zstd.bin");
    // Beside --collapsed: stdout is the collapsed stacks, unchanged.
    let out2 = d.path().join("q.json");
    let o = tachygate()
        .arg("inspect")
        .arg(&bin)
        .arg("--collapsed")
        .arg("--speedscope")
        .arg(&out2)
        .output()
        .unwrap();
    assert!(o.status.success());
    let want = std::fs::read(bin.with_extension("collapsed")).unwrap();
    assert_eq!(o.stdout, want);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
    // An unwritable destination is an error naming it, exit 2.
    std::fs::write(d.path().join("file"), "").unwrap();
    let bad = d.path().join("file/x.json");
    let o = tachygate()
        .arg("inspect")
        .arg(&bin)
        .arg("--speedscope")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("file/x.json"));
}
