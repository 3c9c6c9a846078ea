//! The paired gate, `tachygate check --base REV`, end to end with the real profiler: a
//! temporary git repository whose second commit doubles one function's work is flagged with no
//! `baselines/` at all - as a plain script, as a src-layout package put on `sys.path` by
//! `[workload] pythonpath`, and as a package installed per checkout into a venv by `[prepare]`;
//! a scenario whose `PYTHONPATH` points both sides at one checkout is refused (exit 2); `ab`
//! (both revisions in worktrees) flags the same regression.
//! Runs are ~0.3 s, 5 per side; each test holds the profiler lock.

mod common;

use common::tachygate;

use predicates::prelude::*;
use std::path::Path;

const WORK: &str = r#"
def alpha(n):
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return acc


def beta(n):
    acc = 0
    for i in range(n):
        acc = (acc * 37 + i) % 1000003
    return acc


def gamma(n):
    acc = 0
    for i in range(n):
        acc = (acc * 41 + i) % 1000003
    return acc


def main():
    for _ in range(30):
        alpha(30000)
        beta(30000)
        gamma(GAMMA)
"#;

/// The functions' module with gamma doing `gamma` units of work.
fn work(gamma: u32) -> String {
    WORK.replace("GAMMA", &gamma.to_string())
}

const SCENARIO_HEAD: &str = common::SHORT_RUN_SETTINGS;

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        r.git(&["init", "-q"]);
        r.write(".gitignore", ".tachygate/\n.venv/\nreports/\n");
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn git(&self, args: &[&str]) {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        common::assert_success(&out, &format!("git {args:?}"));
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-qm", message]);
    }

    /// `bench.py` importing the src-layout package `pkg` (in `src/`), committed twice: the
    /// second commit doubles `pkg.core.gamma`'s work.
    fn commit_src_package(&self) {
        self.write("bench.py", "import pkg.core\n\npkg.core.main()\n");
        self.write("src/pkg/__init__.py", "");
        self.write("src/pkg/core.py", &work(30000));
        self.commit("one");
        self.write("src/pkg/core.py", &work(60000));
        self.commit("two: gamma does twice the work");
    }

    /// `tachygate check --base BASE` in the repository, with the interpreter from the
    /// environment (not `--python`, which would override a scenario's own `python`).
    fn check(&self, python: &Path, base: &str) -> assert_cmd::assert::Assert {
        assert!(
            !self.path().join("baselines").exists(),
            "the paired gate must not need baselines"
        );
        tachygate()
            .env("TACHYGATE_PYTHON", python)
            .current_dir(self.path())
            .args(["check", "--base", base])
            .assert()
    }
}

