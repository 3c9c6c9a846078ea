//! The two sides of a comparison as the commands see them: each side is one or more paths -
//! a baseline file, a directory of baselines, or results directories (merged, e.g. CI shards) -
//! turned into one [`SampleSet`] per scenario; then every scenario present on both sides is
//! compared.

use super::engine::{compare_sets, error_comparison, CompareOptions};
use super::model::{ScenarioComparison, ScenarioStatus};
use crate::baseline::{sample_set_from_runs, BaselineError, SampleSet};
use crate::exit::Exit;
use crate::run::{RunError, MANIFEST};
use crate::scenario::{GateSettings, Scenario};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SideError {
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    #[error("{}: no baselines (*.json) in this directory, and it is not a results directory (no {MANIFEST})", .0.display())]
    Empty(PathBuf),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("{}: this is the folder of scenario {scenario} inside the results directory {}; pass {} instead (add `--scenario {scenario}` to compare only this scenario)", path.display(), results.display(), results.display())]
    ScenarioFolder {
        path: PathBuf,
        results: PathBuf,
        scenario: String,
    },
    #[error(
        "scenario {scenario} appears twice on one side ({first} and {second}); pass one of them"
    )]
    Duplicate {
        scenario: String,
        first: String,
        second: String,
    },
}

/// One side: a sample set per scenario, and the runs that could not be used.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub sets: BTreeMap<String, SampleSet>,
    /// Per scenario: runs that are not measurements (failed, unreadable profile). Only results
    /// directories have these.
    pub excluded: BTreeMap<String, Vec<String>>,
    /// Per scenario: the baselines of a baselines *directory*, one per machine class; the one
    /// compared is chosen by the candidate's class ([`compare_sides`]), as `check` does.
    pub by_class: BTreeMap<String, Vec<(PathBuf, SampleSet)>>,
}

impl Side {
    pub fn scenarios(&self) -> impl Iterator<Item = &String> {
        self.sets
            .keys()
            .chain(self.excluded.keys().filter(|k| !self.sets.contains_key(*k)))
            .chain(self.by_class.keys())
    }
}

/// Loads a side. `definitions` supplies each scenario's ignore globs and repository root when
/// results directories are aggregated (absent: no ignore globs, repo root of the current
/// directory). `keep_stacks` keeps stacks from results directories (for flame graphs).
pub fn load_side(
    paths: &[PathBuf],
    definitions: &BTreeMap<String, Scenario>,
    keep_stacks: bool,
) -> Result<Side, SideError> {
    let mut side = Side::default();
    let mut origin: BTreeMap<String, String> = BTreeMap::new();
    let mut results_dirs = Vec::new();
    let add = |side: &mut Side,
               origin: &mut BTreeMap<String, String>,
               set: SampleSet,
               from: String|
     -> Result<(), SideError> {
        if let Some(first) = origin.get(&set.scenario) {
            return Err(SideError::Duplicate {
                scenario: set.scenario.clone(),
                first: first.clone(),
                second: from,
            });
        }
        origin.insert(set.scenario.clone(), from);
        side.sets.insert(set.scenario.clone(), set);
        Ok(())
    };
    for p in paths {
        if let Some(e) = inside_results(p) {
            return Err(e);
        }
        if p.is_file() {
            let set = SampleSet::load(p)?;
            add(&mut side, &mut origin, set, p.display().to_string())?;
        } else if p.is_dir() {
            if p.join(MANIFEST).is_file() {
                results_dirs.push(p.clone());
                continue;
            }
            let sets = crate::baseline::load_dir(p)?;
            if sets.is_empty() {
                return Err(SideError::Empty(p.clone()));
            }
            // Baselines of several machine classes may sit side by side: keep them all.
            let mut grouped: BTreeMap<String, Vec<(PathBuf, SampleSet)>> = BTreeMap::new();
            for (path, set) in sets {
                grouped
                    .entry(set.scenario.clone())
                    .or_default()
                    .push((path, set));
            }
            for (name, found) in grouped {
                if let Some(first) = origin.get(&name) {
                    return Err(SideError::Duplicate {
                        scenario: name,
                        first: first.clone(),
                        second: p.display().to_string(),
                    });
                }
                origin.insert(name.clone(), p.display().to_string());
                side.by_class.insert(name, found);
            }
        } else {
            return Err(SideError::NotFound(p.clone()));
        }
    }
    if !results_dirs.is_empty() {
        let source = results_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        for runs in crate::run::load_results(&results_dirs)? {
            let built =
                sample_set_from_runs(&runs, definitions.get(&runs.scenario), keep_stacks, &source)?;
            if !built.excluded.is_empty() {
                side.excluded
                    .insert(runs.scenario.clone(), built.excluded.clone());
            }
            if let Some(set) = built.set {
                add(&mut side, &mut origin, set, source.clone())?;
            }
        }
    }
    Ok(side)
}

