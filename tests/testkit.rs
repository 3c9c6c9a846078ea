//! The test kit's own contract: a test that cannot run says so, and fails under CI.

mod common;

/// The child of `a_skip_is_printed_and_fails_under_ci`: skips when that test asks it to.
#[test]
fn skip_probe() {
    if std::env::var_os("TACHYGATE_SKIP_PROBE").is_some() {
        common::skip("probe reason", "probe install");
    }
}

#[test]
fn a_skip_is_printed_and_fails_under_ci() {
    let exe = std::env::current_exe().unwrap();
    let run = |ci: bool| {
        let mut c = std::process::Command::new(&exe);
        c.args(["--exact", "skip_probe", "--nocapture", "--test-threads=1"])
            .env("TACHYGATE_SKIP_PROBE", "1");
        if ci {
            c.env("CI", "true");
        } else {
            c.env_remove("CI");
        }
        c.output().unwrap()
    };
    let local = run(false);
    let err = String::from_utf8_lossy(&local.stderr);
    assert!(local.status.success(), "{err}");
    assert!(
        err.contains("SKIPPED: probe reason (probe install)"),
        "{err}"
    );
    let ci = run(true);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&ci.stdout),
        String::from_utf8_lossy(&ci.stderr)
    );
    assert!(!ci.status.success(), "a skip passed under CI: {all}");
    assert!(all.contains("CI is set"), "{all}");
}
