//! Baselines: `baselines/<scenario>/<machine-class>.json`, a versioned, diff-friendly record
//! of the per-run, per-function counts that comparison needs (kilobytes, not raw profiles),
//! plus the capture settings, environment and machine class they were made with, and the
//! recording session of every run.
//!
//! One file per scenario *per machine class*, so that baselines of several runner types
//! coexist without merge conflicts and `check` can compare only within a class. Version 1
//! files (`baselines/<scenario>.json`, one class, one session) still load: their class is
//! computed from their recorded environment.
//!
//! [`SampleSet`] is also what a results directory turns into, so both sides of a comparison
//! (baseline file vs results dir, or results dir vs results dir) have one type.
//!
//! The file is written by hand rather than with `serde_json::to_string_pretty` so that each
//! function is ONE line inside its run: a baseline update then shows up in review as a
//! per-function diff instead of four-line hunks of `"self": 12` noise. It is still plain JSON
//! and loads with the derived `Deserialize`.

use crate::aggregate::{FunctionStat, RunAggregate};
use crate::run::{Environment, MachineClass, RunRecord};
use crate::scenario::SamplerSettings;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Version 2: machine class, sessions, one file per class. Version 1 still loads.
pub const BASELINE_VERSION: u32 = 2;
/// Oldest format version this tachygate reads.
pub const OLDEST_BASELINE_VERSION: u32 = 1;

/// One recording session of a baseline: runs made together, on one machine, at one time.
/// Sessions are the unit of the between-session variance (see `docs/statistics.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub created: chrono::DateTime<chrono::Utc>,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    pub runs: usize,
}

/// The usable runs of one scenario, with how they were captured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleSet {
    pub version: u32,
    pub scenario: String,
    /// Scenario fingerprint of the runs (see `RunRecord::fingerprint`).
    pub fingerprint: String,
    pub sampler: SamplerSettings,
    /// Environment of the latest session's first run.
    pub environment: Environment,
    /// The machine class of the runs (version 2); `None` in version 1 files, whose class is
    /// computed from `environment` (see [`SampleSet::class`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_class: Option<MachineClass>,
    /// Where these runs came from (a label, results dir or baseline path), for reports.
    pub source: String,
    pub created: chrono::DateTime<chrono::Utc>,
    /// Recording sessions, oldest first (version 2). Empty: all runs are one session.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<Session>,
    /// One entry per usable run.
    pub runs: Vec<RunAggregate>,
    /// Session index of each run (parallel to `runs`; stored as `"session"` inside each run
    /// of the file). Empty: all runs are one session.
    #[serde(skip)]
    pub run_sessions: Vec<u32>,
}

/// Errors loading, saving or building a [`SampleSet`]. Every variant names the file or
/// scenario it concerns and, where it helps, what to do.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot write baseline {path}: {cause}")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path} is not valid baseline JSON at line {line}, column {column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path} has baseline format version {found}, this tachygate reads versions {OLDEST_BASELINE_VERSION} to {BASELINE_VERSION}; re-create it with `tachygate baseline update`")]
    Version { path: PathBuf, found: String },
    #[error("{path} has baseline format version {found}, newer than this tachygate reads (up to {BASELINE_VERSION}); upgrade tachygate to read it (it was written by a newer release; keep the file)")]
    Newer { path: PathBuf, found: u64 },
    #[error("{path}: cannot append to this baseline: {reason}; re-record it without --append")]
    Append { path: PathBuf, reason: String },
    #[error("{path}: {message}")]
    Shape { path: PathBuf, message: String },
    #[error("scenario {scenario}: no usable runs to build a sample set from")]
    NoRuns { scenario: String },
    #[error("scenario {scenario}: invalid ignore glob {pattern:?}: {cause}")]
    Glob {
        scenario: String,
        pattern: String,
        cause: globset::Error,
    },
    #[error("scenario {scenario}: run {index} is for scenario {other}")]
    WrongScenario {
        scenario: String,
        index: u32,
        other: String,
    },
}

