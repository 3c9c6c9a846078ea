//! `tachygate doctor`'s smoke test: can this machine sample a child process, and at what
//! error rate?

use super::process;
use super::{
    classify_profiler_failure, describe, error_rate_from_stdout, profile_health, ProfileHealth,
    RunOutcome,
};
use crate::python::Interpreter;
use crate::scenario::SamplerSettings;
use std::path::Path;
use std::time::Duration;

/// The result of [`smoke_test`].
#[derive(Debug, Clone, PartialEq)]
pub enum SmokeTest {
    Ok(ProfileHealth),
    PermissionDenied(String),
    Failed(String),
}

/// A call-heavy pure-Python loop (small methods calling small methods, like pyperformance's
/// richards or an OO simulation): the kind of code whose sampling fails without `--blocking`.
const SMOKE_LOOP: &str = "import time\n\nclass Node:\n    def __init__(self, v):\n        self.v = v\n    def value(self):\n        return self.v\n    def step(self, other):\n        return self.value() + other.value()\n\ndef walk(nodes):\n    t = 0\n    for a, b in zip(nodes, nodes[1:]):\n        t += a.step(b)\n    return t\n\nnodes = [Node(i) for i in range(200)]\nt = time.perf_counter()\nwhile time.perf_counter() - t < 0.8:\n    walk(nodes)\n";

/// Profiles a 0.8 s call-heavy loop with `python` (in `dir`, which must exist) using `sampler`'s
/// mode and blocking at 1 kHz: can this machine sample a child process with these settings, and
/// at what error rate? Used by `tachygate doctor`.
pub fn smoke_test(python: &Interpreter, dir: &Path, sampler: &SamplerSettings) -> SmokeTest {
    let tag = format!(
        "{}{}",
        sampler.mode,
        if sampler.blocking { "-blocking" } else { "" }
    );
    let script = dir.join("tachygate_doctor_loop.py");
    let profile = dir.join(format!("doctor-{tag}.bin"));
    if let Err(e) = std::fs::write(&script, SMOKE_LOOP) {
        return SmokeTest::Failed(format!("cannot write {}: {e}", script.display()));
    }
    let (out_path, err_path) = (
        dir.join(format!("doctor-{tag}.stdout")),
        dir.join(format!("doctor-{tag}.stderr")),
    );
    let files =
        std::fs::File::create(&out_path).and_then(|o| Ok((o, std::fs::File::create(&err_path)?)));
    let (stdout, stderr) = match files {
        Ok(f) => f,
        Err(e) => {
            return SmokeTest::Failed(format!("cannot create log files in {}: {e}", dir.display()))
        }
    };
    let mut command = std::process::Command::new(&python.path);
    command
        .args(["-m", "profiling.sampling", "run", "--binary", "-o"])
        .arg(&profile)
        .args(["-r", "1khz", "--mode", sampler.mode.as_str()])
        .args(sampler.blocking.then_some("--blocking"))
        .arg(&script)
        .current_dir(dir);
    let launched = process::run(process::Launch {
        command,
        stdout,
        stderr,
        timeout: Duration::from_secs(30),
        grace: Duration::from_secs(2),
        interrupt: None,
    });
    let stderr_text = std::fs::read_to_string(&err_path).unwrap_or_default();
    match launched {
        Err(e) => SmokeTest::Failed(format!("cannot launch {}: {e}", python.path.display())),
        Ok((process::Ended::Exited(status), _)) if status.success() && profile.is_file() => {
            match profile_health(&profile) {
                Ok(mut h) if h.samples > 0 => {
                    if h.error_rate_pct.is_none() {
                        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
                        h.error_rate_pct = error_rate_from_stdout(&out);
                    }
                    SmokeTest::Ok(h)
                }
                Ok(_) => SmokeTest::Failed("the profile has no samples".into()),
                Err(e) => SmokeTest::Failed(e.to_string()),
            }
        }
        Ok((process::Ended::Exited(status), _)) => {
            match classify_profiler_failure(&stderr_text, status, None) {
                RunOutcome::PermissionDenied { message } => SmokeTest::PermissionDenied(message),
                other => SmokeTest::Failed(describe(&other)),
            }
        }
        Ok((_, _)) => SmokeTest::Failed("the profiled loop did not finish within 30 s".into()),
    }
}
