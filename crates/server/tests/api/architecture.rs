//! The dependency graph points inward (docs/architecture.md draws it), and the HTTP layer reaches
//! data only through the engine's services: these tests keep it so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The workspace crates each crate's `[dependencies]` name.
fn internal_dependencies(krate: &str) -> Vec<String> {
    let manifest = workspace().join("crates").join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("read Cargo.toml");
    let mut in_dependencies = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with('[') {
            in_dependencies = line.trim() == "[dependencies]";
        } else if in_dependencies && line.starts_with("sb-") {
            let name = line.split(['.', ' ', '=']).next().unwrap_or_default();
            found.push(name.trim_start_matches("sb-").to_owned());
        }
    }
    found
}

#[test]
fn each_crate_depends_only_on_crates_further_in() {
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("domain", &[][..]),
        ("secrets", &[][..]),
        ("kb", &[][..]),
        ("net", &["secrets"][..]),
        ("llm", &["net", "secrets"][..]),
        ("rules", &["domain"][..]),
        ("connectors", &["domain", "net", "secrets"][..]),
        ("channels", &["domain", "net"][..]),
        ("store", &["domain"][..]),
        ("store-sql", &["domain", "store"][..]),
        ("store-sqlite", &["domain", "store", "store-sql"][..]),
        ("store-postgres", &["domain", "store", "store-sql"][..]),
        ("realtime", &["domain"][..]),
        (
            "engine",
            &["channels", "connectors", "domain", "kb", "llm", "net", "rules", "secrets", "store"]
                [..],
        ),
        ("api", &["connectors", "domain", "engine", "realtime", "secrets"][..]),
    ]);
    let crates = std::fs::read_dir(workspace().join("crates")).expect("list crates");
    for entry in crates {
        let name = entry.expect("crate folder").file_name().to_string_lossy().into_owned();
        if name == "server" {
            continue; // the composition root: it may use everything
        }
        let Some(allowed) = allowed.get(name.as_str()) else {
            panic!("crate {name} is not in this test's graph: add it, pointing inward");
        };
        for dependency in internal_dependencies(&name) {
            assert!(
                allowed.contains(&dependency.as_str()),
                "{name} must not depend on {dependency} (see docs/architecture.md)"
            );
        }
    }
}

/// Every Rust file below `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("list sources") {
        let path = entry.expect("source entry").path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            found.push((path, text));
        }
    }
    found
}

#[test]
fn the_http_layer_reaches_data_only_through_services() {
    let api = workspace().join("crates/api/src");
    let files = sources(&api);
    assert!(files.len() > 20, "expected the API's sources in {}", api.display());
    for (path, text) in files {
        for (number, line) in text.lines().enumerate() {
            let at = format!("{}:{}", path.display(), number + 1);
            let store_access = line.contains("sb_store") || line.contains(".store.");
            assert!(!store_access, "{at}: store access in the API: {line}");
            // Roles are the services' business (each rule has a unit test there).
            let permission = line.contains(".require(") || line.contains("can_grant");
            assert!(!permission, "{at}: a permission decided in the API: {line}");
        }
    }
}
