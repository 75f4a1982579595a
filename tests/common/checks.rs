//! Running ptk on the samples and checking what a run did: its exit, what it said,
//! and the files it left.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::{ptk, repo, text};

/// Runs ptk in `dir` with `args` followed by the flags naming the shipped register and
/// templates and the store `dir/ptk.db`: what most commands of a test take.
pub fn ptk_samples(dir: &Path, args: &[&str]) -> Output {
    ptk_samples_with(dir, &repo().join("templates"), args)
}

/// [`ptk_samples`] with the templates in `templates` instead of the shipped ones.
pub fn ptk_samples_with(dir: &Path, templates: &Path, args: &[&str]) -> Output {
    let (store, register) = (dir.join("ptk.db"), repo().join("samples/register.csv"));
    let mut all = args.to_vec();
    all.extend([
        "--store",
        store.to_str().unwrap(),
        "--register",
        register.to_str().unwrap(),
        "--templates",
        templates.to_str().unwrap(),
    ]);
    ptk(dir, &all)
}

/// The shipped respondents file, samples/respondents.csv.
pub fn sample_respondents() -> PathBuf {
    repo().join("samples/respondents.csv")
}

/// Checks a run exited with `code` (showing all it printed if not); returns its output.
pub fn exited(out: Output, code: i32) -> Output {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// Checks a run printed `words` on its standard output (showing what it printed if not).
pub fn says(out: &Output, words: &str) {
    let said = text(&out.stdout);
    assert!(said.contains(words), "wanted {words:?} in:\n{said}");
}

/// Checks a run printed `words` on its standard error (showing what it printed if not).
pub fn complains(out: &Output, words: &str) {
    let said = text(&out.stderr);
    assert!(said.contains(words), "wanted {words:?} in:\n{said}");
}

/// Every file below `dir` (relative path) with the SHA-256 of its bytes: taken before
/// and after a command to show it changed nothing there.
pub fn tree_hashes(dir: &Path) -> std::collections::BTreeMap<PathBuf, String> {
    use sha2::Digest;
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap();
            let sha: String = sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (e.path().strip_prefix(dir).unwrap().to_path_buf(), sha)
        })
        .collect()
}
