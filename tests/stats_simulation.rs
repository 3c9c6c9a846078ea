//! Simulation tests of the comparison statistics: a generative model of per-run sample counts
//! for a ~50-function scenario, built from what was measured on these machines (the numbers
//! are in docs/statistics.md, "Why these statistics"):
//! - per-run share sd from 0.4x (cpu 1 kHz, under-dispersed) to 5x (wall, busy) binomial,
//!   varying per function;
//! - busy runs shift the *mean* composition, not just the spread; each run is busy with
//!   probability 0.4 (183 of 480 measured runs), independently on both sides;
//! - compositional coupling: a change is applied to one function's *time*, after which all
//!   shares renormalise; cumulative counts follow a call tree;
//! - recording sessions (the `*_sessions` tests): every session multiplies each function's
//!   time by its own factor, drift that moved means by 1-4 points between sessions on one
//!   machine for the noisier functions.
//!
//! All randomness is seeded (ChaCha8), so the measured rates are reproducible. Each test prints
//! its rates (`cargo test --test stats_simulation -- --nocapture`); docs/statistics.md quotes them.

mod common;

use common::synth;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, StandardNormal};
use tachygate::aggregate::{FunctionId, FunctionStat, RunAggregate};
use tachygate::baseline::SampleSet;
use tachygate::compare::{compare_sets, CompareOptions, Metric, ScenarioComparison, Verdict};
use tachygate::scenario::GateSettings;

const FUNCTIONS: usize = 50;
const DRIVERS: usize = 4;
const RUNS: usize = 5;
const SAMPLES: f64 = 1500.0;
const BUSY_PROBABILITY: f64 = 0.4;

/// A noise regime: dispersion (x binomial sd) when quiet and busy, and how much busy runs
/// shift each function's time (relative sd of a per-function factor).
#[derive(Debug, Clone, Copy)]
struct Regime {
    name: &'static str,
    quiet_dispersion: f64,
    busy_dispersion: f64,
    busy_shift: f64,
}

/// cpu 1 kHz: 0.34-0.39x binomial, means barely move under load (29.41% vs 29.30%).
const CPU_1K: Regime = Regime {
    name: "cpu-1k",
    quiet_dispersion: 0.4,
    busy_dispersion: 0.6,
    busy_shift: 0.01,
};
/// cpu 10 kHz-like: 0.65x quiet, 2.3x over all runs, busy mean -2.3 points of 34 (~7%).
const CPU_10K: Regime = Regime {
    name: "cpu-10k-like",
    quiet_dispersion: 0.65,
    busy_dispersion: 2.3,
    busy_shift: 0.07,
};
/// wall 1 kHz I/O: 2x quiet, 4x over all runs (capped at 5x), busy mean +4 points of 24 (~16%).
const WALL: Regime = Regime {
    name: "wall-like",
    quiet_dispersion: 2.0,
    busy_dispersion: 4.0,
    busy_shift: 0.16,
};
const REGIMES: [Regime; 3] = [CPU_1K, CPU_10K, WALL];

/// Median relative sd of a function's time between recording sessions; each function's own is
/// this times a log-normal factor (sd 0.5 in log space, so the noisiest 5% drift 2.3x more).
/// The hot leaves (12-30%) then move by 0.15-0.8 points sd between sessions: two sessions of the
/// noisier ones differ by 1-4 points, the drift measured between sessions here.
const SESSION_SD: f64 = 0.010;
/// Optional drifting helpers (see `aa_with_drifting_helpers`): absolute sd range in points of
/// leaves with a share of 1-10% whose share moves far more than their size suggests (measured:
/// `particles`' `demo_knobs.factor`, 0.3-1.3% in one session, 1.2-2.9% in the next).
const NOISY_SESSION_SD_PP: (f64, f64) = (0.5, 1.5);
/// Baseline sessions x runs in the session experiments (the candidate is one session of
/// [`RUNS`]); `SIM_SESSIONS` / `SIM_SESSION_RUNS` override them. 3 x 5 detected +2 points in
/// 94.4% (900 trials), 4 x 5 in 96.4%: see docs/statistics.md.
const SESSIONS: usize = 4;
const SESSION_RUNS: usize = 5;

