//! What an unhealthy run most likely means and what to change, for the two health problems a
//! user can fix in the scenario: too few samples and a high sampler error rate. The causes and
//! numbers come from the measured sampling protocol (docs/sampling-protocol.md).

use super::{RunOutcome, RunRecord};
use crate::scenario::{Mode, SamplerSettings};

/// What the advice looks at: the sampler settings and what is known about the run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunContext<'a> {
    pub sampler: &'a SamplerSettings,
    /// Wall time of the whole profiled command, including the profiler's ~1 s start-up.
    pub wall_time_s: f64,
    /// 1-minute load average when the run ended, and the machine's cores.
    pub load_avg: Option<f64>,
    pub cores: u32,
}

impl<'a> RunContext<'a> {
    pub fn of(r: &'a RunRecord) -> Self {
        RunContext {
            sampler: &r.sampler,
            wall_time_s: r.wall_time_s,
            load_avg: r.load_avg,
            cores: r.environment.cores,
        }
    }

    /// "load 7.9 on 2 cores" when the machine had more runnable work than cores.
    fn busy(&self) -> Option<String> {
        let load = self.load_avg?;
        let cores = self.cores.max(1);
        (load > cores as f64).then(|| format!("load average {load:.1} on {cores} cores"))
    }
}

/// Start-up of `python -m profiling.sampling run` before the workload runs (measured ~0.5-1 s).
const PROFILER_STARTUP_S: f64 = 1.0;

/// The likely cause of `outcome` and the fix, as one sentence for the user; `None` for
/// outcomes that carry their own explanation (or need none).
pub fn advice(outcome: &RunOutcome, cx: &RunContext) -> Option<String> {
    let s = cx.sampler;
    match outcome {
        RunOutcome::TooFewSamples { samples, minimum } => {
            Some(too_few_samples(*samples, *minimum, cx, s))
        }
        RunOutcome::HighErrorRate { .. } => Some(high_error_rate(cx, s)),
        RunOutcome::SamplerStalls { .. } => Some(match cx.busy() {
            Some(b) => format!("likely cause: the machine was busy ({b}) and descheduled the sampler; fix: run when it is quieter or with fewer parallel jobs, or raise `max_gap_ratio` in [run]"),
            None => "likely cause: the sampler was descheduled (other processes, CPU throttling); fix: run on a quieter machine or raise `max_gap_ratio` in [run]".into(),
        }),
        _ => None,
    }
}

fn too_few_samples(samples: u64, minimum: u64, cx: &RunContext, s: &SamplerSettings) -> String {
    if s.mode == Mode::Cpu && s.blocking {
        return format!(
            "likely cause: `mode = \"cpu\"` with `blocking = true` records nothing on CPython 3.15 (the process is stopped for every sample, so it is never on a CPU; the profiler's \"Captured N samples\" line counts attempts); fix: {}",
            BLOCKING_FIX
        );
    }
    let rate = s.rate_hz.max(1) as f64;
    let sampled_s = (cx.wall_time_s - PROFILER_STARTUP_S).max(0.0);
    let expected = sampled_s * rate;
    let needed_s = minimum as f64 / rate;
    // Most of the expected samples arrived: the workload is simply too short.
    if (samples as f64) >= 0.5 * expected || expected < minimum as f64 {
        return format!(
            "likely cause: the workload is too short: at {} Hz, min_samples {minimum} needs {needed_s:.1} s of sampled work and this run took {:.1} s including ~{PROFILER_STARTUP_S:.0} s of profiler start-up; fix: make the workload run longer (~1-2 s: more iterations or a larger input), raise `rate` in [sampler], or lower `min_samples` in [run]",
            s.rate_hz, cx.wall_time_s
        );
    }
    let mut cause = match s.mode {
        Mode::Cpu => "in cpu mode only time on a CPU is sampled and this workload mostly waited (I/O, sleep, locks, or other threads); fix: use `mode = \"gil\"` with `blocking = true` (the default) for Python code, or `mode = \"wall\"` to see the waiting".to_string(),
        Mode::Gil => "in gil mode only time holding the GIL is sampled: the sampled thread mostly waited (I/O, sleep) or ran C code that releases the GIL, or the work ran in other threads; fix: `all_threads = true` if the work is in threads, or `mode = \"wall\"` to see waiting and GIL-free C code".to_string(),
        Mode::Wall => "the sampler's attempts mostly failed or the work ran in other threads; fix: `all_threads = true` if the work is in threads, and `blocking = true` if it is off".to_string(),
        Mode::Exception => "exception mode samples only while an exception is being handled; fix: use `mode = \"gil\"` (the default) to profile where time goes".to_string(),
    };
    if let Some(b) = cx.busy() {
        cause.push_str(&format!(
            "; the machine was also busy ({b}), which costs samples"
        ));
    }
    format!("likely cause: {cause}")
}

/// How to get the low error rate of blocking mode.
const BLOCKING_FIX: &str = "set `blocking = true` with `mode = \"gil\"` (the default when [sampler] sets neither; or `mode = \"wall\"` to include waiting), since cpu mode records nothing with blocking";

