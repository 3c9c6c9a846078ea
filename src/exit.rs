//! Exit codes, the tool's contract with CI. This module is a leaf (every stage may return an
//! [`Exit`]); the one mapping from an error to its code needs every stage's error type, so it
//! lives at the top, in `commands::exit_of`.
//!
//! Every command returns an [`Exit`]; an error reaching `main` is turned into one by
//! `commands::exit_of`. A closed stdout is not an error and is handled where stdout is written
//! (`commands::stdout`). The `--help` text ([`help`]) and the tables in README.md and
//! docs/cli.md are generated from or checked against [`Exit::ALL`] (tests below).
//!
//! Error messages here follow one rule so that `{err:#}` (the message and its causes, joined
//! by `: `) never prints a cause twice: an error type either prints its cause in its own
//! message or returns it from `source()`, never both. The stage error types print it: their
//! text is also stored in run records and reports, where no chain is walked.

/// How the process ends. The numbers are a public contract: scripts and the GitHub Action
/// branch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// No gated regression (also: a command that is not a gate succeeded).
    Pass = 0,
    /// At least one gated regression or budget breach.
    Regression = 1,
    /// Usage, configuration or input error, reported before or instead of measuring.
    Usage = 2,
    /// A run failed: the gate could not measure.
    Failure = 3,
    /// SIGINT or SIGTERM (128 + SIGINT, the shell convention).
    Interrupted = 130,
}

impl Exit {
    pub const ALL: [Exit; 5] = [
        Exit::Pass,
        Exit::Regression,
        Exit::Usage,
        Exit::Failure,
        Exit::Interrupted,
    ];

    pub fn code(self) -> i32 {
        self as i32
    }

    /// A few words, for `--help`.
    pub fn summary(self) -> &'static str {
        match self {
            Exit::Pass => "no regression",
            Exit::Regression => "regression or budget breach",
            Exit::Usage => "usage/config/input error",
            Exit::Failure => "a run failed",
            Exit::Interrupted => "interrupted",
        }
    }

    /// The meaning as documented in the exit-code tables of README.md and docs/cli.md.
    pub fn description(self) -> &'static str {
        match self {
            Exit::Pass => "no gated regression",
            Exit::Regression => "at least one gated regression or budget breach (`--fail-on improved` adds improvements)",
            Exit::Usage => "usage, configuration or input error (bad scenario file, unreadable profile or baseline, incompatible captures)",
            Exit::Failure => "a run failed (crash, timeout, ptrace permission, unhealthy sampler)",
            Exit::Interrupted => "interrupted (Ctrl-C / SIGTERM); completed runs are kept",
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        // Every code is below 256 (asserted in the tests).
        std::process::ExitCode::from(e.code() as u8)
    }
}

/// The exit-code line of `tachygate --help`.
pub fn help() -> String {
    help_for(&Exit::ALL, &[])
}

/// The exit-code line of a subcommand's `--help`: the codes it can end with, each with its
/// [`Exit::summary`] unless `specific` says what it means for this command.
pub fn help_for(codes: &[Exit], specific: &[(Exit, &str)]) -> String {
    let codes: Vec<String> = codes
        .iter()
        .map(|&e| {
            let meaning = specific
                .iter()
                .find(|(s, _)| *s == e)
                .map_or(e.summary(), |(_, m)| m);
            format!("{} {meaning}", e.code())
        })
        .collect();
    format!("Exit codes: {}.", codes.join(", "))
}

/// A mistake in the command line or its inputs that no stage error type describes
/// (conflicting flags, an empty selection): exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Nothing could be measured (e.g. no scenario produced runs on both sides): exit 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CannotMeasure(pub String);

/// `Err(usage(...))?` for a command-line or input mistake.
pub fn usage(message: String) -> anyhow::Error {
    UsageError(message).into()
}

