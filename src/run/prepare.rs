//! `[prepare]`: the command that sets a checkout up before its runs (a venv, an editable
//! install, a compiled extension). Run once per distinct command and directory per
//! invocation - in a paired comparison that is once per side, in that side's checkout.

use super::process;
use crate::scenario::{Prepare, Scenario};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many trailing output lines a failure message keeps.
const OUTPUT_TAIL_LINES: usize = 8;

/// Outcomes of prepare commands already run, keyed by command and directory; shared by every
/// `run_scenarios` call of one invocation (`ab` and `check --base` make one call per run).
#[derive(Debug, Clone, Default)]
pub struct PreparedCache(Arc<Mutex<HashMap<PrepareKey, Result<(), String>>>>);

/// A prepare command and the directory it runs in.
type PrepareKey = (Vec<String>, PathBuf);

impl PreparedCache {
    /// Runs `s`'s prepare command unless the same command already ran in the same directory.
    /// `python` is exported as `TACHYGATE_PYTHON` (the interpreter tachygate would use if the
    /// scenario named none), so that the command can create a venv from it.
    pub(crate) fn ensure(
        &self,
        s: &Scenario,
        python: Option<&Path>,
        log: &Path,
        interrupt: Option<&AtomicBool>,
        grace: Duration,
    ) -> Result<(), String> {
        let Some(p) = &s.prepare else { return Ok(()) };
        let key = (p.command.clone(), p.cwd.clone());
        // Held while the command runs: a concurrent scenario with the same command waits for
        // it instead of racing it in the same directory.
        let mut done = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = done.get(&key) {
            return r.clone();
        }
        let r = run(p, &s.workload.env, python, log, interrupt, grace);
        done.insert(key, r.clone());
        r
    }
}

fn run(
    p: &Prepare,
    env: &std::collections::BTreeMap<String, String>,
    python: Option<&Path>,
    log: &Path,
    interrupt: Option<&AtomicBool>,
    grace: Duration,
) -> Result<(), String> {
    let what = format!("`[prepare]` command {:?} in {}", p.command, p.cwd.display());
    let open = || std::fs::File::create(log);
    let (out, err) = match open().and_then(|o| Ok((o.try_clone()?, o))) {
        Ok(f) => f,
        Err(e) => return Err(format!("{what}: cannot create {}: {e}", log.display())),
    };
    let mut command = std::process::Command::new(&p.command[0]);
    command.args(&p.command[1..]).current_dir(&p.cwd).envs(env);
    if let Some(py) = python {
        command.env("TACHYGATE_PYTHON", py);
    }
    let ended = process::run(process::Launch {
        command,
        stdout: out,
        stderr: err,
        timeout: Duration::from_secs_f64(p.timeout_s),
        grace,
        interrupt,
    });
    let output = std::fs::read_to_string(log).unwrap_or_default();
    let tail = super::tail(&output, OUTPUT_TAIL_LINES);
    let detail = |s: String| {
        if tail.trim().is_empty() {
            format!("{what} {s} (log: {})", log.display())
        } else {
            format!("{what} {s} (log: {}): {tail}", log.display())
        }
    };
    match ended {
        Err(e) => Err(format!("{what}: cannot launch: {e}")),
        Ok((process::Ended::Exited(st), _)) if st.success() => Ok(()),
        Ok((process::Ended::Exited(st), _)) => Err(detail(format!("failed ({st})"))),
        Ok((process::Ended::TimedOut, _)) => Err(detail(format!(
            "timed out after {} s (raise `[prepare] timeout`)",
            p.timeout_s
        ))),
        Ok((process::Ended::Interrupted, _)) => Err(format!("{what}: interrupted")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(dir: &Path, prepare: &str) -> Scenario {
        crate::scenario::load_str(
            &format!("[workload]\nscript = \"a.py\"\n[prepare]\n{prepare}\n"),
            &dir.join("s.toml"),
        )
        .unwrap()
    }

    #[test]
    fn runs_once_per_command_and_directory_and_reports_failures_with_output() {
        let d = tempfile::tempdir().unwrap();
        let s = scenario(
            d.path(),
            "command = \"echo x >> count.txt; echo py=$TACHYGATE_PYTHON\"",
        );
        let cache = PreparedCache::default();
        let log = d.path().join("prepare.log");
        let py = Path::new("/opt/py/bin/python3.15");
        for _ in 0..3 {
            cache
                .ensure(&s, Some(py), &log, None, Duration::from_secs(1))
                .unwrap();
        }
        let count = std::fs::read_to_string(d.path().join("count.txt")).unwrap();
        assert_eq!(count, "x\n", "ran once");
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(logged.contains("py=/opt/py/bin/python3.15"), "{logged}");

        let bad = scenario(
            d.path(),
            "command = [\"sh\", \"-c\", \"echo boom >&2; exit 4\"]",
        );
        let e = cache
            .ensure(&bad, None, &log, None, Duration::from_secs(1))
            .unwrap_err();
        assert!(e.contains("failed (exit status: 4)"), "{e}");
        assert!(e.ends_with("boom"), "{e}");
        // The failure is remembered: the scenario's later runs fail the same way at once.
        assert_eq!(
            cache.ensure(&bad, None, &log, None, Duration::from_secs(1)),
            Err(e)
        );
    }
}