/// A path inside a results directory (a scenario's folder, or a file in it) is not a side by
/// itself; the error names the results directory to pass instead.
fn inside_results(p: &Path) -> Option<SideError> {
    if p.join(MANIFEST).is_file() {
        return None;
    }
    let folder = if p.is_dir() { p } else { p.parent()? };
    let parent = match folder.parent() {
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => return None,
    };
    if !parent.join(MANIFEST).is_file() {
        return None;
    }
    Some(SideError::ScenarioFolder {
        path: p.to_path_buf(),
        results: parent.to_path_buf(),
        scenario: folder.file_name()?.to_string_lossy().into_owned(),
    })
}

/// What happened to one scenario, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    Compared,
    /// Some runs failed (exit 3).
    RunFailed,
    /// The comparison was refused: capture mismatch, too few runs, bad settings (exit 2).
    Refused,
    /// No baseline of this machine's class: not compared, does not fail the gate (exit 0).
    NoBaseline,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub comparison: ScenarioComparison,
    pub kind: OutcomeKind,
}

/// Compares every scenario present on both sides (in name order). Scenarios on only one side
/// are returned in `only_baseline` / `only_candidate` for the caller to report.
pub struct Compared {
    pub outcomes: Vec<Outcome>,
    pub only_baseline: Vec<String>,
    pub only_candidate: Vec<String>,
}

pub fn compare_sides(
    baseline: &Side,
    candidate: &Side,
    definitions: &BTreeMap<String, Scenario>,
    opts: &CompareOptions,
) -> Compared {
    let default_gate = GateSettings::default();
    let mut outcomes = Vec::new();
    let mut only_baseline = Vec::new();
    let mut only_candidate = Vec::new();
    let mut names: Vec<&String> = baseline.scenarios().chain(candidate.scenarios()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let in_b = baseline.sets.contains_key(name)
            || baseline.excluded.contains_key(name)
            || baseline.by_class.contains_key(name);
        let in_c = candidate.sets.contains_key(name)
            || candidate.excluded.contains_key(name)
            || candidate.by_class.contains_key(name);
        if !in_b {
            only_candidate.push(name.clone());
            continue;
        }
        if !in_c {
            only_baseline.push(name.clone());
            continue;
        }
        let gate = definitions.get(name).map_or(&default_gate, |s| &s.gate);
        outcomes.push(compare_scenario(name, baseline, candidate, gate, opts));
    }
    Compared {
        outcomes,
        only_baseline,
        only_candidate,
    }
}

/// Shown when a committed baseline holds a single recording session.
pub const ONE_SESSION_WARNING: &str = "the baseline holds one recording session, so drift between sessions is not in the intervals (measured on the bundled scenarios: a dominant function moved 2.6 points an hour later with no code change); record more sessions at other times with `tachygate baseline update --append` (the intervals then include the between-session variance), or gate with `tachygate check --base REV`, whose sides share one session";

