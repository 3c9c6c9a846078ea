//! Finding a CPython 3.15+ interpreter that has `profiling.sampling`.
//!
//! Explicit choices come first and are never replaced silently: `--python`, the scenario's
//! `python` setting, `$TACHYGATE_PYTHON`. A wrong explicit choice is an error. Without one,
//! tachygate looks where users keep interpreters ([`candidates`], in this order): an active
//! virtualenv (`$VIRTUAL_ENV/bin/python`), a project `.venv/bin/python` (from the current
//! directory upwards), tachygate's own development prefix (`.tachygate/python`, written by
//! `scripts/provision-python.sh` in this repository), `python3.15` on `PATH` (actions/setup-python
//! and most installs), `$pythonLocation/bin/python3.15` (actions/setup-python), uv-managed
//! (`~/.local/share/uv/python/cpython-3.15*`), pyenv (`~/.pyenv/versions/3.15*`), and `python3`
//! on `PATH`. Each found file is probed in turn and the first CPython 3.15+ with the profiler
//! wins: a 3.12 virtualenv does not hide a 3.15 found later.

use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Relative location of the development interpreter inside tachygate's own repository.
pub const PROVISIONED_REL: &str = ".tachygate/python/usr/bin/python3.15";

/// How to get an interpreter, for error messages.
pub const HOW_TO_INSTALL: &str = "install CPython 3.15 (`uv python install 3.15`, \
     `pyenv install 3.15-dev`, actions/setup-python with `python-version: \"3.15\"` and \
     `allow-prereleases: true`, or your distribution's python3.15), then activate a virtualenv \
     made with it or pass --python / set TACHYGATE_PYTHON to its path";

#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    #[error("no CPython 3.15 interpreter found (looked at $VIRTUAL_ENV, .venv, python3.15 on PATH, $pythonLocation, uv- and pyenv-managed Pythons, python3 on PATH; `tachygate doctor` lists each): {HOW_TO_INSTALL}")]
    NotFound,
    #[error("cannot run {path} (from {origin}): {cause}; {HOW_TO_INSTALL}")]
    Launch {
        path: PathBuf,
        origin: &'static str,
        cause: std::io::Error,
    },
    #[error("{path} (from {origin}) is Python {version}, but tachygate needs CPython 3.15 or newer for profiling.sampling; {HOW_TO_INSTALL}")]
    TooOld {
        path: PathBuf,
        origin: &'static str,
        version: String,
    },
    #[error("{path} (from {origin}) cannot import profiling.sampling: {stderr}; {HOW_TO_INSTALL}")]
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

/// Where the interpreter comes from. An explicit choice is returned unprobed (so that a wrong
/// one is reported, not skipped); otherwise the first found candidate that probes as usable,
/// or, when none does, the first one found (probing it again gives the user its error).
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
    // The environment does not change during a process: search and probe once.
    static IMPLICIT: OnceLock<Option<(PathBuf, &'static str)>> = OnceLock::new();
    IMPLICIT
        .get_or_init(|| {
            first_usable(&candidates(&SearchEnv::from_process()))
                .map(|c| (c.path.clone(), c.origin))
        })
        .clone()
}

/// What the search reads from the process environment; a value so that tests can fake it.
#[derive(Debug, Clone, Default)]
pub struct SearchEnv {
    /// `$VIRTUAL_ENV` (set by `activate`, `uv run`, `poetry shell`...).
    pub virtual_env: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
    /// The running executable (finds the development prefix beside a `target/` build).
    pub exe: Option<PathBuf>,
    /// `$PATH`.
    pub path: Option<OsString>,
    /// `$pythonLocation`, set by actions/setup-python.
    pub python_location: Option<PathBuf>,
    /// uv's managed-Python directory: `$UV_PYTHON_INSTALL_DIR`, else
    /// `$XDG_DATA_HOME/uv/python`, else `~/.local/share/uv/python`.
    pub uv_python_dir: Option<PathBuf>,
    /// `$PYENV_ROOT`, else `~/.pyenv`.
    pub pyenv_root: Option<PathBuf>,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl SearchEnv {
    pub fn from_process() -> Self {
        let home = env_path("HOME");
        SearchEnv {
            virtual_env: env_path("VIRTUAL_ENV"),
            cwd: std::env::current_dir().ok(),
            exe: std::env::current_exe().ok(),
            path: std::env::var_os("PATH"),
            python_location: env_path("pythonLocation"),
            uv_python_dir: env_path("UV_PYTHON_INSTALL_DIR")
                .or_else(|| env_path("XDG_DATA_HOME").map(|d| d.join("uv/python")))
                .or_else(|| home.as_ref().map(|h| h.join(".local/share/uv/python"))),
            pyenv_root: env_path("PYENV_ROOT").or_else(|| home.map(|h| h.join(".pyenv"))),
        }
    }
}

/// An interpreter file found by the search, not yet probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub origin: &'static str,
}