impl SampleSet {
    /// Builds a sample set from OK runs and their aggregates. Capture settings, environment
    /// and fingerprint are taken from the first record (callers check consistency between
    /// records with [`crate::compare::compatibility`] when it matters). Stacks are kept; they
    /// are dropped on [`save`](Self::save).
    pub fn from_runs(
        scenario: &str,
        runs: Vec<(RunRecord, RunAggregate)>,
        source: impl Into<String>,
    ) -> Result<SampleSet, BaselineError> {
        let first = runs.first().ok_or_else(|| BaselineError::NoRuns {
            scenario: scenario.to_string(),
        })?;
        let sampler = first.0.sampler.clone();
        let environment = first.0.environment.clone();
        let fingerprint = first.0.fingerprint.clone();
        let git_commit = environment.git_commit.clone();
        let created = runs
            .iter()
            .map(|(r, _)| r.ended)
            .max()
            .unwrap_or_else(chrono::Utc::now);
        let mut aggs = Vec::with_capacity(runs.len());
        for (rec, mut agg) in runs {
            if rec.scenario != scenario {
                return Err(BaselineError::WrongScenario {
                    scenario: scenario.to_string(),
                    index: rec.index,
                    other: rec.scenario,
                });
            }
            agg.functions.sort_by(|a, b| a.function.cmp(&b.function));
            aggs.push(agg);
        }
        let source = source.into();
        Ok(SampleSet {
            version: BASELINE_VERSION,
            scenario: scenario.to_string(),
            fingerprint,
            sampler,
            machine_class: Some(environment.machine_class()),
            environment,
            sessions: vec![Session {
                created,
                source: source.clone(),
                git_commit,
                runs: aggs.len(),
            }],
            run_sessions: vec![0; aggs.len()],
            source,
            created,
            runs: aggs,
        })
    }

    /// The machine class of these runs: recorded (version 2) or computed from the recorded
    /// environment (version 1).
    pub fn class(&self) -> MachineClass {
        self.machine_class
            .clone()
            .unwrap_or_else(|| self.environment.machine_class())
    }

    /// The session index of every run (all 0 when the set has no session tags).
    pub fn session_of_runs(&self) -> Vec<u32> {
        if self.run_sessions.len() == self.runs.len() {
            self.run_sessions.clone()
        } else {
            vec![0; self.runs.len()]
        }
    }

    /// Number of distinct recording sessions among the runs.
    pub fn session_count(&self) -> usize {
        let mut s = self.session_of_runs();
        s.sort_unstable();
        s.dedup();
        s.len()
    }

    /// Adds `newer`'s runs to this baseline as one new recording session (`baseline update
    /// --append`). Refused when the runs would not measure the same thing: another machine
    /// class, scenario definition or capture settings. `path` is only used in errors.
    pub fn append_session(&mut self, newer: SampleSet, path: &Path) -> Result<(), BaselineError> {
        let refuse = |reason: String| BaselineError::Append {
            path: path.to_path_buf(),
            reason,
        };
        if newer.scenario != self.scenario {
            return Err(refuse(format!(
                "it holds scenario {}, the new runs are of {}",
                self.scenario, newer.scenario
            )));
        }
        let (old_class, new_class) = (self.class(), newer.class());
        if old_class.id != new_class.id {
            return Err(refuse(format!(
                "recorded on machine class {}, this session is {}",
                old_class.id, new_class.id
            )));
        }
        if newer.fingerprint != self.fingerprint {
            return Err(refuse(
                "the scenario definition changed since it was recorded (fingerprint differs)"
                    .into(),
            ));
        }
        if newer.sampler != self.sampler {
            return Err(refuse("the sampler settings differ".into()));
        }
        // A version 1 file (or a fresh set) is one session: describe it before adding.
        if self.sessions.is_empty() {
            self.sessions.push(Session {
                created: self.created,
                source: self.source.clone(),
                git_commit: self.environment.git_commit.clone(),
                runs: self.runs.len(),
            });
        }
        let mut tags = self.session_of_runs();
        let index = self.sessions.len() as u32;
        self.sessions.push(Session {
            created: newer.created,
            source: newer.source.clone(),
            git_commit: newer.environment.git_commit.clone(),
            runs: newer.runs.len(),
        });
        tags.extend(std::iter::repeat(index).take(newer.runs.len()));
        self.runs.extend(newer.runs);
        self.run_sessions = tags;
        self.environment = newer.environment;
        self.machine_class = Some(new_class);
        self.created = newer.created;
        self.source = newer.source;
        self.version = BASELINE_VERSION;
        Ok(())
    }

