//! Loading scenario files: discovery with walkdir, TOML parsing, and validation of every value
//! into a [`Scenario`]. Every error names the file and, when it concerns a value, its
//! `line:col`, and says what is allowed.

use super::raw::{
    RawFunctionGate, RawGate, RawPrepare, RawRun, RawSampler, RawScenario, RawWorkload,
};
use super::*;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use toml::Spanned;

/// Default scenario directory, relative to the current directory.
pub const DEFAULT_DIR: &str = "scenarios";
/// Default per-run timeout.
pub const DEFAULT_TIMEOUT_S: f64 = 120.0;
/// Longest accepted `timeout`: a gate workload runs for seconds to minutes, and a bound keeps
/// absurd values (`1e20`) from overflowing `Duration` when the runner arms its timer.
pub const MAX_TIMEOUT_S: f64 = 7.0 * 24.0 * 3600.0;
/// The comparison needs at least this many runs per side (see docs/scenarios.md).
pub const MIN_REPEATS: u32 = 3;
/// Default limit for a `[prepare]` command (creating a venv and installing into it).
pub const DEFAULT_PREPARE_TIMEOUT_S: f64 = 600.0;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{path}: no such file or directory (scenario paths are `.toml` files or directories searched recursively)")]
    NotFound { path: PathBuf },
    #[error("no scenario files (*.toml) found in {}; create one (see docs/scenarios.md) or pass a path", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NoneFound { paths: Vec<PathBuf> },
    #[error("scenario name `{name}` is used by both {} and {}; names must be unique (set `name = \"...\"` in one of them)", first.display(), second.display())]
    Duplicate {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("cannot walk {path}: {message}")]
    Walk { path: PathBuf, message: String },
    #[error("no scenario matches {what}; available: {available}")]
    NoMatch { what: String, available: String },
    #[error("{}: {message}", path.display())]
    Preflight { path: PathBuf, message: String },
    #[error("invalid shard `{spec}`: {message} (expected K/N with 1 <= K <= N, e.g. 2/4)")]
    Shard { spec: String, message: String },
}

/// The nearest directory at or above `start` that holds a `scenarios/` directory: the project
/// root as seen from a path inside the project (the current directory, a baselines file, a
/// results directory).
pub fn find_project_root(start: &Path) -> Option<PathBuf> {
    let start = start
        .canonicalize()
        .or_else(|_| std::path::absolute(start))
        .ok()?;
    let dir = if start.is_file() {
        start.parent()?.to_path_buf()
    } else {
        start
    };
    dir.ancestors()
        .find(|a| a.join(DEFAULT_DIR).is_dir())
        .map(Path::to_path_buf)
}

/// The project root seen from the current directory ([`find_project_root`]). Every default
/// path (scenarios, baselines, results) hangs off it, so a command typed in `docs/` or `src/`
/// sees the same project as from the root, the way cargo finds `Cargo.toml`.
pub fn project_root() -> Option<PathBuf> {
    find_project_root(&std::env::current_dir().ok()?)
}

/// The default scenario directory: the project's `scenarios/`, else `scenarios` (relative,
/// so the error names what was looked for).
pub fn default_dir() -> PathBuf {
    in_project(DEFAULT_DIR)
}

/// `rel` under the project root ([`project_root`]); relative to the current directory when
/// that is the root (or no project is found), so messages keep their short form.
pub fn in_project(rel: &str) -> PathBuf {
    let cwd = std::env::current_dir().ok();
    match project_root() {
        Some(r) if cwd.and_then(|c| c.canonicalize().ok()).as_ref() != Some(&r) => r.join(rel),
        _ => PathBuf::from(rel),
    }
}

