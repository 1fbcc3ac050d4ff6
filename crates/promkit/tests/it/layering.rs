//! The core's layering, checked: every `crate::` path in `src/` (outside test modules) may name
//! only its own top-level module or one on a lower layer, so imports point one way and a
//! cycle cannot come back unnoticed. The layers are the ones the crate guide's "How it works"
//! describes.

use std::path::{Path, PathBuf};

/// Top-level modules by layer, lowest first. Modules on one layer may not import each other
/// (metric types and encoders stay side by side).
const LAYERS: &[&[&str]] =
    &[&["sync", "syntax"], &["labels", "model"], &["metrics", "encode"], &["registry"], &["collectors"]];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// One `crate::` path that points where it may not.
#[derive(Debug, PartialEq)]
struct Violation {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// The source with comments, string and char literals and `#[cfg(test)]` items blanked out
/// (newlines kept, so line numbers still match).
fn strip(src: &str) -> String {
    strip_test_items(&strip_literals(src))
}

fn blank(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().map(|c| if c == '\n' { '\n' } else { ' ' })
}

/// Comments, strings (raw ones too) and char literals blanked.
fn strip_literals(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < src.len() {
        let rest = &src[i..];
        let prev = src[..i].chars().next_back().unwrap_or(' ');
        let word_before = prev.is_alphanumeric() || prev == '_';
        let end = if rest.starts_with("//") {
            Some(rest.find('\n').unwrap_or(rest.len()))
        } else if rest.starts_with("/*") {
            Some(rest.find("*/").map_or(rest.len(), |e| e + 2))
        } else if !word_before && (rest.starts_with("r\"") || rest.starts_with("r#")) {
            let hashes = rest[1..].chars().take_while(|&c| c == '#').count();
            let open = 1 + hashes;
            if rest[open..].starts_with('"') {
                let close = format!("\"{}", "#".repeat(hashes));
                Some(rest[open + 1..].find(&close).map_or(rest.len(), |e| open + 1 + e + close.len()))
            } else {
                None
            }
        } else if rest.starts_with('"') {
            let b = rest.as_bytes();
            let mut j = 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            Some((j + 1).min(rest.len()))
        } else if rest.starts_with('\'') {
            // A char literal (`'"'`, `'\n'`), not a lifetime (`'a`).
            let mut chars = rest.char_indices().skip(1);
            match (chars.next(), chars.next()) {
                (Some((_, '\\')), _) => rest[2..].find('\'').map(|e| e + 3),
                (Some(_), Some((k, '\''))) => Some(k + 1),
                _ => None,
            }
        } else {
            None
        };
        match end {
            Some(end) => {
                out.extend(blank(&rest[..end]));
                i += end;
            }
            None => {
                let c = rest.chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// Each `#[cfg(test)]` attribute and the item it guards (up to its `;` or matching `}`) blanked.
fn strip_test_items(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < src.len() {
        let rest = &src[i..];
        if rest.starts_with("#[cfg(") && is_test_cfg(rest) {
            let attr_end = rest.find(']').map_or(0, |e| e + 1);
            let mut depth = 0usize;
            let mut end = rest.len();
            for (k, c) in rest.char_indices().skip(attr_end) {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = k + 1;
                            break;
                        }
                    }
                    ';' if depth == 0 => {
                        end = k + 1;
                        break;
                    }
                    _ => {}
                }
            }
            out.extend(blank(&rest[..end]));
            i += end;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Whether a `#[cfg(...)]` attribute at the start of `rest` is on only in tests.
fn is_test_cfg(rest: &str) -> bool {
    let attr = &rest[..rest.find(']').unwrap_or(rest.len())];
    attr.contains("test") && !attr.contains("not(test)")
}

/// The top-level modules a stripped source names through `crate::`, with their line numbers:
/// `crate::model::X`, `crate::{model::X, syntax::y}` and root re-exports (`crate::Counter`,
/// reported as the module `<root>`: a layered module must name the module that owns it).
fn crate_paths(src: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = src[from..].find("crate::") {
        let at = from + pos;
        from = at + "crate::".len();
        let before = src[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::` in a macro, or `foo_crate::`
        }
        let line = src[..at].matches('\n').count() + 1;
        let rest = &src[from..];
        let heads: Vec<&str> =
            if let Some(group) = rest.strip_prefix('{') { top_level_heads(group) } else { vec![ident(rest)] };
        for head in heads {
            let module = if layer_of(head).is_some() || head == "self" { head } else { "<root>" };
            found.push((line, module.to_owned()));
        }
    }
    found
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of each entry of a `{...}` use group.
fn top_level_heads(group: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && depth == 0 && !c.is_whitespace() => {
                heads.push(ident(&group[i..]));
                start = false;
            }
            _ => {}
        }
    }
    heads
}

/// Checks one file of top-level module `module`.
fn check_file(file: &str, module: &str, src: &str) -> Vec<Violation> {
    let Some(own) = layer_of(module) else {
        return vec![Violation { file: file.into(), line: 0, from: module.into(), to: "(no layer)".into() }];
    };
    crate_paths(&strip(src))
        .into_iter()
        .filter(|(_, to)| to != module && to != "self" && layer_of(to).is_none_or(|l| l >= own))
        .map(|(line, to)| Violation { file: file.into(), line, from: module.into(), to })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_point_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs");
        if module == "lib" {
            continue; // the crate root re-exports from every layer
        }
        let text = std::fs::read_to_string(path).unwrap();
        violations.extend(check_file(&rel.display().to_string(), module, &text));
    }
    let report: Vec<String> = violations
        .iter()
        .map(|v| format!("{}:{}: `{}` imports `{}`, which is not below it", v.file, v.line, v.from, v.to))
        .collect();
    assert!(
        report.is_empty(),
        "imports pointing up or across a layer (move the item down, or the import's user up):\n{}",
        report.join("\n")
    );
    assert!(files.len() > 40, "found only {} source files under {}", files.len(), src.display());
}

#[test]
fn the_checker_catches_upward_sideways_and_root_imports() {
    let bad = "use crate::model::Sink;\nuse crate::{syntax::escape, registry::Registry};\nfn f() { crate::encode::x(); crate::Counter::new(); }\n";
    let found: Vec<(usize, String)> =
        check_file("x.rs", "metrics", bad).into_iter().map(|v| (v.line, v.to)).collect();
    assert_eq!(found, [(2, "registry".to_owned()), (3, "encode".to_owned()), (3, "<root>".to_owned())]);
    // Comments, strings and test modules do not count; `$crate::` in macros is the caller's.
    let fine = "// crate::registry::X\nconst S: &str = \"crate::registry\";\nconst Q: u8 = b'\"'; const R: &str = r#\"a\"crate::registry\"#;\nmacro_rules! m { () => { $crate::registry::R } }\n#[cfg(all(test, not(loom)))]\nmod tests {\n    use crate::registry::Registry;\n}\n";
    assert_eq!(check_file("x.rs", "metrics", fine), []);
    assert_eq!(check_file("x.rs", "newthing", "")[0].to, "(no layer)");
}