    /// Total samples over all runs.
    pub fn total_samples(&self) -> u64 {
        self.runs.iter().map(|r| r.total_samples).sum()
    }

    /// Reads and validates a baseline file.
    pub fn load(path: &Path) -> Result<SampleSet, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            cause: source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates baseline text; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<SampleSet, BaselineError> {
        let syntax = |e: serde_json::Error| BaselineError::Syntax {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        // Check the version before the shape, so that a future format gets the "upgrade
        // tachygate" message rather than a confusing missing-field error.
        let value: serde_json::Value = serde_json::from_str(text).map_err(syntax)?;
        let shape = |message: String| BaselineError::Shape {
            path: path.to_path_buf(),
            message,
        };
        let obj = value
            .as_object()
            .ok_or_else(|| shape("expected a JSON object at the top level".into()))?;
        match obj.get("version") {
            Some(serde_json::Value::Number(n))
                if n.as_u64().is_some_and(|v| {
                    (OLDEST_BASELINE_VERSION as u64..=BASELINE_VERSION as u64).contains(&v)
                }) => {}
            Some(serde_json::Value::Number(n))
                if n.as_u64().is_some_and(|v| v > BASELINE_VERSION as u64) =>
            {
                return Err(BaselineError::Newer {
                    path: path.to_path_buf(),
                    found: n.as_u64().unwrap_or_default(),
                })
            }
            Some(v) => {
                return Err(BaselineError::Version {
                    path: path.to_path_buf(),
                    found: v.to_string(),
                })
            }
            None => {
                return Err(shape(
                    "missing \"version\"; is this a tachygate baseline?".into(),
                ))
            }
        }
        let mut set: SampleSet = serde_json::from_str(text).map_err(syntax)?;
        // Each run's session tag lives inside the run (`"session": 1`), next to its counts.
        if let Some(runs) = obj.get("runs").and_then(|r| r.as_array()) {
            let tags: Vec<Option<u64>> = runs
                .iter()
                .map(|r| r.get("session").and_then(|s| s.as_u64()))
                .collect();
            if tags.iter().any(Option::is_some) {
                set.run_sessions = tags
                    .iter()
                    .map(|t| t.unwrap_or(0).min(u32::MAX as u64) as u32)
                    .collect();
            }
        }
        set.validate().map_err(shape)?;
        Ok(set)
    }

    /// Checks the invariants the statistics rely on; returns a message naming the run and
    /// function at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.scenario.is_empty() {
            return Err("empty \"scenario\"".into());
        }
        if self.runs.is_empty() {
            return Err("no runs".into());
        }
        if !self.run_sessions.is_empty() {
            if self.run_sessions.len() != self.runs.len() {
                return Err("some runs have a \"session\" and others not".into());
            }
            let known = self.sessions.len().max(1) as u32;
            if let Some((i, s)) = self
                .run_sessions
                .iter()
                .enumerate()
                .find(|(_, s)| **s >= known)
            {
                return Err(format!(
                    "run {i} is of session {s}, but only {known} session(s) are listed"
                ));
            }
        }
        for (i, run) in self.runs.iter().enumerate() {
            if run.total_samples == 0 {
                return Err(format!("run {i} has total_samples 0"));
            }
            let mut self_sum: u64 = 0;
            for (j, f) in run.functions.iter().enumerate() {
                if j > 0 && run.functions[j - 1].function >= f.function {
                    return Err(format!(
                        "run {i}: functions not sorted or duplicated at {}",
                        f.function
                    ));
                }
                if f.self_samples > f.cumulative_samples {
                    return Err(format!(
                        "run {i}: {} has self {} > cumulative {}",
                        f.function, f.self_samples, f.cumulative_samples
                    ));
                }
                if f.cumulative_samples > run.total_samples {
                    return Err(format!(
                        "run {i}: {} has cumulative {} > total_samples {}",
                        f.function, f.cumulative_samples, run.total_samples
                    ));
                }
                self_sum = self_sum.saturating_add(f.self_samples);
            }
            if self_sum > run.total_samples {
                return Err(format!(
                    "run {i}: self samples sum to {self_sum} > total_samples {}",
                    run.total_samples
                ));
            }
        }
        Ok(())
    }

    /// The diff-friendly text form (see module docs): sorted, no stacks, one function per line.
    pub fn to_pretty_json(&self) -> String {
        let mut out = String::new();
        out.push_str("{\n");
        let _ = writeln!(out, "  \"version\": {},", self.version);
        let _ = writeln!(out, "  \"scenario\": {},", compact(&self.scenario));
        let _ = writeln!(out, "  \"fingerprint\": {},", compact(&self.fingerprint));
        let _ = writeln!(out, "  \"sampler\": {},", indent(&pretty(&self.sampler), 2));
        let _ = writeln!(
            out,
            "  \"environment\": {},",
            indent(&pretty(&self.environment), 2)
        );
        if let Some(class) = &self.machine_class {
            let _ = writeln!(out, "  \"machine_class\": {},", indent(&pretty(class), 2));
        }
        let _ = writeln!(out, "  \"source\": {},", compact(&self.source));
        let _ = writeln!(out, "  \"created\": {},", compact(&self.created));
        if !self.sessions.is_empty() {
            out.push_str("  \"sessions\": [");
            for (i, s) in self.sessions.iter().enumerate() {
                out.push_str(if i == 0 { "\n    " } else { ",\n    " });
                out.push_str(&compact(s));
            }
            out.push_str("\n  ],\n");
        }
        let tags = (!self.run_sessions.is_empty()).then(|| self.session_of_runs());
        out.push_str("  \"runs\": [");
        for (i, run) in self.runs.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push_str("    {\n");
            if let Some(t) = &tags {
                let _ = writeln!(out, "      \"session\": {},", t[i]);
            }
            let _ = writeln!(out, "      \"total_samples\": {},", run.total_samples);
            if let Some(e) = run.error_rate_pct.filter(|e| e.is_finite()) {
                let _ = writeln!(out, "      \"error_rate_pct\": {e},");
            }
            out.push_str("      \"functions\": [");
            let mut funcs: Vec<&FunctionStat> = run.functions.iter().collect();
            funcs.sort_by(|a, b| a.function.cmp(&b.function));
            for (j, f) in funcs.iter().enumerate() {
                out.push_str(if j == 0 { "\n" } else { ",\n" });
                let _ = write!(
                    out,
                    "        {{\"file\": {}, \"name\": {}, \"self\": {}, \"cumulative\": {}}}",
                    compact(&f.function.file),
                    compact(&f.function.name),
                    f.self_samples,
                    f.cumulative_samples
                );
            }
            out.push_str(if funcs.is_empty() {
                "]\n"
            } else {
                "\n      ]\n"
            });
            out.push_str("    }");
        }
        out.push_str(if self.runs.is_empty() {
            "]\n"
        } else {
            "\n  ]\n"
        });
        out.push_str("}\n");
        out
    }

    /// Writes the baseline atomically in the diff-friendly form.
    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        crate::fsutil::write_atomic(path, self.to_pretty_json().as_bytes()).map_err(|source| {
            BaselineError::Write {
                path: path.to_path_buf(),
                cause: source,
            }
        })
    }
}

