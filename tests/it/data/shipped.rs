//! The shipped data files match the sha256 sums listed in data/README.md, and carry their licences.

use sha2::{Digest, Sha256};
use std::path::Path;

#[test]
fn shipped_files_match_readme_checksums() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let readme = std::fs::read_to_string(data.join("README.md")).unwrap();
    let sums: Vec<(&str, &str)> = readme
        .lines()
        .filter_map(|l| l.split_once("  "))
        .filter(|(sum, file)| sum.len() == 64 && file.ends_with(".gz"))
        .collect();
    // Every shipped .gz file is listed, and only those.
    let mut shipped: Vec<String> = Vec::new();
    for dir in ["", "wordnet"] {
        for e in std::fs::read_dir(data.join(dir)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".gz") {
                shipped.push(if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                });
            }
        }
    }
    let mut listed: Vec<String> = sums.iter().map(|(_, f)| f.to_string()).collect();
    shipped.sort();
    listed.sort();
    assert_eq!(
        listed, shipped,
        "data/README.md lists a sha256 sum per shipped file"
    );
    for (sum, file) in sums {
        let bytes = std::fs::read(data.join(file)).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            sum,
            "{file} (rebuild with scripts/build_data.sh and update the README)"
        );
    }
    for licence in ["LICENSE.kjv", "wordnet/LICENSE"] {
        assert!(data.join(licence).is_file(), "{licence}");
    }
    let wordnet = std::fs::read_to_string(data.join("wordnet/LICENSE")).unwrap();
    assert!(wordnet.contains("WordNet 3.0 Copyright 2006 by Princeton University"));
}
