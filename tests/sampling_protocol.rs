//! The sampling protocol through the CLI (docs/sampling-protocol.md): a scenario without
//! `[sampler]` keys samples call-heavy pure Python at a low error rate, and `cpu` + `blocking`
//! is refused before anything runs.

mod common;

use common::tachygate;

use std::path::{Path, PathBuf};
use tachygate::run::load_results;
use tachygate::scenario::{Mode, RunSettings};

fn bundled_workload(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/workloads")
        .join(name)
}

#[test]
fn cpu_mode_with_blocking_is_a_config_error_naming_the_line_before_anything_runs() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("cpublock.toml");
    std::fs::write(
        &p,
        "[workload]\nscript = \"nowhere.py\"\n[sampler]\nmode = \"cpu\"\nblocking = true\n",
    )
    .unwrap();
    let out = tachygate()
        .arg("run")
        .arg(&p)
        .arg("--out")
        .arg(d.path().join("res"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("cpublock.toml:5:12:"), "{err}");
    assert!(err.contains("0 samples"), "{err}");
    assert!(
        err.contains("mode = \\\"gil\\\"") || err.contains("mode = \"gil\""),
        "{err}"
    );
    assert!(!d.path().join("res").exists(), "nothing may run");
}

/// The call-heavy bundled interpreter loop, scaled to ~0.6 s, with no `[sampler]` keys: the
/// defaults must be gil + blocking and its runs must sample below the default
/// `max_error_rate` (without blocking such code failed 37-63% of reads on a quiet machine).
#[test]
fn default_settings_sample_call_heavy_code_below_the_default_max_error_rate() {
    let Some(_py) = common::python() else { return };
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("callheavy.toml");
    std::fs::write(
        &p,
        format!(
            "[workload]\nscript = {:?}\nenv = {{ TACHYGATE_DEMO_SCALE = \"0.4\" }}\n[run]\nrepeats = 3\nretries = 1\n",
            bundled_workload("stack_vm.py").display().to_string()
        ),
    )
    .unwrap();
    let res = d.path().join("res");
    let _lock = common::profiler_lock();
    // Exit 0 or 3: a run may still be rejected when the machine is busy (that is the health
    // check working); the error rates are what this test is about.
    let out = tachygate()
        .arg("run")
        .arg(&p)
        .arg("--out")
        .arg(&res)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = load_results(&[res]).unwrap();
    let records: Vec<_> = runs[0].records.iter().map(|(r, _)| r).collect();
    assert_eq!(records.len(), 3);
    let limit = RunSettings::default().max_error_rate_pct;
    let mut errs = Vec::new();
    for r in &records {
        assert_eq!(r.sampler.mode, Mode::Gil);
        assert!(r.sampler.blocking);
        assert!(
            r.command.iter().any(|a| a == "--blocking"),
            "{:?}",
            r.command
        );
        assert!(r.samples > 0, "blocking in gil mode records samples: {r:?}");
        errs.push(r.error_rate_pct.expect("the trailer has an error rate"));
    }
    errs.sort_by(f64::total_cmp);
    let median = errs[1];
    assert!(
        median < limit,
        "median error rate {median}% >= default max_error_rate {limit}% ({errs:?})"
    );
}
