//! Rendering benchmark: a comparison of 2,000 functions (both metrics) with a ~50,000-node
//! flame graph, each format timed against serde_json serialisation of the same report in the
//! same process (the reference), so the ratio means something on any machine.
//!
//! Run: `cargo bench --bench report` (targets: HTML < 1 s and < 5 MB).

use std::hint::black_box;
use std::time::{Duration, Instant};
use tachygate::report::{fixture, render, Format};

/// Best of `n` runs: the least disturbed by other processes on a shared machine.
fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        let v = black_box(f());
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.expect("n > 0"))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // in a debug build: then only a quick smoke run, so the test suite stays fast.
    let full = std::env::args().any(|a| a == "--bench");
    let size = |var: &str, bench: usize, smoke: usize| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if full { bench } else { smoke })
    };
    let functions = size("BENCH_FUNCTIONS", 2_000, 100);
    let nodes = size("BENCH_FLAME_NODES", 50_000, 1_000);
    let reps = if full { 5 } else { 1 };
    let report = fixture::large_report(functions, nodes);
    let rows: usize = report.scenarios.iter().map(|s| s.functions.len()).sum();
    let stacks: usize = report
        .scenarios
        .iter()
        .filter_map(|s| s.flame.as_ref())
        .map(|f| f.stacks.len())
        .sum();
    println!(
        "report: {functions} functions ({rows} comparisons), {stacks} stacks, ~{nodes} flame nodes"
    );

    let (reference, json) = best_of(reps, || serde_json::to_string(&report).expect("serialise"));
    println!(
        "reference  serde_json::to_string   {:>8.1} ms  {:>9} bytes",
        reference.as_secs_f64() * 1e3,
        json.len()
    );
    for format in [Format::Html, Format::Markdown, Format::Json, Format::Junit] {
        let (t, out) = best_of(reps, || render(&report, format).expect("render"));
        println!(
            "{:<10} render                  {:>8.1} ms  {:>9} bytes  {:>6.2}x reference",
            format.as_str(),
            t.as_secs_f64() * 1e3,
            out.len(),
            t.as_secs_f64() / reference.as_secs_f64()
        );
        if format == Format::Html && full {
            let ok_time = t < Duration::from_secs(1);
            let ok_size = out.len() < 5_000_000;
            println!(
                "html targets: time < 1 s: {}, size < 5 MB: {} ({:.2} MB)",
                if ok_time { "met" } else { "MISSED" },
                if ok_size { "met" } else { "MISSED" },
                out.len() as f64 / 1e6
            );
        }
    }
}