/// A scenario's runs turned into a [`SampleSet`], with what was left out.
#[derive(Debug, Clone)]
pub struct BuiltSet {
    /// `None` when no run was usable.
    pub set: Option<SampleSet>,
    /// One line per run that is not a measurement (`run 3: timeout after 120 s`), including
    /// OK runs whose profile could not be read.
    pub excluded: Vec<String>,
    /// Runs in total (OK or not).
    pub total_runs: usize,
}

impl BuiltSet {
    /// Every recorded run was usable.
    pub fn all_ok(&self) -> bool {
        self.excluded.is_empty() && self.set.is_some()
    }
}

/// `path` made absolute and, when it exists, free of symlinks (profiles record the paths
/// Python resolved, and `git rev-parse --show-toplevel` resolves symlinks too).
fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The project root of a scenario file: the directory holding the nearest enclosing
/// `scenarios/` directory (`/p/scenarios/sub/x.toml` -> `/p`), else the file's directory.
/// It does not depend on the current directory or on where the project lives, so function
/// paths relative to it match when a project is recorded in one place and checked in another.
pub fn scenario_root(scenario_file: &Path) -> PathBuf {
    let file = absolute(scenario_file);
    let dir = file.parent().unwrap_or(Path::new("/"));
    dir.ancestors()
        .find(|a| {
            a.file_name()
                .is_some_and(|n| n == crate::scenario::DEFAULT_DIR)
        })
        .and_then(Path::parent)
        .unwrap_or(dir)
        .to_path_buf()
}

