//! Interpreter discovery as users meet it: `doctor` outside tachygate's repository, with only
//! the interpreters a user has (an active virtualenv, an old python3 on PATH). The binary is
//! copied out of `target/` so that tachygate's own development prefix is not found beside it.

mod common;

use assert_cmd::Command;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A copy of the built binary in `dir`, far from the repository's `.tachygate/python`.
fn installed_binary(dir: &Path) -> PathBuf {
    let dest = dir.join("bin/tachygate");
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(common::bin(), &dest).unwrap();
    dest
}

/// A clean environment: HOME, PATH and the working directory all inside `root`.
fn user_cmd(bin: &Path, root: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env_clear()
        .env("HOME", root.join("home"))
        .env("PATH", root.join("path"))
        .current_dir(root.join("project"));
    c
}

fn layout(root: &Path) {
    for d in ["home", "path", "project"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    // An old interpreter on PATH answers the probe like Python 3.12 would.
    let old = root.join("path/python3");
    std::fs::write(&old, "#!/bin/sh\necho 3 12 1\necho 3.12.1 fake\n").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn doctor_without_cpython_315_lists_what_it_found_and_how_to_install_one() {
    let d = tempfile::tempdir().unwrap();
    layout(d.path());
    let bin = installed_binary(d.path());
    let out = user_cmd(&bin, d.path()).arg("doctor").assert().code(2);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("FAIL  interpreter"), "{stdout}");
    assert!(stdout.contains("uv python install 3.15"), "{stdout}");
    assert!(
        stdout.contains("(python3 on PATH): Python 3.12.1, too old"),
        "{stdout}"
    );
    assert!(!stdout.contains("provision-python.sh"), "{stdout}");
}

#[test]
fn run_without_cpython_315_says_how_to_install_one() {
    let d = tempfile::tempdir().unwrap();
    layout(d.path());
    let project = d.path().join("project");
    std::fs::create_dir_all(project.join("scenarios")).unwrap();
    std::fs::write(project.join("hot.py"), "print(1)\n").unwrap();
    std::fs::write(
        project.join("scenarios/hot.toml"),
        "[workload]\nscript = \"../hot.py\"\n",
    )
    .unwrap();
    let bin = installed_binary(d.path());
    let out = user_cmd(&bin, d.path())
        .args(["run", "--repeats", "3", "--out"])
        .arg(d.path().join("results"))
        .assert()
        .code(3);
    let all = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(all.contains("Python 3.12.1"), "{all}");
    assert!(all.contains("uv python install 3.15"), "{all}");
    assert!(!all.contains("provision-python.sh"), "{all}");
}

/// An active virtualenv made from CPython 3.15 is used, ahead of python3 on PATH.
#[test]
fn doctor_uses_the_active_virtualenv() {
    let Some(py) = common::python() else { return };
    let d = tempfile::tempdir().unwrap();
    layout(d.path());
    let venv = d.path().join("venv");
    let status = std::process::Command::new(&py)
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(status.success(), "python3.15 -m venv failed");
    let bin = installed_binary(d.path());
    let _lock = common::profiler_lock();
    let out = user_cmd(&bin, d.path())
        .env("VIRTUAL_ENV", &venv)
        .arg("doctor")
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let expected = format!(
        "at {} (from the active virtualenv ($VIRTUAL_ENV))",
        venv.join("bin/python").display()
    );
    assert!(stdout.contains(&expected), "{expected} missing:\n{stdout}");
    assert!(stdout.contains("OK    sample a child"), "{stdout}");
}

/// uv-managed, pyenv-managed and actions/setup-python installs are found where those tools put them (the real
/// interpreter, linked into each tool's directory layout), ahead of an old python3 on PATH.
#[test]
fn doctor_finds_uv_and_pyenv_managed_pythons() {
    let Some(py) = common::python() else { return };
    let py = py.canonicalize().unwrap();
    for (rel, env, origin) in [
        (
            "home/.local/share/uv/python/cpython-3.15.2-linux-x86_64-gnu/bin/python3.15",
            None,
            "a uv-managed Python",
        ),
        (
            "uvdir/cpython-3.15.2-linux-x86_64-gnu/bin/python3.15",
            Some(("UV_PYTHON_INSTALL_DIR", "uvdir")),
            "a uv-managed Python",
        ),
        (
            "home/.pyenv/versions/3.15.2/bin/python3.15",
            None,
            "a pyenv-managed Python",
        ),
        (
            "toolcache/Python/3.15.0-beta.1/x64/bin/python3.15",
            Some(("pythonLocation", "toolcache/Python/3.15.0-beta.1/x64")),
            "actions/setup-python ($pythonLocation)",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        layout(d.path());
        let link = d.path().join(rel);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&py, &link).unwrap();
        let bin = installed_binary(d.path());
        let mut cmd = user_cmd(&bin, d.path());
        if let Some((k, v)) = env {
            cmd.env(k, d.path().join(v));
        }
        let _lock = common::profiler_lock();
        let out = cmd.arg("doctor").assert().success();
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        let expected = format!("at {} (from {origin})", link.display());
        assert!(stdout.contains(&expected), "{expected} missing:\n{stdout}");
    }
}
