//! Text hygiene for names that come from profiled (possibly untrusted) code.
//!
//! Function and file names, warnings and error messages end up in HTML, Markdown PR comments
//! and JUnit XML. A pull request controls those names, so every renderer passes them through
//! one of these functions before (Markdown, XML) or in addition to (HTML autoescape) the
//! format's own escaping. Each function is total: any `&str` in, something safe out.

/// Zero-width joiner: placed after `@` and `#` so GitHub does not turn `@user` into a mention
/// or `#123` into an issue link, while the text still reads the same.
pub const ZWJ: char = '\u{200D}';

/// Characters that reorder text (Trojan-source style): shown as U+FFFD instead.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// One display line: newlines, tabs and other control characters become a space, bidi
/// controls become U+FFFD, and the result is cut to `max_chars` characters with an ellipsis.
pub fn clean_line(s: &str, max_chars: usize) -> String {
    map_truncated(s, max_chars, |c| {
        if c.is_control() {
            ' '
        } else if is_bidi_control(c) {
            '\u{FFFD}'
        } else {
            c
        }
    })
}

/// Maps each character and keeps at most `max_chars` of them, the last one an ellipsis when
/// something was cut.
fn map_truncated(s: &str, max_chars: usize, f: impl Fn(char) -> char) -> String {
    let max_chars = max_chars.max(1);
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_mul(4)));
    let mut it = s.chars();
    let mut n = 0usize;
    while let Some(c) = it.next() {
        if n + 1 == max_chars && it.clone().next().is_some() {
            out.push('…');
            break;
        }
        out.push(f(c));
        n += 1;
    }
    out
}

