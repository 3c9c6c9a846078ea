//! The composite action (`action.yml`) run outside GitHub: its `run:` steps are extracted and
//! executed the way a runner does (`bash --noprofile --norc -eo pipefail`), with `GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY` and `GITHUB_PATH` as temporary files and the `${{ }}` expressions of
//! `env:`, `working-directory:` and `if:` evaluated from a table (an expression the table does
//! not know fails the test, so a change to action.yml comes here). `uses:` steps are GitHub's
//! (setup-python: its output is simulated with the local CPython 3.15; upload-artifact: the
//! test checks the path it would upload). The install step downloads from PyPI and is replaced
//! by the locally built binary on PATH; scripts/test-install.sh covers the wheel.

mod common;

use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn action() -> Value {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    serde_yaml_ng::from_str(&text).expect("action.yml is YAML")
}

fn steps(action: &Value) -> Vec<Value> {
    action["runs"]["steps"]
        .as_sequence()
        .expect("runs.steps")
        .clone()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// One simulated run of the action.
struct Sim {
    /// Expression -> value, for `inputs.*`, `github.*`, `runner.*`.
    ctx: BTreeMap<String, String>,
    /// `steps.<id>.outputs.<name>` read back from GITHUB_OUTPUT.
    outputs: BTreeMap<String, String>,
    workspace: PathBuf,
    temp: PathBuf,
    /// Directories prepended to PATH (the tachygate under test first).
    path_prefix: Vec<PathBuf>,
    extra_env: Vec<(String, String)>,
    /// Exit status of each step that ran, by name.
    log: Vec<(String, i32, String)>,
}

impl Sim {
    fn new(workspace: &Path, temp: &Path, inputs: &[(&str, &str)], pr: bool) -> Sim {
        let mut ctx = BTreeMap::new();
        let action = action();
        for (name, spec) in action["inputs"].as_mapping().unwrap() {
            let default = spec["default"].as_str().unwrap_or("").to_string();
            ctx.insert(format!("inputs.{}", s(name)), default);
        }
        for (k, v) in inputs {
            assert!(
                ctx.contains_key(&format!("inputs.{k}")),
                "action.yml has no input {k}"
            );
            ctx.insert(format!("inputs.{k}"), v.to_string());
        }
        let event = if pr { "pull_request" } else { "push" };
        ctx.insert("github.event_name".into(), event.into());
        let (base, head, number) = if pr {
            ("1111111111111111111111111111111111111111", "2222222", "42")
        } else {
            ("", "", "")
        };
        ctx.insert("github.event.pull_request.base.sha".into(), base.into());
        ctx.insert("github.event.pull_request.head.sha".into(), head.into());
        ctx.insert("github.event.pull_request.number".into(), number.into());
        ctx.insert("github.action_ref".into(), "v0.0.0-test".into());
        ctx.insert("github.action_path".into(), root().display().to_string());
        ctx.insert("runner.temp".into(), temp.display().to_string());
        Sim {
            ctx,
            outputs: BTreeMap::new(),
            workspace: workspace.to_path_buf(),
            temp: temp.to_path_buf(),
            path_prefix: Vec::new(),
            extra_env: Vec::new(),
            log: Vec::new(),
        }
    }

    fn value(&self, expr: &str) -> String {
        let expr = expr.trim();
        if let Some(v) = self.ctx.get(expr) {
            return v.clone();
        }
        if expr.starts_with("steps.") {
            return self.outputs.get(expr).cloned().unwrap_or_default();
        }
        panic!("action_steps.rs does not know the expression `{expr}`: add it to the table");
    }

    /// Replaces every `${{ expr }}` in `text`.
    fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${{") {
            out.push_str(&rest[..i]);
            let end = rest[i..].find("}}").expect("unterminated ${{") + i;
            out.push_str(&self.value(&rest[i + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// The `if:` conditions action.yml uses: `&&` of `always()`, `X != ''` and `X == 'lit'`.
    fn condition(&self, cond: &str, failed: bool) -> bool {
        let mut has_always = false;
        let mut ok = true;
        for term in cond.split("&&").map(str::trim) {
            if term == "always()" {
                has_always = true;
            } else if let Some((l, r)) = term.split_once("!=") {
                ok &= self.value(l) != literal(r);
            } else if let Some((l, r)) = term.split_once("==") {
                ok &= self.value(l) == literal(r);
            } else {
                panic!("action_steps.rs cannot evaluate `if: {cond}`");
            }
        }
        ok && (has_always || !failed)
    }

    /// Runs every step, returns the exit status of the last one that failed (0 if none).
    fn run(&mut self, skip_ids: &[&str]) -> i32 {
        let gh_output = self.temp.join("github_output");
        let summary = self.temp.join("step_summary");
        let gh_path = self.temp.join("github_path");
        for f in [&gh_output, &summary, &gh_path] {
            std::fs::write(f, "").unwrap();
        }
        let mut failed = 0;
        for step in steps(&action()) {
            let name = s(&step["name"]).to_string();
            let id = s(&step["id"]).to_string();
            if let Some(cond) = step["if"].as_str() {
                if !self.condition(cond, failed != 0) {
                    continue;
                }
            } else if failed != 0 {
                continue;
            }
            if skip_ids.contains(&id.as_str()) {
                continue;
            }
            if let Some(uses) = step["uses"].as_str() {
                self.simulate_uses(uses, &step);
                continue;
            }
            let script = s(&step["run"]);
            assert_eq!(s(&step["shell"]), "bash", "step {name}: shell");
            let dir = match step["working-directory"].as_str() {
                Some(d) => self.workspace.join(self.expand(d)),
                None => self.workspace.clone(),
            };
            std::fs::write(&gh_output, "").unwrap();
            let file = self.temp.join("step.sh");
            std::fs::write(&file, script).unwrap();
            let mut cmd = common::clean_env(Command::new("bash"));
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&file)
                .current_dir(&dir)
                .env("GITHUB_OUTPUT", &gh_output)
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("GITHUB_PATH", &gh_path)
                .env("RUNNER_TEMP", &self.temp)
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true");
            let path = std::env::join_paths(
                self.path_prefix
                    .iter()
                    .cloned()
                    .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
            )
            .unwrap();
            cmd.env("PATH", path);
            for (k, v) in &self.extra_env {
                cmd.env(k, v);
            }
            if let Some(env) = step["env"].as_mapping() {
                for (k, v) in env {
                    let v = match v {
                        Value::String(t) => self.expand(t),
                        other => serde_yaml_ng::to_string(other).unwrap().trim().to_string(),
                    };
                    cmd.env(s(k), v);
                }
            }
            let out = cmd.output().unwrap();
            let code = out.status.code().unwrap_or(-1);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if !id.is_empty() {
                for line in std::fs::read_to_string(&gh_output).unwrap().lines() {
                    if let Some((k, v)) = line.split_once('=') {
                        self.outputs
                            .insert(format!("steps.{id}.outputs.{k}"), v.to_string());
                    }
                }
            }
            self.log.push((name, code, text));
            if code != 0 {
                failed = code;
            }
        }
        failed
    }

    fn simulate_uses(&mut self, uses: &str, step: &Value) {
        if uses.starts_with("actions/setup-python@") {
            assert_eq!(step["with"]["allow-prereleases"], Value::Bool(true));
            if let Some(py) = common::python() {
                self.outputs.insert(
                    "steps.python.outputs.python-path".into(),
                    py.display().to_string(),
                );
            }
        } else if uses.starts_with("actions/upload-artifact@") {
            let path = self.expand(s(&step["with"]["path"]));
            assert!(
                Path::new(&path).is_dir(),
                "upload-artifact path {path} is missing"
            );
            self.log.push((format!("upload {path}"), 0, String::new()));
        } else {
            panic!("action_steps.rs does not simulate `uses: {uses}`");
        }
    }

    fn step_log(&self) -> String {
        self.log
            .iter()
            .map(|(n, c, t)| format!("--- {n}: exit {c}\n{t}"))
            .collect()
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.temp.join("step_summary")).unwrap()
    }
}

fn literal(r: &str) -> String {
    r.trim().trim_matches('\'').to_string()
}

/// A stand-in `tachygate` that records its arguments and exits with `code`.
fn fake_tachygate(dir: &Path, code: i32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let p = bin.join("tachygate");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"{}\"\nfor a; do [ \"$prev\" = --reports ] && mkdir -p \"$a\" && echo '## fake report' > \"$a/summary.md\"; prev=$a; done\nexit {code}\n",
            dir.join("args").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn recorded_args(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("args"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn run_scripts_take_inputs_from_env_only() {
    for step in steps(&action()) {
        if let Some(script) = step["run"].as_str() {
            assert!(
                !script.contains("${{"),
                "step {:?} expands an expression inside its script (shell injection); pass it through env:",
                s(&step["name"])
            );
        }
    }
}

/// Paired mode on a pull request passes the base commit with exactly `--base`, the scenarios and
/// extra arguments as separate words, and each exit code becomes the step's verdict.
#[test]
fn paired_mode_passes_the_base_and_maps_exit_codes() {
    for (code, verdict) in [(0, 0), (1, 1), (2, 2), (3, 3), (7, 2)] {
        let d = tempfile::tempdir().unwrap();
        let ws = d.path().join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        let mut sim = Sim::new(
            &ws,
            d.path(),
            &[
                ("scenarios", "scenarios/a.toml scenarios/b"),
                ("args", "--repeats 7 --tag gate"),
                ("python-version", ""),
            ],
            true,
        );
        sim.path_prefix.push(fake_tachygate(d.path(), code));
        let got = sim.run(&["install"]);
        assert_eq!(got, verdict, "exit {code}:\n{}", sim.step_log());
        let report_dir = d.path().join("tachygate-reports");
        assert_eq!(
            recorded_args(d.path()),
            [
                "check",
                "scenarios/a.toml",
                "scenarios/b",
                "--base",
                "1111111111111111111111111111111111111111",
                "--repeats",
                "7",
                "--tag",
                "gate",
                "--reports",
                &report_dir.display().to_string(),
            ]
        );
        assert_eq!(
            sim.outputs["steps.gate.outputs.exit-code"],
            code.to_string()
        );
        assert!(
            sim.summary().contains("## fake report"),
            "{}",
            sim.step_log()
        );
        let marker = std::fs::read_to_string(report_dir.join("comment.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&marker).unwrap();
        assert_eq!(v["pr"], 42);
        assert_eq!(v["head_sha"], "2222222");
    }
}

#[test]
fn paired_mode_without_a_base_and_unknown_modes_are_configuration_errors() {
    for (mode, pr, needle) in [
        ("paired", false, "needs a base commit"),
        ("both", true, "mode must be paired or baseline"),
    ] {
        let d = tempfile::tempdir().unwrap();
        let ws = d.path().join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        let mut sim = Sim::new(&ws, d.path(), &[("mode", mode), ("python-version", "")], pr);
        sim.path_prefix.push(fake_tachygate(d.path(), 0));
        assert_eq!(sim.run(&["install"]), 2, "{}", sim.step_log());
        assert!(recorded_args(d.path()).is_empty(), "tachygate ran");
        assert!(sim.step_log().contains(needle), "{}", sim.step_log());
        assert!(sim.summary().contains("no report (exit 2)"));
    }
}

/// Baseline mode with the real binary against the example project: the setup-python output
/// (simulated with the local CPython 3.15) becomes the workloads' interpreter, reports land in
/// the report directory, the job summary gets summary.md, the verdict follows the exit code.
#[test]
fn baseline_mode_runs_the_example_project() {
    let Some(_py) = common::python() else { return };
    let d = tempfile::tempdir().unwrap();
    let ws = d.path().join("ws");
    common::copy_dir(&root().join("examples/python-project"), &ws.join("proj"));
    // Health limits loosened in this copy: the test machine is shared (see test-install.sh).
    for f in ["scenarios/nearest.toml", "scenarios/tour.toml"] {
        let p = ws.join("proj").join(f);
        let text = std::fs::read_to_string(&p).unwrap();
        let default = "# max_error_rate = 5\n";
        assert!(text.contains(default), "{f}: no `{default}` to loosen");
        let t = text.replace(
            default,
            "max_error_rate = 30\nmax_gap_ratio = 50\nretries = 4\n",
        );
        std::fs::write(&p, t).unwrap();
    }
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(ws.join("proj"))
            .output()
            .unwrap();
        assert!(st.status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "example"]);
    let bin = common::bin();
    let bindir = d.path().join("bin");
    std::fs::create_dir_all(&bindir).unwrap();
    std::fs::copy(&bin, bindir.join("tachygate")).unwrap();
    let _lock = common::profiler_lock();
    let st = common::clean_env(Command::new(bindir.join("tachygate")))
        .args(["baseline", "update", "--repeats", "3", "-q"])
        .current_dir(ws.join("proj"))
        .env("TACHYGATE_PYTHON", common::python().unwrap())
        .output()
        .unwrap();
    common::assert_success(&st, "baseline update");
    let mut sim = Sim::new(
        &ws,
        d.path(),
        &[
            ("mode", "baseline"),
            ("working-directory", "proj"),
            ("args", "--repeats 3"),
            (
                "install",
                "test -f pyproject.toml && echo installing > installed.txt",
            ),
        ],
        true,
    );
    sim.path_prefix.push(bindir);
    sim.extra_env
        .push(("TACHYGATE_PYTHON".into(), String::new()));
    let verdict = sim.run(&["install"]);
    let code: i32 = sim.outputs["steps.gate.outputs.exit-code"].parse().unwrap();
    // 0, or 1 for an A/A false alarm on a loaded machine; anything else is a broken pipeline.
    assert!(matches!(code, 0 | 1), "exit {code}:\n{}", sim.step_log());
    assert_eq!(verdict, code, "{}", sim.step_log());
    assert!(
        ws.join("proj/installed.txt").is_file(),
        "install input did not run in working-directory"
    );
    let report_dir = PathBuf::from(&sim.outputs["steps.gate.outputs.report-dir"]);
    for f in [
        "index.html",
        "summary.md",
        "report.json",
        "junit.xml",
        "comment.json",
    ] {
        assert!(
            report_dir.join(f).is_file(),
            "{f} missing:\n{}",
            sim.step_log()
        );
    }
    assert_eq!(
        sim.outputs["steps.gate.outputs.summary"],
        report_dir.join("summary.md").display().to_string()
    );
    let summary = sim.summary();
    assert!(summary.contains("tachygate"), "{summary}");
    assert!(
        summary.contains("nearest") && summary.contains("tour"),
        "{summary}"
    );
    assert!(sim.step_log().contains("upload "), "{}", sim.step_log());
}
