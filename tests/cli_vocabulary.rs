//! One concept, one flag name: walks the clap command tree and checks the vocabulary that
//! docs/cli.md documents - `--results DIR`, `--reports DIR`, `--baselines DIR`, scenario paths
//! as positional PATHS plus `--scenarios PATH` - that the old spellings still parse as hidden
//! aliases with their old meaning, and that every command line in the shipped workflows and
//! docs parses with the current definitions.

use clap::{CommandFactory, Parser};
use std::path::{Path, PathBuf};
use tachygate::cli::{Cli, Command};

/// (subcommand path, canonical long flags it must have). Keep in step with docs/cli.md.
const VOCABULARY: &[(&str, &[&str])] = &[
    ("run", &["results", "scenarios"]),
    ("list", &["scenarios"]),
    ("check", &["results", "reports", "baselines", "scenarios"]),
    ("compare", &["reports", "scenarios"]),
    ("ab", &["results", "reports", "scenarios"]),
    ("baseline update", &["results", "baselines", "scenarios"]),
    ("calibrate", &["results", "scenarios"]),
    ("doctor", &["results"]),
    ("report", &["reports"]),
];

/// Old spellings: allowed only as hidden aliases, never as a visible flag.
const RETIRED: &[&str] = &["out", "path", "dir"];

fn leaves(cmd: &clap::Command, prefix: &str, out: &mut Vec<(String, clap::Command)>) {
    for sub in cmd.get_subcommands() {
        let name = if prefix.is_empty() {
            sub.get_name().to_string()
        } else {
            format!("{prefix} {}", sub.get_name())
        };
        if sub.has_subcommands() {
            leaves(sub, &name, out);
        } else {
            out.push((name, sub.clone()));
        }
    }
}

fn all_commands() -> Vec<(String, clap::Command)> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut v = Vec::new();
    leaves(&cmd, "", &mut v);
    v
}

#[test]
fn the_clap_definitions_are_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn each_concept_has_one_visible_flag_name_everywhere() {
    let commands = all_commands();
    for (path, flags) in VOCABULARY {
        let (_, cmd) = commands
            .iter()
            .find(|(n, _)| n == path)
            .unwrap_or_else(|| panic!("no subcommand {path}"));
        for flag in *flags {
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_long() == Some(flag))
                .unwrap_or_else(|| panic!("`tachygate {path}` lacks --{flag}"));
            assert!(!arg.is_hide_set(), "{path} --{flag} is hidden");
            let value = arg
                .get_value_names()
                .map(|v| v.join(" "))
                .unwrap_or_default();
            let want = if *flag == "scenarios" { "PATH" } else { "DIR" };
            assert_eq!(value, want, "`tachygate {path} --{flag}` value name");
        }
    }
    for (path, cmd) in &commands {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                assert!(
                    !RETIRED.contains(&long),
                    "`tachygate {path} --{long}` uses a retired spelling as its name"
                );
            }
            for alias in arg.get_visible_aliases().unwrap_or_default() {
                assert!(
                    !RETIRED.contains(&alias),
                    "`tachygate {path}` shows the retired alias --{alias}"
                );
            }
            // A concept's flag never goes by another name: whatever takes a results,
            // reports or baselines directory is spelled that way.
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            for (words, flag) in [
                ("Results directory", "results"),
                ("Reports directory", "reports"),
                ("Baselines directory", "baselines"),
            ] {
                if help.starts_with(words) {
                    assert_eq!(arg.get_long(), Some(flag), "{path}: {help}");
                }
            }
        }
        // Every command that reads scenario definitions accepts --scenarios.
        let reads_scenarios = cmd.get_arguments().any(|a| {
            a.get_help()
                .is_some_and(|h| h.to_string().contains("Scenario files or directories"))
        });
        if reads_scenarios {
            assert!(
                cmd.get_arguments()
                    .any(|a| a.get_long() == Some("scenarios")),
                "{path} takes scenario PATHS but not --scenarios"
            );
        }
    }
}