#[test]
fn a_regression_in_the_second_commit_fails_the_paired_gate_without_baselines() {
    let Some(python) = common::python() else {
        return;
    };
    let r = Repo::new();
    r.write(
        "scenarios/work.toml",
        &format!("[workload]\nscript = \"../bench.py\"\n{SCENARIO_HEAD}"),
    );
    r.write("bench.py", &format!("{}\nmain()\n", work(30000)));
    r.commit("one");
    r.write("bench.py", &format!("{}\nmain()\n", work(60000)));
    r.commit("two: gamma does twice the work");
    let _lock = common::profiler_lock();
    r.check(&python, "HEAD~1")
        .code(1)
        .stdout(predicate::str::contains("bench.py:gamma"))
        .stdout(predicate::str::contains("REGRESSED"))
        .stderr(predicate::str::contains("head (working tree)"));
    let report = std::fs::read_to_string(r.path().join("reports/check/report.json")).unwrap();
    assert!(
        report.contains("tachygate check --base HEAD~1 --scenario work"),
        "{report}"
    );
    // `ab` shares the machinery, with both revisions in worktrees (HEAD: the committed state).
    tachygate()
        .env("TACHYGATE_PYTHON", &python)
        .current_dir(r.path())
        .args(["ab", "HEAD~1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("bench.py:gamma"))
        .stderr(predicate::str::contains("head ("));
    // Nothing is left behind: the worktrees are gone.
    let list = std::process::Command::new("git")
        .arg("-C")
        .arg(r.path())
        .args(["worktree", "list"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 1);
}

#[test]
fn a_src_layout_package_is_imported_from_each_checkout_via_pythonpath() {
    let Some(python) = common::python() else {
        return;
    };
    let r = Repo::new();
    // Without `pythonpath` `import pkg` fails: src/ is not on sys.path.
    r.write(
        "scenarios/pkg.toml",
        &format!(
            "[workload]\nscript = \"../bench.py\"\npythonpath = [\"../src\"]\n{SCENARIO_HEAD}"
        ),
    );
    r.commit_src_package();
    let _lock = common::profiler_lock();
    r.check(&python, "HEAD~1")
        .code(1)
        .stdout(predicate::str::contains("src/pkg/core.py:gamma"))
        .stdout(predicate::str::contains("REGRESSED"));
}

#[test]
fn a_package_installed_per_checkout_by_prepare_is_compared_across_revisions() {
    let Some(python) = common::python() else {
        return;
    };
    let r = Repo::new();
    // An editable install, as pip would make it: a .pth file naming this checkout's src/, in a
    // venv created inside the checkout. `python` is relative, so each side uses its own venv.
    r.write(
        "scenarios/venv.toml",
        &format!(
            "[workload]\nscript = \"../bench.py\"\npython = \"../.venv/bin/python\"\n\n\
             [prepare]\ncwd = \"..\"\ncommand = '''\"$TACHYGATE_PYTHON\" -m venv --without-pip .venv && \
             echo \"$PWD/src\" > \"$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path(\"purelib\"))')/pkg.pth\"'''\n{SCENARIO_HEAD}"
        ),
    );
    r.commit_src_package();
    let _lock = common::profiler_lock();
    r.check(&python, "HEAD~1")
        .code(1)
        .stdout(predicate::str::contains("src/pkg/core.py:gamma"))
        .stdout(predicate::str::contains("REGRESSED"));
}

#[test]
fn both_sides_importing_one_checkout_is_refused_with_the_reason() {
    let Some(python) = common::python() else {
        return;
    };
    let r = Repo::new();
    let src = std::fs::canonicalize(r.path()).unwrap().join("src");
    // The mistake: an absolute PYTHONPATH into the main checkout, so the base side imports the
    // candidate's package too and the two sides measure the same code.
    r.write(
        "scenarios/pkg.toml",
        &format!(
            "[workload]\nscript = \"../bench.py\"\nenv = {{ PYTHONPATH = {:?} }}\n{SCENARIO_HEAD}",
            src.display().to_string()
        ),
    );
    r.commit_src_package();
    let _lock = common::profiler_lock();
    r.check(&python, "HEAD~1")
        .code(2)
        .stdout(predicate::str::contains("the base side"))
        .stdout(predicate::str::contains(
            "profiled files of another checkout",
        ))
        .stdout(predicate::str::contains("src/pkg/core.py"))
        .stdout(predicate::str::contains("pythonpath = [\"../src\"]"))
        .stdout(predicate::str::contains("REGRESSED").not());
}

// No profiled run below: these fail before any workload starts.

#[test]
fn a_failing_prepare_command_is_a_run_failure_with_its_output() {
    let r = Repo::new();
    r.write(
        "scenarios/work.toml",
        &format!(
            "[workload]\nscript = \"../bench.py\"\n[prepare]\ncommand = \"echo cannot build the extension; exit 7\"\n{SCENARIO_HEAD}"
        ),
    );
    r.write("bench.py", "print('never runs')\n");
    r.commit("one");
    r.check(Path::new("/nonexistent/python3.15"), "HEAD")
        .code(3)
        .stdout(predicate::str::contains("`[prepare]` command"))
        .stdout(predicate::str::contains("exit status: 7"))
        .stdout(predicate::str::contains("cannot build the extension"));
}

#[test]
fn a_bad_revision_or_no_repository_is_a_usage_error_saying_what_to_do() {
    let r = Repo::new();
    r.write(
        "scenarios/work.toml",
        "[workload]\nscript = \"../bench.py\"\n",
    );
    r.write("bench.py", "");
    r.commit("one");
    r.check(Path::new("/nonexistent/python3.15"), "no-such-branch")
        .code(2)
        .stderr(predicate::str::contains("`no-such-branch` is not a commit"))
        .stderr(predicate::str::contains("fetch-depth: 0"));
    let plain = tempfile::tempdir().unwrap();
    tachygate()
        .current_dir(plain.path())
        .args(["check", "--base", "HEAD"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not inside a git repository"));
    // The paired gate reads no baselines, so their flags do not combine with it.
    tachygate()
        .current_dir(r.path())
        .args(["check", "--base", "HEAD", "--require-baselines"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}