fn high_error_rate(cx: &RunContext, s: &SamplerSettings) -> String {
    let busy = cx.busy();
    if s.blocking {
        return match busy {
            Some(b) => format!("likely cause: the machine was busy ({b}); with `blocking = true` the sampler fails ~1-2% of its attempts on a quiet machine; fix: run when the machine is quieter or with fewer parallel jobs, or raise `max_error_rate` in [run]"),
            None => "likely cause: with `blocking = true` the sampler fails ~1-2% of its attempts on a quiet machine, so other processes or a slow, contended machine are the usual reason; fix: run on a quieter machine, or raise `max_error_rate` in [run] after checking `tachygate calibrate`".into(),
        };
    }
    let mut text = format!(
        "likely cause: without `blocking = true` the sampler reads the stack while the workload runs, and on call-heavy pure-Python code (many small functions) 37-63% of those reads fail, unevenly across functions, which biases the shares; fix: {}",
        if s.mode == Mode::Cpu {
            "use `mode = \"gil\"` with `blocking = true` (the defaults: gil samples Python code like cpu does; cpu mode records nothing with blocking)".to_string()
        } else {
            format!("set `blocking = true` (mode = \"{}\" keeps working with it)", s.mode)
        }
    );
    if let Some(b) = busy {
        text.push_str(&format!(
            "; the machine was also busy ({b}), which raises error rates further"
        ));
    }
    text
}

/// [`super::describe`] plus the advice, for messages about a finished run.
pub fn explain(r: &RunRecord) -> String {
    let what = super::describe(&r.outcome);
    match advice(&r.outcome, &RunContext::of(r)) {
        Some(a) => format!("{what}: {a}"),
        None => what,
    }
}

/// The 1-minute load average (Linux `/proc/loadavg`), if readable.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(mode: Mode, blocking: bool) -> SamplerSettings {
        SamplerSettings {
            mode,
            blocking,
            ..SamplerSettings::default()
        }
    }

    fn cx(s: &SamplerSettings, wall: f64, load: Option<f64>) -> RunContext<'_> {
        RunContext {
            sampler: s,
            wall_time_s: wall,
            load_avg: load,
            cores: 2,
        }
    }

    fn few(samples: u64) -> RunOutcome {
        RunOutcome::TooFewSamples {
            samples,
            minimum: 200,
        }
    }

    const HIGH: RunOutcome = RunOutcome::HighErrorRate {
        error_rate_pct: 41.0,
        threshold_pct: 5.0,
    };

    #[test]
    fn zero_samples_in_cpu_mode_with_blocking_names_the_combination_and_the_fix() {
        let s = sampler(Mode::Cpu, true);
        let a = advice(&few(0), &cx(&s, 3.0, None)).unwrap();
        assert!(a.contains("records nothing"), "{a}");
        assert!(a.contains("counts attempts"), "{a}");
        assert!(a.contains("mode = \"gil\""), "{a}");
    }

    #[test]
    fn a_short_workload_is_called_too_short_with_the_time_it_needs() {
        let s = sampler(Mode::Gil, true);
        // 1.1 s including start-up: ~100 of 200 samples possible.
        let a = advice(&few(95), &cx(&s, 1.1, None)).unwrap();
        assert!(a.contains("too short"), "{a}");
        assert!(a.contains("needs 0.2 s"), "{a}");
        assert!(a.contains("took 1.1 s"), "{a}");
        assert!(a.contains("lower `min_samples`"), "{a}");
    }

    #[test]
    fn a_long_run_with_few_samples_names_what_the_mode_leaves_out() {
        // 10 s of work should give ~9000 samples: the thread was not doing what the mode sees.
        let a = advice(&few(50), &cx(&sampler(Mode::Cpu, false), 10.0, None)).unwrap();
        assert!(a.contains("only time on a CPU"), "{a}");
        assert!(a.contains("mode = \"wall\""), "{a}");
        let a = advice(&few(50), &cx(&sampler(Mode::Gil, true), 10.0, Some(9.0))).unwrap();
        assert!(a.contains("holding the GIL"), "{a}");
        assert!(a.contains("all_threads = true"), "{a}");
        assert!(a.contains("load average 9.0 on 2 cores"), "{a}");
    }

    #[test]
    fn a_high_error_rate_without_blocking_points_at_call_heavy_code_and_blocking() {
        let a = advice(&HIGH, &cx(&sampler(Mode::Wall, false), 3.0, Some(0.3))).unwrap();
        assert!(a.contains("call-heavy"), "{a}");
        assert!(a.contains("set `blocking = true`"), "{a}");
        assert!(!a.contains("busy"), "a quiet machine is not blamed: {a}");
        // In cpu mode the fix must not be blocking alone (that records nothing).
        let a = advice(&HIGH, &cx(&sampler(Mode::Cpu, false), 3.0, None)).unwrap();
        assert!(a.contains("mode = \"gil\"` with `blocking = true`"), "{a}");
        assert!(a.contains("records nothing"), "{a}");
    }

    #[test]
    fn a_high_error_rate_with_blocking_blames_machine_load() {
        let s = sampler(Mode::Gil, true);
        let a = advice(&HIGH, &cx(&s, 3.0, Some(7.5))).unwrap();
        assert!(
            a.contains("machine was busy (load average 7.5 on 2 cores)"),
            "{a}"
        );
        assert!(a.contains("max_error_rate"), "{a}");
        let a = advice(&HIGH, &cx(&s, 3.0, None)).unwrap();
        assert!(a.contains("quieter machine"), "{a}");
        assert!(!a.contains("set `blocking"), "{a}");
    }

    #[test]
    fn other_outcomes_get_no_advice_and_stalls_get_the_gap_fix() {
        let s = SamplerSettings::default();
        assert_eq!(advice(&RunOutcome::Ok, &cx(&s, 1.0, None)), None);
        let stall = RunOutcome::SamplerStalls {
            p99_gap_us: 9000.0,
            interval_us: 1000.0,
        };
        let a = advice(&stall, &cx(&s, 1.0, Some(5.0))).unwrap();
        assert!(a.contains("max_gap_ratio"), "{a}");
    }
}
