//! The runner's seam to the outside world: starting one profiled process and reading the
//! health of the profile it wrote. The retry, health and timeout logic in [`super`] only sees
//! this trait, so its tests drive it with a fake process (as hyperfine tests its scheduler
//! with a mock executor) instead of a real profiler.

use super::process::{self, Ended, Launch};
use super::{profile_health, ProfileHealth, RunError};
use std::path::Path;
use std::time::Duration;

pub(crate) trait Launcher: Sync {
    /// Runs `launch` to completion, timeout or interrupt: how it ended and its wall time.
    fn run(&self, launch: Launch) -> std::io::Result<(Ended, Duration)>;
    /// The health of a finished profile.
    fn health(&self, profile: &Path) -> Result<ProfileHealth, RunError>;
}

/// The real one: a process group per launch, and the decoder for health.
pub(crate) struct ProfilerLauncher;

impl Launcher for ProfilerLauncher {
    fn run(&self, launch: Launch) -> std::io::Result<(Ended, Duration)> {
        process::run(launch)
    }

    fn health(&self, profile: &Path) -> Result<ProfileHealth, RunError> {
        profile_health(profile)
    }
}
