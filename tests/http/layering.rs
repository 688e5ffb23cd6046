//! The domain's areas depend downward only, in the order `shared/domain/src/lib.rs` gives. The
//! upward references that remain are listed here, each one a debt to pay off; a new one fails.

use std::collections::BTreeSet;
use std::path::Path;

/// From the bottom.
const ORDER: [&str; 10] = [
    "kernel",
    "tenancy",
    "announce",
    "providers",
    "connections",
    "sync",
    "inbound",
    "connect",
    "health",
    "mobile",
];

/// Upward references still standing: services and the plain types they exchange share areas.
const KNOWN_UPWARD: [(&str, &str); 8] = [
    ("tenancy", "announce"),     // Users announces user.created / user.deleted
    ("tenancy", "connections"),  // UserDirectory lists a user's connections
    ("announce", "connections"), // event payloads about connections
    ("announce", "health"),      // data.updated over a HealthBatch
    ("providers", "health"),     // the client port speaks HealthBatch and DataType
    ("providers", "inbound"),    // the client port reads pushes
    ("sync", "health"),          // the runner stores what it fetched
    ("inbound", "health"),       // notices name data types
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
    let known: BTreeSet<_> = KNOWN_UPWARD.into_iter().collect();
    let new: Vec<_> = upward.difference(&known).collect();
    assert!(
        new.is_empty(),
        "new upward references between areas: {new:?}"
    );
    let paid: Vec<_> = known.difference(&upward).collect();
    assert!(
        paid.is_empty(),
        "no longer upward, strike them from KNOWN_UPWARD: {paid:?}"
    );
}