/// Finds and loads every scenario under `paths` (files or directories, searched recursively
/// for `*.toml`; the default is the project's `scenarios/`, see [`default_dir`]). Scenarios
/// are returned sorted by name. Two files declaring the same name are an error naming both.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    let defaults = [default_dir()];
    let roots: &[PathBuf] = if paths.is_empty() { &defaults } else { paths };
    let mut files = Vec::new();
    for root in roots {
        if root.is_file() {
            files.push(root.clone());
            continue;
        }
        if !root.is_dir() {
            return Err(ScenarioError::NotFound { path: root.clone() });
        }
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = entry.map_err(|e| ScenarioError::Walk {
                path: root.clone(),
                message: e.to_string(),
            })?;
            let p = entry.path();
            if entry.file_type().is_file() && p.extension().is_some_and(|e| e == "toml") {
                files.push(p.to_path_buf());
            }
        }
    }
    if files.is_empty() {
        return Err(ScenarioError::NoneFound {
            paths: roots.to_vec(),
        });
    }
    // The same file named twice (e.g. `scenarios/ scenarios/a.toml`) is not a duplicate.
    let mut seen_files = std::collections::BTreeSet::new();
    let mut by_name: BTreeMap<String, Scenario> = BTreeMap::new();
    for f in files {
        let key = absolute(&f);
        if !seen_files.insert(key) {
            continue;
        }
        let s = load_file(&f)?;
        if let Some(prev) = by_name.get(&s.name) {
            return Err(ScenarioError::Duplicate {
                name: s.name.clone(),
                first: prev.source.clone(),
                second: s.source.clone(),
            });
        }
        by_name.insert(s.name.clone(), s);
    }
    Ok(by_name.into_values().collect())
}

/// Checks what loading leaves to run time because it depends on the filesystem: the script
/// exists and the working directory is a directory. `tachygate run` calls it for every selected
/// scenario before launching anything (the profiler would reject a missing script only after
/// its ~1 s start-up, once per run).
pub fn preflight(s: &Scenario) -> Result<(), ScenarioError> {
    let fail = |message: String| ScenarioError::Preflight {
        path: s.source.clone(),
        message,
    };
    if let Target::Script(p) = &s.workload.target {
        if !p.is_file() {
            return Err(fail(format!(
                "workload script {} does not exist (`script` is relative to the scenario file)",
                p.display()
            )));
        }
    }
    if !s.workload.cwd.is_dir() {
        return Err(fail(format!(
            "working directory {} does not exist (`cwd` is relative to the scenario file)",
            s.workload.cwd.display()
        )));
    }
    // A `[prepare]` command may create them (a build directory).
    for p in s.workload.pythonpath.iter().filter(|_| s.prepare.is_none()) {
        if !p.is_dir() {
            return Err(fail(format!(
                "`pythonpath` directory {} does not exist (entries are relative to the scenario file: a `src/` next to `scenarios/` is \"../src\")",
                p.display()
            )));
        }
    }
    if let Some(p) = &s.prepare {
        if !p.cwd.is_dir() {
            return Err(fail(format!(
                "`[prepare]` working directory {} does not exist (`cwd` is relative to the scenario file)",
                p.cwd.display()
            )));
        }
    }
    Ok(())
}

/// Loads and validates one scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        cause: source,
    })?;
    load_str(&text, path)
}

/// Validates scenario text as if it had been read from `path` (relative settings resolve
/// against `path`'s directory).
pub fn load_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let cx = Ctx { text, path };
    let raw: RawScenario = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        cx.err(span, human_message(e.message().trim_end()))
    })?;
    convert(&cx, raw)
}

/// serde's type errors name Rust types ("invalid type: string \"five\", expected i64"); the
/// user wrote TOML, so say it in TOML's words: "expected a whole number, found string \"five\"".
pub(crate) fn human_message(message: &str) -> String {
    fn expected(what: &str) -> &str {
        match what {
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
            | "u128" | "usize" => "a whole number",
            "f32" | "f64" => "a number",
            "a sequence" => "an array",
            "a map" => "a table",
            w if w.starts_with("struct ") => "a table",
            w => w,
        }
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((found, want)) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.rsplit_once(", expected "))
        {
            return format!("expected {}, found {found}", expected(want));
        }
    }
    if message == "number too large to fit in target type" {
        return "number too large: TOML whole numbers go up to 9223372036854775807".into();
    }
    message.to_string()
}

