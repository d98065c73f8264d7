//! `genoptag scan` end to end, through the binary: the output files and their columns, line
//! numbers of rejects, the count invariant, determinism across thread counts, exit codes, fatal
//! messages, file modes, the whole-directory replacement, and no CPR on stdout or stderr.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const HEADER: &str = "case_id,cpr,municipality_code,benefit,decision,application_date,decision_date,refusal_reasons,refusal_text,person_category,program,public_assistance,exam,exam_date,prior_bonus,appeal_outcome";

fn genoptag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .args(args)
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A small export: a reopen, a review, an other benefit, and rows that must be rejected, one
/// after a quoted refusal text holding a line break.
fn small_export() -> String {
    [
        HEADER,
        "K-1,0101801234,461,IL22,REFUSED,2020-01-10,2020-02-01,PROGRAM,,REFUGEE,NO,NO,PD2,2019-05-01,NO,",
        "K-2,0202811234,101,IL22,REFUSED,2020-01-10,2020-02-01,,\"Du er ikke selvforsørgende,\nda du modtager kontanthjælp\",REFUGEE,NO,YES,PD2,2019-05-01,NO,",
        "K-3,0303821234,101,OTHER,whatever,,not a date,,,,,,,,,",
        "K-4,0404831234,751,IL22,REFUSED,2020-01-10,15-02-20,,,,,,,,,",
        "K-5,0505841234,751,IL22",
        "K-6,0606851234,751,IL22,REFUSED,,2022-03-01,,,REFUGEE,NO,NO,PD2,2019-05-01,,",
    ]
    .join("\n")
        + "\n"
}

#[test]
fn a_scan_writes_every_output_with_the_specified_columns() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "export.csv", &small_export());
    let out = dir.path().join("out");
    let result = genoptag(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let list_header = "source,line,case_id,cpr,municipality_code,decided_by,application_date,decision_date,classification,expected_outcome,rule,c1_person,c2_self_supporting,c3_exam,c4_first_time,ground,program,warnings,explanation";
    for name in ["reopen.csv", "review.csv", "audit.csv"] {
        assert_eq!(lines(&out.join(name))[0], list_header, "{name}");
    }
    assert_eq!(
        lines(&out.join("rejects.csv"))[0],
        "source,line,column,reason,raw"
    );
    let reopen = lines(&out.join("reopen.csv"));
    assert_eq!(reopen.len(), 2, "{reopen:?}");
    assert!(
        reopen[1].contains(",K-1,") && reopen[1].contains(",REOPEN,GRANT,R1,"),
        "{}",
        reopen[1]
    );
    let review = lines(&out.join("review.csv"));
    assert!(
        review[1].contains(",K-6,") && review[1].contains("APPLICATION_DATE_MISSING"),
        "{review:?}"
    );
    // audit.csv holds the bonus-related rows only; the other benefit is only counted.
    let audit = fs::read_to_string(out.join("audit.csv")).unwrap();
    assert!(!audit.contains("K-3"));
    for name in [
        "reopen.csv",
        "review.csv",
        "audit.csv",
        "rejects.csv",
        "summary.json",
    ] {
        let mode = fs::metadata(out.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} must be readable by its owner only");
    }
}

#[test]
fn rejects_carry_the_physical_line_after_a_quoted_line_break() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "export.csv", &small_export());
    let out = dir.path().join("out");
    genoptag(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let mut rejects = csv::Reader::from_path(out.join("rejects.csv")).unwrap();
    let rows: Vec<(String, String, String)> = rejects
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[1].to_string(), r[2].to_string(), r[3].to_string())
        })
        .collect();
    // K-2's text spans lines 3-4, so K-4 starts on line 6 and K-5 on line 7.
    assert_eq!(
        rows,
        vec![
            ("6".into(), "decision_date".into(), "UNREADABLE_DATE".into()),
            ("7".into(), "".into(), "FIELD_COUNT".into()),
        ]
    );
    let audit = fs::read_to_string(out.join("audit.csv")).unwrap();
    assert!(audit.contains(",8,K-6,"), "K-6 is on line 8");
}

