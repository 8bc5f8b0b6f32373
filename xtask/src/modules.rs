//! Two rules about each crate's modules, read from the source as text: no import cycle
//! between modules of one crate (a module's `crate::…`, `super::…` and `self::…` paths are
//! its edges), and the crate README names every module its root declares.
//!
//! A module is a file (`a.rs`, `a/b.rs`, `a/mod.rs`; `lib.rs` and `main.rs` are the root).
//! A path is resolved to the deepest module file it names; a name the module re-exports
//! (`pub use child::Name`, any visibility) is followed to the child that defines it. Paths
//! between a module and its own ancestors or descendants are not edges: a parent declares
//! and re-exports its children, and a child reads its parent's items, by the way Rust
//! modules are built. Comments, string literals and the `#[cfg(test)]` module at the end of
//! a file are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path inside its crate (`["conversations", "runtime"]`; empty for the root).
type ModPath = Vec<String>;

/// One crate's modules: each module's source (comments and strings removed) and what
/// it re-exports (name → the child module it comes from).
struct Crate {
    modules: BTreeMap<ModPath, String>,
    reexports: BTreeMap<ModPath, BTreeMap<String, ModPath>>,
}

/// The import cycles in every crate under `root/crates` (and `root/xtask`).
pub fn cycles(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for dir in crate_dirs(root)? {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        for cycle in crate_cycles(&dir.join("src"))? {
            problems.push(format!(
                "{}: modules import each other in a circle: {}",
                name.clone().unwrap_or_default(),
                cycle
            ));
        }
    }
    Ok(problems)
}

/// The modules each crate README under `root/crates` does not name.
pub fn readmes(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    for dir in crate_dirs(root)? {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        problems.extend(readme_omissions(&dir, &name)?);
    }
    Ok(problems)
}

fn crate_dirs(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirs = vec![root.join("xtask")];
    for entry in std::fs::read_dir(root.join("crates"))? {
        let path = entry?.path();
        if path.join("src").is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// The modules of the crate in `dir` (those its root declares) that its README does not
/// name as a word.
fn readme_omissions(dir: &Path, name: &str) -> anyhow::Result<Vec<String>> {
    let Ok(readme) = std::fs::read_to_string(dir.join("README.md")) else {
        return Ok(vec![format!("{name} has no README.md")]);
    };
    let mut problems = Vec::new();
    for root in ["lib.rs", "main.rs"] {
        let Ok(text) = std::fs::read_to_string(dir.join("src").join(root)) else {
            continue;
        };
        for module in root_modules(&strip(&text)) {
            let named = readme
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| word == module);
            if !named {
                problems.push(format!(
                    "{name}/README.md does not name its module `{module}`"
                ));
            }
        }
    }
    Ok(problems)
}

/// The modules a crate root declares (`mod x;`, public or not: the README is the crate's
/// map, and a private module is part of it).
fn root_modules(root: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in root.lines() {
        let line = line.trim();
        let rest = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("pub(crate) mod "))
            .or_else(|| line.strip_prefix("mod "));
        if let Some(name) = rest.and_then(|r| r.strip_suffix(';')) {
            out.push(name.trim().to_owned());
        }
    }
    out
}

/// Each cycle of the crate whose sources are in `src`, as `a → b → a` with the line
/// that makes each edge.
pub fn crate_cycles(src: &Path) -> anyhow::Result<Vec<String>> {
    let krate = read_crate(src)?;
    let mut edges: BTreeMap<ModPath, BTreeMap<ModPath, String>> = BTreeMap::new();
    for (module, text) in &krate.modules {
        for (path, line) in paths_in(text) {
            let Some(target) = resolve(&krate, module, &path) else {
                continue;
            };
            if related(module, &target) {
                continue;
            }
            edges
                .entry(module.clone())
                .or_default()
                .entry(target)
                .or_insert(line);
        }
    }
    Ok(strongly_connected(&edges)
        .into_iter()
        .map(|component| describe(&component, &edges))
        .collect())
}

