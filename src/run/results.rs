//! Reading results directories back: the view the comparison stage works from. Several
//! directories (CI shards) merge into one list of scenarios.

use super::{RunError, RunRecord};
use crate::scenario::Shard;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Per scenario while merging: fingerprint, the directory it was first seen in, records.
type Merging = (String, PathBuf, Vec<(RunRecord, PathBuf)>);

pub const MANIFEST: &str = "manifest.json";

/// `<results>/manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsManifest {
    pub version: u32,
    pub label: Option<String>,
    pub created: chrono::DateTime<chrono::Utc>,
    /// Set when the run ended (normally or by interrupt); `None` while running or after a crash.
    #[serde(default)]
    pub finished: Option<chrono::DateTime<chrono::Utc>>,
    pub tachygate_version: String,
    /// Scenarios this run was asked to run (after selection and sharding).
    pub scenarios: Vec<String>,
    pub shard: Option<Shard>,
    #[serde(default)]
    pub interrupted: bool,
}

/// The runs of one scenario, sorted by repeat index (then start time across directories).
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioRuns {
    pub scenario: String,
    /// Each record with the absolute path of its profile. Records whose outcome is not `Ok`
    /// may have no profile at that path; only use profiles of `Ok` records.
    pub records: Vec<(RunRecord, PathBuf)>,
}

