//! `scan --mapping FILE.toml` end to end (SPEC §6.3): a mapping makes a system's own export
//! readable, and a wrong one stops the run before any output replaces the last run's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/shapes")
        .join(name)
}

fn scan(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .arg("scan")
        .arg("--quiet")
        .args(args)
        .output()
        .expect("run genoptag")
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn without_its_mapping_a_systems_own_benefit_words_are_rejects_not_guesses() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let result = scan(&[
        fixture("danish.csv").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let s = summary(&out);
    // Only the built-in word "Dansktillæg" (one row) is known; the short row is a FIELD_COUNT.
    assert_eq!(s["counts"]["rows_read"], 27);
    assert_eq!(s["counts"]["evaluated"], 1);
    assert_eq!(s["rejects_by_reason"]["UNKNOWN_VALUE"], 25);
    assert_eq!(s["rejects_by_reason"]["FIELD_COUNT"], 1);
    assert_eq!(s["identification_complete"], false);
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert!(rejects.contains(",2,benefit,UNKNOWN_VALUE,"), "{rejects}");

    let mapped = dir.path().join("mapped");
    let result = scan(&[
        fixture("danish.csv").as_os_str(),
        "--out".as_ref(),
        mapped.as_os_str(),
        "--mapping".as_ref(),
        fixture("mapping.toml").as_os_str(),
    ]);
    assert!(result.status.success());
    assert_eq!(summary(&mapped)["counts"]["evaluated"], 25);
}

#[test]
fn a_header_only_the_mapping_knows_is_read_and_reported_as_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("export.csv");
    std::fs::write(
        &input,
        "Sag ID,cpr,municipality_code,Ydelsesart,decision,Dato for afgørelse\n\
         K-1,0101801234,101,Danskbonus - engangsbeløb,Afslået helt,2020-03-01\n",
    )
    .unwrap();
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(
        &mapping,
        r#"
[columns]
case_id = "Sag ID"
benefit = "Ydelsesart"
decision_date = "Dato for afgørelse"

[values.decision]
"Afslået helt" = "REFUSED"

[values.benefit]
"Danskbonus - engangsbeløb" = "IL22"
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let result = scan(&[
        input.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--mapping".as_ref(),
        mapping.as_os_str(),
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let s = summary(&out);
    // Read as an IL § 22 refusal with nothing else known: R9, a caseworker must look.
    assert_eq!(s["counts"]["rejected"], 0, "{s}");
    assert_eq!(s["rules"]["R9"], 1, "{s}");
    assert_eq!(s["inputs"][0]["columns"]["case_id"]["found"], "mapping");
    assert_eq!(s["inputs"][0]["columns"]["case_id"]["header"], "Sag ID");
    assert_eq!(
        s["inputs"][0]["columns"]["decision_date"]["found"],
        "mapping"
    );
}

#[test]
fn a_wrong_mapping_stops_the_scan_names_the_key_and_keeps_the_last_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let ok = scan(&[
        fixture("canonical.csv").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(ok.status.success());
    let before = std::fs::read(out.join("audit.csv")).unwrap();

    for (text, named) in [
        (
            "[values.decision]\n\"Afvist\" = \"REJECTED\"\n",
            "`[values.decision] \"Afvist\"`",
        ),
        (
            "[columns]\ncase_id = \"Sag ID\"\n",
            "`[columns] case_id = \"Sag ID\"`",
        ),
        ("[column]\ncase_id = \"Sag ID\"\n", "unknown key `column`"),
        (
            "[patterns]\nPROGRAMME = [\"forløb\"]\n",
            "`[patterns] PROGRAMME`",
        ),
    ] {
        let mapping = dir.path().join("bad.toml");
        std::fs::write(&mapping, text).unwrap();
        let result = scan(&[
            fixture("canonical.csv").as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--mapping".as_ref(),
            mapping.as_os_str(),
        ]);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(named), "{named} not in: {stderr}");
        assert_eq!(
            std::fs::read(out.join("audit.csv")).unwrap(),
            before,
            "a failed run replaced the last output"
        );
    }

    let missing = dir.path().join("missing.toml");
    let result = scan(&[
        fixture("canonical.csv").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--mapping".as_ref(),
        missing.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1));
    assert!(
        stderr.contains("missing.toml: cannot read the mapping file"),
        "{stderr}"
    );
}

#[test]
fn explain_reads_an_export_through_the_same_mapping_as_scan() {
    let explain = |mapping: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_genoptag"));
        cmd.arg("explain")
            .arg(fixture("danish.csv"))
            .args(["--case", "S2"]);
        if mapping {
            cmd.arg("--mapping").arg(fixture("mapping.toml"));
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = explain(true);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("matches \"ikke deltaget i forloeb\" (PROGRAM)")
            && text.contains("Result: REOPEN · rule R1"),
        "the mapping's pattern and words decide: {text}"
    );
    let (_, text) = explain(false);
    assert!(!text.contains("Result: REOPEN"), "{text}");
}