fn read_crate(src: &Path) -> anyhow::Result<Crate> {
    let mut files = Vec::new();
    crate::rust_files(src, &mut files)?;
    let mut modules = BTreeMap::new();
    for file in files {
        let Ok(rel) = file.strip_prefix(src) else {
            continue;
        };
        let Some(module) = module_path(rel) else {
            continue;
        };
        let text = std::fs::read_to_string(&file)?;
        modules.insert(module, strip(&text));
    }
    let mut reexports = BTreeMap::new();
    for (module, text) in &modules {
        let mut names = BTreeMap::new();
        for (path, _) in uses(text) {
            if path.first().is_some_and(|s| s == "crate" || s == "super") {
                continue;
            }
            let mut child = module.clone();
            child.extend(path[..path.len().saturating_sub(1)].iter().cloned());
            let resolved = deepest(&modules, &child);
            if let (true, Some(last)) = (resolved.len() > module.len(), path.last()) {
                names.insert(last.clone(), resolved);
            }
        }
        reexports.insert(module.clone(), names);
    }
    Ok(Crate { modules, reexports })
}

/// `a/b.rs` → `[a, b]`; `a/mod.rs` → `[a]`; `lib.rs`/`main.rs` → `[]`; `bin/…` and
/// other roots → none.
fn module_path(rel: &Path) -> Option<ModPath> {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let (last, dirs) = parts.split_last()?;
    if dirs.first().is_some_and(|d| d == "bin") {
        return None;
    }
    let stem = last.strip_suffix(".rs")?;
    let mut path: ModPath = dirs.to_vec();
    match stem {
        "lib" | "main" if dirs.is_empty() => {}
        "mod" => {}
        _ => path.push(stem.to_owned()),
    }
    Some(path)
}

/// Whether one of the two modules contains the other.
fn related(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// The deepest module file that `path` (absolute, without `crate`) names.
fn deepest(modules: &BTreeMap<ModPath, String>, path: &[String]) -> ModPath {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains_key(p))
        .unwrap_or_default()
}

/// The module that `path`, written in `module`, refers to.
fn resolve(krate: &Crate, module: &[String], path: &[String]) -> Option<ModPath> {
    let mut absolute: ModPath = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self") => {
            absolute = module.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            absolute = module.to_vec();
            while rest.first().is_some_and(|s| s == "super") {
                absolute.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    absolute.extend(rest.iter().cloned());
    let found = deepest(&krate.modules, &absolute);
    // A name the module re-exports leads to the child that defines it.
    let reexported = absolute
        .get(found.len())
        .and_then(|next| krate.reexports.get(&found)?.get(next))
        .cloned();
    Some(reexported.unwrap_or(found))
}

/// Every `crate::…`, `super::…` and `self::…` path in `text` with its line: the paths of
/// each `use` tree expanded, and those written inline.
fn paths_in(text: &str) -> Vec<(Vec<String>, String)> {
    let mut out = uses(text);
    for line in text.lines() {
        let bytes: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < bytes.len() {
            let start_ok = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
            let rest: String = bytes[i..].iter().collect();
            let head = ["crate::", "super::", "self::"]
                .into_iter()
                .find(|h| rest.starts_with(h));
            if let (true, Some(_)) = (start_ok, head) {
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let segments: Vec<String> = path
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if segments.len() > 1 {
                    out.push((segments, line.trim().to_owned()));
                }
                i += path.len().max(1);
            } else {
                i += 1;
            }
        }
    }
    out
}

/// The paths of every `use` statement in `text`, trees expanded, with the statement.
fn uses(text: &str) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = find_use(rest) {
        let after = &rest[at..];
        let Some(end) = after.find(';') else {
            break;
        };
        let statement = &after[..end];
        let tree = statement.trim_start_matches("use").trim();
        let line = statement.split_whitespace().collect::<Vec<_>>().join(" ");
        for path in expand(tree) {
            out.push((path, line.clone()));
        }
        rest = &after[end..];
    }
    out
}

