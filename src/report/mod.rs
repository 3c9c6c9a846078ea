//! Reports: [`build_report`] (the envelope over all compared scenarios), pure renderers from a
//! [`ComparisonReport`] to HTML (self-contained), Markdown (PR comments, step summaries), JSON,
//! JUnit XML and the terminal table ([`table`]), plus [`write_reports`], the one place that
//! puts them on disk.
//!
//! The renderers share one view model (`view`): numbers are formatted, rows sorted and
//! untrusted names cleaned in Rust, so the templates under `templates/` only lay things out.
//! HTML and JUnit templates are autoescaped; Markdown strings are escaped by
//! [`sanitize::md_text`] because Markdown has no autoescape.

pub mod fixture;
mod flame;
mod format;
mod html;
mod junit;
mod markdown;
pub mod sanitize;
pub mod speedscope;
pub mod table;
mod view;

use crate::compare::{
    ComparisonReport, OverallStatus, ScenarioComparison, ScenarioStatus, REPORT_SCHEMA_VERSION,
};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Markdown longer than this is cut (tables first): GitHub rejects PR comments over 65,536
/// characters and truncates step summaries over 1 MiB.
pub const MARKDOWN_MAX_CHARS: usize = 60_000;

/// Environment variable: set to `0` to stop [`write_reports`] appending to
/// `$GITHUB_STEP_SUMMARY` (a workflow that appends `summary.md` itself sets it).
pub const STEP_SUMMARY_OPT_OUT: &str = "TACHYGATE_STEP_SUMMARY";

/// The report over all scenarios: `Error` if any scenario could not be compared or had failed
/// runs (the gate could not decide), else `Fail` if any failed, else `Pass`.
pub fn build_report(label: &str, scenarios: Vec<ScenarioComparison>) -> ComparisonReport {
    let status = if scenarios.iter().any(|s| s.status == ScenarioStatus::Error) {
        OverallStatus::Error
    } else if scenarios.iter().any(|s| s.status == ScenarioStatus::Fail) {
        OverallStatus::Fail
    } else {
        OverallStatus::Pass
    };
    ComparisonReport {
        schema_version: REPORT_SCHEMA_VERSION,
        tachygate_version: env!("CARGO_PKG_VERSION").to_string(),
        label: label.to_string(),
        created: chrono::Utc::now(),
        status,
        scenarios,
        source_url_template: None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Html,
    Markdown,
    Json,
    Junit,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Html, Format::Markdown, Format::Json, Format::Junit];

    /// The file [`write_reports`] writes this format to.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "index.html",
            Format::Markdown => "summary.md",
            Format::Json => "report.json",
            Format::Junit => "junit.xml",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
            Format::Junit => "junit",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            _ => Err(ReportError::UnknownFormat {
                given: s.to_string(),
            }),
        }
    }
}

/// Parses a comma-separated list (`"html,md"`), dropping duplicates, keeping order.
/// Empty items are ignored; an empty list is an error.
pub fn parse_list(s: &str) -> Result<Vec<Format>, ReportError> {
    let mut out = Vec::new();
    for item in s.split(',').filter(|i| !i.trim().is_empty()) {
        let f: Format = item.parse()?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    if out.is_empty() {
        return Err(ReportError::UnknownFormat { given: s.into() });
    }
    Ok(out)
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("unknown report format {given:?}: expected a comma-separated list of html, md (or markdown), json, junit")]
    UnknownFormat { given: String },
    #[error("rendering {template}: {cause:#} (a template bug: please report it)")]
    Template {
        template: &'static str,
        cause: minijinja::Error,
    },
    #[error("serialising the report as JSON: {0}")]
    Json(serde_json::Error),
    #[error("writing {}: {cause}", path.display())]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("reading {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("no report.json in directory {}: pass a report.json written by `tachygate check` or `compare`, or its directory", path.display())]
    NoReportInDir { path: PathBuf },
    #[error("{}:{line}:{column}: not a tachygate report: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: report schema version {found} is newer than this tachygate understands ({supported}); upgrade tachygate", path.display())]
    UnsupportedSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
}

/// Renders one format. Pure: no I/O, no environment.
pub fn render(report: &ComparisonReport, format: Format) -> Result<String, ReportError> {
    match format {
        Format::Html => html::render(report),
        Format::Markdown => markdown::render(report),
        Format::Json => render_json(report),
        Format::Junit => junit::render(report),
    }
}

/// `report.json`: the report itself, pretty-printed with a trailing newline.
fn render_json(report: &ComparisonReport) -> Result<String, ReportError> {
    let mut s = serde_json::to_string_pretty(report).map_err(ReportError::Json)?;
    s.push('\n');
    Ok(s)
}