/// The root that makes the scenario's own files portable: the git toplevel of the workload's
/// working directory, else the scenario's project root ([`scenario_root`]: the directory
/// holding `scenarios/`). Without a scenario definition: the git toplevel of the current
/// directory, else the project root found above it, else none (paths stay absolute, and the
/// comparison's identity check refuses a mismatch rather than passing it).
pub fn repo_root_for(scenario: Option<&crate::scenario::Scenario>) -> Option<PathBuf> {
    match scenario {
        Some(sc) => crate::git::toplevel(&sc.workload.cwd)
            .ok()
            .or_else(|| Some(scenario_root(&sc.source))),
        None => {
            let cwd = std::env::current_dir().ok()?;
            crate::git::toplevel(&cwd)
                .ok()
                .or_else(|| crate::scenario::find_project_root(&cwd))
        }
    }
}

/// Decodes and aggregates every OK run of `runs` into a [`SampleSet`]. Frames matching the
/// scenario's `gate.ignore` globs are dropped; paths are made portable against
/// [`repo_root_for`]. `keep_stacks` keeps function-level stacks (for a candidate's flame
/// graph; [`SampleSet::save`] drops them). Runs that are not OK, or whose profile does not
/// decode, are listed in `excluded`.
pub fn sample_set_from_runs(
    runs: &crate::run::ScenarioRuns,
    scenario: Option<&crate::scenario::Scenario>,
    keep_stacks: bool,
    source: &str,
) -> Result<BuiltSet, BaselineError> {
    let name = runs.scenario.as_str();
    let ignore = match scenario {
        Some(sc) if !sc.gate.ignore.is_empty() => {
            let mut b = globset::GlobSetBuilder::new();
            for p in &sc.gate.ignore {
                b.add(globset::Glob::new(p).map_err(|source| BaselineError::Glob {
                    scenario: name.to_string(),
                    pattern: p.clone(),
                    cause: source,
                })?);
            }
            Some(b.build().map_err(|source| BaselineError::Glob {
                scenario: name.to_string(),
                pattern: sc.gate.ignore.join(", "),
                cause: source,
            })?)
        }
        _ => None,
    };
    let opts = crate::aggregate::AggregateOptions {
        paths: crate::aggregate::PathNormalizer::new(repo_root_for(scenario)),
        ignore,
        keep_stacks,
    };
    let mut excluded = Vec::new();
    let mut ok = Vec::new();
    for (rec, profile) in &runs.records {
        let label = format!("run {}", rec.index + 1);
        if !rec.outcome.is_ok() {
            excluded.push(format!("{label}: {}", crate::run::describe(&rec.outcome)));
            continue;
        }
        let agg = crate::aggregate::aggregate_file(profile, &opts).map_err(|e| e.to_string());
        match agg {
            Ok(mut a) if a.total_samples > 0 => {
                a.error_rate_pct = rec.error_rate_pct;
                ok.push((rec.clone(), a))
            }
            Ok(_) => excluded.push(format!(
                "{label}: no samples left after dropping ignored frames ({})",
                profile.display()
            )),
            Err(e) => excluded.push(format!("{label}: {}: {e}", profile.display())),
        }
    }
    let set = if ok.is_empty() {
        None
    } else {
        Some(SampleSet::from_runs(name, ok, source)?)
    };
    Ok(BuiltSet {
        set,
        excluded,
        total_runs: runs.records.len(),
    })
}