/// One scenario present on both sides: pick each side's set, then compare.
fn compare_scenario(
    name: &str,
    baseline: &Side,
    candidate: &Side,
    gate: &GateSettings,
    opts: &CompareOptions,
) -> Outcome {
    let c = match candidate_set(name, candidate, opts) {
        Ok(c) => c,
        Err(refused) => return *refused,
    };
    let b = match baseline_set(name, baseline, c, opts) {
        Ok(b) => b,
        Err(no_baseline) => return *no_baseline,
    };
    let mut run_errors: Vec<String> = Vec::new();
    for (label, side) in [("baseline", baseline), ("candidate", candidate)] {
        if let Some(ex) = side.excluded.get(name) {
            run_errors.extend(ex.iter().map(|e| format!("{label} {e}")));
        }
    }
    match (b, c) {
        (Some(b), Some(c)) => {
            let mut outcome = compared(name, b, c, gate, opts, run_errors);
            // A committed baseline (from a baselines directory) and a fresh candidate are two
            // recording sessions; with one session in the baseline the between-session drift
            // cannot be estimated and is not in the intervals.
            let committed = !baseline.sets.contains_key(name);
            if committed && b.session_count() < 2 {
                outcome.comparison.warnings.push(ONE_SESSION_WARNING.into());
            }
            outcome
        }
        _ => {
            let mut errors = vec![format!(
                "no usable runs on the {} side",
                if b.is_none() { "baseline" } else { "candidate" }
            )];
            errors.extend(run_errors);
            Outcome {
                comparison: error_comparison(name, opts.confidence, b, c, errors, Vec::new()),
                kind: OutcomeKind::RunFailed,
            }
        }
    }
}

/// The candidate's set of `name`. A candidate from a baselines directory must be one class:
/// which one would be a guess, so several are refused.
fn candidate_set<'a>(
    name: &str,
    candidate: &'a Side,
    opts: &CompareOptions,
) -> Result<Option<&'a SampleSet>, Box<Outcome>> {
    match (candidate.sets.get(name), candidate.by_class.get(name)) {
        (Some(c), _) => Ok(Some(c)),
        (None, Some(found)) if found.len() == 1 => Ok(Some(&found[0].1)),
        (None, Some(found)) => {
            let files: Vec<String> = found.iter().map(|(p, _)| p.display().to_string()).collect();
            Err(Box::new(Outcome {
                comparison: error_comparison(
                    name,
                    opts.confidence,
                    None,
                    None,
                    vec![format!(
                        "the candidate side holds baselines of {} machine classes for this scenario ({}); pass the one file to compare",
                        found.len(),
                        files.join(", ")
                    )],
                    Vec::new(),
                ),
                kind: OutcomeKind::Refused,
            }))
        }
        (None, None) => Ok(None),
    }
}

/// The baseline's set of `name`: from a baselines directory, the file of the candidate's
/// machine class (none of that class is a `NoBaseline` outcome).
fn baseline_set<'a>(
    name: &str,
    baseline: &'a Side,
    c: Option<&SampleSet>,
    opts: &CompareOptions,
) -> Result<Option<&'a SampleSet>, Box<Outcome>> {
    match (baseline.sets.get(name), baseline.by_class.get(name), c) {
        (Some(b), _, _) => Ok(Some(b)),
        (None, Some(found), Some(c)) => {
            let class = c.class();
            match crate::baseline::for_class(found, &class.id) {
                Some((_, b)) => Ok(Some(b)),
                None => {
                    let others: Vec<(PathBuf, String)> = found
                        .iter()
                        .map(|(p, s)| (p.clone(), s.class().id))
                        .collect();
                    Err(Box::new(Outcome {
                        comparison: no_baseline_comparison(
                            name,
                            opts.confidence,
                            &class,
                            &others,
                            &format!("tachygate baseline update {name}"),
                            Some(c),
                        ),
                        kind: OutcomeKind::NoBaseline,
                    }))
                }
            }
        }
        // No usable candidate runs: the entry can only be an error.
        (None, Some(found), None) => Ok(found.first().map(|(_, s)| s)),
        (None, None, _) => Ok(None),
    }
}

