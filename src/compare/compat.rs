//! Whether two captures can be compared at all.
//!
//! Shares mean different things under a different sampling mode, rate, window, thread
//! selection or frame flags (a `<GC>` frame exists or not, `--native` adds frames, wall mode
//! counts sleeping), and a different Python minor version runs different bytecode: comparing
//! such captures produces confident nonsense, so it is refused unless `--allow-mismatch`.
//! A different CPU model or Python patch release shifts costs a little: a warning. A different
//! scenario fingerprint means the scenario definition changed (often on purpose): a warning.

use crate::baseline::SampleSet;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Compatibility {
    /// Differences that make the comparison meaningless (`mode: baseline cpu, candidate wall`).
    pub refusals: Vec<String>,
    /// Differences worth knowing about.
    pub warnings: Vec<String>,
}

impl Compatibility {
    pub fn is_compatible(&self) -> bool {
        self.refusals.is_empty()
    }
}

/// `(major.minor, full x.y.z)` from a `sys.version` string like `3.15.2 (main, ...) [GCC]`.
fn python_versions(v: &str) -> Option<(String, String)> {
    let first = v.split_whitespace().next()?;
    let mut parts = first.split('.');
    let major = parts.next()?;
    let minor = parts.next()?;
    if major.parse::<u32>().is_err() || minor.parse::<u32>().is_err() {
        return None;
    }
    Some((format!("{major}.{minor}"), first.to_string()))
}

pub fn compatibility(baseline: &SampleSet, candidate: &SampleSet) -> Compatibility {
    let (b, c) = (&baseline.sampler, &candidate.sampler);
    let mut refusals = Vec::new();
    let mut diff = |what: &str, x: String, y: String| {
        if x != y {
            refusals.push(format!("{what}: baseline {x}, candidate {y}"));
        }
    };
    let opt = |d: Option<f64>| d.map_or_else(|| "to completion".to_string(), |d| format!("{d}s"));
    let flag = |x: bool| if x { "on" } else { "off" }.to_string();
    diff("mode", b.mode.to_string(), c.mode.to_string());
    diff(
        "rate",
        format!("{} Hz", b.rate_hz),
        format!("{} Hz", c.rate_hz),
    );
    diff("duration", opt(b.duration_s), opt(c.duration_s));
    let threads = |all: bool| if all { "all" } else { "main" }.to_string();
    diff("threads", threads(b.all_threads), threads(c.all_threads));
    diff("gc", flag(b.gc), flag(c.gc));
    diff("native", flag(b.native), flag(c.native));
    diff("opcodes", flag(b.opcodes), flag(c.opcodes));
    diff("blocking", flag(b.blocking), flag(c.blocking));
    diff("async_aware", flag(b.async_aware), flag(c.async_aware));
    let am = |m: Option<crate::scenario::AsyncMode>| match m {
        None => "default".to_string(),
        Some(crate::scenario::AsyncMode::Running) => "running".to_string(),
        Some(crate::scenario::AsyncMode::All) => "all".to_string(),
    };
    diff("async_mode", am(b.async_mode), am(c.async_mode));

    let mut warnings = Vec::new();
    let (be, ce) = (&baseline.environment, &candidate.environment);
    match (
        python_versions(&be.python_version),
        python_versions(&ce.python_version),
    ) {
        (Some((bm, bf)), Some((cm, cf))) => {
            if bm != cm {
                refusals.push(format!("python: baseline {bf}, candidate {cf}"));
            } else if bf != cf {
                warnings.push(format!(
                    "python patch release differs: baseline {bf}, candidate {cf}"
                ));
            }
        }
        _ if be.python_version != ce.python_version => warnings.push(format!(
            "python version unknown or unparseable: baseline {:?}, candidate {:?}",
            be.python_version, ce.python_version
        )),
        _ => {}
    }
    if be.cpu_model != ce.cpu_model {
        warnings.push(format!(
            "CPU model differs: baseline {:?}, candidate {:?}; costs shift between machines",
            be.cpu_model, ce.cpu_model
        ));
    }
    if baseline.fingerprint != candidate.fingerprint {
        warnings.push(format!(
            "scenario definition changed since the baseline (fingerprint {} -> {}); update the baseline if that was intended",
            short(&baseline.fingerprint),
            short(&candidate.fingerprint)
        ));
    }
    Compatibility { refusals, warnings }
}

fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Mode;

    fn set() -> SampleSet {
        let mut s = SampleSet {
            version: crate::baseline::BASELINE_VERSION,
            scenario: "s".into(),
            fingerprint: "f1".into(),
            sampler: Default::default(),
            environment: Default::default(),
            machine_class: None,
            source: "x".into(),
            created: chrono::Utc::now(),
            sessions: Vec::new(),
            run_sessions: Vec::new(),
            runs: vec![],
        };
        s.environment.python_version = "3.15.2 (main, Nov 1 2026) [GCC 12]".into();
        s.environment.cpu_model = "Xeon".into();
        s
    }

    #[test]
    fn identical_captures_are_compatible_without_warnings() {
        let c = compatibility(&set(), &set());
        assert_eq!(c, Compatibility::default());
    }

    #[test]
    fn each_sampler_difference_is_listed() {
        let a = set();
        let mut b = set();
        b.sampler.mode = Mode::Wall;
        b.sampler.rate_hz = 10_000;
        b.sampler.gc = false;
        b.environment.python_version = "3.16.0 (main) [GCC]".into();
        let c = compatibility(&a, &b);
        assert_eq!(
            c.refusals,
            vec![
                "mode: baseline gil, candidate wall",
                "rate: baseline 1000 Hz, candidate 10000 Hz",
                "gc: baseline on, candidate off",
                "python: baseline 3.15.2, candidate 3.16.0",
            ]
        );
    }

    #[test]
    fn patch_cpu_and_fingerprint_are_warnings() {
        let a = set();
        let mut b = set();
        b.environment.python_version = "3.15.3 (main) [GCC]".into();
        b.environment.cpu_model = "EPYC".into();
        b.fingerprint = "f2".into();
        let c = compatibility(&a, &b);
        assert!(c.is_compatible());
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
    }
}