/// `<dir>/<scenario>/<class id>.json`: the baseline of `scenario` on machine class `class_id`.
pub fn baseline_path(dir: &Path, scenario: &str, class_id: &str) -> PathBuf {
    dir.join(scenario).join(format!("{class_id}.json"))
}

/// `<dir>/<scenario>.json`: the version 1 location (one baseline per scenario, any class).
pub fn legacy_baseline_path(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.json"))
}

/// Every baseline of `scenario` in `dir`, whatever its machine class: the class files
/// `<dir>/<scenario>/*.json` (sorted), then the version 1 file `<dir>/<scenario>.json`.
/// A file holding another scenario is an error naming it.
pub fn scenario_baselines(
    dir: &Path,
    scenario: &str,
) -> Result<Vec<(PathBuf, SampleSet)>, BaselineError> {
    let mut paths = json_files(&dir.join(scenario))?;
    let legacy = legacy_baseline_path(dir, scenario);
    if legacy.is_file() {
        paths.push(legacy);
    }
    let mut out = Vec::new();
    for path in paths {
        let set = SampleSet::load(&path)?;
        if set.scenario != scenario {
            return Err(BaselineError::Shape {
                message: format!("holds scenario {:?}, expected {scenario:?}", set.scenario),
                path,
            });
        }
        out.push((path, set));
    }
    Ok(out)
}

/// The baseline of machine class `class_id` among `baselines` (from [`scenario_baselines`]):
/// a class file before a version 1 file of the same class.
pub fn for_class<'a>(
    baselines: &'a [(PathBuf, SampleSet)],
    class_id: &str,
) -> Option<&'a (PathBuf, SampleSet)> {
    baselines.iter().find(|(_, s)| s.class().id == class_id)
}

/// `*.json` files directly in `dir`, sorted; none when `dir` does not exist.
fn json_files(dir: &Path) -> Result<Vec<PathBuf>, BaselineError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| BaselineError::Read {
        path: dir.to_path_buf(),
        cause: source,
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| BaselineError::Read {
            path: dir.to_path_buf(),
            cause: source,
        })?;
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) == Some("json") && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Loads every baseline in `dir`: version 1 files `*.json` and class files `*/*.json`,
/// sorted by scenario name (a scenario with baselines of several classes appears once per
/// class).
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, SampleSet)>, BaselineError> {
    let legacy = json_files(dir)?;
    if !dir.is_dir() {
        return Err(BaselineError::Read {
            path: dir.to_path_buf(),
            cause: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let entries = std::fs::read_dir(dir).map_err(|source| BaselineError::Read {
        path: dir.to_path_buf(),
        cause: source,
    })?;
    let mut subdirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| BaselineError::Read {
            path: dir.to_path_buf(),
            cause: source,
        })?;
        if entry.path().is_dir() {
            subdirs.push(entry.path());
        }
    }
    subdirs.sort();
    // Class files before version 1 files, so that for each scenario (after the stable sort
    // below) a class file wins over a version 1 file of the same class, as in
    // `scenario_baselines`.
    let mut paths = Vec::new();
    for sub in subdirs {
        paths.extend(json_files(&sub)?);
    }
    paths.extend(legacy);
    let mut out = Vec::new();
    for path in paths {
        let set = SampleSet::load(&path)?;
        out.push((path, set));
    }
    out.sort_by(|a, b| a.1.scenario.cmp(&b.1.scenario));
    Ok(out)
}

fn pretty<T: Serialize>(v: &T) -> String {
    // Serialising these plain structs cannot fail (string keys, no maps with non-string keys).
    serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into())
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&pad);
        }
        out.push_str(line);
    }
    out
}