/// The outcome of comparing two sets, given the runs each side excluded.
fn compared(
    name: &str,
    b: &SampleSet,
    c: &SampleSet,
    gate: &GateSettings,
    opts: &CompareOptions,
    run_errors: Vec<String>,
) -> Outcome {
    match compare_sets(b, c, gate, opts) {
        Ok(mut cmp) => {
            if run_errors.is_empty() {
                Outcome {
                    comparison: cmp,
                    kind: OutcomeKind::Compared,
                }
            } else {
                // Compared on the usable runs, but the gate cannot pass a scenario
                // whose runs failed: the failure may be the regression. The excluded
                // runs are listed as warnings; the error says why the status is Error.
                cmp.status = ScenarioStatus::Error;
                cmp.errors.push(format!(
                    "{} run(s) failed or were unusable; compared on the usable runs only",
                    run_errors.len()
                ));
                cmp.warnings
                    .extend(run_errors.iter().map(|e| format!("excluded {e}")));
                Outcome {
                    comparison: cmp,
                    kind: OutcomeKind::RunFailed,
                }
            }
        }
        Err(e) => {
            let kind = if run_errors.is_empty() {
                OutcomeKind::Refused
            } else {
                OutcomeKind::RunFailed
            };
            let mut errors = vec![e.to_string()];
            errors.extend(run_errors);
            Outcome {
                comparison: error_comparison(
                    name,
                    opts.confidence,
                    Some(b),
                    Some(c),
                    errors,
                    Vec::new(),
                ),
                kind,
            }
        }
    }
}

/// The exit code for a set of outcomes: 3 if any run failed, else 2 if any comparison was
/// refused, else 1 if any scenario failed the gate, else 0. A scenario without a baseline for
/// this machine class contributes 0: by construction it has no verdicts (`check
/// --require-baselines` turns it into a refusal instead).
pub fn exit_code(outcomes: &[Outcome]) -> Exit {
    if outcomes.iter().any(|o| o.kind == OutcomeKind::RunFailed) {
        Exit::Failure
    } else if outcomes.iter().any(|o| o.kind == OutcomeKind::Refused) {
        Exit::Usage
    } else if outcomes
        .iter()
        .any(|o| o.comparison.status == ScenarioStatus::Fail)
    {
        Exit::Regression
    } else {
        Exit::Pass
    }
}

/// The entry for a scenario whose baselines were all recorded on other machine classes:
/// status [`ScenarioStatus::NoBaselineForMachine`], no verdicts, and a notice saying why and
/// the command that records a baseline for this machine. `candidate` is the candidate's runs
/// when they were made (shown as a side, never compared). `others` lists the existing
/// baselines (path, class id).
pub fn no_baseline_comparison(
    scenario: &str,
    confidence: f64,
    this_class: &crate::run::MachineClass,
    others: &[(PathBuf, String)],
    record_command: &str,
    candidate: Option<&SampleSet>,
) -> ScenarioComparison {
    let listed = others
        .iter()
        .map(|(p, id)| format!("{id} ({})", p.display()))
        .collect::<Vec<_>>()
        .join(", ");
    let notice = format!(
        "no baseline for this machine class {} ({}, {} cores, {}, {}/{}); baselines exist only for other classes: {listed}. \
A baseline recorded on another machine class is never compared (CPU model, core count and Python build shift shares), so this scenario was not gated. \
Record one for this machine with: {record_command}",
        this_class.id,
        if this_class.cpu.is_empty() { "unknown CPU" } else { &this_class.cpu },
        this_class.cores,
        this_class.python,
        this_class.os,
        this_class.arch,
    );
    ScenarioComparison {
        status: ScenarioStatus::NoBaselineForMachine,
        ..error_comparison(
            scenario,
            confidence,
            None,
            candidate,
            Vec::new(),
            vec![notice],
        )
    }
}

