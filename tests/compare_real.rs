//! The statistics on real profiles (CPython 3.15 profiler, `gatework.py`, ~1 s runs, 5 per
//! side): an A/A comparison flags nothing, and an A/B where `gamma` does 1.5x the work
//! (~+9 points of the baseline's samples) flags exactly gamma's self share plus its callers'
//! cumulative shares - the untouched functions, whose raw shares all fall, are not "improved".

mod common;

use std::path::Path;
use tachygate::baseline::{sample_set_from_runs, SampleSet};
use tachygate::compare::{compare_sets, CompareOptions, Metric, ScenarioComparison, Verdict};
use tachygate::run::{run_scenarios, NoProgress, RunOptions};
use tachygate::scenario::{load_file, Scenario};

fn scenario() -> Scenario {
    load_file(&common::data_dir().join("compare/scenarios/gatework.toml")).unwrap()
}

fn side(s: &Scenario, python: &Path, out: &Path) -> SampleSet {
    let mut opts = RunOptions::new(out.to_path_buf());
    opts.python = Some(python.to_path_buf());
    let summary = run_scenarios(std::slice::from_ref(s), &opts, &NoProgress).unwrap();
    let runs = &summary.scenarios[0];
    let built = sample_set_from_runs(runs, Some(s), false, &out.display().to_string()).unwrap();
    assert!(built.excluded.is_empty(), "{:?}", built.excluded);
    let set = built.set.unwrap();
    assert_eq!(set.runs.len(), 5);
    set
}

fn flagged(c: &ScenarioComparison) -> Vec<(String, Metric, Verdict)> {
    c.functions
        .iter()
        .filter(|f| matches!(f.verdict, Verdict::Regressed | Verdict::Improved))
        .map(|f| (f.function.name.clone(), f.metric, f.verdict))
        .collect()
}

#[test]
fn real_aa_flags_nothing_and_real_ab_flags_only_the_slowed_function_and_its_callers() {
    let Some(python) = common::python() else {
        return;
    };
    let _lock = common::profiler_lock();
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario();
    let a1 = side(&s, &python, &tmp.path().join("a1"));
    let a2 = side(&s, &python, &tmp.path().join("a2"));
    let mut slow = s.clone();
    slow.workload
        .env
        .insert("GATEWORK_SLOW".into(), "gamma=1.5".into());
    let b = side(&slow, &python, &tmp.path().join("b"));

    let opts = CompareOptions::default();
    let aa = compare_sets(&a1, &a2, &s.gate, &opts).unwrap();
    eprintln!("{}", tachygate::compare::table::render_scenario(&aa, true));
    assert!(flagged(&aa).is_empty(), "A/A flagged {:?}", flagged(&aa));

    let ab = compare_sets(&a1, &b, &s.gate, &opts).unwrap();
    eprintln!("{}", tachygate::compare::table::render_scenario(&ab, true));
    let flags = flagged(&ab);
    assert!(
        flags.contains(&("gamma".into(), Metric::SelfShare, Verdict::Regressed)),
        "{flags:?}"
    );
    // gamma's callers: driver, main and the module body (cumulative only).
    let callers = ["gamma", "driver", "main", "<module>"];
    for (name, metric, verdict) in &flags {
        assert_eq!(*verdict, Verdict::Regressed, "{name} {metric:?} {flags:?}");
        assert!(
            name == "gamma" || (*metric == Metric::Cumulative && callers.contains(&name.as_str())),
            "unexpected flag {name} {metric:?}: {flags:?}"
        );
    }
    // The correction at work: the untouched alpha's raw share fell by points, its corrected
    // delta is near zero.
    let alpha = ab
        .functions
        .iter()
        .find(|f| f.function.name == "alpha" && f.metric == Metric::SelfShare)
        .unwrap();
    assert!(
        alpha.raw_delta < -0.015,
        "alpha raw delta {}",
        alpha.raw_delta
    );
    assert!(
        alpha.delta.abs() < 0.01,
        "alpha corrected delta {}",
        alpha.delta
    );
}
