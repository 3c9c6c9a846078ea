//! Every git invocation of tachygate: the repository root that paths are made relative to,
//! the HEAD commit and dirty flag recorded with each run, and, for the commands that compare
//! revisions (`ab`, `check --base`), resolving revisions and checking them out into temporary
//! worktrees that are removed again on every exit path.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git (is it installed and on PATH?): {0}")]
    Launch(std::io::Error),
    #[error("{} is not inside a git repository; comparing revisions needs one", .0.display())]
    NotARepository(PathBuf),
    #[error("`{rev}` is not a commit of this repository ({message}); in CI fetch the full history (actions/checkout with fetch-depth: 0)")]
    BadRevision { rev: String, message: String },
    #[error("git {args} failed: {message}")]
    Failed { args: String, message: String },
    #[error("cannot create a temporary directory for the worktrees: {0}")]
    TempDir(std::io::Error),
}

/// Runs `git -C dir args...` and returns its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(GitError::Launch)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The top level of the repository containing `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf, GitError> {
    match git(dir, &["rev-parse", "--show-toplevel"]) {
        Ok(s) if !s.is_empty() => Ok(PathBuf::from(s)),
        Ok(_) | Err(GitError::Failed { .. }) => Err(GitError::NotARepository(dir.to_path_buf())),
        Err(e) => Err(e),
    }
}

/// HEAD commit and dirty flag of the git repository containing `dir`; `(None, None)` outside
/// git or without a git binary.
pub fn head_state(dir: &Path) -> (Option<String>, Option<bool>) {
    let Ok(commit) = git(dir, &["rev-parse", "HEAD"]) else {
        return (None, None);
    };
    let dirty = git(dir, &["status", "--porcelain"])
        .ok()
        .map(|s| !s.is_empty());
    (Some(commit), dirty)
}

/// The full commit id `rev` names.
pub fn resolve_commit(repo: &Path, rev: &str) -> Result<String, GitError> {
    git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|e| GitError::BadRevision {
        rev: rev.to_string(),
        message: match e {
            GitError::Failed { message, .. } if !message.is_empty() => message,
            GitError::Failed { .. } => "unknown revision".into(),
            other => other.to_string(),
        },
    })
}

/// The first 10 characters of a commit id, for messages.
pub fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

/// Detached worktrees of `repo` in one temporary directory. Dropping it removes the worktrees
/// and the directory: on success, on error and after an interrupt alike.
pub struct Worktrees {
    repo: PathBuf,
    paths: Vec<PathBuf>,
    dir: tempfile::TempDir,
}

impl Worktrees {
    pub fn new(repo: &Path) -> Result<Worktrees, GitError> {
        let dir = tempfile::Builder::new()
            .prefix("tachygate-worktrees-")
            .tempdir()
            .map_err(GitError::TempDir)?;
        Ok(Worktrees {
            repo: repo.to_path_buf(),
            paths: Vec::new(),
            dir,
        })
    }

    /// Checks `commit` out into `<tempdir>/<name>` and returns that directory (canonical, so
    /// that it compares equal to the file names the profiled interpreter reports).
    pub fn add(&mut self, name: &str, commit: &str) -> Result<PathBuf, GitError> {
        let path = self.dir.path().join(name);
        git(
            &self.repo,
            &[
                "worktree",
                "add",
                "--detach",
                &path.to_string_lossy(),
                commit,
            ],
        )?;
        self.paths.push(path.clone());
        Ok(std::fs::canonicalize(&path).unwrap_or(path))
    }
}

impl Drop for Worktrees {
    fn drop(&mut self) {
        for p in &self.paths {
            let _ = Command::new("git")
                .arg("-C")
                .arg(&self.repo)
                .args(["worktree", "remove", "--force"])
                .arg(p)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = Command::new("git")
            .arg("-C")
            .arg(&self.repo)
            .args(["worktree", "prune"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let ok = Command::new("git")
                .arg("-C")
                .arg(d.path())
                .args(args)
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        run(&["init", "-q"]);
        std::fs::write(d.path().join("f.txt"), "one").unwrap();
        run(&["add", "."]);
        run(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "one",
        ]);
        d
    }

    #[test]
    fn worktrees_hold_the_revision_and_are_removed_on_drop() {
        let r = repo();
        let head = resolve_commit(r.path(), "HEAD").unwrap();
        assert_eq!(head.len(), 40);
        let mut w = Worktrees::new(r.path()).unwrap();
        let p = w.add("a", &head).unwrap();
        assert_eq!(std::fs::read_to_string(p.join("f.txt")).unwrap(), "one");
        drop(w);
        assert!(!p.exists());
        let listed = git(r.path(), &["worktree", "list"]).unwrap();
        assert_eq!(listed.lines().count(), 1, "{listed}");
    }

    #[test]
    fn bad_revisions_and_non_repositories_say_what_to_do() {
        let r = repo();
        let e = resolve_commit(r.path(), "no-such-rev")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`no-such-rev` is not a commit"), "{e}");
        assert!(e.contains("fetch-depth: 0"), "{e}");
        let plain = tempfile::tempdir().unwrap();
        let e = toplevel(plain.path()).unwrap_err();
        assert!(matches!(e, GitError::NotARepository(_)), "{e}");
    }

    #[test]
    fn head_state_is_the_commit_and_whether_the_tree_is_dirty() {
        let r = repo();
        let head = resolve_commit(r.path(), "HEAD").unwrap();
        assert_eq!(head_state(r.path()), (Some(head.clone()), Some(false)));
        std::fs::write(r.path().join("f.txt"), "two").unwrap();
        assert_eq!(head_state(r.path()), (Some(head), Some(true)));
        let plain = tempfile::tempdir().unwrap();
        assert_eq!(head_state(plain.path()), (None, None));
    }
}