/// A candidate and what probing it gave.
#[derive(Debug)]
pub struct Probed {
    pub candidate: Candidate,
    pub result: Result<Interpreter, PythonError>,
}

/// The first candidate that probes as a usable interpreter, else the first candidate.
fn first_usable(found: &[Candidate]) -> Option<&Candidate> {
    found
        .iter()
        .find(|c| probe(&c.path, c.origin).is_ok())
        .or(found.first())
}

/// Probes every candidate, for `doctor`, which shows what it found and why each was refused.
pub fn search(env: &SearchEnv) -> Vec<Probed> {
    candidates(env)
        .into_iter()
        .map(|c| Probed {
            result: probe(&c.path, c.origin),
            candidate: c,
        })
        .collect()
}

/// Interpreter files that exist, in search order, each path once. Does not run anything.
pub fn candidates(env: &SearchEnv) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut push = |path: PathBuf, origin: &'static str| {
        if path.is_file() && !out.iter().any(|c| c.path == path) {
            out.push(Candidate { path, origin });
        }
    };
    if let Some(venv) = &env.virtual_env {
        push(
            venv.join("bin/python"),
            "the active virtualenv ($VIRTUAL_ENV)",
        );
    }
    if let Some(cwd) = &env.cwd {
        if let Some(p) = upwards(cwd, ".venv/bin/python") {
            push(p, "the project's .venv");
        }
    }
    for start in env.cwd.iter().chain(env.exe.iter()) {
        if let Some(p) = upwards(start, PROVISIONED_REL) {
            push(p, "tachygate's development prefix (.tachygate/python)");
        }
    }
    if let Some(p) = which_in(env.path.as_ref(), "python3.15") {
        push(p, "python3.15 on PATH");
    }
    if let Some(loc) = &env.python_location {
        push(
            loc.join("bin/python3.15"),
            "actions/setup-python ($pythonLocation)",
        );
    }
    if let Some(dir) = &env.uv_python_dir {
        // uv names them cpython-3.15.0a5-linux-x86_64-gnu; skip the free-threaded builds
        // (`+freethreaded`), whose interpreter is python3.15t.
        for (minor, d) in versioned_dirs(dir, "cpython-3.") {
            if !d.to_string_lossy().contains("freethreaded") {
                push(
                    d.join(format!("bin/python3.{minor}")),
                    "a uv-managed Python",
                );
            }
        }
    }
    if let Some(root) = &env.pyenv_root {
        for (minor, d) in versioned_dirs(&root.join("versions"), "3.") {
            push(
                d.join(format!("bin/python3.{minor}")),
                "a pyenv-managed Python",
            );
        }
    }
    if let Some(p) = which_in(env.path.as_ref(), "python3") {
        push(p, "python3 on PATH");
    }
    out
}

/// `rel` under `start` or its nearest ancestor that has it.
fn upwards(start: &Path, rel: &str) -> Option<PathBuf> {
    start.ancestors().map(|d| d.join(rel)).find(|p| p.is_file())
}

/// Subdirectories of `dir` named `<prefix><minor>...` with minor >= 15, newest first (by the
/// numbers in the name, so 3.15.10 sorts above 3.15.9 and a release above its alphas).
fn versioned_dirs(dir: &Path, prefix: &str) -> Vec<(u32, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u64>, u32, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(prefix)?;
            let minor: u32 = rest
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()?;
            (minor >= 15).then(|| (version_key(&name), minor, e.path()))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, m, p)| (m, p)).collect()
}

/// Sort key from a directory name: the numbers of its version, a final release ranked above
/// its pre-releases (3.15.0 > 3.15.0rc1 > 3.15.0a5).
fn version_key(name: &str) -> Vec<u64> {
    let version = name
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .split(['-', '+'])
        .next()
        .unwrap_or("");
    let mut key = Vec::new();
    let mut pre = None;
    for part in version.split('.') {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
        key.push(digits.parse().unwrap_or(0));
        let tail = &part[digits.len()..];
        if !tail.is_empty() {
            let rank = match tail.chars().next() {
                Some('a') => 0,
                Some('b') => 1,
                _ => 2,
            };
            let n: u64 = tail
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .unwrap_or(0);
            pre = Some((rank, n));
            break;
        }
    }
    key.truncate(3);
    key.resize(3, 0);
    match pre {
        Some((rank, n)) => key.extend([rank, n]),
        None => key.extend([3, 0]),
    }
    key
}