#[test]
fn report_usage_shows_its_input_as_required() {
    let mut cmd = Cli::command();
    let usage = cmd
        .find_subcommand_mut("report")
        .unwrap()
        .render_usage()
        .to_string();
    assert!(usage.contains("<INPUT>"), "{usage}");
    assert!(!usage.contains("[INPUT]"), "{usage}");
    // ... and the hidden --sample still works without it.
    Cli::try_parse_from(["tachygate", "report", "--sample", "--reports", "x"]).unwrap();
    assert!(Cli::try_parse_from(["tachygate", "report"]).is_err());
}

fn parse(args: &[&str]) -> Command {
    let mut v = vec!["tachygate"];
    v.extend_from_slice(args);
    Cli::try_parse_from(&v)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
        .normalized()
        .command
}

#[test]
fn old_spellings_still_parse_with_their_old_meaning() {
    let p = |s: &str| Some(PathBuf::from(s));
    // `run --out` was the results directory.
    let Command::Run(a) = parse(&["run", "--out", "r"]) else {
        panic!()
    };
    assert_eq!(a.out, p("r"));
    let Command::Run(a) = parse(&["run", "--results", "r"]) else {
        panic!()
    };
    assert_eq!(a.out, p("r"));
    // `check/compare/ab --out` was the reports directory.
    for cmd in [&["check"][..], &["compare", "a", "b"], &["ab", "main"]] {
        for flag in ["--out", "--reports"] {
            let mut args = cmd.to_vec();
            args.extend([flag, "rep"]);
            let out = match parse(&args) {
                Command::Check(a) => a.report.out,
                Command::Compare(a) => a.report.out,
                Command::Ab(a) => a.report.out,
                _ => unreachable!(),
            };
            assert_eq!(out, p("rep"), "{args:?}");
        }
    }
    // `report --out`/`-o`.
    for flag in ["--out", "-o", "--reports"] {
        let Command::Report(a) = parse(&["report", "x.json", flag, "d"]) else {
            panic!()
        };
        assert_eq!(a.out, p("d"), "{flag}");
    }
    // `ab --path` was the scenario paths.
    for flag in ["--path", "--scenarios"] {
        let Command::Ab(a) = parse(&["ab", "main", flag, "s1", flag, "s2"]) else {
            panic!()
        };
        assert_eq!(
            a.paths,
            [PathBuf::from("s1"), PathBuf::from("s2")],
            "{flag}"
        );
    }
    // `baseline update --dir` was the baselines directory.
    for flag in ["--dir", "--baselines"] {
        let Command::Baseline(a) = parse(&["baseline", "update", flag, "b"]) else {
            panic!()
        };
        let tachygate::commands::baseline::Command::Update(u) = a.command;
        assert_eq!(u.dir, Some(PathBuf::from("b")), "{flag}");
    }
}

#[test]
fn scenarios_flag_and_positional_paths_are_one_list() {
    let want = [PathBuf::from("a"), PathBuf::from("b")];
    let Command::Run(a) = parse(&["run", "a", "--scenarios", "b"]) else {
        panic!()
    };
    assert_eq!(a.paths, want);
    let Command::Check(a) = parse(&["check", "--scenarios", "a", "--scenarios", "b"]) else {
        panic!()
    };
    assert_eq!(a.paths, want);
    let Command::List(a) = parse(&["list", "a", "b"]) else {
        panic!()
    };
    assert_eq!(a.paths, want);
}

#[test]
fn compare_sides_take_several_values() {
    let Command::Compare(a) = parse(&["compare", "-b", "base", "-c", "s1", "s2", "s3"]) else {
        panic!()
    };
    assert_eq!(a.baseline, [PathBuf::from("base")]);
    assert_eq!(a.candidate.len(), 3);
    assert!(a.sides.is_empty());
    let Command::Compare(a) = parse(&["compare", "-c", "s1", "-c", "s2", "--baseline", "b"]) else {
        panic!()
    };
    assert_eq!(a.candidate.len(), 2);
}

