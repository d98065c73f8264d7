//! `genoptag check`: the dry run that explains an unfamiliar export without classifying it. A
//! file is read in pieces, in parallel; what it prints is what the single streaming reader that
//! standard input goes through prints, on tricky generated exports cut into many small pieces.

use std::path::Path;
use std::process::{Command, Output};

mod support;
use support::Dice;

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

const COLUMNS: &str = "case_id,cpr,municipality_code,benefit,decision,application_date,decision_date,refusal_reasons,refusal_text,person_category,program,public_assistance,exam,exam_date,prior_bonus,appeal_outcome";

/// An export as text (as in tests/scan_fast_path.rs), with `sep` between fields and `eol` after
/// each line: quoted fields with line breaks, delimiters and doubled quotes; quoted fields that
/// hold whole lines looking like records (a cut among them is fooled); a quote in the middle of a
/// field; a lone `\r`; blank lines; rejects of every reason; a quoted `benefit`; words the
/// catch-all takes; warnings.
fn export(rows: usize, sep: char, eol: &str, seed: u64) -> String {
    let mut dice = Dice(seed);
    let texts = [
        "Du har ikke deltaget i introduktionsprogrammet.",
        "Du er ikke selvforsørgende; du modtager kontanthjælp",
        "Afslag, jf. integrationslovens §16.\nDu kan klage inden 4 uger.",
        "Prøven er \"ikke bestået\"",
        "",
        "Afslag på boligstøtte, da indkomsten overstiger grænsen.\r\nMed venlig hilsen",
    ];
    let mut out = COLUMNS.replace(',', &sep.to_string()) + eol;
    for i in 0..rows {
        let benefit = dice.pick(&["OTHER", "OTHER", "Kontanthjælp", "IL22", "AKTL22", "il22"]);
        let mut text = dice.pick(&texts).to_string();
        if dice.next(25) == 0 {
            for k in 0..6 {
                text.push_str(&format!(
                    "\nF-{k}{sep}0101801234{sep}461{sep}OTHER{sep}REFUSED{sep}{sep}2020-01-01{sep}{sep}x{sep}{sep}{sep}{sep}{sep}{sep}{sep}"
                ));
            }
        }
        let fields = [
            format!("K-{}", i % 997),
            dice.pick(&["0101801234", "3102801234", ""]).to_string(),
            dice.pick(&["461", "101", "999"]).to_string(),
            benefit.to_string(),
            dice.pick(&["REFUSED", "Afslag", "GRANTED", "Afvist"])
                .to_string(),
            dice.pick(&["2020-01-10", "", "15.03.2021", "2021-13-01"])
                .to_string(),
            dice.pick(&["2020-02-01", "01/03/2021", "2021-08-01"])
                .to_string(),
            dice.pick(&["PROGRAM", "NO_EXAM|PROGRAM", "", "X9"])
                .to_string(),
            format!("\"{}\"", text.replace('"', "\"\"")),
            dice.pick(&["REFUGEE", "familiesammenført", ""]).to_string(),
            dice.pick(&["YES", "NO", "", "ja"]).to_string(),
            dice.pick(&["YES", "NO", ""]).to_string(),
            dice.pick(&["PD2", "PD1", "", "EQUIVALENT"]).to_string(),
            dice.pick(&["2019-05-01", "", "2017-01-01"]).to_string(),
            dice.pick(&["NO", "", "YES"]).to_string(),
            dice.pick(&["", "UPHELD", "Ophævet og hjemvist"])
                .to_string(),
        ];
        let mut line = fields.join(&sep.to_string());
        let mut end = eol;
        match dice.next(30) {
            0 => line = format!("K-{i}{sep}0101801234{sep}461{sep}IL22"), // too few fields
            1 => line = line.replacen(&fields[0], "", 1),                 // empty case_id
            2 => line = line.replacen(benefit, &format!("\"{benefit}\""), 1), // a quoted benefit
            3 => line.push_str(&format!("{sep}5\" skærm")), // a quote mid-field, a field too many
            4 => line.push_str(eol),                        // a blank line after
            5 => end = "\r",                                // a lone CR ends the line too
            _ => {}
        }
        out.push_str(&line);
        out.push_str(end);
    }
    out
}

