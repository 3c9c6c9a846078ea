//! Reports: pure renderers from a [`ComparisonReport`](crate::compare::ComparisonReport) to
//! HTML (self-contained), Markdown (PR comments, step summaries), JSON and JUnit XML.
