//! tachygate: gate CI merges on Python hot-path regressions.
//!
//! The crate is one pipeline, one module per stage, each stage taking the previous stage's
//! serialisable data type:
//!
//! ```text
//! scenario (TOML) -> run (profiler + RunRecord) -> profile (binary decoder)
//!     -> aggregate (RunAggregate) -> baseline / compare (ScenarioComparison) -> report
//! ```
//!
//! `commands` glues the stages into the CLI's subcommands (the layout and its rules:
//! `docs/architecture.md`); `exit` defines the exit codes and maps errors to them; `main.rs`
//! only prints the error and exits.

pub mod aggregate;
pub mod baseline;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod exit;
pub mod fsutil;
pub mod git;
pub mod profile;
pub mod python;
pub mod report;
pub mod run;
pub mod scenario;
