//! Records the git commit for `tachygate --version`. Outside a git checkout of this crate (a
//! crates.io or sdist tarball, possibly unpacked inside some other repository) it records
//! "unknown"; `TACHYGATE_GIT_COMMIT` in the environment overrides both (for packagers).

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=TACHYGATE_GIT_COMMIT");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir);
    let commit = std::env::var("TACHYGATE_GIT_COMMIT")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            // Only this crate's own checkout counts, not an enclosing repository.
            let top = git(dir, &["rev-parse", "--show-toplevel"])?;
            let same = Path::new(&top).canonicalize().ok()? == dir.canonicalize().ok()?;
            if !same {
                return None;
            }
            // Rebuild when HEAD moves (a commit, a checkout); the paths differ in worktrees.
            for p in ["HEAD", "packed-refs"] {
                if let Some(path) = git(
                    dir,
                    &["rev-parse", "--path-format=absolute", "--git-path", p],
                ) {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            if let Some(r) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
                if let Some(path) = git(
                    dir,
                    &["rev-parse", "--path-format=absolute", "--git-path", &r],
                ) {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            // No "-dirty" marker: the script reruns only when HEAD moves, so it would go stale.
            git(dir, &["rev-parse", "--short=12", "HEAD"])
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=TACHYGATE_GIT_COMMIT={commit}");
}
