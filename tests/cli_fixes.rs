//! Issue 11's defects and conveniences, each through the binary: the sharded workflow's merge
//! command with three shards, scenario validation (`timeout = 1e20`, missing script, type
//! errors in TOML words), baseline versions, a results subfolder passed to `compare`, and
//! `--json` on stdout. Synthetic results directories with real profile fixtures (no Python),
//! so these run everywhere.

mod common;

use common::tachygate;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A results directory as `tachygate run --shard K/3 --results DIR` leaves it: a manifest and
/// five runs of one scenario, each with a real profile.
pub fn shard_results(dir: &Path, scenario: &str, profile: &Path) {
    common::synth::results_dir(dir, scenario, &vec![profile.to_path_buf(); 5]);
}

/// The merge job's compare command, exactly as the workflow has it.
fn workflow_merge_command() -> String {
    let wf = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/tachygate-sharded.yml");
    let text = std::fs::read_to_string(&wf).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("./target/release/tachygate compare"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one compare command in {}: {lines:?}",
        wf.display()
    );
    lines[0].to_string()
}

/// The merge step of `.github/workflows/tachygate-sharded.yml`, run verbatim with three shards
/// (the shell expands `results/shard-*` into three values). Before `-c` took several values,
/// the second and third shards became positional sides: "appears twice on one side".
#[test]
fn the_sharded_workflows_merge_command_works_with_three_shards() {
    let d = tempfile::tempdir().unwrap();
    let profile = common::data_dir().join("profiles/cpu_raw.bin");
    let names = ["alpha", "beta", "gamma"];
    for (k, name) in names.iter().enumerate() {
        shard_results(
            &d.path().join(format!("results/shard-{}", k + 1)),
            name,
            &profile,
        );
    }
    let bin = common::bin();
    // The baselines the merge compares against, recorded from the same shards.
    let out = common::tachygate_std()
        .current_dir(d.path())
        .args(["baseline", "update", "--baselines", "baselines", "--from"])
        .args((1..=3).map(|k| format!("results/shard-{k}")))
        .output()
        .unwrap();
    common::assert_success(&out, "baseline update");

    let cmd = workflow_merge_command();
    let script = cmd.replacen(
        "./target/release/tachygate",
        &format!("'{}'", bin.display()),
        1,
    );
    let out = common::clean_env(Command::new("sh"))
        .current_dir(d.path())
        .args(["-c", &script])
        .env("TACHYGATE_STEP_SUMMARY", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "`{cmd}`: {stderr}");
    assert!(!stderr.contains("appears twice"), "{stderr}");
    // The workflow publishes reports/summary.md and the reports directory.
    let report = std::fs::read_to_string(d.path().join("reports/report.json")).unwrap();
    for name in names {
        assert!(
            report.contains(&format!("\"{name}\"")),
            "{name} missing from the report"
        );
    }
    assert!(d.path().join("reports/summary.md").is_file());
}

fn stderr_of(c: &mut assert_cmd::Command, code: i32) -> String {
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    err
}

/// A scenario directory with `w.py` and one `s.toml` holding `toml`.
fn scenario(toml: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("w.py"), "print(1)\n").unwrap();
    let p = d.path().join("s.toml");
    std::fs::write(&p, toml).unwrap();
    (d, p)
}