struct Ctx<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        let (line, col) = line_col(self.text, span.start);
        ScenarioError::Invalid {
            path: self.path.to_path_buf(),
            line,
            col,
            message: message.into(),
        }
    }

    fn at<T>(&self, v: &Spanned<T>, message: impl Into<String>) -> ScenarioError {
        self.err(v.span(), message)
    }
}

/// 1-based line and column (in characters) of a byte offset; offsets past the end or inside
/// a character clamp to the nearest valid position.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn convert(cx: &Ctx, raw: RawScenario) -> Result<Scenario, ScenarioError> {
    let source_abs = absolute(cx.path);
    let dir = source_abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));

    let name = match &raw.name {
        Some(n) => {
            check_name(n.get_ref()).map_err(|m| cx.at(n, format!("invalid `name`: {m}")))?;
            n.get_ref().clone()
        }
        None => {
            let stem = cx
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            check_name(&stem).map_err(|m| {
                cx.err(
                    0..0,
                    format!("the file name gives the scenario name `{stem}`, which is invalid: {m}; set `name = \"...\"` explicitly"),
                )
            })?;
            stem
        }
    };
    let mut tags = Vec::new();
    for t in &raw.tags {
        check_name(t.get_ref()).map_err(|m| cx.at(t, format!("invalid tag: {m}")))?;
        tags.push(t.get_ref().clone());
    }
    let workload = convert_workload(cx, &raw.workload, &dir)?;
    let sampler = convert_sampler(cx, raw.sampler.as_ref())?;
    let run = convert_run(cx, raw.run.as_ref())?;
    let gate = convert_gate(cx, raw.gate.as_ref())?;
    let prepare = match &raw.prepare {
        Some(p) => Some(convert_prepare(cx, p, &dir, &workload.cwd)?),
        None => None,
    };
    Ok(Scenario {
        name,
        description: raw.description,
        tags,
        source: source_abs,
        workload,
        sampler,
        run,
        gate,
        prepare,
    })
}

fn check_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty; use letters, digits, `.`, `_` and `-`".into());
    }
    if s == "." || s == ".." {
        return Err(format!(
            "`{s}` is not allowed (it is used as a directory name)"
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "`{s}` contains {c:?}; only letters, digits, `.`, `_` and `-` are allowed"
        ));
    }
    Ok(())
}

fn convert_workload(
    cx: &Ctx,
    w: &Spanned<RawWorkload>,
    dir: &Path,
) -> Result<Workload, ScenarioError> {
    let raw = w.get_ref();
    let target = match (&raw.script, &raw.module) {
        (Some(_), Some(m)) => {
            return Err(cx.at(
                m,
                "`[workload]` has both `script` and `module`; set exactly one",
            ))
        }
        (None, None) => {
            return Err(cx.at(
                w,
                "`[workload]` needs `script = \"path/to/file.py\"` (relative to the scenario file) or `module = \"package.module\"`",
            ))
        }
        (Some(s), None) => {
            if s.get_ref().trim().is_empty() {
                return Err(cx.at(s, "`script` is empty"));
            }
            Target::Script(normalize(&dir.join(s.get_ref())))
        }
        (None, Some(m)) => {
            let ok = !m.get_ref().is_empty()
                && m.get_ref().split('.').all(|part| {
                    !part.is_empty()
                        && !part.starts_with(|c: char| c.is_ascii_digit())
                        && part.chars().all(|c| c.is_alphanumeric() || c == '_')
                });
            if !ok {
                return Err(cx.at(
                    m,
                    format!(
                        "`module = \"{}\"` is not a dotted Python module name (like `pkg.mod`)",
                        m.get_ref()
                    ),
                ));
            }
            Target::Module(m.get_ref().clone())
        }
    };
    let cwd = match &raw.cwd {
        Some(c) => normalize(&dir.join(c.get_ref())),
        None => dir.to_path_buf(),
    };
    let mut env = BTreeMap::new();
    for (k, v) in &raw.env {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(cx.at(
                v,
                format!("environment variable name `{k}` is invalid (empty, or contains `=`)"),
            ));
        }
        if v.get_ref().contains('\0') {
            return Err(cx.at(v, format!("environment variable `{k}` contains a NUL byte")));
        }
        env.insert(k.clone(), v.get_ref().clone());
    }
    let python = raw
        .python
        .as_ref()
        .map(|p| normalize(&dir.join(p.get_ref())));
    let mut pythonpath = Vec::new();
    for p in &raw.pythonpath {
        let v = p.get_ref();
        if v.trim().is_empty() || v.contains(':') || v.contains('\0') {
            return Err(cx.at(
                p,
                format!("`pythonpath` entry {v:?} must be one non-empty directory (no `:`); give several entries as a list, e.g. [\"../src\", \"../lib\"]"),
            ));
        }
        pythonpath.push(normalize(&dir.join(v)));
    }
    let timeout_s = timeout(cx, raw.timeout.as_ref(), DEFAULT_TIMEOUT_S)?;
    let expect_exit = match &raw.expect_exit {
        None => 0,
        Some(e) => {
            let v = *e.get_ref();
            if !(0..=255).contains(&v) {
                return Err(cx.at(e, format!("`expect_exit = {v}` is outside 0..=255")));
            }
            v as i32
        }
    };
    Ok(Workload {
        target,
        args: raw.args.clone(),
        cwd,
        env,
        python,
        pythonpath,
        timeout_s,
        expect_exit,
    })
}

