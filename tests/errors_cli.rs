//! Errors as users see them: one line on stderr, each cause once, with the file (line:column)
//! and the fix, and the exit code from `src/exit.rs`; and a closed stdout, which is not an
//! error for any command. Nothing here launches the profiler.

mod common;

use assert_cmd::Command;
use common::tachygate;
use std::path::Path;
use std::process::Stdio;

/// Runs a failing command and returns its stderr, after checking the exit code, that stdout
/// stayed empty and that the error is one line.
fn error_of(cmd: &mut Command, code: i32) -> String {
    let out = cmd.assert().code(code);
    let out = out.get_output();
    assert!(out.stdout.is_empty(), "{out:?}");
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

fn assert_once(haystack: &str, needle: &str) {
    assert_eq!(
        haystack.matches(needle).count(),
        1,
        "`{needle}` should appear once in: {haystack}"
    );
}

fn scenario_dir(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.py"), "pass\n").unwrap();
    std::fs::write(dir.path().join("bad.toml"), body).unwrap();
    dir
}

#[test]
fn a_scenario_type_error_names_file_line_column_once_and_exits_2() {
    let dir = scenario_dir("[workload]\nscript = \"w.py\"\n\n[run]\nrepeats = \"five\"\n");
    for cmd in ["list", "run"] {
        let err = error_of(
            tachygate().current_dir(dir.path()).args([cmd, "bad.toml"]),
            2,
        );
        assert_eq!(
            err,
            "tachygate: error: bad.toml:5:11: expected a whole number, found string \"five\"\n"
        );
    }
}

#[test]
fn a_misspelt_key_names_the_location_and_the_right_name_once() {
    let dir = scenario_dir("[workload]\nscript = \"w.py\"\n\n[run]\nrepeat = 5\n");
    let err = error_of(
        tachygate()
            .current_dir(dir.path())
            .args(["list", "bad.toml"]),
        2,
    );
    assert_once(&err, "bad.toml:5:1: unknown field `repeat`");
    // The fix: the key it should have been.
    assert_once(&err, "expected one of `repeats`");
}

#[test]
fn a_missing_baseline_directory_is_named_once_with_its_side() {
    let dir = tempfile::tempdir().unwrap();
    let err = error_of(
        tachygate()
            .current_dir(dir.path())
            .args(["compare", "baselines/", "results/"]),
        2,
    );
    assert_eq!(
        err,
        "tachygate: error: baseline side: baselines/: no such file or directory\n"
    );
}

#[test]
fn an_unreadable_profile_prints_the_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let err = error_of(
        tachygate()
            .current_dir(dir.path())
            .args(["inspect", "nope.bin"]),
        2,
    );
    assert_once(&err, "nope.bin: cannot read profile: ");
    assert_once(&err, "No such file or directory");
}

#[test]
fn help_lists_every_exit_code() {
    let out = tachygate().arg("--help").assert().success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // clap wraps the line at the terminal width.
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains(
            "Exit codes: 0 no regression, 1 regression or budget breach, \
             2 usage/config/input error, 3 a run failed, 130 interrupted."
        ),
        "{help}"
    );
}

/// Runs tachygate with a stdout whose reader is already gone.
fn with_closed_stdout(args: &[&str], cwd: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tachygate"))
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .stdout(common::closed_stdout())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = scenario_dir("[workload]\nscript = \"w.py\"\n");
    let profile = common::data_dir().join("profiles/cpu_zstd.bin");
    let profile = profile.to_str().unwrap();
    let commands: &[&[&str]] = &[
        &["list", "bad.toml"],
        &["list", "bad.toml", "--json"],
        &["inspect", "--collapsed", profile],
        &["inspect", "--json", profile],
        &["inspect", profile],
        &["completions", "bash"],
        &["man"],
    ];
    for args in commands {
        let out = with_closed_stdout(args, dir.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "tachygate {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "tachygate {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
