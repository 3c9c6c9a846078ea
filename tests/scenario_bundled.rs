//! The bundled workloads run (scaled down, without the profiler) and honour the A/B knob.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn workloads() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/workloads")
}

fn run(py: &PathBuf, script: &str, slow: &str) -> std::process::Output {
    Command::new(py)
        .arg(workloads().join(script))
        .env("PYTHONHASHSEED", "0")
        .env("TACHYGATE_DEMO_SCALE", "0.05")
        .env("TACHYGATE_DEMO_SLOW", slow)
        .output()
        .unwrap()
}

#[test]
fn every_bundled_workload_runs_and_is_deterministic() {
    let Some(py) = common::python() else { return };
    for script in [
        "json_roundtrip.py",
        "regex_tokenize.py",
        "particles.py",
        "sorting.py",
        "thread_pool.py",
        "asyncio_pipeline.py",
        "warehouse.py",
        "stack_vm.py",
    ] {
        let a = run(&py, script, "");
        assert!(a.status.success(), "{script}: {a:?}");
        let b = run(&py, script, "");
        assert_eq!(a.stdout, b.stdout, "{script} is not deterministic");
        // Doing a named function's work twice must not change the result.
        let slow = run(
            &py,
            script,
            "tokenize,encode_documents,resolve_collisions,sort_records,render_page,parse_message,distance_to,step,take,remaining,assign,op_load,push,op_add,op_mul",
        );
        assert!(slow.status.success(), "{script}: {slow:?}");
        assert_eq!(
            a.stdout, slow.stdout,
            "{script}: the knob changed the output"
        );
    }
}

#[test]
fn a_malformed_knob_is_reported() {
    let Some(py) = common::python() else { return };
    let out = run(&py, "regex_tokenize.py", "tokenize=lots");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TACHYGATE_DEMO_SLOW: bad factor"), "{err}");
}
