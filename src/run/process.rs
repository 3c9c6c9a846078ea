//! Launching one profiler command in its own process group and ending it cleanly.
//!
//! The profiler starts the workload as its child; both live in the group we create, so a
//! timeout or an interrupt signals the whole group (SIGTERM, then SIGKILL after a grace period)
//! and nothing is orphaned. The group leader is not reaped until the group has been killed:
//! while it is a zombie its pid (= the group id) cannot be reused, so the final SIGKILL can
//! never hit an unrelated group.

use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How a launched command ended.
#[derive(Debug)]
pub enum Ended {
    Exited(ExitStatus),
    TimedOut,
    Interrupted,
}

pub struct Launch<'a> {
    pub command: Command,
    pub stdout: std::fs::File,
    pub stderr: std::fs::File,
    pub timeout: Duration,
    pub grace: Duration,
    pub interrupt: Option<&'a AtomicBool>,
}

const POLL: Duration = Duration::from_millis(10);

/// Runs the command to completion, timeout or interrupt. Returns how it ended and the wall time.
pub fn run(l: Launch) -> std::io::Result<(Ended, Duration)> {
    let Launch {
        mut command,
        stdout,
        stderr,
        timeout,
        grace,
        interrupt,
    } = l;
    command
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    let start = Instant::now();
    let mut child = command.spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    let ended = loop {
        if leader_exited(pid) {
            break None;
        }
        if interrupt.is_some_and(|f| f.load(Ordering::SeqCst)) {
            break Some(Ended::Interrupted);
        }
        if start.elapsed() >= timeout {
            break Some(Ended::TimedOut);
        }
        std::thread::sleep(POLL);
    };
    let elapsed = start.elapsed();
    if ended.is_some() {
        // Ask politely first so the profiler can stop its sampler; then make sure.
        let _ = killpg(pid, Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        while !leader_exited(pid) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
    }
    // Stragglers (a workload the profiler left behind, or anything it spawned) go too.
    let _ = killpg(pid, Signal::SIGKILL);
    let status = child.wait()?;
    Ok((ended.unwrap_or(Ended::Exited(status)), elapsed))
}

/// True once the group leader has exited (without reaping it).
fn leader_exited(pid: Pid) -> bool {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    !matches!(
        waitid(Id::Pid(pid), flags),
        Ok(WaitStatus::StillAlive) | Err(nix::errno::Errno::EINTR)
    )
}