#[test]
fn every_row_read_is_evaluated_or_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "export.csv", &small_export());
    let out = dir.path().join("out");
    genoptag(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let s = summary(&out);
    let c = &s["counts"];
    let n = |k: &str| c[k].as_u64().unwrap();
    assert_eq!(n("rows_read"), 6);
    assert_eq!(n("rows_read"), n("evaluated") + n("rejected"));
    assert_eq!(
        n("evaluated"),
        n("REOPEN") + n("REVIEW") + n("NOT_AFFECTED") + n("OUT_OF_SCOPE")
    );
    assert_eq!(
        (
            n("REOPEN"),
            n("REVIEW"),
            n("NOT_AFFECTED"),
            n("OUT_OF_SCOPE"),
            n("rejected")
        ),
        (1, 1, 1, 1, 2)
    );
    assert_eq!(s["identification_complete"], false);
    assert_eq!(s["inputs"][0]["rows"], 6);
    assert_eq!(s["inputs"][0]["digest"].as_str().unwrap().len(), 64);
    assert_eq!(s["by_authority"]["kommune:461"]["REOPEN"], 1);
}

/// A generated export of `n` rows that spans many batches: every rule, duplicates, persons with
/// several rows, rejects, and multi-line texts.
fn many_rows(n: usize) -> String {
    let mut text = String::from(HEADER);
    text.push('\n');
    let benefits = [
        "OTHER",
        "OTHER",
        "IL22",
        "IL22",
        "IL22",
        "AKTL22",
        "DANSKTILLAEG",
    ];
    let decisions = ["REFUSED", "REFUSED", "GRANTED", "Afslag"];
    let reasons = [
        "PROGRAM",
        "",
        "NOT_SELF_SUPPORTING",
        "OTHER",
        "PROGRAM|NO_EXAM",
        "FOO",
    ];
    let texts = [
        "",
        "\"ikke omfattet af integrationsprogrammet\"",
        "\"Du er ikke selvforsørgende;\nkontanthjælp\"",
        "x",
    ];
    let yes_no = ["YES", "NO", ""];
    let exams = ["PD2", "PD1", "", "EQUIVALENT"];
    let appeals = ["", "", "UPHELD", "CHANGED", "REMITTED", "DISMISSED"];
    for i in 0..n {
        if i % 97 == 13 {
            text.push_str(&format!(
                "BAD-{i},{:02}0180{:04},461,IL22\n",
                i % 28 + 1,
                i % 10000
            ));
            continue;
        }
        let person = i % 400;
        text.push_str(&format!(
            "C-{},{:02}0{}8{}-{:04},{},{},{},{},2020-{:02}-{:02},{},{},REFUGEE,{},{},{},2019-0{}-01,{},{}\n",
            if i % 211 == 5 { i - 1 } else { i },
            person % 28 + 1,
            person % 9 + 1,
            person % 10,
            person,
            ["461", "101", "751", "999"][i % 4],
            benefits[i % benefits.len()],
            decisions[i % decisions.len()],
            if i % 5 == 0 { String::new() } else { "2019-12-01".to_string() },
            i % 12 + 1,
            i % 27 + 1,
            reasons[i % reasons.len()],
            texts[i % texts.len()],
            yes_no[i % 3],
            yes_no[(i / 3) % 3],
            exams[i % exams.len()],
            i % 9 + 1,
            yes_no[(i / 7) % 3],
            appeals[i % appeals.len()],
        ));
    }
    text
}

#[test]
fn outputs_are_byte_identical_for_any_thread_count_across_many_batches() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "big.csv", &many_rows(3000));
    let run = |threads: &str, batch: &str| {
        let out = dir.path().join(format!("out-{threads}-{batch}"));
        let result = genoptag(&[
            "scan",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--threads",
            threads,
            "--batch-size",
            batch,
        ]);
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        out
    };
    let one = run("1", "16384");
    let four = run("4", "7");
    let two = run("2", "64");
    for name in ["reopen.csv", "review.csv", "audit.csv", "rejects.csv"] {
        let a = fs::read(one.join(name)).unwrap();
        assert_eq!(
            a,
            fs::read(four.join(name)).unwrap(),
            "{name} differs between 1 and 4 threads"
        );
        assert_eq!(
            a,
            fs::read(two.join(name)).unwrap(),
            "{name} differs between 1 and 2 threads"
        );
    }
    let s = summary(&one);
    assert!(
        s["counts"]["REOPEN"].as_u64().unwrap() > 10,
        "the input must reach the lists"
    );
    assert!(s["counts"]["rejected"].as_u64().unwrap() > 10);
    assert!(
        s["counts"]["duplicates"].as_u64().unwrap() + s["rules"]["R1"].as_u64().unwrap_or(0) > 0
    );
    let mut a = summary(&one);
    let mut b = summary(&four);
    for s in [&mut a, &mut b] {
        for k in ["started_at", "finished_at", "elapsed_seconds", "threads"] {
            s[k] = serde_json::Value::Null;
        }
    }
    assert_eq!(a, b, "summary.json differs beyond times and threads");
}

