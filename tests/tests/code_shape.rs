//! The shape the code keeps (issue 10, acceptance 8): no source file in `crates/*/src` over 600
//! lines (its test module aside), no function over 120 lines, and no two modules of a crate that
//! import each other. A plain reading of the sources, good enough for the way this workspace writes
//! Rust (rustfmt'd, one item per top-level block).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 120;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
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

/// Every crate's `src` files, without the files that are test modules themselves.
fn sources() -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let crates = workspace().join("crates");
    for entry in std::fs::read_dir(&crates).unwrap() {
        let krate = entry.unwrap().path();
        let src = krate.join("src");
        if !src.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let name = krate.file_name().unwrap().to_string_lossy().into_owned();
        for f in files {
            if f.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            out.push((name.clone(), src.clone(), f));
        }
    }
    out
}

/// The lines before the file's top-level `#[cfg(test)] mod … {`.
fn without_test_module(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, pair) in lines.windows(2).enumerate() {
        if pair[0].starts_with("#[cfg(test)]")
            && pair[1].starts_with("mod ")
            && pair[1].trim_end().ends_with('{')
        {
            return lines[..i].to_vec();
        }
    }
    lines
}

#[test]
fn no_source_file_is_over_600_lines() {
    let mut over = Vec::new();
    for (_, _, file) in sources() {
        let text = std::fs::read_to_string(&file).unwrap();
        let n = without_test_module(&text).len();
        if n > MAX_FILE_LINES {
            over.push(format!("{}: {n} lines", file.display()));
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
}

/// Whether `line` starts a function: `fn`, after any of `pub(…)`, `async`, `const`.
fn starts_fn(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("pub(crate) ") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("pub(super) ") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("pub ") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("async ") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("const ") {
            rest = r;
        } else {
            break;
        }
    }
    let name = rest.strip_prefix("fn ")?;
    Some(
        name.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect(),
    )
}

#[test]
fn no_function_is_over_120_lines() {
    let mut over = Vec::new();
    for (_, _, file) in sources() {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = without_test_module(&text);
        for (start, line) in lines.iter().enumerate() {
            let Some(name) = starts_fn(line) else {
                continue;
            };
            let (mut depth, mut opened) = (0i64, false);
            for (end, l) in lines.iter().enumerate().skip(start) {
                for c in l.chars() {
                    match c {
                        '{' => {
                            depth += 1;
                            opened = true;
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                if !opened && l.trim_end().ends_with(';') {
                    break; // a declaration without a body
                }
                if opened && depth <= 0 {
                    let n = end - start + 1;
                    if n > MAX_FN_LINES {
                        over.push(format!("{}: fn {name}: {n} lines", file.display()));
                    }
                    break;
                }
            }
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
}

/// The module path of `file` under `src` (`lib.rs`/`main.rs` → "", `a/mod.rs` → "a", `a/b.rs` → "a::b").
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    Some(parts.join("::"))
}

/// The `crate::…` paths a source mentions, with `use crate::a::{b, c}` groups expanded.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let path = path.trim_end_matches(':').to_owned();
        let after = &rest[path.len()..];
        if let Some(group) = after.strip_prefix("::{") {
            let group = &group[..group.find('}').unwrap_or(0)];
            for item in group.split(',') {
                let item = item.trim();
                if item.starts_with(|c: char| c.is_ascii_lowercase()) {
                    out.push(format!("{path}::{item}"));
                }
            }
        }
        out.push(path);
    }
    out
}

#[test]
fn no_two_modules_import_each_other() {
    let mut by_crate: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (krate, src, file) in sources() {
        if let Some(module) = module_of(&src, &file) {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = without_test_module(&text).join("\n");
            by_crate.entry(krate).or_default().insert(module, code);
        }
    }
    let mut circles = Vec::new();
    for (krate, modules) in &by_crate {
        let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (module, code) in modules {
            for path in crate_paths(code) {
                let segments: Vec<&str> = path.split("::").collect();
                // The longest prefix that is a module of this crate, other than this one, its
                // ancestors and its descendants (a parent and its children always see each other).
                let target = (1..=segments.len()).rev().find_map(|k| {
                    let candidate = segments[..k].join("::");
                    let (name, _) = modules.get_key_value(&candidate)?;
                    let related = name == module
                        || module.starts_with(&format!("{name}::"))
                        || name.starts_with(&format!("{module}::"))
                        || name.is_empty();
                    (!related).then_some(name.as_str())
                });
                if let Some(target) = target {
                    edges.entry(module.as_str()).or_default().insert(target);
                }
            }
        }
        for (a, targets) in &edges {
            for b in targets {
                if a < b && edges.get(b).is_some_and(|t| t.contains(a)) {
                    circles.push(format!("{krate}: {a} <-> {b}"));
                }
            }
        }
    }
    assert!(circles.is_empty(), "{}", circles.join("\n"));
}

#[test]
fn the_readings_find_what_they_look_for() {
    assert_eq!(
        starts_fn("    pub(crate) async fn run(").as_deref(),
        Some("run")
    );
    assert_eq!(starts_fn("fn main() {").as_deref(), Some("main"));
    assert_eq!(starts_fn("    let f = fn_ptr;"), None);
    assert_eq!(
        crate_paths("use crate::handlers::{admin, ops};\nlet x = crate::state::AppState;"),
        [
            "handlers::admin",
            "handlers::ops",
            "handlers",
            "state::AppState"
        ]
    );
    assert_eq!(
        module_of(Path::new("src"), Path::new("src/dto/mod.rs")).as_deref(),
        Some("dto")
    );
    assert_eq!(
        without_test_module("a\n#[cfg(test)]\nmod tests {\n}\n"),
        ["a"]
    );
}
