//! Helpers for the tests of nightly runs (ledger, report, history): running the binary on the
//! changing sample exports of `fixtures/nightly/`, and looking for CPR numbers where none may be.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The sample export of night `n` (1: the base; 2: one case added; 3: one changed, one removed).
pub fn night(n: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/nightly/night{n}.csv"))
}

/// The CPR numbers in the sample exports, as written there and in both usual forms.
pub fn fixture_cprs() -> Vec<String> {
    let mut cprs = Vec::new();
    for n in 1..=3 {
        let text = std::fs::read_to_string(night(n)).unwrap();
        for line in text.lines().skip(1) {
            let cpr = line.split(',').nth(1).unwrap().replace('-', "");
            if cpr.len() == 10 && !cprs.contains(&cpr) {
                cprs.push(format!("{}-{}", &cpr[..6], &cpr[6..]));
                cprs.push(cpr);
            }
        }
    }
    cprs
}

/// A command running genoptag in `dir`, with the test-only switches cleared.
pub fn genoptag(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genoptag"));
    cmd.current_dir(dir)
        .env_remove("GENOPTAG_TEST_FAIL_AT")
        .env("TZ", "UTC");
    cmd
}

/// `genoptag scan` of night `n` into `dir/out`, recording in `dir/ledger.db`.
pub fn scan_night(dir: &Path, n: u32) -> Output {
    genoptag(dir)
        .args(["scan", "--out", "out", "--ledger", "ledger.db"])
        .arg(night(n))
        .output()
        .unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts that a run succeeded, showing its stderr if not.
pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "genoptag failed ({:?}): {}",
        output.status,
        stderr(output)
    );
}

/// The first CPR-shaped value in `text`: ten digits in a row, or six, a hyphen and four, standing
/// alone (not inside a longer run of letters and digits, such as a hex digest).
pub fn cpr_shaped(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let alnum = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_alphanumeric);
    for start in 0..bytes.len() {
        if start > 0 && alnum(start - 1) {
            continue;
        }
        for shape in ["dddddddddd", "dddddd-dddd"] {
            let end = start + shape.len();
            if end > bytes.len() || alnum(end) {
                continue;
            }
            let fits = shape.bytes().zip(&bytes[start..end]).all(|(s, b)| {
                if s == b'd' {
                    b.is_ascii_digit()
                } else {
                    *b == s
                }
            });
            if fits {
                return Some(text[start..end].to_string());
            }
        }
    }
    None
}

/// Asserts that `text` (named `what`) holds no CPR number of the fixtures and nothing CPR-shaped.
pub fn assert_no_cpr(what: &str, text: &str) {
    for cpr in fixture_cprs() {
        assert!(!text.contains(&cpr), "{what} holds the CPR number {cpr}");
    }
    if let Some(found) = cpr_shaped(text) {
        panic!("{what} holds the CPR-shaped value {found}");
    }
}

/// The rows of a CSV file, header first, each as its fields joined by commas.
pub fn csv_rows(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The text of the report's trend row for run `run`: its cells joined by spaces.
pub fn trend_row(report: &str, run: i64) -> Option<String> {
    let start = report.find(&format!("<tr data-run=\"{run}\">"))?;
    let end = start + report[start..].find("</tr>")?;
    let mut text = String::new();
    let mut in_tag = false;
    for c in report[start..end].chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}
