//! The runner: launches `python3.15 -m profiling.sampling run --binary` for each scenario
//! repeat, in its own process group, with timeouts, retries of unhealthy runs and progress,
//! and writes one [`RunRecord`] per run next to its profile.
//!
//! Results directory layout (one per `tachygate run`):
//! ```text
//! <results>/manifest.json                 ResultsManifest: label, started, scenario names
//! <results>/<scenario>/run-<k>.bin        the binary profile
//! <results>/<scenario>/run-<k>.json       RunRecord
//! <results>/<scenario>/run-<k>.stdout|.stderr
//! ```

mod record;

pub use record::*;
