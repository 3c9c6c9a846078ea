//! Run health from a finished profile: sample count, sampler error rate, inter-sample gaps.
//!
//! This is the runner's only view into the binary format. Until the decoder (`crate::profile`)
//! lands it reads just the header's sample count/interval and the stats trailer (spec sections
//! 3 and 8 of docs/tachyon-binary-format.md) and reports no gap statistics.

use super::{GapStats, RunError};
use std::path::Path;

const HEADER_LEN: usize = 64;
const FOOTER_LEN: usize = 32;
const TRAILER_LEN: usize = 56;

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

/// Reads the health figures of the profile at `path`.
pub fn profile_health(path: &Path) -> Result<ProfileHealth, RunError> {
    let bytes = std::fs::read(path).map_err(|e| RunError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    parse_health(&bytes).map_err(|message| RunError::BadProfile {
        path: path.to_path_buf(),
        message,
    })
}

fn field<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N], String> {
    bytes
        .get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| format!("file too short for a field at byte {at}"))
}

pub(crate) fn parse_health(bytes: &[u8]) -> Result<ProfileHealth, String> {
    if bytes.len() < HEADER_LEN + FOOTER_LEN {
        return Err(format!(
            "{} bytes is too short for a Tachyon profile (header 64 + footer 32)",
            bytes.len()
        ));
    }
    let magic = field::<4>(bytes, 0)?;
    let le = match &magic {
        b"HCAT" => true,
        b"TACH" => false,
        other => {
            return Err(format!(
                "bad magic {other:02x?} at byte 0 (expected HCAT or TACH)"
            ))
        }
    };
    let u32_at = |at| {
        field::<4>(bytes, at).map(|b| {
            if le {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        })
    };
    let u64_at = |at| {
        field::<8>(bytes, at).map(|b| {
            if le {
                u64::from_le_bytes(b)
            } else {
                u64::from_be_bytes(b)
            }
        })
    };
    let f64_at = |at| u64_at(at).map(f64::from_bits);
    let version = u32_at(4)?;
    if version != 1 {
        return Err(format!("unsupported format version {version} at byte 4"));
    }
    let interval_us = u64_at(0x14)?;
    let samples = u64_at(0x1C)?;
    let n = bytes.len();
    let footer_size = u64_at(n - FOOTER_LEN + 8)?;
    if footer_size != n as u64 {
        return Err(format!(
            "footer at byte {} says the file has {footer_size} bytes, but it has {n} (truncated?)",
            n - FOOTER_LEN + 8
        ));
    }
    let mut error_rate_pct = None;
    let mut duration_s = None;
    if n >= HEADER_LEN + FOOTER_LEN + TRAILER_LEN && bytes.get(n - 48..n - 40) == Some(b"TACHSTAT")
    {
        let t = n - FOOTER_LEN - TRAILER_LEN;
        let duration = f64_at(t)?;
        let error_rate = f64_at(t + 16)?;
        let present = u32_at(t + 32)?;
        for (v, name) in [(duration, "duration"), (error_rate, "error rate")] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!(
                    "stats trailer {name} {v} at byte {t} is not a finite value >= 0"
                ));
            }
        }
        duration_s = Some(duration);
        if present & 1 == 1 {
            // The trailer stores a percentage, the same figure the CLI prints as "Error rate".
            error_rate_pct = Some(error_rate);
        }
    }
    Ok(ProfileHealth {
        samples,
        interval_us,
        error_rate_pct,
        duration_s,
        gaps: None,
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