/// A GitHub-flavoured Markdown table cell (or inline text) that renders as the literal text:
/// no markup, no HTML, no table break, no mention, no issue reference, no autolink.
pub fn md_text(s: &str, max_chars: usize) -> String {
    let line = clean_line(s, max_chars);
    let mut out = String::with_capacity(line.len() + 8);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '~' | '|' => {
                out.push('\\');
                out.push(c);
            }
            // At the start of a list item these would open a nested list or a heading.
            '-' | '+' | '=' if out.is_empty() => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '@' => {
                out.push('@');
                out.push(ZWJ);
            }
            '#' => {
                out.push_str("\\#");
                out.push(ZWJ);
            }
            ':' => {
                out.push(':');
                // `scheme://` would be autolinked.
                if chars.peek() == Some(&'/') {
                    out.push(ZWJ);
                }
            }
            '.' => {
                out.push('.');
                // `www.example` is autolinked too; a joiner after the dot breaks the domain.
                if out.ends_with("www.") {
                    out.push(ZWJ);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text inside raw HTML in Markdown (e.g. `<summary>`), where Markdown escapes would show
/// literally: entity-escaped, with joiners against mentions and issue references (GitHub
/// links those in HTML blocks too).
pub fn md_html_text(s: &str, max_chars: usize) -> String {
    let line = clean_line(s, max_chars);
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '@' | '#' => {
                out.push(c);
                out.push(ZWJ);
            }
            ':' => {
                out.push(':');
                out.push(ZWJ);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text for XML 1.0 content or attributes, before entity escaping: characters XML forbids
/// (C0 controls other than tab/newline/CR, U+FFFE, U+FFFF) become U+FFFD.
pub fn xml_clean(s: &str, max_chars: usize) -> String {
    map_truncated(s, max_chars, |c| {
        let allowed = matches!(c, '\t' | '\n' | '\r')
            || (('\u{20}'..='\u{D7FF}').contains(&c) && !c.is_control())
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}';
        if allowed && !is_bidi_control(c) {
            c
        } else {
            '\u{FFFD}'
        }
    })
}

/// JSON for a `<script type="application/json">` element. serde_json does not escape `<`,
/// so a string containing `</script>` or `<!--` would end or confuse the element; `\u003c`
/// is the same string to `JSON.parse` and cannot. `>`, `&` and the JS line separators are
/// escaped too, for parsers that treat them specially.
pub fn json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a repository path for a URL, keeping `/` as the separator.
pub fn url_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_line_flattens_controls_and_truncates_with_ellipsis() {
        assert_eq!(clean_line("a\nb\tc\u{7}", 100), "a b c ");
        assert_eq!(clean_line("abcdef", 4), "abc…");
        assert_eq!(clean_line("abcd", 4), "abcd");
        assert_eq!(clean_line("x\u{202E}y", 10), "x\u{FFFD}y");
        assert_eq!(clean_line(&"é".repeat(10_000), 5).chars().count(), 5);
    }

    #[test]
    fn md_text_neutralises_markup_mentions_and_references() {
        let s = md_text(
            "a|b `c` @octocat #123 <script> https://x.io www.evil.com",
            200,
        );
        assert!(s.contains("a\\|b"));
        assert!(s.contains("\\`c\\`"));
        assert!(s.contains(&format!("@{ZWJ}octocat")));
        assert!(s.contains(&format!("\\#{ZWJ}123")));
        assert!(s.contains("&lt;script&gt;"));
        assert!(s.contains(&format!("https:{ZWJ}//")));
        assert!(s.contains(&format!("www.{ZWJ}evil")));
        assert!(!s.contains('\n'));
    }

    #[test]
    fn md_text_escapes_entities_so_they_cannot_decode_to_mentions() {
        assert_eq!(md_text("&#64;admin", 50), "&amp;\\#\u{200D}64;admin");
    }

    #[test]
    fn md_html_text_escapes_without_markdown_backslashes() {
        assert_eq!(
            md_html_text("a_b <i> @x #1", 50),
            format!("a_b &lt;i&gt; @{ZWJ}x #{ZWJ}1")
        );
    }

    #[test]
    fn xml_clean_replaces_forbidden_characters() {
        assert_eq!(
            xml_clean("a\u{0}b\u{1b}c\u{FFFF}\td", 100),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}\td"
        );
    }

    #[test]
    fn json_for_script_cannot_close_the_element() {
        let raw = serde_json::to_string("</script><!-- \u{2028}").unwrap();
        let safe = json_for_script(&raw);
        assert!(!safe.contains('<'));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><!-- \u{2028}");
    }

    #[test]
    fn url_path_encodes_everything_but_path_characters() {
        assert_eq!(url_path("src/a b/\"x\".py"), "src/a%20b/%22x%22.py");
    }

    proptest::proptest! {
        #[test]
        fn md_text_never_breaks_a_table_cell_or_mentions(s in "\\PC{0,80}|[@#|`<>\n\\a-z0-9 ]{0,80}") {
            let out = md_text(&s, 60);
            proptest::prop_assert!(!out.contains('\n') && !out.contains('\r'));
            let chars: Vec<char> = out.chars().collect();
            let mut escaped = false;
            for (i, &c) in chars.iter().enumerate() {
                if escaped { escaped = false; continue; }
                match c {
                    '\\' => escaped = true,
                    '|' | '`' | '<' | '>' => proptest::prop_assert!(false, "live {c:?} in {out:?}"),
                    '@' | '#' => proptest::prop_assert_eq!(chars.get(i + 1), Some(&ZWJ)),
                    _ => {}
                }
            }
            proptest::prop_assert!(out.chars().count() <= 60 * 2 + 60 * 6);
        }

        #[test]
        fn xml_clean_yields_only_xml_characters(s in "\\PC{0,40}|[\u{0}-\u{1f}\u{fffe}\u{ffff}a]{0,40}") {
            let out = xml_clean(&s, 30);
            proptest::prop_assert!(out.chars().count() <= 30);
            for c in out.chars() {
                proptest::prop_assert!(
                    matches!(c, '\t' | '\n' | '\r') || (!c.is_control() && c != '\u{FFFE}' && c != '\u{FFFF}'),
                    "{:?}", c
                );
            }
        }

        #[test]
        fn json_for_script_round_trips_without_angle_brackets(s in "\\PC{0,60}|[<>!/\\-&a-z]{0,60}") {
            let raw = serde_json::to_string(&s).unwrap();
            let safe = json_for_script(&raw);
            proptest::prop_assert!(!safe.contains('<') && !safe.contains('>'));
            let back: String = serde_json::from_str(&safe).unwrap();
            proptest::prop_assert_eq!(back, s);
        }
    }
}
