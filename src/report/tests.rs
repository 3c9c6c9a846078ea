//! Renderer tests: snapshots of the sample report, structure of the HTML, and the
//! hostile-name guarantees of every format.
//!
//! Snapshots live in `src/report/snapshots/`. After an intended change, re-bless with
//! `INSTA_UPDATE=always cargo test --lib report::` and review the diff with `git diff`.

use super::fixture::{hostile_names, hostile_report, large_report, sample_report};
use super::sanitize::ZWJ;
use super::*;
use crate::compare::{Metric, Verdict};

/// XML 1.0 well-formedness (nesting, quoting, entities, allowed characters), as JUnit readers
/// in CI parse `junit.xml`.
fn check_xml_well_formed(s: &str) -> Result<(), String> {
    roxmltree::Document::parse(s)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

// ---- formats ------------------------------------------------------------------------------

#[test]
fn format_from_str_accepts_documented_names() {
    assert_eq!("html".parse::<Format>().unwrap(), Format::Html);
    assert_eq!("md".parse::<Format>().unwrap(), Format::Markdown);
    assert_eq!("Markdown".parse::<Format>().unwrap(), Format::Markdown);
    assert_eq!(" json ".parse::<Format>().unwrap(), Format::Json);
    assert_eq!("junit".parse::<Format>().unwrap(), Format::Junit);
    let e = "pdf".parse::<Format>().unwrap_err().to_string();
    assert!(e.contains("\"pdf\"") && e.contains("junit"), "{e}");
}

#[test]
fn parse_list_keeps_order_and_drops_duplicates() {
    assert_eq!(
        parse_list("md,html,md").unwrap(),
        vec![Format::Markdown, Format::Html]
    );
    assert_eq!(parse_list("json,").unwrap(), vec![Format::Json]);
    assert!(parse_list("").is_err());
    assert!(parse_list("html,xml").is_err());
}

// ---- snapshots ----------------------------------------------------------------------------

#[test]
fn markdown_of_sample_report() {
    insta::assert_snapshot!(
        "sample_summary_md",
        render(&sample_report(), Format::Markdown).unwrap()
    );
}

#[test]
fn junit_of_sample_report() {
    insta::assert_snapshot!(
        "sample_junit_xml",
        render(&sample_report(), Format::Junit).unwrap()
    );
}

#[test]
fn json_round_trips_with_schema_version() {
    let r = sample_report();
    let text = render(&r, Format::Json).unwrap();
    let back: crate::compare::ComparisonReport = serde_json::from_str(&text).unwrap();
    // serde_json's default float parsing may be off in the last bit: compare with a tolerance.
    let a: serde_json::Value = serde_json::from_str(&text).unwrap();
    let b: serde_json::Value = serde_json::from_str(&render(&back, Format::Json).unwrap()).unwrap();
    assert_json_close(&a, &b, "$");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema_version"], crate::compare::REPORT_SCHEMA_VERSION);
    assert!(text.ends_with("}\n"));
}

fn assert_json_close(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                "{at}: {x} != {y}"
            );
        }
        (V::Array(x), V::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: array length");
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                assert_json_close(p, q, &format!("{at}[{i}]"));
            }
        }
        (V::Object(x), V::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}: keys"
            );
            for (k, p) in x {
                assert_json_close(p, &y[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

// ---- HTML structure -----------------------------------------------------------------------

#[test]
fn html_has_a_row_per_comparison_and_flame_data_per_scenario() {
    let r = sample_report();
    let html = render(&r, Format::Html).unwrap();
    let comparisons: usize = r.scenarios.iter().map(|s| s.functions.len()).sum();
    assert_eq!(count(&html, "<tr class=\"fn-row"), comparisons);
    let flames = r.scenarios.iter().filter(|s| s.flame.is_some()).count();
    assert_eq!(count(&html, "<script type=\"application/json\""), flames);
    assert!(html.contains("class=\"banner banner-error\""));
    assert!(html.contains(
        "1 regression (1 carrying caller grouped under it), 1 budget breach, 1 scenario could not be measured"
    ));
    // The errored scenario's errors and the reproduce command are shown.
    assert!(html.contains("No module named &#39;app.plugins&#39;"));
    assert!(html.contains("tachygate run --scenario checkout_flow"));
    // Environment of both sides.
    assert!(html.contains("9f1c2e7") && html.contains("4b7d0aa"));
}

#[test]
fn html_is_self_contained() {
    let html = render(&sample_report(), Format::Html).unwrap();
    for needle in [
        "<link",
        " src=",
        "@import",
        "url(",
        "fetch(",
        "XMLHttpRequest",
        "//cdn",
    ] {
        assert!(
            !html.contains(needle),
            "external resource marker {needle:?} in HTML"
        );
    }
    // The only absolute URLs are the source links the report configures.
    for (i, _) in html.match_indices("https://") {
        assert!(
            html[i..].starts_with("https://github.com/example/shop/blob/"),
            "{}",
            &html[i..i + 60]
        );
    }
}

#[test]
fn html_source_links_use_candidate_commit_and_skip_non_repository_files() {
    let html = render(&sample_report(), Format::Html).unwrap();
    assert!(html
        .contains("href=\"https://github.com/example/shop/blob/4b7d0aa/app/services/pricing.py\""));
    assert!(!html.contains("blob/4b7d0aa/%3Cstdlib%3E"));
    assert!(!html.contains("blob/4b7d0aa/~"));
}

#[test]
fn flame_json_colours_by_self_change_and_marks_carriers() {
    let r = sample_report();
    let html = render(&r, Format::Html).unwrap();
    let start = html
        .find("<script type=\"application/json\" id=\"s0-flame\">")
        .unwrap();
    let body = &html[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let fns = v["fn"].as_array().unwrap();
    // Colour and role follow the self change: the function whose own cost grew is red and
    // outlined; its caller, whose cumulative share merely contains it, is a carrier.
    let money = fns
        .iter()
        .find(|f| f[0] == "Money.__add__")
        .expect("Money.__add__ in flame data");
    assert_eq!(money[3], "regressed");
    assert_eq!(money[7], "culprit");
    assert!(
        money[4].as_i64().unwrap() > 0,
        "regression must be red: {money}"
    );
    let totals = fns.iter().find(|f| f[0] == "compute_totals").unwrap();
    assert_eq!(totals[6], "regressed", "cumulative verdict kept: {totals}");
    assert_eq!(totals[7], "carrier", "{totals}");
    assert_eq!(
        totals[4], 0,
        "a carrier is not painted as a culprit: {totals}"
    );
    let enc = fns
        .iter()
        .find(|f| f[0] == "JSONEncoder.iterencode")
        .unwrap();
    assert!(
        enc[4].as_i64().unwrap() < 0,
        "improvement must be blue: {enc}"
    );
    let total = r.scenarios[0]
        .flame
        .as_ref()
        .unwrap()
        .stacks
        .iter()
        .map(|s| s.count)
        .sum::<u64>();
    assert_eq!(v["total"].as_u64().unwrap(), total);
}

// ---- hostile names ------------------------------------------------------------------------

fn assert_no_forbidden_controls(s: &str, what: &str) {
    for c in s.chars() {
        let bad =
            (c.is_control() && !matches!(c, '\n' | '\t')) || ('\u{202A}'..='\u{202E}').contains(&c);
        assert!(
            !bad,
            "{what}: control character U+{:04X} in output",
            c as u32
        );
    }
}

#[test]
fn hostile_names_cannot_inject_html_or_script() {
    let r = hostile_report();
    let html = render(&r, Format::Html).unwrap();
    let flames = r.scenarios.iter().filter(|s| s.flame.is_some()).count();
    // Ours: the error recorder in <head>, the app script, one JSON block per flame graph.
    assert_eq!(
        count(&html, "<script"),
        2 + flames,
        "a <script> from data got through"
    );
    assert_eq!(
        count(&html, "</script"),
        2 + flames,
        "a </script> from data got through"
    );
    assert!(!html.contains("<img"));
    assert!(
        !html.contains("<!--"),
        "a comment opener from data got through"
    );
    assert!(!html.contains("onmouseover=\"alert"));
    assert!(
        !html.contains("href=\"javascript"),
        "javascript: link from a source_url_template"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_no_forbidden_controls(&html, "html");
    // The 10,000-character name is cut in cells and titles.
    assert!(!html.contains(&"L".repeat(TITLE_LIMIT_PLUS_ONE)));
    // Every JSON block is free of '<' yet decodes back to the hostile names.
    let mut rest = html.as_str();
    let mut seen_closing = false;
    while let Some(i) = rest.find("<script type=\"application/json\"") {
        let b = &rest[i..];
        let body = &b[b.find('>').unwrap() + 1..b.find("</script>").unwrap()];
        assert!(!body.contains('<'), "raw '<' in embedded JSON");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        seen_closing |= v["fn"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f[0] == "</script><script>alert(document.domain)</script>");
        rest = &b[1..];
    }
    assert!(
        seen_closing,
        "hostile names should survive JSON embedding intact"
    );
}

const TITLE_LIMIT_PLUS_ONE: usize = super::view::TITLE_CHARS + 1;

/// Splits a Markdown table row into cells on unescaped pipes.
fn md_cells(row: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in row.trim().trim_start_matches('|').chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            cur.push(c);
            escaped = true;
        } else if c == '|' {
            cells.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() {
        cells.push(cur);
    }
    cells
}

#[test]
fn hostile_names_cannot_break_markdown_tables_or_ping_anyone() {
    let r = hostile_report();
    let md = render(&r, Format::Markdown).unwrap();
    assert!(md.chars().count() <= MARKDOWN_MAX_CHARS);
    assert_no_forbidden_controls(&md, "markdown");
    // Tables: every row has as many cells as its header.
    let mut header_cells = 0;
    let mut rows_in_changes = None;
    let mut rows = 0;
    for line in md.lines() {
        if line.starts_with("### Gated changes") {
            rows_in_changes = Some(0);
        }
        if line.starts_with('|') {
            let cells = md_cells(line).len();
            if line.starts_with("|---") {
                continue;
            }
            if header_cells == 0 {
                header_cells = cells;
            } else {
                assert_eq!(cells, header_cells, "row broke the table: {line}");
                rows += 1;
                if let Some(n) = rows_in_changes.as_mut() {
                    *n += 1;
                }
            }
        } else {
            if header_cells != 0 {
                if let Some(n) = rows_in_changes.take() {
                    if n > 0 {
                        let expected: usize = r
                            .scenarios
                            .iter()
                            .flat_map(|s| &s.functions)
                            .filter(|f| {
                                f.gated && (f.verdict != Verdict::Unchanged || f.budget_breached)
                            })
                            .count();
                        assert_eq!(n, expected, "rows in the gated-changes table");
                    } else {
                        rows_in_changes = Some(0);
                    }
                }
            }
            header_cells = 0;
        }
    }
    assert!(rows > 20, "expected the tables to have rows, got {rows}");
    // No mention, no issue reference, no HTML from data, no live backtick.
    let chars: Vec<char> = md.chars().collect();
    for (i, w) in chars.windows(2).enumerate() {
        if w[0] == '@' {
            assert!(
                !w[1].is_alphanumeric(),
                "mention at char {i}: {}",
                chars[i..].iter().take(30).collect::<String>()
            );
        }
        if w[0] == '#' && w[1].is_ascii_digit() {
            panic!("issue reference at char {i}");
        }
        if w[1] == '`' && w[0] != '\\' && w[0] != '`' {
            // Our own code fences are whole lines of backticks.
            let line_start = chars[..=i]
                .iter()
                .rposition(|&c| c == '\n')
                .map(|p| p + 1)
                .unwrap_or(0);
            let line: String = chars[line_start..]
                .iter()
                .take_while(|&&c| c != '\n')
                .collect();
            assert!(line.starts_with("```"), "live backtick in line: {line}");
        }
    }
    // Code blocks show their content verbatim (no HTML, no mentions): skip them here.
    let mut in_fence = false;
    for line in md.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        for bad in ["<script", "<img", "<!--", "](https://evil", "https://evil"] {
            assert!(!line.contains(bad), "{bad:?} in Markdown line: {line}");
        }
    }
    assert!(md.contains(&format!("@{ZWJ}octocat")));
    assert!(md.contains('…'), "the long name is cut with an ellipsis");
    assert!(!md.contains(&"L".repeat(200)));
}

#[test]
fn hostile_reproduce_command_cannot_close_its_code_fence() {
    let mut r = sample_report();
    r.scenarios[0].reproduce = Some("run ```\n## pwned @everyone\n```".into());
    let md = render(&r, Format::Markdown).unwrap();
    assert!(
        md.contains("````sh\nrun ``` ## pwned @everyone ```\n````"),
        "{md}"
    );
}

#[test]
fn hostile_names_keep_junit_well_formed() {
    let xml = render(&hostile_report(), Format::Junit).unwrap();
    check_xml_well_formed(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(!xml.contains("<script"));
    assert!(xml.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn every_hostile_name_alone_keeps_every_format_sane() {
    for name in hostile_names() {
        let mut r = sample_report();
        r.scenarios[0].scenario = name.clone();
        r.scenarios[0].errors = vec![name.clone()];
        r.scenarios[0].status = crate::compare::ScenarioStatus::Error;
        if let Some(f) = r.scenarios[0]
            .functions
            .iter_mut()
            .find(|f| f.verdict == Verdict::Regressed)
        {
            f.function.name = name.clone();
        }
        let xml = render(&r, Format::Junit).unwrap();
        check_xml_well_formed(&xml).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        let html = render(&r, Format::Html).unwrap();
        assert_eq!(count(&html, "<script"), 4, "{name:?}");
        let md = render(&r, Format::Markdown).unwrap();
        for line in md
            .lines()
            .filter(|l| l.starts_with("| checkout") || l.starts_with('|') && l.contains("L…"))
        {
            assert!(!line.contains('\n'));
        }
    }
}

#[test]
fn xml_checker_rejects_what_it_should() {
    assert!(check_xml_well_formed("<a><b/></a>").is_ok());
    assert!(check_xml_well_formed(
        "<?xml version=\"1.0\"?>\n<a x=\"1\" y='2'>t &amp; &#64; &#x41;</a>\n"
    )
    .is_ok());
    for bad in [
        "<a><b></a>",
        "<a>",
        "<a></a><b></b>",
        "<a x=1></a>",
        "<a x=\"1\" x=\"2\"></a>",
        "<a>&foo;</a>",
        "<a>& b</a>",
        "<a>\u{1}</a>",
        "<a x=\"<\"></a>",
        "<a><!-- x -- y --></a>",
        "<a>]]></a>",
    ] {
        assert!(check_xml_well_formed(bad).is_err(), "accepted {bad:?}");
    }
}

// ---- size limits --------------------------------------------------------------------------

#[test]
fn markdown_of_a_huge_report_stays_under_the_limit_with_a_note() {
    let r = large_report(2_000, 2_000);
    let md = render(&r, Format::Markdown).unwrap();
    assert!(
        md.chars().count() <= MARKDOWN_MAX_CHARS,
        "{}",
        md.chars().count()
    );
    assert!(md.contains("not shown"), "truncation must be announced");
}

#[test]
fn empty_report_renders_in_every_format() {
    let mut r = sample_report();
    r.scenarios.clear();
    r.status = crate::compare::OverallStatus::Pass;
    for f in Format::ALL {
        let out = render(&r, f).unwrap();
        assert!(!out.is_empty());
    }
    check_xml_well_formed(&render(&r, Format::Junit).unwrap()).unwrap();
}

#[test]
fn non_finite_numbers_render_as_not_available() {
    let mut r = sample_report();
    let f = &mut r.scenarios[0].functions[0];
    f.delta = f64::NAN;
    f.ci_low = f64::NEG_INFINITY;
    f.p_adjusted = f64::NAN;
    f.metric = Metric::Cumulative;
    let html = render(&r, Format::Html).unwrap();
    assert!(html.contains("n/a"));
    assert!(!html.contains("NaN") && !html.contains("inf\""));
}

// ---- files --------------------------------------------------------------------------------

#[test]
fn write_reports_writes_each_requested_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/reports");
    let written =
        write_reports_to(&sample_report(), &out, &[Format::Junit, Format::Html], None).unwrap();
    assert_eq!(written, vec![out.join("junit.xml"), out.join("index.html")]);
    assert!(!out.join("summary.md").exists());
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "temporary files left: {names:?}");
}

#[test]
fn write_reports_to_appends_markdown_to_the_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary-file");
    std::fs::write(&summary, "before\n").unwrap();
    write_reports_to(
        &sample_report(),
        dir.path(),
        &[Format::Json],
        Some(&summary),
    )
    .unwrap();
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("before\n## "), "{text}");
    assert_eq!(
        text,
        format!(
            "before\n{}\n",
            render(&sample_report(), Format::Markdown).unwrap()
        )
    );
}

#[test]
fn load_report_names_file_line_and_column_of_bad_json() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("report.json");
    std::fs::write(&p, "{\n  \"schema_version\": 1,\n  \"label\": oops\n}").unwrap();
    let e = load_report(&p).unwrap_err().to_string();
    assert!(e.contains("report.json:3:"), "{e}");
    let e = load_report(dir.path().join("missing").as_path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing"), "{e}");
    let empty = tempfile::tempdir().unwrap();
    let e = load_report(empty.path()).unwrap_err().to_string();
    assert!(e.contains("no report.json"), "{e}");
    std::fs::write(&p, "{\"schema_version\": 99}").unwrap();
    let e = load_report(dir.path()).unwrap_err().to_string();
    assert!(e.contains("99") && e.contains("upgrade"), "{e}");
}

#[test]
fn rows_put_gated_regressions_and_breaches_first() {
    let v = super::view::report_view(&sample_report());
    let rows = &v.scenarios[0].rows;
    assert_eq!(rows[0].name, "compute_totals");
    assert!(rows[0].breached && rows[0].verdict == "regressed");
    let gated: Vec<_> = rows.iter().take_while(|r| r.gated).collect();
    assert!(
        gated.windows(2).all(|w| w[0].rank <= w[1].rank),
        "gated rows not ranked"
    );
    assert!(
        rows[gated.len()..].iter().all(|r| !r.gated),
        "ungated rows must come last"
    );
}

#[test]
fn fixture_reports_read_consistently() {
    for r in [sample_report(), hostile_report(), large_report(300, 5_000)] {
        for s in &r.scenarios {
            let bad = crate::compare::contradictions(s);
            assert!(bad.is_empty(), "{}: {bad:#?}", s.scenario);
        }
    }
}