#[test]
fn a_huge_timeout_is_rejected_at_its_line_and_column_not_a_panic() {
    for value in ["1e20", "1e300", "\"999999999999h\""] {
        let (_d, p) = scenario(&format!(
            "name = \"t\"\n[workload]\nscript = \"w.py\"\ntimeout = {value}\n"
        ));
        let err = stderr_of(tachygate().arg("list").arg(&p), 2);
        assert!(err.contains("s.toml:4:11:"), "{value}: {err}");
        assert!(
            err.contains("`timeout`") && err.contains("maximum"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // The largest accepted value still lists.
    let (_d, p) = scenario("name = \"t\"\n[workload]\nscript = \"w.py\"\ntimeout = \"7days\"\n");
    stderr_of(tachygate().arg("list").arg(&p), 0);
}

#[test]
fn list_rejects_a_scenario_whose_script_does_not_exist_naming_the_path() {
    let (d, p) = scenario("name = \"gone\"\n[workload]\nscript = \"missing.py\"\n");
    let err = stderr_of(tachygate().arg("list").arg(&p), 2);
    let missing = d.path().join("missing.py");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    // With --json too: nothing on stdout for a scenario that cannot run.
    let out = tachygate()
        .args(["list", "--json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn type_errors_say_what_was_expected_in_toml_words() {
    let cases = [
        (
            "[run]\nrepeats = \"five\"\n",
            "s.toml:5:11:",
            "expected a whole number, found string \"five\"",
        ),
        (
            "[run]\nmax_error_rate = \"x\"\n",
            "s.toml:5:18:",
            "expected a number, found string \"x\"",
        ),
        (
            "[gate]\nmin_effect = true\n",
            "s.toml:5:14:",
            "expected a number, found boolean `true`",
        ),
        (
            "tags = \"a\"\n",
            "s.toml:4:8:",
            "expected an array, found string \"a\"",
        ),
        (
            "[workload.env]\nX = 1\n",
            "s.toml:5:5:",
            "expected a string, found integer `1`",
        ),
    ];
    for (extra, at, want) in cases {
        // Root keys must precede the tables; put `extra` last unless it is a root key.
        let text = if extra.starts_with('[') {
            format!("name = \"t\"\n[workload]\nscript = \"w.py\"\n{extra}")
        } else {
            format!("name = \"t\"\n{extra}[workload]\nscript = \"w.py\"\n")
        };
        let (_d, p) = scenario(&text);
        let err = stderr_of(tachygate().arg("list").arg(&p), 2);
        assert!(err.contains(want), "{extra:?}: want {want:?} in {err}");
        for rust in ["i64", "f64", "u32", "sequence", "struct Raw"] {
            assert!(!err.contains(rust), "{extra:?}: Rust type name in {err}");
        }
        if !extra.starts_with("tags") {
            assert!(err.contains(at), "{extra:?}: want {at} in {err}");
        }
    }
}

/// Baselines recorded from a one-scenario results directory; returns (results, baselines).
fn recorded(root: &Path, name: &str) -> (PathBuf, PathBuf) {
    let results = root.join("results");
    shard_results(
        &results,
        name,
        &common::data_dir().join("profiles/cpu_raw.bin"),
    );
    let baselines = root.join("baselines");
    tachygate()
        .args(["baseline", "update", "--baselines"])
        .arg(&baselines)
        .arg("--from")
        .arg(&results)
        .assert()
        .code(0);
    (results, baselines)
}

#[test]
fn a_newer_baseline_version_says_upgrade_and_an_older_one_says_re_create() {
    let d = tempfile::tempdir().unwrap();
    let (results, baselines) = recorded(d.path(), "alpha");
    let file = common::baseline_file(&baselines, "alpha");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"version\": 2"), "{text}");
    for (version, want, not) in [
        ("99", "upgrade tachygate", "re-create"),
        (
            "0",
            "re-create it with `tachygate baseline update`",
            "upgrade",
        ),
    ] {
        std::fs::write(
            &file,
            text.replace("\"version\": 2", &format!("\"version\": {version}")),
        )
        .unwrap();
        let err = stderr_of(
            tachygate()
                .arg("compare")
                .arg(&file)
                .arg(&results)
                .arg("--reports")
                .arg(d.path().join("rep")),
            2,
        );
        assert!(
            err.contains(want) && !err.contains(not),
            "version {version}: {err}"
        );
        assert!(err.contains(&file.display().to_string()), "{err}");
    }
}

#[test]
fn a_scenario_folder_of_a_results_directory_names_the_directory_to_pass() {
    let d = tempfile::tempdir().unwrap();
    let (results, baselines) = recorded(d.path(), "alpha");
    for given in [results.join("alpha"), results.join("alpha/run-0.json")] {
        let err = stderr_of(
            tachygate()
                .arg("compare")
                .arg(&baselines)
                .arg(&given)
                .arg("--reports")
                .arg(d.path().join("rep")),
            2,
        );
        assert!(!err.contains("not valid baseline JSON"), "{err}");
        assert!(
            err.contains(&format!("pass {} instead", results.display())),
            "{given:?}: {err}"
        );
        assert!(err.contains("--scenario alpha"), "{err}");
    }
    // The directory itself works.
    tachygate()
        .arg("compare")
        .arg(&baselines)
        .arg(&results)
        .arg("--reports")
        .arg(d.path().join("rep"))
        .assert()
        .code(0);
}

#[test]
fn json_puts_the_report_and_nothing_else_on_stdout() {
    let d = tempfile::tempdir().unwrap();
    let (results, baselines) = recorded(d.path(), "alpha");
    let rep = d.path().join("rep");
    let out = tachygate()
        .arg("compare")
        .arg(&baselines)
        .arg(&results)
        .args(["--json", "--reports"])
        .arg(&rep)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rep.join("report.json")).unwrap()).unwrap();
    assert_eq!(stdout, file);
    assert_eq!(stdout["status"], "pass");
    // The human table went to stderr.
    assert!(String::from_utf8_lossy(&out.stderr).contains("alpha"));
}

#[test]
fn check_json_puts_the_report_and_nothing_else_on_stdout() {
    let d = tempfile::tempdir().unwrap();
    let (results, baselines) = recorded(d.path(), "alpha");
    let scenarios = d.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    std::fs::write(scenarios.join("w.py"), "print(1)\n").unwrap();
    std::fs::write(
        scenarios.join("alpha.toml"),
        "[workload]\nscript = \"w.py\"\n",
    )
    .unwrap();
    let rep = d.path().join("rep");
    let out = tachygate()
        .arg("check")
        .arg("--scenarios")
        .arg(&scenarios)
        .arg("--baselines")
        .arg(&baselines)
        .arg("--from")
        .arg(&results)
        .args(["--json", "--reports"])
        .arg(&rep)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rep.join("report.json")).unwrap()).unwrap();
    assert_eq!(stdout, file);
    assert_eq!(stdout["scenarios"][0]["scenario"], "alpha", "{stdout}");
}