fn timeout(cx: &Ctx, t: Option<&Spanned<toml::Value>>, default: f64) -> Result<f64, ScenarioError> {
    let Some(t) = t else { return Ok(default) };
    let secs = seconds(t.get_ref()).ok_or_else(|| {
        cx.at(
            t,
            "`timeout` must be a duration like \"60s\", \"2m\" or \"1m 30s\", or a number of seconds",
        )
    })?;
    if secs <= 0.0 {
        return Err(cx.at(t, "`timeout` must be greater than zero"));
    }
    if secs > MAX_TIMEOUT_S {
        return Err(cx.at(
            t,
            format!("`timeout` of {secs} s is too long: the maximum is 7 days ({MAX_TIMEOUT_S} s)"),
        ));
    }
    Ok(secs)
}

fn convert_prepare(
    cx: &Ctx,
    p: &Spanned<RawPrepare>,
    dir: &Path,
    workload_cwd: &Path,
) -> Result<Prepare, ScenarioError> {
    const HELP: &str = "`command` is a shell command string (run with `sh -c`) or a list of program and arguments, e.g. command = \"python3.15 -m venv --without-pip .venv\"";
    let raw = p.get_ref();
    let Some(c) = &raw.command else {
        return Err(cx.at(p, format!("`[prepare]` needs a `command`; {HELP}")));
    };
    let command = match c.get_ref() {
        toml::Value::String(s) if !s.trim().is_empty() => {
            vec!["sh".to_string(), "-c".to_string(), s.clone()]
        }
        toml::Value::Array(items) if !items.is_empty() => {
            let mut argv = Vec::new();
            for i in items {
                match i {
                    toml::Value::String(s) if !s.is_empty() => argv.push(s.clone()),
                    _ => {
                        return Err(cx.at(
                            c,
                            format!(
                                "every element of `command` must be a non-empty string; {HELP}"
                            ),
                        ))
                    }
                }
            }
            argv
        }
        _ => {
            return Err(cx.at(
                c,
                format!("`command` is empty or not a string/list; {HELP}"),
            ))
        }
    };
    if command.iter().any(|a| a.contains('\0')) {
        return Err(cx.at(c, "`command` contains a NUL byte"));
    }
    let cwd = match &raw.cwd {
        Some(d) => normalize(&dir.join(d.get_ref())),
        None => workload_cwd.to_path_buf(),
    };
    Ok(Prepare {
        command,
        cwd,
        timeout_s: timeout(cx, raw.timeout.as_ref(), DEFAULT_PREPARE_TIMEOUT_S)?,
    })
}

