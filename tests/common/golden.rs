//! Golden files: expected outputs committed under `tests/data/golden/expected/`, compared byte
//! for byte. After an intended change, re-bless them with `TACHYGATE_BLESS=1 cargo test` (as
//! inferno's `INFERNO_BLESS_TESTS`) and review the diff with `git diff`.

use std::path::PathBuf;

/// Where golden file `name` lives.
pub fn path(name: &str) -> PathBuf {
    super::data_dir().join("golden/expected").join(name)
}

fn blessing() -> bool {
    std::env::var_os("TACHYGATE_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// Asserts that `actual` equals golden file `name`; with `TACHYGATE_BLESS` set, writes it.
pub fn check(name: &str, actual: &str) {
    let p = path(name);
    if blessing() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, actual).unwrap();
        eprintln!("blessed {}", p.display());
        return;
    }
    let expected = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "golden file {} unreadable ({e}); create it with TACHYGATE_BLESS=1",
            p.display()
        )
    });
    if expected == actual {
        return;
    }
    let (line, want, got) = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| (i + 1, a, b))
        .unwrap_or((
            expected.lines().count().min(actual.lines().count()) + 1,
            "(end or trailing newline)",
            "(end or trailing newline)",
        ));
    panic!(
        "{} differs from the output at line {line}:\n  golden: {}\n  actual: {}\n\
         ({} vs {} lines). If the change is intended, re-bless with TACHYGATE_BLESS=1 and \
         review `git diff`.",
        p.display(),
        clip(want),
        clip(got),
        expected.lines().count(),
        actual.lines().count()
    );
}

fn clip(s: &str) -> String {
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}

/// `text` with every `from` replaced by its placeholder, in order (longest first is the
/// caller's business: a path must be replaced before its parent).
pub fn normalise(text: &str, replacements: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (from, to) in replacements {
        if !from.is_empty() {
            out = out.replace(from, to);
        }
    }
    out
}