/// One simulated scenario: a call tree (root -> drivers -> leaves), per-function work
/// ("time"), per-function dispersion jitter and busy-run shift factors, and per-function
/// between-session sd (relative to its time).
struct World {
    regime: Regime,
    parent: Vec<Option<usize>>,
    time: Vec<f64>,
    jitter: Vec<f64>,
    shift: Vec<f64>,
    session_sd: Vec<f64>,
    ids: Vec<FunctionId>,
}

impl World {
    fn new(rng: &mut ChaCha8Rng, regime: Regime) -> World {
        Self::with_helpers(rng, regime, 0)
    }

    /// A world with `noisy` drifting helpers (see [`NOISY_SESSION_SD_PP`]).
    fn with_helpers(rng: &mut ChaCha8Rng, regime: Regime, noisy: usize) -> World {
        let mut parent = vec![None];
        let mut time = vec![0.005];
        for _ in 0..DRIVERS {
            parent.push(Some(0));
            time.push(rng.gen_range(0.005..0.02));
        }
        // Leaves: Zipf-like work with a random exponent, so the hottest leaf is 12-30%.
        let exponent = rng.gen_range(0.9..1.3);
        for i in 0..FUNCTIONS - 1 - DRIVERS {
            parent.push(Some(1 + i % DRIVERS));
            time.push(1.0 / (i as f64 + 2.0).powf(exponent));
        }
        let total: f64 = time.iter().sum();
        for t in &mut time {
            *t /= total;
        }
        let lognormal = Normal::new(0.0, 0.3).unwrap();
        let jitter = (0..FUNCTIONS)
            .map(|_| f64::exp(lognormal.sample(rng)))
            .collect();
        let shift_dist = Normal::new(0.0, regime.busy_shift).unwrap();
        let shift = (0..FUNCTIONS)
            .map(|_| (1.0 + shift_dist.sample(rng)).max(0.2))
            .collect();
        let ids = (0..FUNCTIONS)
            .map(|i| FunctionId::new(format!("app/mod{}.py", i % 7), format!("func_{i:02}")))
            .collect();
        // Session drift: ~1.2% of each function's time (log-normal jitter), and optionally a
        // few leaves of 1-10% whose share moves by 0.5-1.5 points sd between sessions.
        // From their own stream (seeded by the world's work), so that the single-session
        // experiments draw exactly the worlds and runs they drew before sessions existed.
        let mut srng = ChaCha8Rng::seed_from_u64(
            time.iter()
                .fold(0x5E55_u64, |h, t| h.rotate_left(7) ^ t.to_bits()),
        );
        let session_jitter = Normal::new(0.0, 0.5).unwrap();
        let mut session_sd: Vec<f64> = (0..FUNCTIONS)
            .map(|_| SESSION_SD * f64::exp(session_jitter.sample(&mut srng)))
            .collect();
        let mid: Vec<usize> = (1 + DRIVERS..FUNCTIONS)
            .filter(|&f| (0.01..=0.10).contains(&time[f]))
            .collect();
        for _ in 0..noisy.min(mid.len()) {
            let f = mid[srng.gen_range(0..mid.len())];
            let pp = srng.gen_range(NOISY_SESSION_SD_PP.0..NOISY_SESSION_SD_PP.1) / 100.0;
            session_sd[f] = pp / time[f];
        }
        World {
            regime,
            parent,
            time,
            jitter,
            shift,
            session_sd,
            ids,
        }
    }

    /// One session's factors on each function's time.
    fn session_factors(&self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        self.session_sd
            .iter()
            .map(|sd| {
                let z: f64 = StandardNormal.sample(rng);
                (1.0 + sd * z).max(0.2)
            })
            .collect()
    }

    /// `sessions` recording sessions of `runs` runs each, tagged per run.
    fn side_sessions(
        &self,
        rng: &mut ChaCha8Rng,
        time: &[f64],
        sessions: usize,
        runs: usize,
    ) -> SampleSet {
        let mut set = self.side(rng, time, 0);
        for s in 0..sessions {
            let f = self.session_factors(rng);
            let t: Vec<f64> = time.iter().zip(&f).map(|(t, f)| t * f).collect();
            for _ in 0..runs {
                set.runs.push(self.run(rng, &t));
                set.run_sessions.push(s as u32);
            }
            set.sessions.push(tachygate::baseline::Session {
                created: set.created,
                source: format!("session {s}"),
                git_commit: None,
                runs,
            });
        }
        set
    }

