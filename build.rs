//! Records the git commit for `tachygate --version`: `TACHYGATE_GIT_COMMIT` from the
//! environment (for packagers), else `git rev-parse` in this crate's own checkout, else the
//! `sha1` that `cargo package` writes into `.cargo_vcs_info.json` (crates.io tarballs), else
//! "unknown" (e.g. an sdist, or a tarball unpacked inside some other repository).

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

/// Rebuild when `path` changes. Only existing files: cargo reruns the script on every build
/// for a missing one (e.g. `packed-refs` in a fresh clone), which would recompile the crate.
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// `{"git": {"sha1": "<40 hex>", ...}, ...}`; a string search keeps build.rs dependency-free.
fn vcs_info_sha1(dir: &Path) -> Option<String> {
    let path = dir.join(".cargo_vcs_info.json");
    watch(&path);
    let text = std::fs::read_to_string(path).ok()?;
    let rest = &text[text.find("\"sha1\"")? + 6..];
    let rest = rest[rest.find('"')? + 1..].trim_start();
    let sha: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (sha.len() >= 12).then(|| sha[..12].to_string())
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
                    watch(Path::new(&path));
                }
            }
            if let Some(r) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
                if let Some(path) = git(
                    dir,
                    &["rev-parse", "--path-format=absolute", "--git-path", &r],
                ) {
                    watch(Path::new(&path));
                }
            }
            // No "-dirty" marker: the script reruns only when HEAD moves, so it would go stale.
            git(dir, &["rev-parse", "--short=12", "HEAD"])
        })
        .or_else(|| vcs_info_sha1(dir))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=TACHYGATE_GIT_COMMIT={commit}");
}
