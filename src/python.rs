//! Finding a CPython 3.15+ interpreter that has `profiling.sampling`.
//!
//! Order (first hit wins): `--python` flag, the scenario's `python` setting,
//! `$TACHYGATE_PYTHON`, the project-local prefix written by `scripts/provision-python.sh`
//! (`.tachygate/python/usr/bin/python3.15`, searched from the current directory upwards),
//! then `python3.15` on `PATH`. The chosen interpreter is probed once; a wrong one is an
//! error, not a fall-through, so that an explicit choice is never silently replaced.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Relative location of the provisioned interpreter inside a project.
pub const PROVISIONED_REL: &str = ".tachygate/python/usr/bin/python3.15";

const HOW_TO_PROVISION: &str = "run `scripts/provision-python.sh` in the tachygate repository \
     (installs CPython 3.15 into .tachygate/python/), or point --python / TACHYGATE_PYTHON at a \
     CPython 3.15+ interpreter";

#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    #[error("no CPython 3.15 interpreter found (looked at $TACHYGATE_PYTHON, {PROVISIONED_REL} and python3.15 on PATH): {HOW_TO_PROVISION}")]
    NotFound,
    #[error("cannot run {path} (from {origin}): {source}; {HOW_TO_PROVISION}")]
    Launch {
        path: PathBuf,
        origin: &'static str,
        source: std::io::Error,
    },
    #[error("{path} (from {origin}) is Python {version}, but tachygate needs CPython 3.15 or newer for profiling.sampling; {HOW_TO_PROVISION}")]
    TooOld {
        path: PathBuf,
        origin: &'static str,
        version: String,
    },
    #[error(
        "{path} (from {origin}) cannot import profiling.sampling: {stderr}; {HOW_TO_PROVISION}"
    )]
    NoProfiler {
        path: PathBuf,
        origin: &'static str,
        stderr: String,
    },
}

/// A probed interpreter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interpreter {
    pub path: PathBuf,
    /// Full `sys.version`.
    pub version: String,
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
}

impl Interpreter {
    /// `major.minor.micro`.
    pub fn short_version(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// Finds and probes an interpreter. `flag` is `--python`, `scenario` the scenario's setting.
pub fn discover(flag: Option<&Path>, scenario: Option<&Path>) -> Result<Interpreter, PythonError> {
    let (path, origin) = locate(flag, scenario).ok_or(PythonError::NotFound)?;
    probe(&path, origin)
}

/// Where the interpreter would come from, without probing it.
pub fn locate(flag: Option<&Path>, scenario: Option<&Path>) -> Option<(PathBuf, &'static str)> {
    if let Some(p) = flag {
        return Some((p.to_path_buf(), "--python"));
    }
    if let Some(p) = scenario {
        return Some((p.to_path_buf(), "the scenario's python setting"));
    }
    if let Some(p) = std::env::var_os("TACHYGATE_PYTHON").filter(|v| !v.is_empty()) {
        return Some((PathBuf::from(p), "TACHYGATE_PYTHON"));
    }
    if let Some(p) = provisioned() {
        return Some((p, "the provisioned prefix"));
    }
    which("python3.15").map(|p| (p, "PATH"))
}

/// The provisioned interpreter in the current directory or one of its ancestors, or beside
/// the running executable's repository (so `target/release/tachygate` finds it from anywhere).
pub fn provisioned() -> Option<PathBuf> {
    let mut starts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    if let Ok(exe) = std::env::current_exe() {
        starts.push(exe);
    }
    for start in starts {
        for dir in start.ancestors() {
            let candidate = dir.join(PROVISIONED_REL);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

const PROBE: &str = "import sys\nv = sys.version_info\nprint(v[0], v[1], v[2])\nprint(sys.version.replace('\\n', ' '))\nif v >= (3, 15):\n    import profiling.sampling, _remote_debugging\n";

/// Runs the interpreter once to read its version and check that it can profile.
pub fn probe(path: &Path, origin: &'static str) -> Result<Interpreter, PythonError> {
    let out = Command::new(path)
        .args(["-I", "-c", PROBE])
        .output()
        .map_err(|source| PythonError::Launch {
            path: path.to_path_buf(),
            origin,
            source,
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    let nums: Vec<u32> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    let version = lines.next().unwrap_or("").trim().to_string();
    let [major, minor, micro] = nums[..] else {
        return Err(PythonError::Launch {
            path: path.to_path_buf(),
            origin,
            source: std::io::Error::other(format!(
                "it did not report a version (exit {:?}): {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
        });
    };
    if (major, minor) < (3, 15) {
        return Err(PythonError::TooOld {
            path: path.to_path_buf(),
            origin,
            version: format!("{major}.{minor}.{micro}"),
        });
    }
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(PythonError::NoProfiler {
            path: path.to_path_buf(),
            origin,
            stderr: stderr.lines().last().unwrap_or("").to_string(),
        });
    }
    Ok(Interpreter {
        path: path.to_path_buf(),
        version,
        major,
        minor,
        micro,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_over_everything() {
        let (p, origin) = locate(Some(Path::new("/x/py")), Some(Path::new("/y/py"))).unwrap();
        assert_eq!(p, PathBuf::from("/x/py"));
        assert_eq!(origin, "--python");
        let (p, origin) = locate(None, Some(Path::new("/y/py"))).unwrap();
        assert_eq!(p, PathBuf::from("/y/py"));
        assert_eq!(origin, "the scenario's python setting");
    }

    #[test]
    fn missing_interpreter_is_a_launch_error_that_says_how_to_provision() {
        let err = probe(Path::new("/nonexistent/python3.15"), "--python").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, PythonError::Launch { .. }), "{msg}");
        assert!(msg.contains("provision-python.sh"), "{msg}");
    }

    #[test]
    fn old_interpreter_is_rejected() {
        // The machine's python3 is 3.11 or similar; skip only if there is none at all.
        let Some(py3) = which("python3") else { return };
        match probe(&py3, "PATH") {
            Err(PythonError::TooOld { version, .. }) => assert!(version.starts_with("3.")),
            Ok(i) => assert!((i.major, i.minor) >= (3, 15)),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}