#[test]
fn completions_are_generated_from_the_current_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = tachygate().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        // fish spells long options `-l NAME`.
        let long = |name: &str| {
            if shell == "fish" {
                format!("-l {name} ")
            } else {
                format!("--{name}")
            }
        };
        for name in ["results", "reports", "baselines", "scenarios", "speedscope"] {
            assert!(
                text.contains(&long(name)),
                "{shell} completions lack {name}"
            );
        }
        // Hidden old spellings are not offered.
        for old in ["out", "path", "dir"] {
            let w = long(old);
            let offered = text.match_indices(&w).any(|(i, _)| {
                !text[i + w.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '-')
            });
            assert!(!offered, "{shell} completions offer {old}");
        }
    }
    let err = stderr_of(tachygate().args(["completions", "tcsh"]), 2);
    assert!(err.contains("bash"), "{err}");
}

#[test]
fn man_pages_are_generated_for_every_subcommand() {
    let out = tachygate().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH tachygate 1"),
        "{page}"
    );
    assert!(page.contains(".TH tachygate 1"));
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("man1");
    tachygate().arg("man").arg(&dir).assert().code(0);
    for name in [
        "tachygate.1",
        "tachygate-check.1",
        "tachygate-baseline-update.1",
        "tachygate-compare.1",
    ] {
        let text =
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(".TH"), "{name}");
    }
    let check = std::fs::read_to_string(dir.join("tachygate-check.1")).unwrap();
    assert!(check.contains("reports"), "{check}");
}

#[test]
fn version_names_the_commit() {
    let out = tachygate().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let want = format!("tachygate {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&want), "{text}");
    let commit = text
        .trim_end()
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .unwrap();
    // A checkout gives the short hash; a tarball without git gives "unknown".
    let in_checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join(".git").exists();
    if in_checkout {
        assert_eq!(commit.len(), 12, "{text}");
        assert!(commit.chars().all(|c| c.is_ascii_hexdigit()), "{text}");
    } else {
        assert!(commit == "unknown" || commit.len() == 12, "{text}");
    }
}