fn compact<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::FunctionId;

    #[test]
    fn scenario_root_is_the_directory_holding_scenarios() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap().join("proj");
        std::fs::create_dir_all(root.join("scenarios/sub")).unwrap();
        std::fs::create_dir_all(root.join("docs")).unwrap();
        assert_eq!(scenario_root(&root.join("scenarios/x.toml")), root);
        assert_eq!(scenario_root(&root.join("scenarios/sub/y.toml")), root);
        // Not under a `scenarios/` directory: the file's own directory.
        assert_eq!(scenario_root(&root.join("docs/z.toml")), root.join("docs"));
        assert_eq!(
            crate::scenario::find_project_root(&root.join("docs")),
            Some(root.clone())
        );
        assert_eq!(
            crate::scenario::find_project_root(&root),
            Some(root.clone())
        );
        assert_eq!(
            crate::scenario::find_project_root(&root.join("scenarios/sub")),
            Some(root)
        );
    }

    pub(crate) fn sample_set() -> SampleSet {
        let run = |a: u64, b: u64| RunAggregate {
            total_samples: a + b,
            error_rate_pct: Some(1.5),
            functions: vec![
                FunctionStat {
                    function: FunctionId::new("app.py", "main"),
                    self_samples: 0,
                    cumulative_samples: a + b,
                },
                FunctionStat {
                    function: FunctionId::new("app.py", "hot \"quoted\""),
                    self_samples: a,
                    cumulative_samples: a,
                },
                FunctionStat {
                    function: FunctionId::new("<stdlib>/json/encoder.py", "encode"),
                    self_samples: b,
                    cumulative_samples: b,
                },
            ],
            stacks: vec![crate::aggregate::StackCount {
                frames: vec![0, 1],
                count: a,
            }],
        };
        SampleSet {
            version: BASELINE_VERSION,
            scenario: "demo".into(),
            fingerprint: "abc".into(),
            sampler: SamplerSettings::default(),
            environment: Environment::default(),
            machine_class: None,
            source: "test".into(),
            created: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            sessions: Vec::new(),
            runs: vec![run(300, 700), run(310, 690)],
            run_sessions: Vec::new(),
        }
    }

    #[test]
    fn save_load_roundtrip_sorts_and_drops_stacks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.json");
        let set = sample_set();
        set.save(&path).unwrap();
        let loaded = SampleSet::load(&path).unwrap();
        let mut expected = set.clone();
        for r in &mut expected.runs {
            r.stacks.clear();
            r.functions.sort_by(|a, b| a.function.cmp(&b.function));
        }
        assert_eq!(loaded, expected);
    }

    #[test]
    fn pretty_form_has_one_function_per_line() {
        let text = sample_set().to_pretty_json();
        let line = text
            .lines()
            .find(|l| l.contains("encode"))
            .expect("function line");
        assert_eq!(
            line.trim(),
            r#"{"file": "<stdlib>/json/encoder.py", "name": "encode", "self": 700, "cumulative": 700},"#
        );
        assert!(!text.contains("stacks"));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn load_rejects_other_version_naming_the_file() {
        let text = sample_set()
            .to_pretty_json()
            .replace("\"version\": 2", "\"version\": 7");
        let err = SampleSet::parse(&text, Path::new("baselines/x.json")).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, BaselineError::Newer { .. }), "{msg}");
        assert!(
            msg.contains("baselines/x.json")
                && msg.contains('7')
                && msg.contains("upgrade tachygate"),
            "{msg}"
        );
        assert!(!msg.contains("re-create"), "{msg}");
        let text = sample_set()
            .to_pretty_json()
            .replace("\"version\": 2", "\"version\": 0");
        let err = SampleSet::parse(&text, Path::new("baselines/x.json")).unwrap_err();
        assert!(matches!(err, BaselineError::Version { .. }), "{err}");
    }

    #[test]
    fn committed_version_1_baselines_load_with_a_computed_class() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("baselines");
        let all = load_dir(&dir).unwrap();
        assert!(!all.is_empty());
        for (path, set) in &all {
            if set.version == 1 {
                assert!(set.machine_class.is_none(), "{}", path.display());
                assert_eq!(set.session_count(), 1);
                let class = set.class();
                assert_eq!(class.os, "linux");
                assert!(!class.id.is_empty());
            }
        }
    }

    #[test]
    fn class_files_coexist_and_are_selected_by_class() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut a = sample_set();
        a.environment.cpu_model = "Intel(R) Xeon(R) Processor".into();
        a.save(&legacy_baseline_path(d, "demo")).unwrap();
        let mut b = sample_set();
        b.environment.cpu_model = "AMD EPYC 7763 64-Core Processor".into();
        b.machine_class = Some(b.environment.machine_class());
        let b_id = b.class().id;
        let b_path = baseline_path(d, "demo", &b_id);
        std::fs::create_dir_all(b_path.parent().unwrap()).unwrap();
        b.save(&b_path).unwrap();
        let found = scenario_baselines(d, "demo").unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(for_class(&found, &b_id).unwrap().0, b_path);
        let a_id = a.class().id;
        assert_eq!(
            for_class(&found, &a_id).unwrap().0,
            legacy_baseline_path(d, "demo")
        );
        assert!(for_class(&found, "some-other-class").is_none());
        assert_eq!(load_dir(d).unwrap().len(), 2);
        assert!(scenario_baselines(d, "nothing").unwrap().is_empty());
    }

    #[test]
    fn append_adds_a_tagged_session_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.json");
        let mut base = sample_set();
        base.append_session(sample_set(), &path).unwrap();
        assert_eq!(base.runs.len(), 4);
        assert_eq!(base.session_of_runs(), vec![0, 0, 1, 1]);
        assert_eq!(base.sessions.len(), 2);
        assert_eq!(base.session_count(), 2);
        base.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"session\": 1,"), "{text}");
        let loaded = SampleSet::load(&path).unwrap();
        assert_eq!(loaded.session_of_runs(), vec![0, 0, 1, 1]);
        assert_eq!(loaded.sessions, base.sessions);
        assert_eq!(loaded.class(), base.class());
        // Another class, or another scenario definition, is refused.
        let mut other = sample_set();
        other.environment.cpu_model = "AMD EPYC".into();
        let e = base.clone().append_session(other, &path).unwrap_err();
        assert!(e.to_string().contains("machine class"), "{e}");
        let mut other = sample_set();
        other.fingerprint = "changed".into();
        let e = base.clone().append_session(other, &path).unwrap_err();
        assert!(e.to_string().contains("without --append"), "{e}");
        // A session index beyond the listed sessions is a shape error.
        let bad = text.replace("\"session\": 1,", "\"session\": 5,");
        let e = SampleSet::parse(&bad, &path).unwrap_err().to_string();
        assert!(e.contains("session 5"), "{e}");
    }

    #[test]
    fn load_rejects_bad_shape_and_syntax() {
        let p = Path::new("b.json");
        let text = sample_set().to_pretty_json();
        let bad = text.replace("\"self\": 700", "\"self\": 7000");
        let err = SampleSet::parse(&bad, p).unwrap_err().to_string();
        assert!(err.contains("b.json") && err.contains("self 7000"), "{err}");
        let err = SampleSet::parse("{\"version\": 1,", p).unwrap_err();
        assert!(
            matches!(err, BaselineError::Syntax { line: 1, .. }),
            "{err}"
        );
        let err = SampleSet::parse("[1]", p).unwrap_err().to_string();
        assert!(err.contains("top level"), "{err}");
        let err = SampleSet::parse("{\"version\": 1}", p).unwrap_err();
        assert!(matches!(err, BaselineError::Syntax { .. }), "{err}");
        let unsorted = text.replacen("app.py", "zzz.py", 1);
        let err = SampleSet::parse(&unsorted, p).unwrap_err().to_string();
        assert!(err.contains("not sorted"), "{err}");
    }
}