/// `check` of one input, `bytes` on standard input when `stdin`; its exit code 0 is asserted.
fn check(dir: &Path, input: &str, stdin: Option<&[u8]>, extra: &[&str]) -> String {
    let args = [&["check", input][..], extra].concat();
    let out = support::genoptag(Some(dir), &args, stdin);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Checks `bytes` as a file cut into pieces of each size, and through standard input (the single
/// reader): what is printed must be the same but for the input's name. Returns what stdin gave.
fn file_and_stdin_agree(bytes: &[u8], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("export.csv"), bytes).unwrap();
    std::fs::write(
        dir.path().join("catch-all.toml"),
        "[values.benefit]\n\"*\" = \"OTHER\"\n",
    )
    .unwrap();
    let streamed = check(dir.path(), "-", Some(bytes), extra);
    for size in ["64", "1000", "4096", "4194304"] {
        let args = [extra, &["--chunk-size", size]].concat();
        let ours = check(dir.path(), "export.csv", None, &args).replace("export.csv", "stdin");
        if ours != streamed {
            let (a, b) = (ours.lines(), streamed.lines());
            let (n, (x, y)) = (a.zip(b).enumerate().find(|(_, (x, y))| x != y))
                .unwrap_or((0, ("(as long)", "(as long)")));
            panic!(
                "--chunk-size {size}: line {} differs:\n file:  {x}\n stdin: {y}\n{ours}",
                n + 1
            );
        }
    }
    streamed
}

#[test]
fn a_tricky_export_checked_in_small_pieces_prints_what_the_single_reader_prints() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(export(3000, ';', "\r\n", 7).as_bytes());
    let printed = file_and_stdin_agree(&bytes, &[]);
    // Rejects of every kind past the 200 listed, warnings and unknown words: all compared.
    for shown in [
        "encoding:  utf-8-bom",
        "delimiter: \";\"",
        " FIELD_COUNT",
        "case_id            EMPTY_REQUIRED",
        "unknown benefit word \"Kontanthjælp\"",
        "unknown decision word \"Afvist\"",
        "UNKNOWN_REASON_CODE:X9",
        "UNREADABLE:application_date",
        "more (counted by reason above",
    ] {
        assert!(printed.contains(shown), "missing {shown:?} in:\n{printed}");
    }
}

#[test]
fn a_windows_1252_export_with_the_catch_all_checked_in_pieces_prints_what_the_single_reader_prints()
{
    let text = export(3000, ',', "\n", 11);
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable && bytes.contains(&0xE6), "æ as one byte");
    let printed = file_and_stdin_agree(&bytes, &["--mapping", "catch-all.toml"]);
    assert!(printed.contains("encoding:  windows-1252"), "{printed}");
    assert!(printed.contains("  \"Kontanthjælp\""), "{printed}");
}

#[test]
fn an_export_without_a_last_line_end_checked_in_pieces_prints_what_the_single_reader_prints() {
    let mut text = export(400, ',', "\n", 3);
    text.push_str("K-last,0101801234,461,IL22,Afvist,,2020-02-01,,,,,,,,,");
    file_and_stdin_agree(text.as_bytes(), &[]);
}