#[test]
fn json_reserves_stdout_only_where_offered() {
    for args in [
        &["check", "--json"][..],
        &["compare", "a", "b", "--json"],
        &["ab", "x", "--json"],
    ] {
        let mut v = vec!["tachygate"];
        v.extend_from_slice(args);
        assert!(
            Cli::try_parse_from(&v).unwrap().normalized().global.json,
            "{args:?}"
        );
    }
    let cli = Cli::try_parse_from(["tachygate", "check"])
        .unwrap()
        .normalized();
    assert!(!cli.global.json);
}

/// Command lines of the form `tachygate ...` in a text, joined across `\` continuations.
fn command_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let line = line.trim();
        if !pending.is_empty() {
            pending.push(' ');
            pending.push_str(line.trim_end_matches('\\'));
            if !line.ends_with('\\') {
                out.push(std::mem::take(&mut pending));
            }
            continue;
        }
        let start = line
            .find("./target/release/tachygate ")
            .map(|i| i + "./target/release/".len())
            .or_else(|| line.starts_with("tachygate ").then_some(0))
            .or_else(|| line.strip_prefix("$ tachygate ").map(|_| 2));
        let Some(start) = start else { continue };
        let cmd = &line[start..];
        if cmd.ends_with('\\') {
            pending = cmd.trim_end_matches('\\').to_string();
        } else {
            out.push(cmd.to_string());
        }
    }
    out
}

/// Splits a shell command line into words (quotes removed, `$VAR`s kept as placeholders),
/// stopping at pipes, redirections and comments.
fn words(line: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, ' ' | '\t') => {
                if any || !cur.is_empty() {
                    v.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, '|' | '>' | '<' | '#' | ';' | '&') if cur.is_empty() && !any => break,
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        v.push(cur);
    }
    v
}

/// Markdown: the fenced code blocks, and inline code spans that start with `tachygate `.
fn markdown_code(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && span.starts_with("tachygate ") {
                out.push_str(span);
                out.push('\n');
            }
        }
    }
    out
}

fn check_lines(file: &Path, markdown: bool) -> usize {
    let mut text = std::fs::read_to_string(file).unwrap();
    if markdown {
        text = markdown_code(&text);
    }
    let skip_placeholders = markdown;
    let mut n = 0;
    for line in command_lines(&text) {
        let w = words(&line);
        // Docs show synopses like `tachygate run [PATHS...]`; only real command lines count.
        if skip_placeholders
            && w.iter().any(|x| {
                x.contains('[')
                    || x.contains('<')
                    || x.contains('|')
                    || x == "..."
                    // SHELL, BASE_REV: a placeholder, not a value.
                    || (x.len() > 1
                        && x.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            })
        {
            continue;
        }
        if let Err(e) = Cli::try_parse_from(&w) {
            use clap::error::ErrorKind::*;
            // Prose mentions a command without all its arguments (`tachygate ab`).
            if matches!(
                e.kind(),
                MissingRequiredArgument
                    | MissingSubcommand
                    | DisplayHelpOnMissingArgumentOrSubcommand
                    | DisplayHelp
                    | DisplayVersion
            ) {
                n += 1;
                continue;
            }
            // Values are checked at parse time, so a shell expansion (`--shard "$SHARD/$SHARDS"`)
            // or a placeholder in prose (`--shard K/N`) stands where a value would.
            let placeholder = match e.get(clap::error::ContextKind::InvalidValue) {
                Some(clap::error::ContextValue::String(v)) => {
                    v.contains('$') || v.chars().all(|c| c.is_ascii_uppercase() || c == '/')
                }
                _ => false,
            };
            if e.kind() == ValueValidation && placeholder {
                n += 1;
                continue;
            }
            panic!("{}: `{line}` does not parse: {e}", file.display());
        }
        for retired in ["--out", "--path", "--dir"] {
            assert!(
                !w.iter().any(|x| x == retired),
                "{}: `{line}` uses the retired spelling {retired}",
                file.display()
            );
        }
        n += 1;
    }
    n
}

#[test]
fn workflows_and_docs_use_the_current_spellings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in [".github/workflows", "docs"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ["yml", "yaml", "md"].contains(&ext) {
                n += check_lines(&p, ext == "md");
            }
        }
    }
    n += check_lines(&root.join("README.md"), true);
    assert!(
        n >= 10,
        "found only {n} command lines: is the extraction broken?"
    );
}