    /// Baseline of `sessions` x [`RUNS`] runs and a candidate of one new session, both with
    /// session drift. `tagged = false` drops the session tags (the gate before sessions).
    fn compare_sessions(
        &self,
        rng: &mut ChaCha8Rng,
        candidate_time: &[f64],
        sessions: usize,
        tagged: bool,
    ) -> ScenarioComparison {
        let per = if sessions == 1 { RUNS } else { session_runs() };
        let mut b = self.side_sessions(rng, &self.time, sessions, per);
        if !tagged {
            b.run_sessions.clear();
            b.sessions.clear();
        }
        let c = self.side_sessions(rng, candidate_time, 1, RUNS);
        compare_sets(&b, &c, &GateSettings::default(), &CompareOptions::default())
            .expect("comparison")
    }

    /// Leaves sorted by work, hottest first.
    fn hot_leaves(&self) -> Vec<usize> {
        let mut leaves: Vec<usize> = (1 + DRIVERS..FUNCTIONS).collect();
        leaves.sort_by(|&a, &b| self.time[b].total_cmp(&self.time[a]));
        leaves
    }

    fn ancestors(&self, mut f: usize) -> Vec<usize> {
        let mut out = Vec::new();
        while let Some(p) = self.parent[f] {
            out.push(p);
            f = p;
        }
        out
    }

    /// One run's counts for per-function work `time`.
    fn run(&self, rng: &mut ChaCha8Rng, time: &[f64]) -> RunAggregate {
        let busy = rng.gen_bool(BUSY_PROBABILITY);
        let t: Vec<f64> = time
            .iter()
            .zip(&self.shift)
            .map(|(t, s)| if busy { t * s } else { *t })
            .collect();
        let total: f64 = t.iter().sum();
        let dispersion = if busy {
            self.regime.busy_dispersion
        } else {
            self.regime.quiet_dispersion
        };
        let mut share: Vec<f64> = t
            .iter()
            .zip(&self.jitter)
            .map(|(t, j)| {
                let p = t / total;
                let sd = (dispersion * j).clamp(0.4, 5.0) * (p * (1.0 - p) / SAMPLES).sqrt();
                let z: f64 = StandardNormal.sample(rng);
                (p + sd * z).max(0.0)
            })
            .collect();
        let sum: f64 = share.iter().sum();
        for s in &mut share {
            *s /= sum;
        }
        let self_counts: Vec<u64> = share.iter().map(|s| (s * SAMPLES).round() as u64).collect();
        let mut cum = self_counts.clone();
        for (f, &count) in self_counts.iter().enumerate() {
            for a in self.ancestors(f) {
                cum[a] += count;
            }
        }
        let functions: Vec<FunctionStat> = (0..FUNCTIONS)
            .filter(|&f| cum[f] > 0)
            .map(|f| FunctionStat {
                function: self.ids[f].clone(),
                self_samples: self_counts[f],
                cumulative_samples: cum[f],
            })
            .collect();
        let mut run = synth::run(functions);
        // Function-level stacks (root first), so that callers can be grouped under the
        // function whose own cost changed.
        let position = |f: usize| {
            run.functions
                .iter()
                .position(|s| s.function == self.ids[f])
                .map(|p| p as u32)
        };
        let stacks = (0..FUNCTIONS)
            .filter(|&f| self_counts[f] > 0)
            .filter_map(|f| {
                let mut path: Vec<usize> = self.ancestors(f);
                path.reverse();
                path.push(f);
                let frames = path
                    .into_iter()
                    .map(position)
                    .collect::<Option<Vec<u32>>>()?;
                Some(tachygate::aggregate::StackCount {
                    frames,
                    count: self_counts[f],
                })
            })
            .collect();
        run.stacks = stacks;
        run
    }

    fn side(&self, rng: &mut ChaCha8Rng, time: &[f64], runs: usize) -> SampleSet {
        synth::sample_set("sim", (0..runs).map(|_| self.run(rng, time)).collect())
    }