/// A duration given as a TOML number of seconds or a string (`"60s"`, `"1.5s"`, `"2m"`,
/// `"500ms"`, or anything humantime accepts).
fn seconds(v: &toml::Value) -> Option<f64> {
    let secs = match v {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        toml::Value::String(s) => {
            let s = s.trim();
            if let Ok(d) = humantime::parse_duration(s) {
                d.as_secs_f64()
            } else {
                let split = s
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(s.len());
                let (num, unit) = s.split_at(split);
                let n: f64 = num.parse().ok()?;
                let mult = match unit.trim() {
                    "" | "s" | "sec" | "secs" => 1.0,
                    "ms" => 0.001,
                    "m" | "min" => 60.0,
                    _ => return None,
                };
                n * mult
            }
        }
        _ => return None,
    };
    secs.is_finite().then_some(secs)
}

/// Parses a sampling rate the way the profiler does (`1khz`, `10k`, `500hz`, `250`), as Hz.
pub fn parse_rate(v: &toml::Value) -> Result<u64, String> {
    const HELP: &str = "use an integer number of Hz or a string like \"500hz\", \"1khz\", \"10k\"";
    let hz: f64 = match v {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::String(s) => {
            let s = s.trim().to_ascii_lowercase();
            let (num, mult) = if let Some(n) = s.strip_suffix("khz") {
                (n, 1000.0)
            } else if let Some(n) = s.strip_suffix("hz") {
                (n, 1.0)
            } else if let Some(n) = s.strip_suffix('k') {
                (n, 1000.0)
            } else {
                (s.as_str(), 1.0)
            };
            if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return Err(format!("`rate = \"{s}\"` is not a rate; {HELP}"));
            }
            let n: f64 = num
                .parse()
                .map_err(|_| format!("`rate = \"{s}\"` is not a rate; {HELP}"))?;
            n * mult
        }
        other => {
            return Err(format!(
                "`rate` must be a string or integer, not {}; {HELP}",
                other.type_str()
            ))
        }
    };
    if hz.is_nan() || hz <= 0.0 {
        return Err("`rate` must be positive (the profiler rejects 0)".into());
    }
    if hz.fract() != 0.0 {
        return Err(format!("`rate` must be a whole number of Hz, got {hz}"));
    }
    // The profiler samples every int(1e6 / hz) microseconds; below 1 µs it refuses.
    if hz > 1_000_000.0 {
        return Err(format!(
            "`rate` {hz} Hz is too high: the profiler's limit is 1 MHz (1 µs interval)"
        ));
    }
    Ok(hz as u64)
}

