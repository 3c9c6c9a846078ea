//! Progress reporting. The runner calls a [`Progress`]; the CLI picks [`TerminalProgress`]
//! (indicatif bars on a terminal, one plain line per run otherwise) and tests use
//! [`NoProgress`].

use super::{RunRecord, ScenarioRuns};
use crate::scenario::Scenario;
use std::io::IsTerminal;
use std::sync::Mutex;

/// Callbacks from the runner. All methods have empty defaults.
pub trait Progress: Sync {
    /// Scenario `index` (0-based) of `total` starts; `runs` measured runs are planned.
    fn scenario_start(&self, _index: usize, _total: usize, _s: &Scenario, _runs: u32) {}
    /// Run `k` (0-based) of `of` starts (warm-up runs have their own count).
    fn run_start(&self, _s: &Scenario, _k: u32, _of: u32, _warmup: bool) {}
    fn run_end(&self, _s: &Scenario, _r: &RunRecord, _of: u32, _warmup: bool) {}
    fn scenario_end(&self, _s: &Scenario, _runs: &ScenarioRuns) {}
    /// A note worth showing (retries and the like).
    fn message(&self, _text: &str) {}
}

/// Reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Progress on stderr: a bar per scenario on a terminal, else one line per run like
/// `[2/5] json-roundtrip run 3/5: ok 1532 samples, error 1.2%, 1.9 s`.
pub struct TerminalProgress {
    verbosity: Verbosity,
    tty: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Holds every live bar, so that concurrent scenarios (`--jobs`) each keep their own line.
    multi: indicatif::MultiProgress,
    /// Live bars by scenario name.
    bars: std::collections::HashMap<String, indicatif::ProgressBar>,
    /// `[i/n] name` prefix by scenario name.
    prefix: std::collections::HashMap<String, String>,
}

impl TerminalProgress {
    pub fn new(verbosity: Verbosity) -> TerminalProgress {
        TerminalProgress {
            verbosity,
            tty: std::io::stderr().is_terminal(),
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Prints a line above the bars (or plainly when there are none).
    fn line(&self, text: &str) {
        let st = self.state();
        if st.bars.is_empty() {
            eprintln!("{text}");
        } else {
            let _ = st.multi.println(text);
        }
    }
}

fn run_line(r: &RunRecord) -> String {
    match &r.outcome {
        super::RunOutcome::Ok => {
            let err = r
                .error_rate_pct
                .map(|e| format!(", error {e:.1}%"))
                .unwrap_or_default();
            format!("ok {} samples{err}, {:.1} s", r.samples, r.wall_time_s)
        }
        _ => format!("FAILED {} ({:.1} s)", super::explain(r), r.wall_time_s),
    }
}

impl Progress for TerminalProgress {
    fn scenario_start(&self, index: usize, total: usize, s: &Scenario, runs: u32) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let prefix = format!("[{}/{}] {}", index + 1, total, s.name);
        let mut st = self.state();
        st.prefix.insert(s.name.clone(), prefix.clone());
        if self.tty {
            let bar = indicatif::ProgressBar::new(runs as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} {bar:20} {pos}/{len} runs  {elapsed} (ETA {eta}) {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_prefix(prefix);
            let bar = st.multi.add(bar);
            st.bars.insert(s.name.clone(), bar);
        }
    }

    fn run_start(&self, s: &Scenario, k: u32, of: u32, warmup: bool) {
        if self.verbosity != Verbosity::Verbose {
            return;
        }
        let what = if warmup { "warm-up" } else { "run" };
        self.line(&format!("{}: {what} {}/{of} starting", s.name, k + 1));
    }

    fn run_end(&self, s: &Scenario, r: &RunRecord, of: u32, warmup: bool) {
        if warmup {
            return;
        }
        let failed = !r.outcome.is_ok();
        if self.verbosity == Verbosity::Quiet && !failed {
            return;
        }
        let prefix = self
            .state()
            .prefix
            .get(&s.name)
            .cloned()
            .unwrap_or_else(|| s.name.clone());
        let text = format!("{prefix} run {}/{of}: {}", r.index + 1, run_line(r));
        let bar = self.state().bars.get(&s.name).cloned();
        match &bar {
            Some(b) => {
                b.inc(1);
                b.set_message(run_line(r));
                if failed || self.verbosity == Verbosity::Verbose {
                    self.line(&text);
                }
            }
            None => eprintln!("{text}"),
        }
        if self.verbosity == Verbosity::Verbose {
            let cmd: Vec<&str> = r
                .command
                .iter()
                .map(|a| {
                    if a.contains('\n') {
                        "<launcher>"
                    } else {
                        a.as_str()
                    }
                })
                .collect();
            self.line(&format!("    command: {}", cmd.join(" ")));
        }
    }

    fn scenario_end(&self, s: &Scenario, _runs: &ScenarioRuns) {
        if let Some(b) = self.state().bars.remove(&s.name) {
            b.finish();
        }
    }

    fn message(&self, text: &str) {
        if self.verbosity != Verbosity::Quiet {
            self.line(text);
        }
    }
}