    fn compare(&self, rng: &mut ChaCha8Rng, candidate_time: &[f64]) -> ScenarioComparison {
        let b = self.side(rng, &self.time, RUNS);
        let c = self.side(rng, candidate_time, RUNS);
        let c = compare_sets(&b, &c, &GateSettings::default(), &CompareOptions::default())
            .expect("comparison");
        // Every simulated report reads consistently: no verdict beside an interval that
        // contradicts it, no listed root frame, no unexplained equal-share change.
        let bad = tachygate::compare::contradictions(&c);
        assert!(bad.is_empty(), "{bad:#?}");
        c
    }

    /// Work with `f`'s time changed by `delta` (fraction of the baseline's total work).
    fn changed(&self, f: usize, delta: f64) -> Vec<f64> {
        let mut t = self.time.clone();
        t[f] = (t[f] + delta).max(0.0);
        t
    }
}

fn flagged(c: &ScenarioComparison, v: Verdict) -> Vec<(String, Metric)> {
    c.functions
        .iter()
        .filter(|f| f.verdict == v)
        .map(|f| (f.function.name.clone(), f.metric))
        .collect()
}

fn verdict_of(c: &ScenarioComparison, w: &World, f: usize, m: Metric) -> Verdict {
    c.functions
        .iter()
        .find(|x| x.function == w.ids[f] && x.metric == m)
        .map(|x| x.verdict)
        .expect("function in comparison")
}

fn sessions() -> usize {
    std::env::var("SIM_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SESSIONS)
}
fn session_runs() -> usize {
    std::env::var("SIM_SESSION_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SESSION_RUNS)
}

/// Trials per experiment: the default keeps the file fast; `SIM_TRIALS_SCALE=4` for tighter
/// estimates when tuning.
fn trials(default: usize) -> usize {
    let scale: usize = std::env::var("SIM_TRIALS_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    default * scale.max(1)
}

fn rate(hits: usize, n: usize) -> f64 {
    100.0 * hits as f64 / n as f64
}

#[test]
fn aa_false_alarm_rate_is_at_most_one_percent_per_scenario() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xA1A1);
    let trials = trials(600);
    let mut total_alarms = 0;
    for regime in REGIMES {
        let mut alarms = 0;
        let mut inconclusive = 0;
        for _ in 0..trials {
            let w = World::new(&mut rng, regime);
            let c = w.compare(&mut rng, &w.time);
            let changes =
                flagged(&c, Verdict::Regressed).len() + flagged(&c, Verdict::Improved).len();
            if changes > 0 {
                alarms += 1;
            }
            inconclusive += flagged(&c, Verdict::Inconclusive).len();
        }
        eprintln!(
            "A/A {:>13}: scenarios with any regressed/improved verdict {:.2}% of {trials}; inconclusive verdicts per scenario {:.1}",
            regime.name,
            rate(alarms, trials),
            inconclusive as f64 / trials as f64
        );
        // Per regime with slack for the estimate's own sampling error (+-0.3 points at 1000
        // trials); the pooled rate below is held to the 1% target.
        assert!(
            rate(alarms, trials) <= 1.5,
            "{}: A/A false alarms {:.2}%",
            regime.name,
            rate(alarms, trials)
        );
        total_alarms += alarms;
    }
    let all = trials * REGIMES.len();
    eprintln!("A/A all regimes: {:.2}% of {all}", rate(total_alarms, all));
    assert!(rate(total_alarms, all) <= 1.0);
}

#[test]
fn two_point_shift_is_detected_and_slow_down_flags_only_that_function() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xB2B2);
    let trials = trials(300);
    for regime in REGIMES {
        let mut detected = 0;
        let mut cum_detected = 0;
        let mut wrong = 0;
        for _ in 0..trials {
            let w = World::new(&mut rng, regime);
            // One of the 8 hottest leaves gets 2 points of the baseline's total more work.
            let leaves = w.hot_leaves();
            let g = leaves[rng.gen_range(0..8)];
            let c = w.compare(&mut rng, &w.changed(g, 0.02));
            if verdict_of(&c, &w, g, Metric::SelfShare) == Verdict::Regressed {
                detected += 1;
            }
            if verdict_of(&c, &w, g, Metric::Cumulative) == Verdict::Regressed {
                cum_detected += 1;
            }
            // Allowed: g (both metrics) and its callers' cumulative share, regressed.
            let allowed = |f: &tachygate::compare::FunctionComparison| {
                let idx = w.ids.iter().position(|id| *id == f.function).unwrap();
                f.verdict == Verdict::Regressed
                    && (idx == g
                        || (f.metric == Metric::Cumulative && w.ancestors(g).contains(&idx)))
            };
            if c.functions
                .iter()
                .any(|f| matches!(f.verdict, Verdict::Regressed | Verdict::Improved) && !allowed(f))
            {
                wrong += 1;
            }
        }
        eprintln!(
            "+2 points {:>13}: detected (self) {:.1}%, (cumulative) {:.1}%; scenarios with any other function flagged {:.2}%",
            regime.name,
            rate(detected, trials),
            rate(cum_detected, trials),
            rate(wrong, trials)
        );
        if regime.name == CPU_1K.name {
            assert!(
                rate(detected, trials) >= 95.0,
                "power {:.1}%",
                rate(detected, trials)
            );
        }
        assert!(
            rate(wrong, trials) <= 1.5,
            "{}: others flagged {:.2}%",
            regime.name,
            rate(wrong, trials)
        );
    }
}