#[test]
fn a_cut_fooled_by_lines_like_records_inside_a_quoted_field_is_read_again() {
    // Each refusal text holds four to ten lines that look like whole records: a cut among them
    // passes every look, and only the piece before, read to its end, shows it wrong. (Of as
    // many lines each time, the cuts at every size tried fell where the piece before covered
    // the fooled piece whole, and no piece was read again.)
    let mut text = COLUMNS.to_string() + "\n";
    for i in 0..60 {
        let fake: Vec<String> = (0..4 + i % 7)
            .map(|k| format!("F-{k},0101801234,461,Kontanthjælp,Afvist,,2020-01-01,,x,,,,,,,"))
            .collect();
        let benefit = if i % 3 == 0 { "IL22" } else { "OTHER" };
        text.push_str(&format!(
            "K-{i},0101801234,461,{benefit},Afvist,2020-01-10,2020-02-01,,\"a\n{}\nb\",REFUGEE,NO,NO,PD2,2019-05-01,NO,\n",
            fake.join("\n")
        ));
    }
    let printed = file_and_stdin_agree(text.as_bytes(), &[]);
    assert!(
        printed.contains("rows:      60 after the header"),
        "{printed}"
    );
}

#[test]
fn thousands_of_benefit_words_the_catch_all_took_are_each_counted_as_the_single_reader_counts_them()
{
    let mut text = COLUMNS.to_string() + "\n";
    for i in 0..3000 {
        let benefit = match i % 5 {
            0 => "IL22".to_string(),
            1 => format!("\"Ydelse nr. {}\"", i % 1500),
            _ => format!("YDELSE{}", i % 1500),
        };
        text.push_str(&format!(
            "K-{i},0101801234,461,{benefit},REFUSED,2020-01-10,2020-02-01,PROGRAM,Afslag,REFUGEE,NO,NO,PD2,2019-05-01,NO,\n"
        ));
    }
    let printed = file_and_stdin_agree(text.as_bytes(), &["--mapping", "catch-all.toml"]);
    assert!(printed.contains("         2  \"YDELSE2\""), "{printed}");
}

#[test]
fn a_header_longer_than_the_first_bytes_read_is_read_whole() {
    let long = "x".repeat(100_000);
    let text = format!("{COLUMNS},{long}\nK-1,0101801234,461,IL22,REFUSED,,2020-02-01,,,,,,,,,,\n");
    let printed = file_and_stdin_agree(text.as_bytes(), &[]);
    assert!(printed.contains(&format!("extra columns (ignored): \"{long}\"")));
    assert!(printed.contains("1 bonus-related"), "{printed}");
}

#[test]
fn a_file_with_no_header_line_is_fatal_whether_empty_or_only_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("empty.csv", ""), ("blank.csv", "\r\n\n\r\n")] {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        let out = genoptag(dir.path(), &["check", name]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{name}: no header line")),
            "{name}: {stderr}"
        );
    }
}

/// A last quoted field never closed runs to the end of the export: the record is listed on the
/// line it starts on by both readers (the streaming reader had given the line before, the end's
/// line end counted twice).
#[test]
fn a_last_quoted_field_never_closed_is_listed_on_its_own_line_by_both_readers() {
    for end in ["", "\n", "\r", "\r\n", "x\"\"\n"] {
        let mut text = export(40, ',', "\n", 5);
        let line = 1 + text.matches('\n').count() + text.matches("\r").count()
            - text.matches("\r\n").count();
        text.push_str(&format!("K-9,0101801234,461,IL22,\"REFUSED\n,,{end}"));
        let printed = file_and_stdin_agree(text.as_bytes(), &[]);
        assert!(
            printed.contains(&format!(",{line},,FIELD_COUNT\n")),
            "line {line} for {end:?}: {printed}"
        );
    }
}

/// Another program that cuts an export short while `check` reads it (an export job writing the
/// file anew): the dry run ends with an error that names the file and says what happened.
#[test]
fn an_export_cut_short_while_it_is_checked_ends_with_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("export.csv"), export(2000, ',', "\n", 11)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .current_dir(dir.path())
        .args(["check", "export.csv", "--chunk-size", "65536"])
        .env("GENOPTAG_TEST_FAIL_AT", "input-cut")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "genoptag: error: export.csv: cannot read the input: the file was cut short while it \
         was read (is another program writing it?): check it again once it is complete\n"
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}
