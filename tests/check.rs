//! `genoptag check`: the dry run that explains an unfamiliar export without classifying it.

use std::path::Path;
use std::process::{Command, Output};

const CPR_A: &str = "0101801234";
const CPR_B: &str = "150385-4321";

fn genoptag(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run genoptag")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A Windows-1252 export from a system that names its own columns: Danish aliases, one header only
/// the mapping knows, an extra column, benefit words of its own, and four kinds of broken row.
fn danish_export(dir: &Path) {
    let rows: Vec<String> = vec![
        "Sagsnummer;CPR;Kommunekode;Ydelse;Afgørelse;Dato for afgørelse;Begrundelse;Sagsbehandler"
            .into(),
        format!(
            "S-1;{CPR_A};101;Danskbonus (IL § 22);Afslag;01-03-2020;Ikke i introduktionsprogrammet;Ærlig Åse"
        ),
        format!("S-2;{CPR_B};101;Kontanthjælp;Bevilget;01-03-2020;;Ærlig Åse"),
        format!("S-3;{CPR_B};101;Kontanthjælp;Bevilget;02-03-2020;;Ærlig Åse"),
        format!("S-4;{CPR_B};101;Boligstøtte;Bevilget;02-03-2020;;Ærlig Åse"),
        format!("S-5;{CPR_A};101;Danskbonus (IL § 22);Afvist;01-03-2020;;Ærlig Åse"),
        format!("S-6;{CPR_A};101;Danskbonus (IL § 22);Afslag;01-03-20;;Ærlig Åse"),
        format!("S-7;{CPR_A};101"),
        format!(";{CPR_A};101;Danskbonus (IL § 22);Afslag;01-03-2020;;Ærlig Åse"),
        format!("S-9;{CPR_A};999;Danskbonus (IL § 22);Afslag;01-03-2020;;Ærlig Åse"),
    ];
    let utf8 = rows.join("\r\n") + "\r\n";
    let (latin, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&utf8);
    assert!(!unmappable);
    std::fs::write(dir.join("export.csv"), &latin).unwrap();
    std::fs::write(
        dir.join("mapping.toml"),
        r#"
[columns]
decision_date = "Dato for afgørelse"

[values.benefit]
"Danskbonus (IL § 22)" = "IL22"
"*" = "OTHER"
"#,
    )
    .unwrap();
}

#[test]
fn check_explains_an_unfamiliar_export_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    danish_export(dir.path());
    let out = genoptag(
        dir.path(),
        &["check", "export.csv", "--mapping", "mapping.toml"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for expected in [
        "== export.csv",
        "encoding:  windows-1252 (detected",
        "delimiter: \";\" (sniffed",
        "rows:      9 after the header: 2 bonus-related",
        "3 of other benefits",
        "4 would be rejected",
        "case_id            by a Danish alias  \"Sagsnummer\"",
        "decision_date      by the mapping     \"Dato for afgørelse\"",
        "refusal_text       by a Danish alias  \"Begrundelse\"",
        "exam_date          absent",
        "extra columns (ignored): \"Sagsbehandler\"",
        "         2  \"Kontanthjælp\"",
        "         1  \"Boligstøtte\"",
        "         1  UNKNOWN_MUNICIPALITY",
        "unknown decision word \"Afvist\": map it in [values.decision]",
        "  export.csv,6,decision,UNKNOWN_VALUE",
        "  export.csv,7,decision_date,UNREADABLE_DATE",
        "  export.csv,8,,FIELD_COUNT",
        "  export.csv,9,case_id,EMPTY_REQUIRED",
        "1 input, 9 rows: 5 readable, 4 would be rejected.",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(!stdout.contains("REOPEN"), "check does not classify");
}

#[test]
fn check_shows_no_cpr_number_and_no_raw_row_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    danish_export(dir.path());
    let out = genoptag(
        dir.path(),
        &["check", "export.csv", "--mapping", "mapping.toml"],
    );
    let all = text(&out.stdout) + &text(&out.stderr);
    for cpr in [CPR_A, CPR_B, "010180-1234", "1503854321"] {
        assert!(!all.contains(cpr), "a CPR number on stdout/stderr:\n{all}");
    }
    assert!(!all.contains("Ærlig Åse"), "a raw field was shown:\n{all}");
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["export.csv", "mapping.toml"], "check wrote a file");
}

#[test]
fn without_the_catch_all_an_unknown_benefit_is_a_reject_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    danish_export(dir.path());
    std::fs::write(
        dir.path().join("mapping.toml"),
        "[columns]\ndecision_date = \"Dato for afgørelse\"\n",
    )
    .unwrap();
    let out = genoptag(
        dir.path(),
        &["check", "export.csv", "--mapping", "mapping.toml"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.contains("unknown benefit word \"Kontanthjælp\": map it in [values.benefit], or add the catch-all"),
        "{stdout}"
    );
    assert!(
        stdout.contains("export.csv,3,benefit,UNKNOWN_VALUE"),
        "{stdout}"
    );
}

#[test]
fn a_required_column_missing_is_fatal_and_names_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    danish_export(dir.path());
    let out = genoptag(dir.path(), &["check", "export.csv"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("export.csv")
            && stderr.contains("decision_date")
            && stderr.contains("--mapping"),
        "{stderr}"
    );
}

#[test]
fn a_mapped_header_the_file_lacks_is_fatal_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    danish_export(dir.path());
    std::fs::write(
        dir.path().join("mapping.toml"),
        "[columns]\ndecision_date = \"Afgørelsesdato\"\n",
    )
    .unwrap();
    let out = genoptag(
        dir.path(),
        &["check", "export.csv", "--mapping", "mapping.toml"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("export.csv")
            && stderr.contains("[columns] decision_date = \"Afgørelsesdato\""),
        "{stderr}"
    );
}

#[test]
fn delimiter_and_encoding_given_are_said_to_be_given() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.csv"),
        format!("case_id|cpr|municipality_code|benefit|decision|decision_date\n1|{CPR_A}|101|IL22|REFUSED|2020-03-01\n"),
    )
    .unwrap();
    let out = genoptag(
        dir.path(),
        &["check", "a.csv", "--delimiter", "|", "--encoding", "utf-8"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        stdout.contains("encoding:  utf-8 (as given by --encoding)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("delimiter: \"|\" (as given by --delimiter)"),
        "{stdout}"
    );
    assert!(stdout.contains("rejects: none"), "{stdout}");
}

#[test]
fn a_badly_broken_export_lists_its_first_rejects_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut export = String::from(
        "case_id,cpr,municipality_code,benefit,decision,application_date,decision_date,refusal_reasons,refusal_text,person_category,program,public_assistance,exam,exam_date,prior_bonus,appeal_outcome\n",
    );
    for i in 0..250 {
        // One field short: every row is a reject.
        export.push_str(&format!(
            "S-{i},{CPR_A},101,IL22,REFUSED,,2020-03-01,,,,,,,,\n"
        ));
    }
    std::fs::write(dir.path().join("export.csv"), export).unwrap();
    let out = genoptag(dir.path(), &["check", "export.csv"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("250 would be rejected"), "{stdout}");
    assert!(stdout.contains("export.csv,201,,FIELD_COUNT"), "{stdout}");
    assert!(
        !stdout.contains("export.csv,202,"),
        "only the first 200 are listed: {stdout}"
    );
    assert!(
        stdout.contains("… and 50 more (counted by reason above; `genoptag scan` writes every one to rejects.csv)"),
        "{stdout}"
    );
    assert!(!stdout.contains(CPR_A), "{stdout}");
}