#[test]
fn large_slow_down_flags_that_function_and_its_callers_only() {
    // The case: +5.5 points on one function used to make untouched ones "improve".
    let mut rng = ChaCha8Rng::seed_from_u64(0xC3C3);
    let trials = trials(200);
    for regime in [CPU_1K, CPU_10K] {
        let mut exact = 0;
        let mut other_flags = 0;
        let mut one_cause = 0;
        for _ in 0..trials {
            let w = World::new(&mut rng, regime);
            let g = w.hot_leaves()[rng.gen_range(0..4)];
            let c = w.compare(&mut rng, &w.changed(g, 0.055));
            let regressed_self: Vec<_> = c
                .functions
                .iter()
                .filter(|f| f.metric == Metric::SelfShare && f.verdict == Verdict::Regressed)
                .map(|f| f.function.clone())
                .collect();
            if regressed_self == vec![w.ids[g].clone()] {
                exact += 1;
                // Counted by cause: the slowed function once, its callers carrying it.
                let causes = tachygate::compare::causes(&c);
                let carried_ok = c
                    .functions
                    .iter()
                    .filter(|f| f.metric == Metric::Cumulative && f.verdict == Verdict::Regressed)
                    .all(|f| f.carried_by.contains(&w.ids[g]));
                if causes.len() == 1 && causes[0].function == w.ids[g] && carried_ok {
                    one_cause += 1;
                }
            }
            let callers = w.ancestors(g);
            let bad = c.functions.iter().any(|f| {
                let idx = w.ids.iter().position(|id| *id == f.function).unwrap();
                match f.verdict {
                    Verdict::Improved => true,
                    Verdict::Regressed => {
                        idx != g && !(f.metric == Metric::Cumulative && callers.contains(&idx))
                    }
                    _ => false,
                }
            });
            if bad {
                other_flags += 1;
            }
        }
        eprintln!(
            "+5.5 points {:>13}: only that function's self flagged {:.1}%; read as one cause with its callers carrying it {:.1}%; any untouched function flagged {:.2}%",
            regime.name,
            rate(exact, trials),
            rate(one_cause, trials),
            rate(other_flags, trials)
        );
        if regime.name == CPU_1K.name {
            assert!(rate(exact, trials) >= 95.0, "{:.1}%", rate(exact, trials));
            assert!(
                rate(one_cause, trials) >= 95.0,
                "{:.1}%",
                rate(one_cause, trials)
            );
        }
        assert!(
            rate(other_flags, trials) <= 1.5,
            "{:.2}%",
            rate(other_flags, trials)
        );
    }
}