/// The comparison of a scenario that has no baseline at all (of any machine class): not
/// gated, with the same status and exit-code policy as [`no_baseline_comparison`], so it shows
/// in the terminal and in every report instead of only on stderr.
pub fn missing_baseline_comparison(
    scenario: &str,
    confidence: f64,
    baselines: &std::path::Path,
    record_command: &str,
) -> ScenarioComparison {
    let notice = format!(
        "no baseline recorded for this scenario (looked in {}), so it was not gated. Record one for this machine with: {record_command}",
        baselines.display()
    );
    ScenarioComparison {
        status: ScenarioStatus::NoBaselineForMachine,
        ..error_comparison(scenario, confidence, None, None, Vec::new(), vec![notice])
    }
}

/// Scenario definitions by name, for gate settings. Missing directory: none.
pub fn definitions(scenarios: &[Scenario]) -> BTreeMap<String, Scenario> {
    scenarios
        .iter()
        .map(|s| (s.name.clone(), s.clone()))
        .collect()
}

/// Whether `path` looks like a results directory.
pub fn is_results_dir(path: &Path) -> bool {
    path.join(MANIFEST).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{FunctionId, FunctionStat, RunAggregate};

    fn set(name: &str) -> SampleSet {
        let run = |a: u64| RunAggregate {
            total_samples: 1000,
            error_rate_pct: None,
            functions: vec![
                FunctionStat {
                    function: FunctionId::new("x.py", "f"),
                    self_samples: a,
                    cumulative_samples: a,
                },
                FunctionStat {
                    function: FunctionId::new("x.py", "g"),
                    self_samples: 1000 - a,
                    cumulative_samples: 1000 - a,
                },
            ],
            stacks: vec![],
        };
        SampleSet {
            version: crate::baseline::BASELINE_VERSION,
            scenario: name.into(),
            fingerprint: "f".into(),
            sampler: Default::default(),
            environment: Default::default(),
            machine_class: None,
            source: "t".into(),
            created: chrono::Utc::now(),
            sessions: Vec::new(),
            runs: vec![run(400), run(410), run(395)],
            run_sessions: Vec::new(),
        }
    }

    fn side(names: &[&str]) -> Side {
        Side {
            sets: names.iter().map(|n| (n.to_string(), set(n))).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn failed_runs_make_the_scenario_an_error_with_exclusions_as_warnings() {
        let b = side(&["s"]);
        let mut c = side(&["s"]);
        c.excluded
            .insert("s".into(), vec!["run 4: timeout after 120 s".into()]);
        let out = compare_sides(&b, &c, &BTreeMap::new(), &CompareOptions::default());
        let o = &out.outcomes[0];
        assert_eq!(o.kind, OutcomeKind::RunFailed);
        assert_eq!(o.comparison.status, ScenarioStatus::Error);
        assert!(!o.comparison.functions.is_empty(), "still compared");
        assert!(o
            .comparison
            .warnings
            .iter()
            .any(|w| w == "excluded candidate run 4: timeout after 120 s"));
        assert_eq!(exit_code(&out.outcomes), Exit::Failure);
    }

    #[test]
    fn one_sided_scenarios_are_listed_and_exit_codes_rank() {
        let out = compare_sides(
            &side(&["a", "b"]),
            &side(&["b", "c"]),
            &BTreeMap::new(),
            &CompareOptions::default(),
        );
        assert_eq!(out.only_baseline, vec!["a"]);
        assert_eq!(out.only_candidate, vec!["c"]);
        assert_eq!(out.outcomes.len(), 1);
        assert_eq!(exit_code(&out.outcomes), Exit::Pass);
        // A candidate side with no usable runs at all.
        let mut c = Side::default();
        c.excluded.insert("b".into(), vec!["run 1: boom".into()]);
        let out = compare_sides(&side(&["b"]), &c, &BTreeMap::new(), &Default::default());
        assert_eq!(out.outcomes[0].kind, OutcomeKind::RunFailed);
        assert!(out.outcomes[0].comparison.errors[0].contains("no usable runs"));
    }

    #[test]
    fn a_baselines_directory_is_compared_by_the_candidates_class() {
        let dir = tempfile::tempdir().unwrap();
        let mut slow = set("s");
        slow.runs = slow
            .runs
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.functions[0].self_samples = 700;
                r.functions[0].cumulative_samples = 700;
                r.functions[1].self_samples = 300;
                r.functions[1].cumulative_samples = 300;
                r
            })
            .collect();
        for class in ["ci-a", "ci-b", "ci-c"] {
            let mut b = set("s");
            b.environment.machine_class_override = Some(class.into());
            b.machine_class = Some(b.environment.machine_class());
            let path = crate::baseline::baseline_path(dir.path(), "s", class);
            if class == "ci-c" {
                // Two recording sessions.
                let newer = b.clone();
                b.append_session(newer, &path).unwrap();
            }
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            b.save(&path).unwrap();
        }
        let base = load_side(&[dir.path().to_path_buf()], &BTreeMap::new(), false).unwrap();
        assert_eq!(base.by_class["s"].len(), 3);
        let run = |class: &str| {
            let mut c = slow.clone();
            c.environment.machine_class_override = Some(class.into());
            c.machine_class = Some(c.environment.machine_class());
            let cand = Side {
                sets: [("s".to_string(), c)].into(),
                ..Default::default()
            };
            compare_sides(&base, &cand, &BTreeMap::new(), &CompareOptions::default()).outcomes
        };
        // Same class: compared, and the +30 points fail the gate.
        let out = run("ci-b");
        assert_eq!(out[0].kind, OutcomeKind::Compared);
        assert_eq!(exit_code(&out), Exit::Regression);
        // A one-session committed baseline says that session drift is not in the intervals;
        // a baseline of two sessions does not.
        let one = ONE_SESSION_WARNING.to_string();
        assert!(out[0].comparison.warnings.contains(&one), "{out:?}");
        let out = run("ci-c");
        assert_eq!(out[0].kind, OutcomeKind::Compared);
        assert!(!out[0].comparison.warnings.contains(&one), "{out:?}");
        // No baseline of the candidate's class: never a verdict, exit 0.
        let out = run("ci-z");
        assert_eq!(out[0].kind, OutcomeKind::NoBaseline);
        assert_eq!(
            out[0].comparison.status,
            ScenarioStatus::NoBaselineForMachine
        );
        assert_eq!(exit_code(&out), Exit::Pass);
    }

    #[test]
    fn no_baseline_for_machine_never_fails_the_gate_and_says_how_to_record_one() {
        let class = crate::run::Environment {
            cpu_model: "AMD EPYC".into(),
            cores: 2,
            ..Default::default()
        }
        .machine_class();
        let c = no_baseline_comparison(
            "s",
            0.95,
            &class,
            &[(PathBuf::from("baselines/s.json"), "intel-xeon-2c".into())],
            "tachygate baseline update s",
            None,
        );
        assert_eq!(c.status, ScenarioStatus::NoBaselineForMachine);
        assert!(c.functions.is_empty());
        let notice = &c.warnings[0];
        for needle in [
            class.id.as_str(),
            "intel-xeon-2c (baselines/s.json)",
            "never compared",
            "tachygate baseline update s",
        ] {
            assert!(notice.contains(needle), "{needle}: {notice}");
        }
        let outcomes = vec![
            Outcome {
                comparison: c.clone(),
                kind: OutcomeKind::NoBaseline,
            },
            Outcome {
                comparison: compare_sides(
                    &side(&["b"]),
                    &side(&["b"]),
                    &BTreeMap::new(),
                    &Default::default(),
                )
                .outcomes
                .remove(0)
                .comparison,
                kind: OutcomeKind::Compared,
            },
        ];
        assert_eq!(exit_code(&outcomes), Exit::Pass);
        let report = crate::report::build_report("check", vec![c]);
        assert_eq!(report.status, super::super::OverallStatus::Pass);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["scenarios"][0]["status"], "no_baseline_for_machine");
    }
}