#[test]
fn a_missing_required_column_is_one_line_naming_file_and_column_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "export.csv",
        "case_id,cpr,municipality_code,benefit,decision\nA,0101801234,461,IL22,REFUSED\n",
    );
    let out = dir.path().join("out");
    let result = genoptag(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8(result.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("export.csv")
            && stderr.contains("decision_date")
            && stderr.contains("--mapping"),
        "{stderr}"
    );
    assert!(!out.exists(), "a failed run leaves no output");
}

#[test]
fn a_failed_run_leaves_the_last_output_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.csv", &small_export());
    let out = dir.path().join("out");
    genoptag(&[
        "scan",
        good.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let before = fs::read(out.join("reopen.csv")).unwrap();
    let result = genoptag(&[
        "scan",
        "no-such-file.csv",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(result.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&result.stderr).contains("no-such-file.csv"));
    assert_eq!(fs::read(out.join("reopen.csv")).unwrap(), before);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "no staging directory is left behind: {leftovers:?}"
    );
}

#[test]
fn a_directory_that_is_not_an_output_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "export.csv", &small_export());
    let precious = dir.path().join("documents");
    fs::create_dir(&precious).unwrap();
    write(&precious, "letter.txt", "keep me");
    let result = genoptag(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        precious.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(1));
    assert!(precious.join("letter.txt").exists());
}

