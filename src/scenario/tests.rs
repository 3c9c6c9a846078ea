//! Parsing and validation: every error path, with the line:col it reports.

use super::*;
use std::path::{Path, PathBuf};

const MIN: &str = "[workload]\nscript = \"app.py\"\n";

fn load(text: &str) -> Result<Scenario, ScenarioError> {
    load_str(text, Path::new("/proj/scenarios/demo.toml"))
}

/// The error message of `text`, which must fail.
fn err(text: &str) -> String {
    match load(text) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn gate_advisory_parses_and_defaults_to_false() {
    assert!(!load(MIN).unwrap().gate.advisory);
    let s = load(&format!("{MIN}[gate]\nadvisory = true\n")).unwrap();
    assert!(s.gate.advisory);
    let e = err(&format!("{MIN}[gate]\nadvisory = \"yes\"\n"));
    assert!(e.contains(":4:"), "{e}");
}

#[test]
fn minimal_scenario_gets_every_default() {
    let s = load(MIN).unwrap();
    assert_eq!(s.name, "demo");
    assert_eq!(s.source, PathBuf::from("/proj/scenarios/demo.toml"));
    assert_eq!(
        s.workload.target,
        Target::Script(PathBuf::from("/proj/scenarios/app.py"))
    );
    assert_eq!(s.workload.cwd, PathBuf::from("/proj/scenarios"));
    assert_eq!(s.workload.timeout_s, 120.0);
    assert_eq!(s.workload.expect_exit, 0);
    assert_eq!(s.workload.python, None);
    assert_eq!(s.sampler, SamplerSettings::default());
    assert_eq!(s.run, RunSettings::default());
    assert_eq!(s.gate, GateSettings::default());
}

#[test]
fn the_default_sampler_is_gil_with_blocking() {
    // docs/sampling-protocol.md: the only measured setting that samples call-heavy pure Python
    // without bias at a low error rate and keeps the 1-point gate default.
    let s = load(MIN).unwrap();
    assert_eq!(s.sampler.mode, Mode::Gil);
    assert!(s.sampler.blocking);
    assert_eq!(s.sampler.rate_hz, 1000);
    assert_eq!(s.run.max_error_rate_pct, 5.0);
}

#[test]
fn blocking_defaults_per_mode_and_an_explicit_value_wins() {
    for (mode, blocking) in [
        ("gil", true),
        ("wall", true),
        ("cpu", false),
        ("exception", false),
    ] {
        let s = load(&format!("{MIN}[sampler]\nmode = \"{mode}\"\n")).unwrap();
        assert_eq!(s.sampler.blocking, blocking, "{mode}");
    }
    let s = load(&format!("{MIN}[sampler]\nblocking = false\n")).unwrap();
    assert_eq!((s.sampler.mode, s.sampler.blocking), (Mode::Gil, false));
    let s = load(&format!(
        "{MIN}[sampler]\nmode = \"cpu\"\nblocking = false\n"
    ))
    .unwrap();
    assert_eq!((s.sampler.mode, s.sampler.blocking), (Mode::Cpu, false));
}

#[test]
fn cpu_with_blocking_is_refused_with_the_reason_and_the_fix() {
    let e = err(&format!(
        "{MIN}[sampler]\nmode = \"cpu\"\nblocking = true\n"
    ));
    assert!(e.starts_with("/proj/scenarios/demo.toml:5:12: "), "{e}");
    assert!(e.contains("0 samples"), "{e}");
    assert!(e.contains("mode = \"gil\""), "{e}");
    assert!(e.contains("remove `blocking`"), "{e}");
}

#[test]
fn full_scenario_resolves_paths_against_the_scenario_file() {
    let s = load(
        r#"
name = "json-roundtrip"
description = "d"
tags = ["gate", "cpu"]
[workload]
module = "pkg.main"
args = ["--n", "3"]
cwd = "../src"
env = { A = "1" }
python = "../.venv/bin/python"
timeout = "1m 30s"
expect_exit = 3
[sampler]
mode = "wall"
rate = "10khz"
duration = "2s"
all_threads = true
native = true
gc = false
opcodes = true
blocking = true
[run]
repeats = 7
warmup_runs = 1
max_error_rate = 10
max_gap_ratio = 3.5
retries = 0
min_samples = 10
[gate]
min_effect = 1.5
min_effect_rel = 0.2
ignore = ["<frozen runpy>:*"]
focus = ["workloads/*.py:*"]
[gate.functions."<stdlib>/json/encoder.py:JSONEncoder.encode"]
min_effect = 0.5
max_share = 0.25
"#,
    )
    .unwrap();
    assert_eq!(s.name, "json-roundtrip");
    assert_eq!(s.workload.target, Target::Module("pkg.main".into()));
    assert_eq!(s.workload.cwd, PathBuf::from("/proj/src"));
    assert_eq!(
        s.workload.python,
        Some(PathBuf::from("/proj/.venv/bin/python"))
    );
    assert_eq!(s.workload.timeout_s, 90.0);
    assert_eq!(s.workload.expect_exit, 3);
    assert_eq!(s.sampler.mode, Mode::Wall);
    assert_eq!(s.sampler.rate_hz, 10_000);
    assert_eq!(s.sampler.duration_s, Some(2.0));
    assert!(s.sampler.all_threads && s.sampler.native && !s.sampler.gc);
    assert!(s.sampler.opcodes && s.sampler.blocking);
    assert_eq!(s.run.repeats, 7);
    assert_eq!(s.run.warmup_runs, 1);
    assert_eq!(s.run.max_error_rate_pct, 10.0);
    assert_eq!(s.run.max_gap_ratio, 3.5);
    assert_eq!(s.run.retries, 0);
    assert_eq!(s.run.min_samples, 10);
    assert_eq!(s.gate.min_effect_pp, Some(1.5));
    assert_eq!(s.gate.min_effect_rel, Some(0.2));
    assert_eq!(s.gate.ignore, vec!["<frozen runpy>:*".to_string()]);
    let f = &s.gate.functions["<stdlib>/json/encoder.py:JSONEncoder.encode"];
    assert_eq!(f.min_effect_pp, Some(0.5));
    assert_eq!(f.max_share, Some(0.25));
}

#[test]
fn rates_parse_like_the_profiler() {
    for (text, hz) in [
        ("\"1khz\"", 1000),
        ("\"10khz\"", 10_000),
        ("\"500hz\"", 500),
        ("\"10k\"", 10_000),
        ("250", 250),
        ("\"1.5khz\"", 1500),
        ("\"2KHz\"", 2000),
    ] {
        let s = load(&format!("{MIN}[sampler]\nrate = {text}\n")).unwrap();
        assert_eq!(s.sampler.rate_hz, hz, "{text}");
    }
}

#[test]
fn syntax_errors_and_semantic_errors_report_line_and_column() {
    // Each case: text, expected "line:col", a fragment of the message.
    let cases: &[(&str, &str, &str)] = &[
        ("[workload\nscript = 1\n", "1:10", "expected"),
        (
            "[workload]\nscript = \"a.py\"\nscrpt = 1\n",
            "3:1",
            "unknown field `scrpt`, expected one of",
        ),
        (
            "[workload]\nscript = 5\n",
            "2:10",
            "expected a string, found integer",
        ),
        (
            "[workload]\nscript = \"a.py\"\nmodule = \"m\"\n",
            "3:10",
            "both `script` and `module`",
        ),
        ("[workload]\nargs = []\n", "1:1", "needs `script"),
        (
            "[workload]\nmodule = \"1bad\"\n",
            "2:10",
            "not a dotted Python module",
        ),
        (
            "name = \"has space\"\n[workload]\nscript = \"a.py\"\n",
            "1:8",
            "only letters, digits",
        ),
        (
            "tags = [\"a/b\"]\n[workload]\nscript = \"a.py\"\n",
            "1:9",
            "invalid tag",
        ),
        (
            "[workload]\nscript = \"a.py\"\ntimeout = \"soon\"\n",
            "3:11",
            "`timeout` must be a duration",
        ),
        (
            "[workload]\nscript = \"a.py\"\ntimeout = 0\n",
            "3:11",
            "greater than zero",
        ),
        (
            "[workload]\nscript = \"a.py\"\nexpect_exit = 300\n",
            "3:15",
            "0..=255",
        ),
        (
            "[workload]\nscript = \"a.py\"\nenv = { A = 1 }\n",
            "3:13",
            "expected a string, found integer",
        ),
        (
            "[workload]\nscript = \"a.py\"\nenv = { \"A=B\" = \"x\" }\n",
            "3:17",
            "contains `=`",
        ),
        (
            &format!("{MIN}[sampler]\nmode = \"fast\"\n"),
            "4:8",
            "unknown variant `fast`",
        ),
        (
            &format!("{MIN}[sampler]\nrate = 0\n"),
            "4:8",
            "must be positive",
        ),
        (
            &format!("{MIN}[sampler]\nrate = \"0khz\"\n"),
            "4:8",
            "must be positive",
        ),
        (
            &format!("{MIN}[sampler]\nrate = \"fast\"\n"),
            "4:8",
            "is not a rate",
        ),
        (
            &format!("{MIN}[sampler]\nrate = \"2mhz\"\n"),
            "4:8",
            "is not a rate",
        ),
        (
            &format!("{MIN}[sampler]\nrate = 2000000\n"),
            "4:8",
            "too high",
        ),
        (
            &format!("{MIN}[sampler]\nrate = 1.5\n"),
            "4:8",
            "must be a string or integer",
        ),
        (
            &format!("{MIN}[sampler]\nduration = \"1.5s\"\n"),
            "4:12",
            "whole number of seconds",
        ),
        (
            &format!("{MIN}[sampler]\nduration = \"forever\"\n"),
            "4:12",
            "`duration` must be",
        ),
        (
            &format!("{MIN}[sampler]\nmode = \"wall\"\nasync_aware = true\n"),
            "5:15",
            "--binary",
        ),
        (
            &format!("{MIN}[sampler]\nasync_aware = true\n"),
            "4:15",
            "mode = \"gil\"",
        ),
        (
            &format!("{MIN}[sampler]\nmode = \"cpu\"\nblocking = true\n"),
            "5:12",
            "records nothing",
        ),
        (
            &format!("{MIN}[sampler]\nblocking = true\nmode = \"cpu\"\n"),
            "4:12",
            "use `mode = \"gil\"`",
        ),
        (
            &format!("{MIN}[sampler]\nasync_mode = \"all\"\n"),
            "4:14",
            "requires `async_aware = true`",
        ),
        (
            &format!("{MIN}[run]\nrepeats = 2\n"),
            "4:11",
            "at least 3 runs",
        ),
        (
            &format!("{MIN}[run]\nretries = -1\n"),
            "4:11",
            "out of range",
        ),
        (
            &format!("{MIN}[run]\nwarmup_runs = 1000\n"),
            "4:15",
            "out of range",
        ),
        (
            &format!("{MIN}[run]\nmin_samples = -5\n"),
            "4:15",
            "out of range",
        ),
        (
            &format!("{MIN}[run]\nmax_error_rate = 101.0\n"),
            "4:18",
            "percentage in 0..=100",
        ),
        (
            &format!("{MIN}[run]\nmax_gap_ratio = 0.5\n"),
            "4:17",
            ">= 1.0",
        ),
        (
            &format!("{MIN}[run]\nrepeats = \"5\"\n"),
            "4:11",
            "expected a whole number, found string",
        ),
        (&format!("{MIN}[gate]\nmin_effect = -1.0\n"), "4:14", ">= 0"),
        (
            &format!("{MIN}[gate]\nmin_effect_rel = nan\n"),
            "4:18",
            "finite",
        ),
        (
            &format!("{MIN}[gate]\nignore = [\"nocolon\"]\n"),
            "4:11",
            "`file:function`",
        ),
        (
            &format!("{MIN}[gate]\nfocus = [\"a.py:[\"]\n"),
            "4:10",
            "not a valid glob",
        ),
        (
            &format!("{MIN}[gate.functions.\"a.py:f\"]\nmax_share = 1.5\n"),
            "4:13",
            "fraction in (0, 1]",
        ),
        (
            &format!("{MIN}[gate.functions.\"a.py:f\"]\n"),
            "3:17",
            "sets nothing",
        ),
        (
            &format!("{MIN}[gate.functions.\"a.py:f\"]\nmax_shar = 0.5\n"),
            "4:1",
            "unknown field `max_shar`",
        ),
        (
            &format!("{MIN}[extra]\nx = 1\n"),
            "3:2",
            "unknown field `extra`",
        ),
    ];
    for (text, pos, fragment) in cases {
        let msg = err(text);
        let prefix = format!("/proj/scenarios/demo.toml:{pos}: ");
        assert!(
            msg.starts_with(&prefix) && msg.contains(fragment),
            "for {text:?}\n  expected {prefix}...{fragment}...\n  got {msg}"
        );
    }
}

#[test]
fn an_invalid_file_stem_needs_an_explicit_name() {
    let e = load_str(MIN, Path::new("/p/my scenario.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("1:1") && e.contains("set `name"), "{e}");
    let s = load_str(
        &format!("name = \"ok\"\n{MIN}"),
        Path::new("/p/my scenario.toml"),
    )
    .unwrap();
    assert_eq!(s.name, "ok");
}

#[test]
fn line_col_counts_characters_and_clamps() {
    let text = "ab\nçd\n";
    assert_eq!(load::line_col(text, 0), (1, 1));
    assert_eq!(load::line_col(text, 3), (2, 1));
    // Byte 5 is after the two-byte ç: column 2 in characters.
    assert_eq!(load::line_col(text, 5), (2, 2));
    // Inside ç clamps back to its start; past the end clamps to the end.
    assert_eq!(load::line_col(text, 4), (2, 1));
    assert_eq!(load::line_col(text, 999), (3, 1));
}

#[test]
fn fingerprint_ignores_location_and_non_measurement_settings() {
    let a = load_str(MIN, Path::new("/machine-a/repo/scenarios/x.toml")).unwrap();
    let b = load_str(MIN, Path::new("/other/place/scenarios/x.toml")).unwrap();
    assert_eq!(
        a.fingerprint(),
        b.fingerprint(),
        "must be stable across checkouts"
    );
    assert_eq!(a.fingerprint().len(), 64);
    let more_runs = load_str(
        &format!("{MIN}[run]\nrepeats = 9\n[gate]\nmin_effect = 3.0\n"),
        Path::new("/other/place/scenarios/x.toml"),
    )
    .unwrap();
    assert_eq!(a.fingerprint(), more_runs.fingerprint());
    for changed in [
        format!("{MIN}[sampler]\nrate = \"2khz\"\n"),
        format!("{MIN}args = [\"x\"]\n"),
        "[workload]\nscript = \"other.py\"\n".to_string(),
        format!("{MIN}env = {{ K = \"v\" }}\n"),
    ] {
        let c = load_str(&changed, Path::new("/machine-a/repo/scenarios/x.toml")).unwrap();
        assert_ne!(a.fingerprint(), c.fingerprint(), "{changed}");
    }
}

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn discover_walks_directories_recursively_and_sorts_by_name() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "b.toml", MIN);
    write(d.path(), "nested/deeper/a.toml", MIN);
    write(d.path(), "notes.md", "not a scenario");
    write(d.path(), "example.toml.sample", "garbage = [");
    let found = discover(&[d.path().to_path_buf()]).unwrap();
    let names: Vec<_> = found.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    // A file and its directory together do not count twice.
    let again = discover(&[d.path().to_path_buf(), d.path().join("b.toml")]).unwrap();
    assert_eq!(again.len(), 2);
}

#[test]
fn discover_rejects_duplicate_names_naming_both_files() {
    let d = tempfile::tempdir().unwrap();
    let one = write(d.path(), "one/x.toml", MIN);
    let two = write(d.path(), "two/y.toml", &format!("name = \"x\"\n{MIN}"));
    let e = discover(&[d.path().to_path_buf()]).unwrap_err().to_string();
    assert!(e.contains("`x`"), "{e}");
    assert!(e.contains(&one.display().to_string()), "{e}");
    assert!(e.contains(&two.display().to_string()), "{e}");
}

#[test]
fn discover_reports_missing_paths_and_empty_directories() {
    let d = tempfile::tempdir().unwrap();
    let e = discover(&[d.path().join("nope")]).unwrap_err();
    assert!(matches!(e, ScenarioError::NotFound { .. }), "{e}");
    let e = discover(&[d.path().to_path_buf()]).unwrap_err();
    assert!(matches!(e, ScenarioError::NoneFound { .. }), "{e}");
    assert!(e.to_string().contains("docs/scenarios.md"), "{e}");
}

fn named(names: &[(&str, &[&str])]) -> Vec<Scenario> {
    names
        .iter()
        .map(|(n, tags)| {
            let mut s = load(MIN).unwrap();
            s.name = n.to_string();
            s.tags = tags.iter().map(|t| t.to_string()).collect();
            s
        })
        .collect()
}

#[test]
fn select_by_name_glob_and_tag_and_complain_about_typos() {
    let all = named(&[
        ("json-a", &["gate"]),
        ("json-b", &[]),
        ("regex", &["gate", "cpu"]),
    ]);
    let pick = |names: &[&str], tags: &[&str]| {
        select(
            &all,
            &Filter {
                names: names.iter().map(|s| s.to_string()).collect(),
                tags: tags.iter().map(|s| s.to_string()).collect(),
            },
        )
        .map(|v| v.into_iter().map(|s| s.name).collect::<Vec<_>>())
    };
    assert_eq!(pick(&[], &[]).unwrap(), ["json-a", "json-b", "regex"]);
    assert_eq!(pick(&["json-*"], &[]).unwrap(), ["json-a", "json-b"]);
    assert_eq!(pick(&[], &["gate"]).unwrap(), ["json-a", "regex"]);
    assert_eq!(pick(&["json-*"], &["gate"]).unwrap(), ["json-a"]);
    let e = pick(&["jsno"], &[]).unwrap_err().to_string();
    assert!(e.contains("jsno") && e.contains("json-a"), "{e}");
    let e = pick(&[], &["gtae"]).unwrap_err().to_string();
    assert!(e.contains("gtae") && e.contains("cpu"), "{e}");
}

#[test]
fn shard_spec_is_validated() {
    assert_eq!(
        "2/4".parse::<Shard>().unwrap(),
        Shard { index: 2, count: 4 }
    );
    for bad in ["0/4", "5/4", "1/0", "x/2", "3", "1/-2", ""] {
        let e = bad.parse::<Shard>().unwrap_err().to_string();
        assert!(e.contains("K/N"), "{bad}: {e}");
    }
}

#[test]
fn shards_partition_and_are_stable_when_scenarios_come_and_go() {
    let names: Vec<String> = (0..200).map(|i| format!("scenario-{i}")).collect();
    for n in 1..=5u32 {
        let owners: Vec<u32> = names.iter().map(|s| Shard::owner(s, n)).collect();
        // Every scenario is in exactly one shard, and no shard is starved.
        for k in 1..=n {
            let shard = Shard { index: k, count: n };
            let count = names.iter().filter(|s| shard.contains(s)).count();
            assert!(count > 200 / n as usize / 2, "shard {k}/{n} has {count}");
        }
        assert!(owners.iter().all(|o| (1..=n).contains(o)));
    }
    // Adding and removing scenarios moves nobody else.
    let four = Shard { index: 1, count: 4 };
    let all = named(&[
        ("a", &[]),
        ("b", &[]),
        ("c", &[]),
        ("d", &[]),
        ("e", &[]),
        ("f", &[]),
    ]);
    let before: Vec<String> = four
        .apply(all.clone())
        .into_iter()
        .map(|s| s.name)
        .collect();
    let mut fewer = all.clone();
    fewer.retain(|s| s.name != "c" && s.name != "e");
    fewer.extend(named(&[("zz-new", &[])]));
    let after: Vec<String> = four.apply(fewer).into_iter().map(|s| s.name).collect();
    for n in &before {
        if n != "c" && n != "e" {
            assert!(after.contains(n), "{n} moved: {before:?} -> {after:?}");
        }
    }
}

#[test]
fn the_commented_example_and_the_bundled_scenarios_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let example = load_file(&root.join("example.toml.sample")).unwrap();
    assert_eq!(example.name, "example");
    // The sample documents the defaults, so apart from what it sets explicitly it must agree
    // with them.
    assert_eq!(example.sampler, SamplerSettings::default());
    assert_eq!(example.run, RunSettings::default());
    assert!(example.workload.pythonpath.is_empty());
    assert_eq!(example.prepare, None);
    let bundled = discover(&[root]).unwrap();
    let names: Vec<&str> = bundled.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "asyncio-pipeline",
            "json-roundtrip",
            "particles",
            "regex-tokenize",
            "sorting",
            "stack-vm",
            "thread-pool",
            "warehouse"
        ]
    );
    for s in &bundled {
        let Target::Script(p) = &s.workload.target else {
            panic!("{}: bundled scenarios run scripts", s.name)
        };
        assert!(p.is_file(), "{}: {p:?} missing", s.name);
        assert_eq!(s.sampler.rate_hz, 1000, "{}", s.name);
    }
}

#[test]
fn pythonpath_and_prepare_resolve_against_the_scenario_file_and_report_line_and_column() {
    let s = load(
        "[workload]\nscript = \"app.py\"\npythonpath = [\"../src\", \"/abs/lib\"]\n[prepare]\ncommand = \"make venv\"\ncwd = \"..\"\n",
    )
    .unwrap();
    assert_eq!(
        s.workload.pythonpath,
        [PathBuf::from("/proj/src"), PathBuf::from("/abs/lib")]
    );
    let p = s.prepare.as_ref().unwrap();
    assert_eq!(p.command, ["sh", "-c", "make venv"]);
    assert_eq!(p.cwd, PathBuf::from("/proj"));
    assert_eq!(p.timeout_s, DEFAULT_PREPARE_TIMEOUT_S);
    // A list is argv as is; the default directory is the workload's.
    let s = load(&format!(
        "{MIN}cwd = \"..\"\n[prepare]\ncommand = [\"python3.15\", \"-m\", \"venv\", \".venv\"]\ntimeout = \"2m\"\n"
    ))
    .unwrap();
    let p = s.prepare.unwrap();
    assert_eq!(p.command, ["python3.15", "-m", "venv", ".venv"]);
    assert_eq!(p.cwd, PathBuf::from("/proj"));
    assert_eq!(p.timeout_s, 120.0);
    // Neither changes the fingerprint of scenarios that do not use them.
    let plain = load(MIN).unwrap().fingerprint();
    let with = load(&format!("{MIN}pythonpath = [\"../src\"]\n")).unwrap();
    assert_ne!(with.fingerprint(), plain);

    let cases: &[(String, &str, &str)] = &[
        (format!("{MIN}pythonpath = [\"a:b\"]\n"), "3:15", "no `:`"),
        (
            format!("{MIN}pythonpath = \"src\"\n"),
            "3:14",
            "expected an array",
        ),
        (
            format!("{MIN}[prepare]\ncwd = \"..\"\n"),
            "3:1",
            "needs a `command`",
        ),
        (
            format!("{MIN}[prepare]\ncommand = \"\"\n"),
            "4:11",
            "`command` is empty",
        ),
        (
            format!("{MIN}[prepare]\ncommand = [\"sh\", 1]\n"),
            "4:11",
            "every element",
        ),
        (
            format!("{MIN}[prepare]\ncommand = \"x\"\ntimeout = 0\n"),
            "5:11",
            "greater than zero",
        ),
        (
            format!("{MIN}[prepare]\ncommand = \"x\"\nshell = true\n"),
            "5:1",
            "unknown field `shell`",
        ),
    ];
    for (text, at, fragment) in cases {
        let e = err(text);
        assert!(
            e.contains(&format!("demo.toml:{at}: ")) && e.contains(fragment),
            "{text:?}: expected {at} and {fragment:?}, got: {e}"
        );
    }
}

#[test]
fn preflight_names_a_missing_pythonpath_directory_unless_prepare_may_create_it() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("app.py"), "").unwrap();
    let path = d.path().join("s.toml");
    let s = load_str(&format!("{MIN}pythonpath = [\"src\"]\n"), &path).unwrap();
    let e = preflight(&s).unwrap_err().to_string();
    assert!(
        e.contains("`pythonpath` directory") && e.contains("../src"),
        "{e}"
    );
    let s = load_str(
        &format!("{MIN}pythonpath = [\"build\"]\n[prepare]\ncommand = \"mkdir build\"\n"),
        &path,
    )
    .unwrap();
    preflight(&s).unwrap();
}