#[test]
fn speed_up_never_flags_a_regression() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xD4D4);
    let trials = trials(500);
    let mut total = 0;
    for regime in REGIMES {
        let mut regressions = 0;
        let mut improved = 0;
        for _ in 0..trials {
            let w = World::new(&mut rng, regime);
            let g = w.hot_leaves()[rng.gen_range(0..3)];
            // Halve the work of one of the three hottest leaves (6-15 points of the total).
            let c = w.compare(&mut rng, &w.changed(g, -w.time[g] / 2.0));
            if !flagged(&c, Verdict::Regressed).is_empty() {
                regressions += 1;
            }
            if verdict_of(&c, &w, g, Metric::SelfShare) == Verdict::Improved {
                improved += 1;
            }
        }
        eprintln!(
            "speed-up {:>13}: scenarios with any regressed verdict {:.2}%; the faster function flagged improved {:.1}%",
            regime.name,
            rate(regressions, trials),
            rate(improved, trials)
        );
        // As for A/A: per regime with slack for sampling error, pooled to the 1% target.
        assert!(
            rate(regressions, trials) <= 1.5,
            "{}: {:.2}%",
            regime.name,
            rate(regressions, trials)
        );
        total += regressions;
    }
    let all = trials * REGIMES.len();
    eprintln!(
        "speed-up all regimes: any regressed {:.2}% of {all}",
        rate(total, all)
    );
    assert!(rate(total, all) <= 1.0);
}

#[test]
fn intervals_cover_the_true_normalised_difference() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xE5E5);
    let trials = trials(2000);
    let mut covered = 0;
    let mut n = 0;
    let mut per_regime = [(0usize, 0usize); 3];
    for i in 0..trials {
        // Quiet and busy runs both ways, shifts off: the true difference is then exactly the
        // injected change, in units of the baseline's total.
        let regime = Regime {
            busy_shift: 0.0,
            ..REGIMES[i % REGIMES.len()]
        };
        let w = World::new(&mut rng, regime);
        let g = w.hot_leaves()[rng.gen_range(0..8)];
        let d = 0.02;
        let c = w.compare(&mut rng, &w.changed(g, d));
        let f = c
            .functions
            .iter()
            .find(|x| x.function == w.ids[g] && x.metric == Metric::SelfShare)
            .unwrap();
        n += 1;
        per_regime[i % REGIMES.len()].1 += 1;
        if f.ci_low <= d && d <= f.ci_high {
            covered += 1;
            per_regime[i % REGIMES.len()].0 += 1;
        }
    }
    for (r, (hit, all)) in REGIMES.iter().zip(per_regime) {
        eprintln!("coverage {:>13}: {:.1}% of {all}", r.name, rate(hit, all));
    }
    eprintln!(
        "coverage of 95% intervals (changed function, +2 points): {:.1}% of {n}",
        rate(covered, n)
    );
    assert!(
        (93.0..=97.0).contains(&rate(covered, n)),
        "{:.1}%",
        rate(covered, n)
    );
}

/// A/A across sessions: the baseline recorded in [`SESSIONS`] sessions of [`RUNS`] runs, the
/// candidate in a new session, every function drifting between sessions (the noisier ones by
/// 1-4 points). With the session tags the interval includes the between-session variance;
/// the same runs without tags (and a one-session baseline) show what the gate did before.
#[test]
fn aa_across_sessions_stays_at_most_one_percent_per_scenario() {
    let mut rng = ChaCha8Rng::seed_from_u64(0xF6F6);
    let trials = trials(600);
    let mut total = 0;
    for regime in REGIMES {
        let (mut alarms, mut untagged, mut single) = (0, 0, 0);
        for _ in 0..trials {
            let w = World::new(&mut rng, regime);
            let any = |c: &ScenarioComparison| {
                !flagged(c, Verdict::Regressed).is_empty()
                    || !flagged(c, Verdict::Improved).is_empty()
            };
            if any(&w.compare_sessions(&mut rng, &w.time, sessions(), true)) {
                alarms += 1;
            }
            if any(&w.compare_sessions(&mut rng, &w.time, sessions(), false)) {
                untagged += 1;
            }
            if any(&w.compare_sessions(&mut rng, &w.time, 1, true)) {
                single += 1;
            }
        }
        eprintln!(
            "A/A across sessions {:>13}: {}x{} baseline with sessions {:.2}% of {trials}; same runs untagged {:.2}%; one-session baseline {:.2}%",
            regime.name,
            sessions(),
            session_runs(),
            rate(alarms, trials),
            rate(untagged, trials),
            rate(single, trials)
        );
        // Wall-like captures are reported, not held to the target: a 15-run baseline against
        // a 5-run candidate raised their A/A rate with or without session tags (a candidate of
        // five quiet runs sits below the busy/quiet mixture with a small variance), and real
        // wall-mode captures gate at 5 points, not the 1 point simulated here.
        if regime.name != WALL.name {
            assert!(
                rate(alarms, trials) <= 1.5,
                "{}: A/A across sessions {:.2}%",
                regime.name,
                rate(alarms, trials)
            );
            total += alarms;
        }
    }
    let all = trials * (REGIMES.len() - 1);
    eprintln!(
        "A/A across sessions, cpu regimes: {:.2}% of {all}",
        rate(total, all)
    );
    assert!(rate(total, all) <= 1.0);
}

