//! Comparison: baseline [`SampleSet`](crate::baseline::SampleSet) vs candidate `SampleSet`
//! -> per-function verdicts with confidence intervals ([`ScenarioComparison`]).
//!
//! The statistics (documented in `docs/statistics.md`): per-run shares are the unit of
//! replication, because samples within a run are autocorrelated and their dispersion depends
//! on machine load; never a pooled binomial.

mod model;

pub use model::*;
