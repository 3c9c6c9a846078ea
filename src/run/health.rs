//! Run health from a finished profile: sample count, sampler error rate, inter-sample gaps.
//!
//! This is the runner's only view into the binary format; it goes through the decoder
//! (`crate::profile`), which validates the whole file, so a profile that passes here is one the
//! comparison stage can read.

use super::{GapStats, RunError};
use std::path::Path;

/// What the runner needs to judge a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileHealth {
    pub samples: u64,
    pub interval_us: u64,
    /// Sampler error rate in percent, when the stats trailer has it.
    pub error_rate_pct: Option<f64>,
    pub duration_s: Option<f64>,
    pub gaps: Option<GapStats>,
}

/// Decodes the profile at `path` (every sample, to validate it and measure the gaps between
/// sampling passes) and reads the stats trailer.
pub fn profile_health(path: &Path) -> Result<ProfileHealth, RunError> {
    let bad = |e: crate::profile::ProfileError| RunError::BadProfile {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let profile = crate::profile::Profile::open(path).map_err(bad)?;
    let gaps = crate::profile::gap_stats(&profile).map_err(bad)?;
    let meta = profile.meta();
    Ok(ProfileHealth {
        samples: meta.sample_count,
        interval_us: meta.interval_us,
        error_rate_pct: meta.stats.and_then(|s| s.error_rate_pct),
        duration_s: meta.stats.map(|s| s.duration_s),
        gaps: Some(gaps),
    })
}

/// Fallback for profiles without an error rate in the trailer: the profiler's own
/// "Error rate: X" line on stdout.
pub fn error_rate_from_stdout(stdout: &str) -> Option<f64> {
    stdout
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Error rate:"))
        .and_then(|v| v.trim().trim_end_matches('%').replace(',', "").parse().ok())
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rate_is_read_from_the_last_error_rate_line() {
        let out = "workload output\nError rate: 99\nCaptured 418 samples in 0.42 seconds\nError rate: 23.68\n  Binary Encoding:\n";
        assert_eq!(error_rate_from_stdout(out), Some(23.68));
        assert_eq!(error_rate_from_stdout("Error rate: 1,234.5%"), Some(1234.5));
        assert_eq!(error_rate_from_stdout("nothing here"), None);
        assert_eq!(error_rate_from_stdout("Error rate: nan"), None);
        assert_eq!(error_rate_from_stdout("Error rate: -3"), None);
    }

    #[test]
    fn a_file_that_is_not_a_profile_is_a_bad_profile_naming_the_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.bin");
        std::fs::write(
            &p,
            b"definitely not a profile, but long enough to have a header......",
        )
        .unwrap();
        let e = profile_health(&p).unwrap_err();
        assert!(matches!(e, RunError::BadProfile { .. }), "{e}");
        assert!(e.to_string().contains("x.bin"), "{e}");
    }
}
