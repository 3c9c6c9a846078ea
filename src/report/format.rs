//! Number and label formatting shared by the view model, the flame graph and JUnit.

use crate::compare::Metric;

/// Formats a finite fraction as a percentage; `n/a` otherwise.
pub fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2}%", x * 100.0)
    } else {
        "n/a".into()
    }
}

/// A signed change in percentage points.
pub fn pp(x: f64) -> String {
    if x.is_finite() {
        let v = x * 100.0;
        // Avoid "-0.00".
        let v = if v.abs() < 0.005 { 0.0 } else { v };
        format!("{v:+.2} pp")
    } else {
        "n/a".into()
    }
}

pub fn ci(lo: f64, hi: f64) -> String {
    if lo.is_finite() && hi.is_finite() {
        let f = |x: f64| {
            let v = x * 100.0;
            let v = if v.abs() < 0.005 { 0.0 } else { v };
            format!("{v:+.2}")
        };
        format!("[{}, {}] pp", f(lo), f(hi))
    } else {
        "n/a".into()
    }
}

pub fn pvalue(p: f64) -> String {
    if !p.is_finite() {
        "n/a".into()
    } else if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

pub fn metric_str(m: Metric) -> &'static str {
    match m {
        Metric::SelfShare => "self",
        Metric::Cumulative => "cumulative",
    }
}