/// `Err(failure(...))?` when the gate could not measure.
pub fn failure(message: String) -> anyhow::Error {
    CannotMeasure(message).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn codes_are_the_documented_contract() {
        let codes: Vec<i32> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 130]);
        assert!(codes.iter().all(|c| (0..256).contains(c)));
    }

    #[test]
    fn help_lists_every_code() {
        assert_eq!(
            help(),
            "Exit codes: 0 no regression, 1 regression or budget breach, \
             2 usage/config/input error, 3 a run failed, 130 interrupted."
        );
    }

    /// README.md and docs/cli.md carry the same table, row for row, as [`Exit::ALL`].
    #[test]
    fn docs_tables_match_the_enum() {
        for (name, text) in [
            ("README.md", include_str!("../README.md")),
            ("docs/cli.md", include_str!("../docs/cli.md")),
        ] {
            for e in Exit::ALL {
                let row = format!("| {} | {} |", e.code(), e.description());
                assert!(text.contains(&row), "{name} lacks the row {row}");
            }
        }
    }

    #[test]
    fn typed_errors_map_to_their_codes_through_context() {
        let failed = Err::<(), _>(failure("no scenario produced runs on both sides".into()))
            .context("ab")
            .unwrap_err();
        assert_eq!(crate::commands::exit_of(&failed), Exit::Failure);
        let scenario = anyhow::Error::new(crate::scenario::ScenarioError::NotFound {
            path: "nope.toml".into(),
        })
        .context("loading scenarios");
        assert_eq!(crate::commands::exit_of(&scenario), Exit::Usage);
        assert_eq!(
            crate::commands::exit_of(&usage("bad flag".into())),
            Exit::Usage
        );
        assert_eq!(
            crate::commands::exit_of(&anyhow::anyhow!("untyped")),
            Exit::Usage
        );
    }

    /// Only stdout's reader going away is not an error, and that is handled where stdout is
    /// written; a broken pipe anywhere else must not pass the gate.
    #[test]
    fn a_broken_pipe_reaching_main_is_an_error() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let err = anyhow::Error::new(pipe).context("feeding the workload");
        assert_eq!(crate::commands::exit_of(&err), Exit::Usage);
    }

    /// `{err:#}` prints an error and its causes joined by `: `. A type that prints its cause
    /// in its message and also returns it from `source()` makes that text appear twice.
    fn assert_each_cause_once(err: &anyhow::Error) {
        let printed = format!("{err:#}");
        let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
        for pair in chain.windows(2) {
            assert!(
                !pair[0].contains(&pair[1]),
                "`{}` prints its source `{}` too: {printed}",
                pair[0],
                pair[1]
            );
        }
        let segments: Vec<&str> = printed.split(": ").collect();
        for (i, seg) in segments.iter().enumerate() {
            assert!(
                !segments[i + 1..].contains(seg),
                "`{seg}` appears twice in: {printed}"
            );
        }
    }

    /// Errors as the stages produce them from missing or malformed input, with the context
    /// the commands add on the way to `main`.
    #[test]
    fn printed_chains_never_repeat_a_cause() {
        use crate::compare::stats::StatsError;
        use crate::compare::CompareError;
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let garbage = dir.path().join("garbage.bin");
        std::fs::write(&garbage, [b'x'; 256]).unwrap();
        let bad_toml = dir.path().join("bad.toml");
        std::fs::write(&bad_toml, "[workload]\nscript = 3\n").unwrap();
        let bad_report = dir.path().join("report.json");
        std::fs::write(&bad_report, "{\"schema_version\": }").unwrap();

        let errors: Vec<anyhow::Error> = vec![
            crate::baseline::SampleSet::load(&missing.join("a.json"))
                .map(drop)
                .map_err(anyhow::Error::new)
                .context("baseline side")
                .unwrap_err(),
            crate::baseline::load_dir(&missing)
                .map(drop)
                .unwrap_err()
                .into(),
            crate::scenario::load_file(&missing)
                .map(drop)
                .unwrap_err()
                .into(),
            crate::scenario::load_file(&bad_toml)
                .map(drop)
                .unwrap_err()
                .into(),
            crate::scenario::discover(std::slice::from_ref(&missing))
                .map(drop)
                .map_err(anyhow::Error::new)
                .context("scenario definitions")
                .unwrap_err(),
            crate::profile::Profile::open(&missing)
                .map(drop)
                .unwrap_err()
                .into(),
            crate::profile::Profile::open(&garbage)
                .map(drop)
                .map_err(|e| e.with_path(&garbage))
                .unwrap_err()
                .into(),
            crate::run::load_results(std::slice::from_ref(&missing))
                .map(drop)
                .unwrap_err()
                .into(),
            crate::report::load_report(&missing)
                .map(drop)
                .unwrap_err()
                .into(),
            crate::report::load_report(&bad_report)
                .map(drop)
                .unwrap_err()
                .into(),
            crate::python::probe(&missing, "--python")
                .map(drop)
                .unwrap_err()
                .into(),
            crate::compare::sides::load_side(
                std::slice::from_ref(&missing),
                &Default::default(),
                true,
            )
            .map(drop)
            .map_err(anyhow::Error::new)
            .context("candidate side")
            .unwrap_err(),
            CompareError::Stats {
                scenario: "s".into(),
                cause: StatsError::TooFewRuns {
                    baseline: 1,
                    candidate: 3,
                },
            }
            .into(),
            CompareError::Glob {
                scenario: "s".into(),
                pattern: "[".into(),
                cause: globset::Glob::new("[").unwrap_err(),
            }
            .into(),
            crate::report::ReportError::Json(serde_json::from_str::<u8>("x").unwrap_err()).into(),
            crate::report::ReportError::Write {
                path: missing.clone(),
                cause: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            }
            .into(),
        ];
        for err in &errors {
            assert_each_cause_once(err);
        }
    }

    /// The check above catches the mistake it is written for.
    #[test]
    fn a_doubled_cause_is_caught() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read {path}: {source}")]
        struct Doubled {
            path: String,
            source: std::io::Error,
        }
        let err = anyhow::Error::new(Doubled {
            path: "x.json".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
        let caught = std::panic::catch_unwind(|| assert_each_cause_once(&err));
        assert!(caught.is_err(), "{err:#}");
    }
}
