//! `tachygate init` through the CLI: what it writes, that it refuses to overwrite, and that the
//! example project holds exactly what it writes.

mod common;

use common::tachygate;

use predicates::str::contains;
use std::path::{Path, PathBuf};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/python-project")
}

fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("bench")).unwrap();
    std::fs::create_dir_all(d.path().join("src/pkg")).unwrap();
    std::fs::write(d.path().join("bench/hot.py"), "print('hot')\n").unwrap();
    d
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn writes_a_scenario_that_lists_and_a_workflow() {
    let d = project();
    tachygate()
        .args(["init", "--script", "bench/hot.py"])
        .current_dir(d.path())
        .assert()
        .success()
        .stdout(contains("wrote scenarios/hot.toml"))
        .stdout(contains("wrote .github/workflows/tachygate.yml"));
    let scenario = read(&d.path().join("scenarios/hot.toml"));
    assert!(
        scenario.contains("script = \"../bench/hot.py\""),
        "{scenario}"
    );
    assert!(scenario.contains("pythonpath = [\"../src\"]"), "{scenario}");
    let out = tachygate()
        .args(["list", "--json"])
        .current_dir(d.path())
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v[0]["name"], "hot", "{v}");
    let workflow = read(&d.path().join(".github/workflows/tachygate.yml"));
    assert_eq!(
        workflow,
        read(&example().join(".github/workflows/tachygate.yml")),
        "the example project's workflow must be exactly what init writes"
    );
}

#[test]
fn module_target_with_a_name_and_a_project_directory() {
    let d = tempfile::tempdir().unwrap();
    tachygate()
        .args([
            "init",
            "--module",
            "pkg.bench",
            "--name",
            "pkg-bench",
            "--no-workflow",
        ])
        .arg("--project")
        .arg(d.path())
        .assert()
        .success();
    let scenario = read(&d.path().join("scenarios/pkg-bench.toml"));
    assert!(scenario.contains("module = \"pkg.bench\""), "{scenario}");
    assert!(scenario.contains("focus = [\"*pkg/*:*\"]"), "{scenario}");
    // No src/ here: nothing to put on PYTHONPATH.
    assert!(!scenario.contains("PYTHONPATH"), "{scenario}");
    assert!(!d.path().join(".github").exists());
}

#[test]
fn refuses_to_overwrite_and_writes_nothing() {
    let d = project();
    let wf = d.path().join(".github/workflows/tachygate.yml");
    std::fs::create_dir_all(wf.parent().unwrap()).unwrap();
    std::fs::write(&wf, "name: mine\n").unwrap();
    tachygate()
        .args(["init", "--script", "bench/hot.py"])
        .current_dir(d.path())
        .assert()
        .code(2)
        .stderr(contains(".github/workflows/tachygate.yml already exists"))
        .stderr(contains("--no-workflow"));
    assert_eq!(read(&wf), "name: mine\n");
    assert!(
        !d.path().join("scenarios/hot.toml").exists(),
        "nothing may be written when a file is refused"
    );
    // --no-workflow leaves it alone; then a second run keeps identical files and refuses an edited one.
    tachygate()
        .args(["init", "--script", "bench/hot.py", "--no-workflow"])
        .current_dir(d.path())
        .assert()
        .success();
    tachygate()
        .args(["init", "--script", "bench/hot.py", "--no-workflow"])
        .current_dir(d.path())
        .assert()
        .success()
        .stdout(contains("kept scenarios/hot.toml"));
    let sc = d.path().join("scenarios/hot.toml");
    std::fs::write(&sc, read(&sc) + "# mine\n").unwrap();
    tachygate()
        .args(["init", "--script", "bench/hot.py", "--no-workflow"])
        .current_dir(d.path())
        .assert()
        .code(2)
        .stderr(contains("scenarios/hot.toml already exists"));
    assert!(read(&sc).ends_with("# mine\n"));
    tachygate()
        .args(["init", "--script", "bench/hot.py", "--force"])
        .current_dir(d.path())
        .assert()
        .success();
    assert!(!read(&sc).contains("# mine"));
    assert_ne!(read(&wf), "name: mine\n");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let d = project();
    for (args, needle) in [
        (vec!["init"], "--script"),
        (
            vec!["init", "--script", "bench/hot.py", "--module", "p.b"],
            "cannot be used with",
        ),
        (vec!["init", "--script", "bench/nope.py"], "no such file"),
        (
            vec!["init", "--module", "my-pkg.bench"],
            "not a dotted Python module name",
        ),
        (
            vec!["init", "--script", "bench/hot.py", "--name", "a/b"],
            "only letters, digits",
        ),
        (
            vec!["init", "--script", "/etc/hostname"],
            "outside the project directory",
        ),
    ] {
        tachygate()
            .args(&args)
            .current_dir(d.path())
            .assert()
            .code(2)
            .stderr(contains(needle));
    }
    assert!(!d.path().join("scenarios").exists());
}

/// The example's scenarios are init's output for its two workloads, unedited.
#[test]
fn example_scenarios_are_what_init_writes() {
    let d = tempfile::tempdir().unwrap();
    for dir in ["bench", "src/minigeo"] {
        std::fs::create_dir_all(d.path().join(dir)).unwrap();
    }
    std::fs::copy(
        example().join("bench/nearest.py"),
        d.path().join("bench/nearest.py"),
    )
    .unwrap();
    for args in [
        vec!["init", "--script", "bench/nearest.py"],
        vec!["init", "--module", "minigeo.bench", "--name", "tour"],
    ] {
        tachygate()
            .args(&args)
            .current_dir(d.path())
            .assert()
            .success();
    }
    for f in ["scenarios/nearest.toml", "scenarios/tour.toml"] {
        assert_eq!(read(&d.path().join(f)), read(&example().join(f)), "{f}");
    }
}
