//! The domain's areas depend downward only, in the order `shared/domain/src/lib.rs` gives: an
//! upward reference (the start of an import cycle) fails.

use std::collections::BTreeSet;
use std::path::Path;

/// From the bottom.
const ORDER: [&str; 11] = [
    "kernel",
    "tenancy",
    "announce",
    "health",
    "providers",
    "connections",
    "users",
    "sync",
    "inbound",
    "connect",
    "mobile",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn domain_areas_reference_only_areas_below_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/domain/src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let rank = |area: &str| ORDER.iter().position(|a| *a == area);
    let mut upward = BTreeSet::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap();
        let area = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        let Some(from) = rank(&area) else { continue };
        let text = std::fs::read_to_string(&file).unwrap();
        for (index, _) in text.match_indices("crate::") {
            let target: String = text[index + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(to) = rank(&target)
                && to > from
            {
                upward.insert((ORDER[from], ORDER[to]));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "upward references between areas: {upward:?}"
    );
}