/// Where the next `use` keyword starts a statement (at a line's start, after visibility).
fn find_use(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let body = trimmed
            .strip_prefix("pub(crate) ")
            .or_else(|| trimmed.strip_prefix("pub(super) "))
            .or_else(|| trimmed.strip_prefix("pub "))
            .unwrap_or(trimmed);
        if body.starts_with("use ") {
            return Some(offset + indent + (trimmed.len() - body.len()));
        }
        offset += line.len();
    }
    None
}

/// A use tree (`a::{b, c::{d, e}}`) as its paths (`a::b`, `a::c::d`, `a::c::e`);
/// `self` inside braces is the prefix itself; `as` renames are dropped.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let prefix: Vec<String> = split_path(&tree[..open]);
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut out = Vec::new();
        for part in split_top(inner) {
            for mut tail in expand(part) {
                if tail.first().is_some_and(|s| s == "self") {
                    tail.remove(0);
                }
                let mut path = prefix.clone();
                path.extend(tail);
                if !path.is_empty() {
                    out.push(path);
                }
            }
        }
        out
    } else {
        let path = tree.split(" as ").next().unwrap_or_default();
        let segments = split_path(path);
        if segments.is_empty() || segments.last().is_some_and(|s| s == "*") {
            let mut glob = segments;
            glob.pop();
            return if glob.is_empty() { vec![] } else { vec![glob] };
        }
        vec![segments]
    }
}