fn convert_sampler(cx: &Ctx, s: Option<&RawSampler>) -> Result<SamplerSettings, ScenarioError> {
    let d = SamplerSettings::default();
    let Some(s) = s else { return Ok(d) };
    let mode = s.mode.as_ref().map(|m| *m.get_ref()).unwrap_or(d.mode);
    let rate_hz = match &s.rate {
        None => d.rate_hz,
        Some(r) => parse_rate(r.get_ref()).map_err(|m| cx.at(r, m))?,
    };
    let duration_s = match &s.duration {
        None => None,
        Some(v) => {
            let secs = seconds(v.get_ref()).ok_or_else(|| {
                cx.at(
                    v,
                    "`duration` must be a duration like \"2s\" or a number of seconds",
                )
            })?;
            // `-d` of the profiler is an integer number of seconds.
            if secs < 1.0 || secs.fract() != 0.0 {
                return Err(cx.at(
                    v,
                    format!("`duration` must be a whole number of seconds >= 1 (the profiler's `-d` takes integer seconds), got {secs}"),
                ));
            }
            Some(secs)
        }
    };
    let flag = |v: &Option<Spanned<bool>>, default: bool| {
        v.as_ref().map(|b| *b.get_ref()).unwrap_or(default)
    };
    let sampler = SamplerSettings {
        mode,
        rate_hz,
        duration_s,
        all_threads: flag(&s.all_threads, d.all_threads),
        native: flag(&s.native, d.native),
        gc: flag(&s.gc, d.gc),
        opcodes: s.opcodes.unwrap_or(d.opcodes),
        blocking: s
            .blocking
            .as_ref()
            .map(|b| *b.get_ref())
            .unwrap_or_else(|| SamplerSettings::default_blocking(mode)),
        async_aware: flag(&s.async_aware, d.async_aware),
        async_mode: s.async_mode.as_ref().map(|m| *m.get_ref()),
    };
    if let Some(b) = s.blocking.as_ref().filter(|b| *b.get_ref()) {
        if mode == Mode::Cpu {
            return Err(cx.at(b, CPU_BLOCKING));
        }
    }
    if let Some(m) = &s.async_mode {
        if !sampler.async_aware {
            return Err(cx.at(m, "`async_mode` requires `async_aware = true` (the profiler rejects --async-mode without --async-aware)"));
        }
    }
    if let Some(a) = s.async_aware.as_ref().filter(|a| *a.get_ref()) {
        let mut issues = vec!["--binary (which tachygate always uses)".to_string()];
        if mode != Mode::Wall {
            issues.push(format!("mode = \"{mode}\""));
        }
        if sampler.native {
            issues.push("native = true".into());
        }
        if !sampler.gc {
            issues.push("gc = false".into());
        }
        if sampler.all_threads {
            issues.push("all_threads = true".into());
        }
        return Err(cx.at(
            a,
            format!(
                "`async_aware = true` cannot be used: CPython 3.15's profiler rejects --async-aware together with {}; profile asyncio workloads in `mode = \"wall\"` without `async_aware`",
                issues.join(", ")
            ),
        ));
    }
    Ok(sampler)
}

/// Why `mode = "cpu"` with `blocking = true` is refused, and what to do instead.
pub const CPU_BLOCKING: &str = "`blocking = true` with `mode = \"cpu\"` records nothing: CPython 3.15's profiler stops the process for each sample, so the thread is never on a CPU when it is read and the profile has 0 samples (its \"Captured N samples\" line counts attempts, not samples); use `mode = \"gil\"` (the default: samples while the thread runs Python code, like cpu for Python code) or `mode = \"wall\"` with `blocking = true`, or keep `mode = \"cpu\"` and remove `blocking` (expect high error rates on call-heavy code, see docs/sampling-protocol.md)";

fn convert_run(cx: &Ctx, r: Option<&RawRun>) -> Result<RunSettings, ScenarioError> {
    let d = RunSettings::default();
    let Some(r) = r else { return Ok(d) };
    let int = |v: &Option<Spanned<i64>>, key: &str, min: i64, max: i64, default: u64| match v {
        None => Ok(default),
        Some(s) => {
            let x = *s.get_ref();
            if x < min || x > max {
                Err(cx.at(
                    s,
                    format!("`{key} = {x}` is out of range: allowed {min}..={max}"),
                ))
            } else {
                Ok(x as u64)
            }
        }
    };
    let repeats = match &r.repeats {
        Some(s) if *s.get_ref() < MIN_REPEATS as i64 => {
            return Err(cx.at(
                s,
                format!(
                    "`repeats = {}` is too few: the comparison needs at least {MIN_REPEATS} runs per side",
                    s.get_ref()
                ),
            ))
        }
        v => int(v, "repeats", MIN_REPEATS as i64, 1000, d.repeats as u64)? as u32,
    };
    let warmup_runs = int(&r.warmup_runs, "warmup_runs", 0, 100, d.warmup_runs as u64)? as u32;
    let retries = int(&r.retries, "retries", 0, 20, d.retries as u64)? as u32;
    let min_samples = int(&r.min_samples, "min_samples", 0, i64::MAX, d.min_samples)?;
    let max_error_rate_pct = match &r.max_error_rate {
        None => d.max_error_rate_pct,
        Some(v) => {
            let x = *v.get_ref();
            if !(x.is_finite() && (0.0..=100.0).contains(&x)) {
                return Err(cx.at(
                    v,
                    format!("`max_error_rate = {x}` must be a percentage in 0..=100"),
                ));
            }
            x
        }
    };
    let max_gap_ratio = match &r.max_gap_ratio {
        None => d.max_gap_ratio,
        Some(v) => {
            let x = *v.get_ref();
            if !(x.is_finite() && x >= 1.0) {
                return Err(cx.at(v, format!("`max_gap_ratio = {x}` must be a number >= 1.0 (a multiple of the sampling interval)")));
            }
            x
        }
    };
    Ok(RunSettings {
        repeats,
        warmup_runs,
        max_error_rate_pct,
        max_gap_ratio,
        retries,
        min_samples,
    })
}

