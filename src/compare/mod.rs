//! Comparison: baseline [`SampleSet`](crate::baseline::SampleSet) vs candidate `SampleSet`
//! -> per-function verdicts with confidence intervals ([`ScenarioComparison`]).
//!
//! The statistics (documented in `docs/statistics.md`): per-run shares are the unit of
//! replication, because samples within a run are autocorrelated and their dispersion depends
//! on machine load; never a pooled binomial. Shares are corrected for compositional coupling
//! ([`normalize`]) before Welch intervals ([`stats`]) and the two-part decision rule
//! ([`verdict`]).

pub mod compat;
mod engine;
mod model;
pub mod normalize;
pub mod sides;
pub mod stats;
pub mod verdict;

pub use compat::{compatibility, Compatibility};
pub use engine::*;
pub use model::*;