/// Renders `formats` into `dir` (created when missing), each file written atomically, and
/// returns the paths written in the order of `formats`. When `GITHUB_STEP_SUMMARY` is set
/// (GitHub Actions), the Markdown summary is also appended there unless
/// `TACHYGATE_STEP_SUMMARY=0`.
pub fn write_reports(
    report: &ComparisonReport,
    dir: &Path,
    formats: &[Format],
) -> Result<Vec<PathBuf>, ReportError> {
    let opted_out = std::env::var(STEP_SUMMARY_OPT_OUT).is_ok_and(|v| v.trim() == "0");
    let summary = std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|s| !s.is_empty() && !opted_out)
        .map(PathBuf::from);
    write_reports_to(report, dir, formats, summary.as_deref())
}

/// [`write_reports`] with the step-summary file given explicitly (`None`: no summary), for
/// callers and tests that must not depend on the environment.
pub fn write_reports_to(
    report: &ComparisonReport,
    dir: &Path,
    formats: &[Format],
    step_summary: Option<&Path>,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::with_capacity(formats.len());
    let mut markdown = None;
    for &format in formats {
        let text = render(report, format)?;
        let path = dir.join(format.file_name());
        crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|source| {
            ReportError::Write {
                path: path.clone(),
                cause: source,
            }
        })?;
        if format == Format::Markdown {
            markdown = Some(text);
        }
        written.push(path);
    }
    if let Some(summary) = step_summary {
        let md = match markdown {
            Some(m) => m,
            None => render(report, Format::Markdown)?,
        };
        append_step_summary(summary, &md)?;
    }
    Ok(written)
}

/// Appends to GitHub's step summary file. Not atomic by nature (the runner owns the file and
/// other steps append too), so a plain append.
pub fn append_step_summary(path: &Path, markdown: &str) -> Result<(), ReportError> {
    use std::io::Write;
    let err = |source| ReportError::Write {
        path: path.to_path_buf(),
        cause: source,
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    f.write_all(markdown.as_bytes()).map_err(err)?;
    f.write_all(b"\n").map_err(err)
}

/// Loads a saved `report.json` (or the `report.json` inside a directory), for `tachygate
/// report`. Errors name the file and, for invalid JSON, serde's line and column.
pub fn load_report(input: &Path) -> Result<(ComparisonReport, PathBuf), ReportError> {
    let path = if input.is_dir() {
        let p = input.join(Format::Json.file_name());
        if !p.is_file() {
            return Err(ReportError::NoReportInDir {
                path: input.to_path_buf(),
            });
        }
        p
    } else {
        input.to_path_buf()
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Read {
        path: path.clone(),
        cause: source,
    })?;
    // Check the version first, so a newer report fails with "upgrade", not a field error.
    if let Ok(v) = serde_json::from_str::<VersionProbe>(&text) {
        if v.schema_version > REPORT_SCHEMA_VERSION {
            return Err(ReportError::UnsupportedSchema {
                path,
                found: v.schema_version,
                supported: REPORT_SCHEMA_VERSION,
            });
        }
    }
    let report = serde_json::from_str(&text).map_err(|e| {
        // serde's message ends with " at line L column C", which the error shows as L:C.
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        ReportError::Parse {
            path: path.clone(),
            line: e.line(),
            column: e.column(),
            message: full.strip_suffix(&suffix).unwrap_or(&full).to_string(),
        }
    })?;
    Ok((report, path))
}

#[derive(serde::Deserialize)]
struct VersionProbe {
    schema_version: u32,
}

/// minijinja environment with autoescape decided by template name (`.html`, `.xml`: HTML
/// escaping, which is also valid XML escaping; `.md`: none, see module docs).
fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") || name.ends_with(".xml") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    // minijinja's HTML escaping also escapes `/`, which only matters for unquoted attributes
    // (we quote all) and bloats every path and URL; escape the five that matter.
    env.set_formatter(
        |out, state, value| match (state.auto_escape(), value.as_str()) {
            (minijinja::AutoEscape::Html, Some(s)) if !value.is_safe() => out
                .write_str(&escape_html(s))
                .map_err(minijinja::Error::from),
            _ => minijinja::escape_formatter(out, state, value),
        },
    );
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env
}

/// Escapes text for HTML and XML content and quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn render_template<S: serde::Serialize>(
    name: &'static str,
    source: &'static str,
    ctx: S,
) -> Result<String, ReportError> {
    let mut env = environment();
    let err = |source| ReportError::Template {
        template: name,
        cause: source,
    };
    env.add_template(name, source).map_err(err)?;
    env.get_template(name)
        .map_err(err)?
        .render(ctx)
        .map_err(err)
}

#[cfg(test)]
mod tests;