#[test]
fn rerunning_replaces_the_whole_output_directory() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "export.csv", &small_export());
    let out = dir.path().join("out");
    genoptag(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    write(&out, "stale.csv", "from an older run");
    genoptag(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(!out.join("stale.csv").exists());
    assert!(out.join("reopen.csv").exists());
}

#[test]
fn exit_codes_mean_what_the_spec_says() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "export.csv", &small_export());
    let out = dir.path().join("out");
    let path = input.to_str().unwrap();
    let out = out.to_str().unwrap();
    assert_eq!(
        genoptag(&["scan", path, "--out", out, "--quiet"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        genoptag(&["scan", path, "--out", out, "--quiet", "--max-rejects", "1"])
            .status
            .code(),
        Some(3)
    );
    assert_eq!(
        genoptag(&["scan", path, "--out", out, "--quiet", "--max-rejects", "2"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        genoptag(&["scan", path, "--out", out, "--threads", "0"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        genoptag(&["scan", path, "--out", out, "--no-such-option"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(genoptag(&["scan", "--out", out]).status.code(), Some(2));
    assert_eq!(
        genoptag(&["scan", "missing.csv", "--out", out])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn no_cpr_number_reaches_stdout_stderr_or_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let text = small_export();
    let input = write(dir.path(), "export.csv", &text);
    let out = dir.path().join("out");
    let result = genoptag(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-rejects",
        "0",
    ]);
    let shown = format!(
        "{}{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr),
        fs::read_to_string(out.join("summary.json")).unwrap()
    );
    assert!(
        shown.contains("REOPEN"),
        "the summary table is printed: {shown}"
    );
    for cpr in [
        "0101801234",
        "0202811234",
        "0404831234",
        "0505841234",
        "0606851234",
        "010180",
    ] {
        assert!(!shown.contains(cpr), "{cpr} leaked");
    }
}

#[test]
fn standard_input_is_read_and_named_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_genoptag"))
        .args(["scan", "-", "--quiet", "--out", out.to_str().unwrap()])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(small_export().as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let reopen = lines(&out.join("reopen.csv"));
    assert!(reopen[1].starts_with("stdin,2,K-1,"), "{reopen:?}");
    assert_eq!(summary(&out)["inputs"][0]["path"], "stdin");
}

#[test]
fn a_directory_input_reads_its_csv_files_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    fs::create_dir(&exports).unwrap();
    let row = |id: &str| {
        format!(
            "{HEADER}\n{id},0101801234,461,IL22,REFUSED,2020-01-10,2020-02-01,PROGRAM,,REFUGEE,NO,NO,PD2,2019-05-01,NO,\n"
        )
    };
    write(&exports, "b.csv", &row("B-1"));
    write(&exports, "a.csv", &row("A-1"));
    write(&exports, "notes.txt", "not an export");
    let out = dir.path().join("out");
    let result = genoptag(&[
        "scan",
        exports.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(result.status.success());
    let reopen = lines(&out.join("reopen.csv"));
    assert_eq!(reopen.len(), 3);
    assert!(reopen[1].contains(",A-1,") && reopen[2].contains(",B-1,"));
    // Same person, two REOPEN refusals.
    assert!(reopen[1].contains("SEVERAL_REFUSALS"));
    assert_eq!(summary(&out)["inputs"].as_array().unwrap().len(), 2);
}

#[test]
fn audit_all_writes_the_other_benefits_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "export.csv", &small_export());
    let out = dir.path().join("out");
    genoptag(&[
        "scan",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--audit-all",
    ]);
    let audit = fs::read_to_string(out.join("audit.csv")).unwrap();
    let k3 = audit.lines().find(|l| l.contains(",K-3,")).unwrap();
    assert!(k3.contains(",OUT_OF_SCOPE,,SCOPE,"), "{k3}");
}

#[test]
fn rules_prints_the_dated_parameters_and_the_table() {
    let result = genoptag(&["rules"]);
    let text = String::from_utf8(result.stdout).unwrap();
    for needle in [
        "2018-01-01",
        "2018-07-01",
        "2021-06-09",
        "lov nr. 1192 af 8. juni 2021",
        "R10",
        "hjemrejseprogram",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
}

#[test]
fn a_header_without_a_required_column_is_named_with_an_encoding_hint_and_no_cpr() {
    let dir = tempfile::tempdir().unwrap();
    // Windows-1252 `afgørelse` read as UTF-8 (forced): the header does not read.
    let latin = dir.path().join("latin.csv");
    fs::write(
        &latin,
        b"sagsnummer;cpr;afg\xf8relse\n1;010180-1234;Afslag\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let result = genoptag(&[
        "scan",
        latin.to_str().unwrap(),
        "--encoding",
        "utf-8",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("the header holds: sagsnummer, cpr, afg"),
        "{stderr}"
    );
    assert!(stderr.contains("--encoding windows-1252"), "{stderr}");

    // An export without a header row: its first row is read as the header, and its CPR
    // number is not shown.
    let headless = dir.path().join("headless.csv");
    fs::write(&headless, "SAG-1,010180-1234,461,IL22\n").unwrap();
    let result = genoptag(&[
        "scan",
        headless.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("the header holds: SAG-1, (a word"),
        "{stderr}"
    );
    assert!(!stderr.contains("010180"), "{stderr}");
    assert!(!stderr.contains("not valid UTF-8"), "{stderr}");
}

/// A one-off migration reads years of exports at once: a scan of more files than the process
/// may hold open gives the lists it gives without the limit, step 7 linking rows across them.
#[test]
fn a_scan_of_more_inputs_than_it_may_hold_open_classifies_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("exports");
    std::fs::create_dir(&inputs).unwrap();
    let header = "case_id,cpr,municipality_code,benefit,decision,application_date,decision_date,\
                  refusal_reasons,refusal_text,person_category,program,public_assistance,exam,\
                  exam_date,prior_bonus,appeal_outcome";
    let files = 300;
    for i in 0..files {
        // This file's person was granted the bonus; the next file refuses them later.
        let granted = format!(
            "A{i},0101{:06},101,IL22,GRANTED,2019-01-01,2019-02-01,,,,,,,,,",
            i
        );
        let refused = match i {
            0 => String::new(),
            _ => format!(
                "B{i},0101{:06},101,IL22,REFUSED,2020-01-01,2020-03-01,PROGRAM,,REFUGEE,NO,NO,PD2,2019-06-01,NO,\n",
                i - 1
            ),
        };
        std::fs::write(
            inputs.join(format!("export-{i:03}.csv")),
            format!("{header}\n{granted}\n{refused}"),
        )
        .unwrap();
    }
    let scan = |out: &Path, limit: &str| {
        let command = format!("{limit} exec \"$0\" scan \"$1\" --quiet --threads 2 --out \"$2\"",);
        let output = Command::new("sh")
            .args(["-c", &command, env!("CARGO_BIN_EXE_genoptag")])
            .arg(&inputs)
            .arg(out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{limit}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let (limited, free) = (dir.path().join("limited"), dir.path().join("free"));
    scan(&limited, "ulimit -n 64 &&");
    scan(&free, "");
    for list in ["audit.csv", "reopen.csv", "review.csv", "rejects.csv"] {
        let read = |out: &Path| std::fs::read_to_string(out.join(list)).unwrap();
        assert_eq!(read(&limited), read(&free), "{list}");
    }
    let audit = std::fs::read_to_string(limited.join("audit.csv")).unwrap();
    assert_eq!(
        audit.matches("PRIOR_GRANT_FOUND").count(),
        files - 1,
        "every refusal found its grant in the file before"
    );
}
