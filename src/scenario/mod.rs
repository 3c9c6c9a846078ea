//! Scenarios: TOML files in `scenarios/` that declare a Python workload and how to sample it.
//!
//! This module owns the schema, discovery (walkdir), and validation with file:line:col errors.
//! Its output, [`Scenario`], is what the runner consumes. [`SamplerSettings`] is also the
//! "capture settings" that run records and baselines carry, so that comparisons can refuse
//! to compare captures made differently.

mod model;

pub use model::*;