fn non_negative(
    cx: &Ctx,
    v: &Option<Spanned<f64>>,
    key: &str,
) -> Result<Option<f64>, ScenarioError> {
    match v {
        None => Ok(None),
        Some(s) => {
            let x = *s.get_ref();
            if !(x.is_finite() && x >= 0.0) {
                return Err(cx.at(s, format!("`{key} = {x}` must be a finite number >= 0")));
            }
            Ok(Some(x))
        }
    }
}

fn check_glob(cx: &Ctx, g: &Spanned<String>, key: &str) -> Result<String, ScenarioError> {
    let s = g.get_ref();
    if !s.contains(':') {
        return Err(cx.at(
            g,
            format!("`{key}` pattern `{s}` must match `file:function`, e.g. `workloads/app.py:*` or `*:parse_*`"),
        ));
    }
    globset::Glob::new(s)
        .map_err(|e| cx.at(g, format!("`{key}` pattern `{s}` is not a valid glob: {e}")))?;
    Ok(s.clone())
}

fn convert_gate(cx: &Ctx, g: Option<&RawGate>) -> Result<GateSettings, ScenarioError> {
    let Some(g) = g else {
        return Ok(GateSettings::default());
    };
    let mut functions = BTreeMap::new();
    for (
        k,
        RawFunctionGate {
            min_effect,
            max_share,
        },
    ) in &g.functions
    {
        let key = check_glob(cx, k, "gate.functions")?;
        let min_effect_pp = non_negative(cx, min_effect, "min_effect")?;
        let max_share = match max_share {
            None => None,
            Some(s) => {
                let x = *s.get_ref();
                if !(x.is_finite() && x > 0.0 && x <= 1.0) {
                    return Err(cx.at(
                        s,
                        format!(
                            "`max_share = {x}` must be a fraction in (0, 1], e.g. 0.25 for 25%"
                        ),
                    ));
                }
                Some(x)
            }
        };
        if min_effect_pp.is_none() && max_share.is_none() {
            return Err(cx.at(k, format!("`[gate.functions.\"{key}\"]` sets nothing; give `min_effect` and/or `max_share`")));
        }
        functions.insert(
            key,
            FunctionGate {
                min_effect_pp,
                max_share,
            },
        );
    }
    Ok(GateSettings {
        min_effect_pp: non_negative(cx, &g.min_effect, "min_effect")?,
        min_effect_rel: non_negative(cx, &g.min_effect_rel, "min_effect_rel")?,
        ignore: g
            .ignore
            .iter()
            .map(|p| check_glob(cx, p, "ignore"))
            .collect::<Result<_, _>>()?,
        focus: g
            .focus
            .iter()
            .map(|p| check_glob(cx, p, "focus"))
            .collect::<Result<_, _>>()?,
        functions,
        advisory: g.advisory,
    })
}

/// An absolute, lexically normalised version of `p` (no filesystem access, so it works for
/// paths that do not exist yet and does not resolve symlinks).
pub(crate) fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        normalize(p)
    } else {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        normalize(&cwd.join(p))
    }
}

pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` relative to `base` (both absolute and normalised), with `..` where needed.
pub(crate) fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}
