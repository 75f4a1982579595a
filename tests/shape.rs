//! The code's shape, checked: no import cycles between the modules of any folder
//! (the developers' brief: "move the shared piece down"), by scripts/module-cycles.py.

mod common;

use common::repo;

/// Every folder under src/ that holds modules, at any depth.
fn module_folders(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.push(path.clone());
            module_folders(&path, out);
        }
    }
}

#[test]
fn no_folder_has_an_import_cycle() {
    let mut folders = Vec::new();
    module_folders(&repo().join("src"), &mut folders);
    folders.sort();
    assert!(folders.len() >= 10, "{folders:?}");
    let out = std::process::Command::new("python3")
        .arg(repo().join("scripts/module-cycles.py"))
        .args(&folders)
        .output()
        .expect("python3 runs (the tests need Python 3: README)");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "import cycles:\n{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(said.matches("no cycles").count(), folders.len(), "{said}");
}
