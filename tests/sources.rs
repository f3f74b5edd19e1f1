//! The data's shape is a parameter: no input size is written into the code. A literal 784
//! (28 × 28) or 196 (its words) in `src/`, `shaders/` or the page's modules (`www/`, but not
//! the generated `www/pkg/`) outside comments and test modules is a size constant that some
//! data set will not have; the readers of MNIST's own formats and the digit pad name
//! `MNIST_SIDE` (Rust) or `DIGIT_SHAPE` (`www/util/shape.js`) instead.

use std::path::{Path, PathBuf};

/// Folders the search skips: generated code (wasm-bindgen's glue, the wrapped npm packages).
const GENERATED: &[&str] = &["pkg", "vendor"];

/// Files under `dir` ending in one of `exts`, recursively.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.file_name().is_some_and(|n| GENERATED.iter().any(|g| n == *g)) {
                files(&path, exts, out);
            }
        } else if path.extension().is_some_and(|e| exts.iter().any(|x| e == *x)) {
            out.push(path);
        }
    }
}

/// `(line number, line)` of the code lines of a file: comments dropped (`//` to the end of a
/// line; lines of a `/* … */` block, which start with `/*` or `*`), and for Rust everything
/// from the first `#[cfg(test)]` on (the test modules sit at the end of a file).
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let rust = path.extension().is_some_and(|e| e == "rs");
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        if rust && line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let start = line.trim_start();
        if start.starts_with("/*") || start.starts_with('*') {
            continue;
        }
        let code = line.split("//").next().unwrap_or_default();
        if !code.trim().is_empty() {
            out.push((i + 1, code.to_string()));
        }
    }
    out
}

/// Whether `line` holds the number `n` on its own (not inside a longer number or a name).
fn has_number(line: &str, n: &str) -> bool {
    let bytes = line.as_bytes();
    line.match_indices(n).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + n.len()).copied();
        let part_of = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        !part_of(before) && !(after.is_some_and(|b| b.is_ascii_digit() || b == b'_'))
    })
}

#[test]
fn no_input_size_constant_remains_in_the_engine() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![];
    files(&root.join("src"), &["rs"], &mut paths);
    files(&root.join("shaders"), &["wgsl"], &mut paths);
    let engine = paths.len();
    files(&root.join("www"), &["js"], &mut paths);
    assert!(engine > 20, "the engine's sources were not found under {}", root.display());
    assert!(paths.len() - engine > 20, "the page's modules were not found under www/");
    assert!(!paths.iter().any(|p| p.components().any(|c| c.as_os_str() == "pkg")));
    let mut stray = vec![];
    for path in &paths {
        for (n, line) in code_lines(path) {
            if ["784", "196"].iter().any(|k| has_number(&line, k)) {
                let rel = path.strip_prefix(root).unwrap().display();
                stray.push(format!("{rel}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(stray.is_empty(), "input sizes written into the code:\n  {}", stray.join("\n  "));
}

#[test]
fn the_search_finds_what_it_looks_for() {
    // The check above must not pass because it cannot see: the matcher on its own.
    assert!(has_number("let x = 784;", "784"));
    assert!(has_number("words(196u)", "196"));
    assert!(!has_number("let x = 7840;", "784"));
    assert!(!has_number("seed_784", "784"));
    let dir = std::env::temp_dir().join(format!("latent-lab-sources-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a.rs");
    std::fs::write(&file, "// 784 in a comment\nlet d = 784;\n#[cfg(test)]\nlet t = 784;\n")
        .unwrap();
    assert_eq!(code_lines(&file), vec![(2, "let d = 784;".to_string())]);
    let js = dir.join("a.js");
    std::fs::write(&js, "/**\n * n×784 rows\n */\nconst d = 784; // 784\n").unwrap();
    assert_eq!(code_lines(&js), vec![(4, "const d = 784; ".to_string())]);
    std::fs::remove_dir_all(&dir).unwrap();
}