/// Drifting helpers: three leaves of 1-10% whose share moves by 0.5-1.5 points sd between
/// sessions regardless of their size (the `particles` helper that read 0.3-1.3% in one session
/// and 1.2-2.9% in the next). With a few sessions their own between-session variance is
/// sometimes estimated far too small (three sessions that happen to agree), so they are the
/// limit of baseline gating: reported for several session counts and min_effects, asserted
/// only to be no worse with session tags than without.
#[test]
fn aa_with_drifting_helpers() {
    let trials = trials(300);
    for (sessions, runs) in [(3, 5), (5, 3), (10, 3)] {
        for min_effect in [0.01, 0.02] {
            let mut rng = ChaCha8Rng::seed_from_u64(0x2828);
            let (mut tagged, mut untagged) = (0, 0);
            let opts = CompareOptions {
                min_effect: Some(min_effect),
                ..CompareOptions::default()
            };
            for _ in 0..trials {
                let w = World::with_helpers(&mut rng, CPU_1K, 3);
                let c = w.side_sessions(&mut rng, &w.time, 1, RUNS);
                let mut b = w.side_sessions(&mut rng, &w.time, sessions, runs);
                let any = |b: &SampleSet| {
                    let r = compare_sets(b, &c, &GateSettings::default(), &opts).unwrap();
                    !flagged(&r, Verdict::Regressed).is_empty()
                        || !flagged(&r, Verdict::Improved).is_empty()
                };
                tagged += usize::from(any(&b));
                b.run_sessions.clear();
                b.sessions.clear();
                untagged += usize::from(any(&b));
            }
            eprintln!(
                "A/A with 3 drifting helpers, cpu-1k, {sessions}x{runs} baseline, min_effect {:.0} pt: with sessions {:.2}%, untagged {:.2}% of {trials}",
                min_effect * 100.0,
                rate(tagged, trials),
                rate(untagged, trials)
            );
            assert!(tagged <= untagged, "{tagged} > {untagged}");
        }
    }
}

/// +2 points on one of the 8 hottest leaves, across sessions (baseline [`SESSIONS`] x [`RUNS`],
/// candidate one new session): still detected at cpu 1 kHz.
#[test]
fn two_point_shift_is_detected_across_sessions() {
    let mut rng = ChaCha8Rng::seed_from_u64(0x1717);
    let trials = trials(300);
    for regime in REGIMES {
        let (mut detected, mut wrong) = (0, 0);
        for _ in 0..trials {
            let w = World::new(&mut rng, regime);
            let g = w.hot_leaves()[rng.gen_range(0..8)];
            let c = w.compare_sessions(&mut rng, &w.changed(g, 0.02), sessions(), true);
            if verdict_of(&c, &w, g, Metric::SelfShare) == Verdict::Regressed {
                detected += 1;
            }
            let callers = w.ancestors(g);
            if c.functions.iter().any(|f| {
                let idx = w.ids.iter().position(|id| *id == f.function).unwrap();
                match f.verdict {
                    Verdict::Improved => true,
                    Verdict::Regressed => {
                        idx != g && !(f.metric == Metric::Cumulative && callers.contains(&idx))
                    }
                    _ => false,
                }
            }) {
                wrong += 1;
            }
        }
        eprintln!(
            "+2 points across sessions {:>13}, {}x{} baseline: detected (self) {:.1}%; any other function flagged {:.2}%",
            regime.name,
            sessions(),
            session_runs(),
            rate(detected, trials),
            rate(wrong, trials)
        );
        if regime.name == CPU_1K.name {
            assert!(
                rate(detected, trials) >= 95.0,
                "power across sessions {:.1}%",
                rate(detected, trials)
            );
        }
        if regime.name != WALL.name {
            assert!(
                rate(wrong, trials) <= 1.5,
                "{}: others flagged {:.2}%",
                regime.name,
                rate(wrong, trials)
            );
        }
    }
}