fn which_in(path: Option<&OsString>, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path?)
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
            cause: source,
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
            cause: std::io::Error::other(format!(
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
    use std::os::unix::fs::PermissionsExt;

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
    fn missing_interpreter_is_a_launch_error_that_says_how_to_install_one() {
        let err = probe(Path::new("/nonexistent/python3.15"), "--python").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, PythonError::Launch { .. }), "{msg}");
        assert!(msg.contains("uv python install 3.15"), "{msg}");
        assert!(!msg.contains("provision-python.sh"), "{msg}");
    }

    #[test]
    fn old_interpreter_is_rejected() {
        let d = tempfile::tempdir().unwrap();
        let py = fake_python(d.path(), "py", "3 12 1", 0);
        match probe(&py, "PATH") {
            Err(PythonError::TooOld { version, .. }) => assert_eq!(version, "3.12.1"),
            other => panic!("expected TooOld, got {other:?}"),
        }
    }

    /// An executable that answers the probe like an interpreter of the given version would
    /// (`status` != 0 plays one that cannot import profiling.sampling).
    fn fake_python(dir: &Path, rel: &str, version: &str, status: i32) -> PathBuf {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let dotted = version.replace(' ', ".");
        std::fs::write(
            &p,
            format!("#!/bin/sh\necho {version}\necho {dotted} fake\necho 'ModuleNotFoundError: No module named profiling' >&2\nexit {status}\n"),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn touch(root: &Path, rel: &str) -> PathBuf {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "").unwrap();
        p
    }

    fn rel(root: &Path, found: &[Candidate]) -> Vec<(String, &'static str)> {
        found
            .iter()
            .map(|c| {
                let r = c.path.strip_prefix(root).unwrap_or(&c.path);
                (r.display().to_string(), c.origin)
            })
            .collect()
    }

    /// Every kind of install at once, as on a developer machine: the order is the documented one.
    #[test]
    fn search_order_over_a_fake_tree() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        touch(r, "venv/bin/python");
        touch(r, "proj/.venv/bin/python");
        std::fs::create_dir_all(r.join("proj/src/pkg")).unwrap();
        touch(r, "tg/.tachygate/python/usr/bin/python3.15");
        touch(r, "tg/target/release/tachygate");
        touch(r, "bin1/python3.15");
        touch(r, "bin2/python3");
        touch(r, "toolcache/bin/python3.15");
        touch(r, "uv/cpython-3.15.0a5-linux-x86_64-gnu/bin/python3.15");
        touch(r, "pyenv/versions/3.15-dev/bin/python3.15");
        let env = SearchEnv {
            virtual_env: Some(r.join("venv")),
            cwd: Some(r.join("proj/src/pkg")),
            exe: Some(r.join("tg/target/release/tachygate")),
            path: Some(
                std::env::join_paths([r.join("empty"), r.join("bin1"), r.join("bin2")]).unwrap(),
            ),
            python_location: Some(r.join("toolcache")),
            uv_python_dir: Some(r.join("uv")),
            pyenv_root: Some(r.join("pyenv")),
        };
        assert_eq!(
            rel(r, &candidates(&env)),
            vec![
                (
                    "venv/bin/python".into(),
                    "the active virtualenv ($VIRTUAL_ENV)"
                ),
                ("proj/.venv/bin/python".into(), "the project's .venv"),
                (
                    "tg/.tachygate/python/usr/bin/python3.15".into(),
                    "tachygate's development prefix (.tachygate/python)"
                ),
                ("bin1/python3.15".into(), "python3.15 on PATH"),
                (
                    "toolcache/bin/python3.15".into(),
                    "actions/setup-python ($pythonLocation)"
                ),
                (
                    "uv/cpython-3.15.0a5-linux-x86_64-gnu/bin/python3.15".into(),
                    "a uv-managed Python"
                ),
                (
                    "pyenv/versions/3.15-dev/bin/python3.15".into(),
                    "a pyenv-managed Python"
                ),
                ("bin2/python3".into(), "python3 on PATH"),
            ]
        );
    }

    #[test]
    fn nothing_installed_finds_nothing() {
        let d = tempfile::tempdir().unwrap();
        let env = SearchEnv {
            virtual_env: Some(d.path().join("gone")),
            cwd: Some(d.path().to_path_buf()),
            path: Some(OsString::from(d.path())),
            uv_python_dir: Some(d.path().join("no-uv")),
            pyenv_root: Some(d.path().join("no-pyenv")),
            ..SearchEnv::default()
        };
        assert!(candidates(&env).is_empty());
        assert!(first_usable(&candidates(&env)).is_none());
    }

    #[test]
    fn managed_versions_newest_first_and_only_315_or_later() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for v in [
            "cpython-3.14.2-linux-x86_64-gnu",
            "cpython-3.15.0a5-linux-x86_64-gnu",
            "cpython-3.15.0-linux-x86_64-gnu",
            "cpython-3.15.0rc1-linux-x86_64-gnu",
            "cpython-3.15.10-linux-x86_64-gnu",
            "cpython-3.15.9-linux-x86_64-gnu",
            "cpython-3.15.2+freethreaded-linux-x86_64-gnu",
            "pypy-3.15.0-linux-x86_64-gnu",
        ] {
            let minor = if v.contains("3.14") { 14 } else { 15 };
            touch(r, &format!("uv/{v}/bin/python3.{minor}"));
        }
        touch(r, "pyenv/versions/3.15.1/bin/python3.15");
        touch(r, "pyenv/versions/3.16.0a1/bin/python3.16");
        touch(r, "pyenv/versions/3.12.7/bin/python3.12");
        // A directory without an interpreter in it is skipped.
        std::fs::create_dir_all(r.join("pyenv/versions/3.15.3")).unwrap();
        let env = SearchEnv {
            uv_python_dir: Some(r.join("uv")),
            pyenv_root: Some(r.join("pyenv")),
            ..SearchEnv::default()
        };
        let got: Vec<String> = rel(r, &candidates(&env))
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            got,
            vec![
                "uv/cpython-3.15.10-linux-x86_64-gnu/bin/python3.15",
                "uv/cpython-3.15.9-linux-x86_64-gnu/bin/python3.15",
                "uv/cpython-3.15.0-linux-x86_64-gnu/bin/python3.15",
                "uv/cpython-3.15.0rc1-linux-x86_64-gnu/bin/python3.15",
                "uv/cpython-3.15.0a5-linux-x86_64-gnu/bin/python3.15",
                "pyenv/versions/3.16.0a1/bin/python3.16",
                "pyenv/versions/3.15.1/bin/python3.15",
            ]
        );
    }

    #[test]
    fn same_file_from_two_sources_is_listed_once() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        touch(r, "toolcache/bin/python3.15");
        let env = SearchEnv {
            path: Some(r.join("toolcache/bin").into_os_string()),
            python_location: Some(r.join("toolcache")),
            ..SearchEnv::default()
        };
        assert_eq!(
            rel(r, &candidates(&env)),
            vec![("toolcache/bin/python3.15".into(), "python3.15 on PATH")]
        );
    }

    /// A 3.12 virtualenv and a 3.15 without the profiler do not hide a usable 3.15 found later;
    /// when none is usable the first one is returned, so its own error reaches the user.
    #[test]
    fn first_usable_skips_old_and_broken_interpreters() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fake_python(r, "venv/bin/python", "3 12 1", 0);
        fake_python(r, "bin/python3.15", "3 15 0", 1);
        fake_python(r, "pyenv/versions/3.15.2/bin/python3.15", "3 15 2", 0);
        let env = SearchEnv {
            virtual_env: Some(r.join("venv")),
            path: Some(r.join("bin").into_os_string()),
            pyenv_root: Some(r.join("pyenv")),
            ..SearchEnv::default()
        };
        let found = candidates(&env);
        assert_eq!(found.len(), 3);
        let chosen = first_usable(&found).unwrap();
        assert_eq!(chosen.path, r.join("pyenv/versions/3.15.2/bin/python3.15"));
        let probed = search(&env);
        assert!(matches!(probed[0].result, Err(PythonError::TooOld { .. })));
        assert!(matches!(
            probed[1].result,
            Err(PythonError::NoProfiler { .. })
        ));
        assert_eq!(probed[2].result.as_ref().unwrap().short_version(), "3.15.2");

        let only_old = &found[..1];
        assert_eq!(
            first_usable(only_old).unwrap().path,
            r.join("venv/bin/python")
        );
    }
}
