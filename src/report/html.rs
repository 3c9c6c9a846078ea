//! `index.html`: one self-contained page (inline CSS, JS and SVG; no network) that opens
//! from `file://`, from a CI artifact or a browser's download bar.

use super::view::report_view;
use super::{render_template, ReportError};
use crate::compare::ComparisonReport;

const TEMPLATE: &str = include_str!("templates/report.html");
const CSS: &str = include_str!("templates/report.css");
const JS: &str = include_str!("templates/report.js");

pub fn render(report: &ComparisonReport) -> Result<String, ReportError> {
    let view = report_view(report);
    render_template(
        "report.html",
        TEMPLATE,
        minijinja::context! {
            r => view,
            // Our own constants, not data: inserted verbatim.
            css => minijinja::Value::from_safe_string(CSS.to_string()),
            js => minijinja::Value::from_safe_string(JS.to_string()),
        },
    )
}
