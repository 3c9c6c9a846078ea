//! The HTML report in a real browser: Debian's chromium, headless, no driver. The page runs
//! its own self-test when opened with `#selftest` (sort a column, toggle the metric, zoom and
//! reset the flame graph, show a tooltip) and records JavaScript errors in the DOM; the test
//! reads both from `--dump-dom`.
//!
//! Required when `CI` is set (install with `scripts/ci-install-browser.sh`), skipped with a
//! message otherwise. Set `TACHYGATE_SCREENSHOT_DIR` to also write screenshots of the sample
//! report there (wide, narrow, dark); `docs/img/report.png` is the wide one.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tachygate::report::{self, fixture, Format};

fn chromium() -> Option<PathBuf> {
    let p = std::env::var_os("TACHYGATE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if p.is_file() {
        return Some(p);
    }
    common::skip(
        &format!("no chromium at {}", p.display()),
        "run scripts/ci-install-browser.sh, or set TACHYGATE_CHROMIUM",
    );
    None
}

/// Runs chromium headless with `extra` arguments and the URL; returns stdout.
fn run_chromium(bin: &Path, profile: &Path, extra: &[String], url: &str) -> String {
    let out_path = profile.with_extension("stdout");
    let out = std::fs::File::create(&out_path).expect("create stdout file");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within 120 s");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    std::fs::read_to_string(&out_path).expect("read chromium output")
}

fn attr<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = dom.find(&key)? + key.len();
    let end = dom[start..].find('"')?;
    Some(&dom[start..start + end])
}

fn render_to(dir: &Path, r: &tachygate::compare::ComparisonReport) -> PathBuf {
    report::write_reports(r, dir, &[Format::Html]).expect("write report");
    dir.join("index.html").canonicalize().unwrap()
}

#[test]
fn sample_report_passes_its_selftest_in_chromium() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let page = render_to(tmp.path(), &fixture::sample_report());
    let url = format!("file://{}#selftest", page.display());
    let dom = run_chromium(
        &bin,
        &tmp.path().join("profile"),
        &["--dump-dom".into()],
        &url,
    );
    assert!(
        dom.contains("</html>"),
        "no DOM dumped:\n{}",
        &dom[..dom.len().min(500)]
    );
    assert_eq!(attr(&dom, "data-js-errors"), None, "JavaScript errors");
    assert_eq!(
        attr(&dom, "data-selftest"),
        Some("sort:ok toggle:ok flame:ok zoom:ok reset:ok tooltip:ok"),
        "page self-test"
    );
    assert!(
        dom.matches("<tr class=\"fn-row").count() > 40,
        "table rows missing"
    );
    assert!(dom.matches("<rect ").filter(|_| true).count() > 20);
    assert!(
        dom.contains("data-i=\""),
        "flame graph frames were not drawn"
    );

    if let Some(dir) = std::env::var_os("TACHYGATE_SCREENSHOT_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let plain = format!("file://{}", page.display());
        for (name, args) in [
            ("report.png", vec!["--window-size=1280,1800"]),
            ("report-narrow.png", vec!["--window-size=420,1800"]),
            (
                "report-dark.png",
                vec![
                    "--window-size=1280,1800",
                    "--force-dark-mode",
                    "--blink-settings=preferredColorScheme=0",
                ],
            ),
        ] {
            let mut extra: Vec<String> = args.into_iter().map(String::from).collect();
            extra.push(format!("--screenshot={}", dir.join(name).display()));
            run_chromium(
                &bin,
                &tmp.path().join(format!("profile-{name}")),
                &extra,
                &plain,
            );
            assert!(dir.join(name).is_file(), "screenshot {name} not written");
        }
    }
}

#[test]
fn hostile_report_runs_no_injected_script_in_chromium() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let r = fixture::hostile_report();
    let flames = r.scenarios.iter().filter(|s| s.flame.is_some()).count();
    let page = render_to(tmp.path(), &r);
    let url = format!("file://{}#selftest", page.display());
    let dom = run_chromium(
        &bin,
        &tmp.path().join("profile"),
        &["--dump-dom".into()],
        &url,
    );
    assert!(dom.contains("</html>"));
    assert_eq!(attr(&dom, "data-js-errors"), None, "JavaScript errors");
    assert_eq!(
        attr(&dom, "data-selftest"),
        Some("sort:ok toggle:ok flame:ok zoom:ok reset:ok tooltip:ok"),
        "self-test with hostile names"
    );
    // The parsed DOM has only our scripts and no element made from data.
    assert_eq!(
        dom.matches("<script").count(),
        2 + flames,
        "an injected <script> element exists"
    );
    assert!(!dom.contains("<img"), "an injected <img> element exists");
    let handlers = event_handler_attributes(&dom);
    assert!(
        handlers.is_empty(),
        "event-handler attributes in the DOM: {handlers:?}"
    );
}

/// Names of `on*` attributes on any element of a serialised DOM. In the serialisation, text
/// never contains a raw `<` and attribute values never contain a raw `"`, so a tag is
/// `<name attr="value" ...>` and can be walked without a full parser.
fn event_handler_attributes(dom: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        // Skip the tag name.
        let mut s = rest
            .trim_start_matches(|c: char| c.is_alphanumeric() || c == '-' || c == '/' || c == '!');
        loop {
            s = s.trim_start();
            if s.is_empty() || s.starts_with('>') || s.starts_with("/>") {
                break;
            }
            let name_len = s
                .find(|c: char| c == '=' || c == '>' || c.is_whitespace())
                .unwrap_or(s.len());
            let name = &s[..name_len];
            if name.to_ascii_lowercase().starts_with("on") {
                found.push(name.to_string());
            }
            s = &s[name_len..];
            if let Some(v) = s.strip_prefix("=\"") {
                let end = v.find('"').unwrap_or(v.len());
                s = &v[(end + 1).min(v.len())..];
            } else if s.starts_with('=') {
                s = &s[1..];
                let end = s
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(s.len());
                s = &s[end..];
            }
            if name_len == 0 && !s.starts_with('=') {
                // Not an attribute (e.g. text after a `<!--`): move on.
                break;
            }
        }
    }
    found
}

#[test]
fn handler_scan_finds_real_attributes_only() {
    let dom = "<p title=\"x onmouseover=&quot;a\">&lt;img onerror=1&gt;</p><img src=\"x\" onerror=\"alert(1)\"><b ONclick=x>";
    assert_eq!(event_handler_attributes(dom), ["onerror", "ONclick"]);
}