fn split_path(path: &str) -> Vec<String> {
    path.split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Splits `a, b::{c, d}, e` at its top-level commas.
fn split_top(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// `text` without comments, string and character literals, or the `#[cfg(test)]`
/// module a file ends with.
fn strip(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    };
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && raw_start(&chars, i) {
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            i += 2 + hashes;
            while i < chars.len() {
                if chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|c| *c == '#') {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the `r` at `i` starts a raw string (not the end of an identifier).
fn raw_start(chars: &[char], i: usize) -> bool {
    let ident_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let opens = chars[i + 1..]
        .iter()
        .find(|c| **c != '#')
        .is_some_and(|c| *c == '"');
    !ident_before && opens
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn strongly_connected(edges: &BTreeMap<ModPath, BTreeMap<ModPath, String>>) -> Vec<Vec<ModPath>> {
    struct State<'a> {
        edges: &'a BTreeMap<ModPath, BTreeMap<ModPath, String>>,
        index: BTreeMap<ModPath, usize>,
        low: BTreeMap<ModPath, usize>,
        stack: Vec<ModPath>,
        on_stack: BTreeSet<ModPath>,
        next: usize,
        out: Vec<Vec<ModPath>>,
    }
    fn visit(s: &mut State<'_>, v: &ModPath) {
        s.index.insert(v.clone(), s.next);
        s.low.insert(v.clone(), s.next);
        s.next += 1;
        s.stack.push(v.clone());
        s.on_stack.insert(v.clone());
        let targets: Vec<ModPath> = s
            .edges
            .get(v)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        for w in targets {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let low = s.low[v].min(s.low[&w]);
                s.low.insert(v.clone(), low);
            } else if s.on_stack.contains(&w) {
                let low = s.low[v].min(s.index[&w]);
                s.low.insert(v.clone(), low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                let done = &w == v;
                component.push(w);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    state.out
}

/// A component as one cycle through it (`a → b → a`), each step with the line that
/// makes it.
fn describe(component: &[ModPath], edges: &BTreeMap<ModPath, BTreeMap<ModPath, String>>) -> String {
    let name = |m: &ModPath| {
        if m.is_empty() {
            "crate".to_owned()
        } else {
            m.join("::")
        }
    };
    let members: BTreeSet<&ModPath> = component.iter().collect();
    let mut steps = Vec::new();
    let mut seen = BTreeSet::new();
    let mut at = &component[0];
    while seen.insert(at.clone()) {
        let Some((next, line)) = edges
            .get(at)
            .and_then(|t| t.iter().find(|(m, _)| members.contains(m)))
        else {
            break;
        };
        steps.push(format!("{} → {} (`{}`)", name(at), name(next), line));
        at = next;
    }
    let all: Vec<String> = component.iter().map(name).collect();
    format!("{} — for example {}", all.join(", "), steps.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-modules-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_cycle_between_sibling_modules_is_found_with_its_lines() {
        let dir = temp("cycle");
        write(
            &dir,
            &[
                ("src/lib.rs", "//! x\nmod a;\nmod b;\nmod c;\n"),
                ("src/a.rs", "//! a\nuse crate::b::Thing;\n"),
                (
                    "src/b.rs",
                    "//! b\npub struct Thing;\nfn f() { super::c::g(); }\n",
                ),
                (
                    "src/c.rs",
                    "//! c\nuse crate::{a::{self}, d};\npub fn g() {}\n",
                ),
            ],
        );
        let cycles = crate_cycles(&dir.join("src")).unwrap();
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert!(
            cycles[0].contains("a → b (`use crate::b::Thing`)"),
            "{}",
            cycles[0]
        );
        assert!(cycles[0].contains("b → c"), "{}", cycles[0]);
        assert!(cycles[0].contains("c → a"), "{}", cycles[0]);
    }

    #[test]
    fn a_cycle_through_a_parents_reexport_is_found() {
        let dir = temp("reexport");
        write(
            &dir,
            &[
                ("src/lib.rs", "//! x\nmod talk;\n"),
                (
                    "src/talk.rs",
                    "//! t\nmod one;\nmod two;\npub use one::Shared;\n",
                ),
                (
                    "src/talk/one.rs",
                    "//! 1\npub struct Shared;\nuse super::two::helper;\n",
                ),
                (
                    "src/talk/two.rs",
                    "//! 2\nuse super::Shared;\npub fn helper() {}\n",
                ),
            ],
        );
        let cycles = crate_cycles(&dir.join("src")).unwrap();
        assert_eq!(cycles.len(), 1, "{cycles:?}");
        assert!(cycles[0].contains("talk::one → talk::two"), "{}", cycles[0]);
        assert!(cycles[0].contains("talk::two → talk::one"), "{}", cycles[0]);
    }

    #[test]
    fn parents_children_comments_strings_and_tests_are_not_edges() {
        let dir = temp("clean");
        write(
            &dir,
            &[
                (
                    "src/lib.rs",
                    "//! x\nmod a;\nmod b;\npub use a::A;\nuse crate::b::B;\n",
                ),
                (
                    "src/a.rs",
                    "//! see [`crate::b`]\npub struct A;\nmod inner;\nfn f() { let s = \"crate::b::B\"; }\n// crate::b::B\n",
                ),
                (
                    "src/a/inner.rs",
                    "//! i\nuse super::A;\nuse crate::a::A as Same;\n",
                ),
                (
                    "src/b.rs",
                    "//! b\npub struct B;\nuse crate::a::A;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n",
                ),
            ],
        );
        assert_eq!(
            crate_cycles(&dir.join("src")).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_readme_that_omits_a_module_is_named() {
        let dir = temp("readme");
        write(
            &dir,
            &[
                (
                    "src/lib.rs",
                    "//! x\npub mod shown;\npub mod hidden;\nmod private;\n",
                ),
                (
                    "README.md",
                    "# x\n\n- `shown` — what it shows; `private_ish` is not it.\n",
                ),
            ],
        );
        assert_eq!(
            readme_omissions(&dir, "x").unwrap(),
            [
                "x/README.md does not name its module `hidden`",
                "x/README.md does not name its module `private`"
            ]
        );
    }

    #[test]
    fn a_binarys_modules_are_its_map_too() {
        let dir = temp("bin");
        write(
            &dir,
            &[
                ("src/main.rs", "//! x\nmod wiring;\nmod bench;\n"),
                ("README.md", "# x\n\n`wiring` builds the app.\n"),
            ],
        );
        assert_eq!(
            readme_omissions(&dir, "x").unwrap(),
            ["x/README.md does not name its module `bench`"]
        );
    }
}