impl ScenarioRuns {
    /// The usable runs.
    pub fn ok(&self) -> impl Iterator<Item = &(RunRecord, PathBuf)> {
        self.records.iter().filter(|(r, _)| r.outcome.is_ok())
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RunError> {
    let bytes = std::fs::read(path).map_err(|source| RunError::Io {
        path: path.to_path_buf(),
        cause: source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| RunError::BadRecord {
        path: path.to_path_buf(),
        message: format!("line {} column {}: {e}", e.line(), e.column()),
    })
}

/// Loads every run record under the given results directories, merged by scenario name
/// (sorted by name). The same scenario in two directories merges when the fingerprints agree
/// and is an error otherwise.
pub fn load_results(dirs: &[PathBuf]) -> Result<Vec<super::ScenarioRuns>, RunError> {
    // scenario -> (fingerprint, dir it came from, records)
    let mut merged: BTreeMap<String, Merging> = BTreeMap::new();
    for dir in dirs {
        let manifest_path = dir.join(MANIFEST);
        if !manifest_path.is_file() {
            return Err(RunError::NotResults { path: dir.clone() });
        }
        let _: ResultsManifest = read_json(&manifest_path)?;
        let dir = std::fs::canonicalize(dir).map_err(|source| RunError::Io {
            path: dir.clone(),
            cause: source,
        })?;
        let mut sub: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|source| RunError::Io {
                path: dir.clone(),
                cause: source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        sub.sort();
        for sdir in sub {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&sdir)
                .map_err(|source| RunError::Io {
                    path: sdir.clone(),
                    cause: source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    name.starts_with("run-") && name.ends_with(".json")
                })
                .collect();
            files.sort();
            for f in files {
                let record: RunRecord = read_json(&f)?;
                if record.version > super::RUN_RECORD_VERSION {
                    return Err(RunError::BadRecord {
                        path: f,
                        message: format!("record version {} is newer than this tachygate understands ({}); upgrade tachygate", record.version, super::RUN_RECORD_VERSION),
                    });
                }
                let profile = match &record.profile {
                    Some(p) if p.components().count() == 1 => sdir.join(p),
                    Some(p) => {
                        return Err(RunError::BadRecord {
                            path: f,
                            message: format!(
                                "profile `{}` must be a file name beside the record",
                                p.display()
                            ),
                        })
                    }
                    None => sdir.join(format!("run-{}.bin", record.index)),
                };
                let entry = merged
                    .entry(record.scenario.clone())
                    .or_insert_with(|| (record.fingerprint.clone(), sdir.clone(), Vec::new()));
                if entry.0 != record.fingerprint {
                    return Err(RunError::FingerprintMismatch {
                        scenario: record.scenario.clone(),
                        first_dir: entry.1.clone(),
                        second_dir: sdir.clone(),
                        first: entry.0.clone(),
                        second: record.fingerprint.clone(),
                    });
                }
                entry.2.push((record, profile));
            }
        }
    }
    Ok(merged
        .into_iter()
        .map(|(scenario, (_, _, mut records))| {
            records.sort_by(|(a, _), (b, _)| a.index.cmp(&b.index).then(a.started.cmp(&b.started)));
            super::ScenarioRuns { scenario, records }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::RunRecord;

    fn record(scenario: &str, fingerprint: &str, index: u32) -> RunRecord {
        RunRecord {
            fingerprint: fingerprint.into(),
            ..RunRecord::fixture(scenario, index)
        }
    }

    fn results_dir(root: &Path, name: &str, records: &[RunRecord]) -> PathBuf {
        let dir = root.join(name);
        let manifest = ResultsManifest {
            version: 1,
            label: Some(name.into()),
            created: chrono::Utc::now(),
            finished: None,
            tachygate_version: "0".into(),
            scenarios: vec![],
            shard: None,
            interrupted: false,
        };
        crate::fsutil::write_json_atomic(&dir.join(MANIFEST), &manifest).unwrap();
        for r in records {
            let p = dir.join(&r.scenario).join(format!("run-{}.json", r.index));
            crate::fsutil::write_json_atomic(&p, r).unwrap();
        }
        dir
    }

    #[test]
    fn shards_merge_into_one_sorted_view_with_absolute_profile_paths() {
        let d = tempfile::tempdir().unwrap();
        let a = results_dir(
            d.path(),
            "a",
            &[
                record("x", "f1", 1),
                record("x", "f1", 0),
                record("y", "f2", 0),
            ],
        );
        let b = results_dir(d.path(), "b", &[record("x", "f1", 2), record("z", "f3", 0)]);
        let all = load_results(&[a, b.clone()]).unwrap();
        let names: Vec<&str> = all.iter().map(|s| s.scenario.as_str()).collect();
        assert_eq!(names, ["x", "y", "z"]);
        let x = &all[0];
        let idx: Vec<u32> = x.records.iter().map(|(r, _)| r.index).collect();
        assert_eq!(idx, [0, 1, 2]);
        let (_, p) = &x.records[2];
        assert!(p.is_absolute());
        assert!(p.ends_with("b/x/run-2.bin"), "{p:?}");
        assert_eq!(x.ok().count(), 3);
    }

    #[test]
    fn same_scenario_with_different_fingerprints_does_not_merge() {
        let d = tempfile::tempdir().unwrap();
        let a = results_dir(d.path(), "a", &[record("x", "old", 0)]);
        let b = results_dir(d.path(), "b", &[record("x", "new", 0)]);
        let e = load_results(&[a, b]).unwrap_err();
        assert!(matches!(e, RunError::FingerprintMismatch { .. }), "{e}");
        assert!(e.to_string().contains("`x`"), "{e}");
    }

    #[test]
    fn a_directory_without_manifest_is_not_results() {
        let d = tempfile::tempdir().unwrap();
        let e = load_results(&[d.path().to_path_buf()]).unwrap_err();
        assert!(matches!(e, RunError::NotResults { .. }), "{e}");
    }

    #[test]
    fn a_corrupt_record_names_its_file_and_position() {
        let d = tempfile::tempdir().unwrap();
        let a = results_dir(d.path(), "a", &[record("x", "f", 0)]);
        std::fs::write(a.join("x/run-1.json"), "{\n  \"version\": 1,\n  oops").unwrap();
        let e = load_results(&[a]).unwrap_err().to_string();
        assert!(e.contains("run-1.json") && e.contains("line 3"), "{e}");
    }

    #[test]
    fn a_profile_path_outside_the_record_directory_is_rejected() {
        let d = tempfile::tempdir().unwrap();
        let mut r = record("x", "f", 0);
        r.profile = Some(PathBuf::from("../../etc/passwd"));
        let a = results_dir(d.path(), "a", &[r]);
        let e = load_results(&[a]).unwrap_err().to_string();
        assert!(e.contains("must be a file name"), "{e}");
    }
}
