//! Fuzz target `reader`: arbitrary bytes as an export, through the whole scan (reader, record
//! parsing, rules, outputs). A fatal error is allowed for a file without a usable header; a panic
//! never is, and a scan that ran must account for every row exactly once.
//!
//! The first byte steers the shape: bit 0 puts a canonical header in front (so the fuzzer spends
//! its time on records, not on finding a header), bits 1-2 pick its delimiter, bit 3 adds the
//! benefit catch-all of a mapping file. Run: `cargo +nightly fuzz run reader -- -max_total_time=300`.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use clap::Parser;
use libfuzzer_sys::fuzz_target;

use genoptag::cli::{Cli, Command};

const HEADER: [&str; 16] = [
    "case_id",
    "cpr",
    "municipality_code",
    "benefit",
    "decision",
    "application_date",
    "decision_date",
    "refusal_reasons",
    "refusal_text",
    "person_category",
    "program",
    "public_assistance",
    "exam",
    "exam_date",
    "prior_bonus",
    "appeal_outcome",
];

/// LeakSanitizer's suppressions for this target: the 32-byte records glibc keeps for each
/// thread-local destructor (`__cxa_thread_atexit_impl`). A scan's threads have finished their
/// work when it returns, but may still be running their thread-locals' destructors when
/// libFuzzer checks for leaks, which then finds those records unreferenced.
#[unsafe(no_mangle)]
pub extern "C" fn __lsan_default_suppressions() -> *const std::ffi::c_char {
    c"leak:__cxa_thread_atexit_impl\n".as_ptr()
}

fn workdir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("genoptag-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("catch-all.toml"),
            "[values.benefit]\n\"*\" = \"OTHER\"\n",
        )
        .expect("mapping");
        dir
    })
}

fn rows(path: &std::path::Path) -> u64 {
    let mut reader = csv::Reader::from_path(path).expect("an output file genoptag wrote");
    reader
        .byte_records()
        .map(|r| r.expect("a CSV genoptag wrote"))
        .count() as u64
}

fuzz_target!(|data: &[u8]| {
    let Some((&steer, body)) = data.split_first() else {
        return;
    };
    let dir = workdir();
    let mut export = Vec::with_capacity(data.len() + 256);
    if steer & 1 == 1 {
        let delimiter = [",", ";", "\t", "|"][usize::from((steer >> 1) & 3)];
        export.extend_from_slice(HEADER.join(delimiter).as_bytes());
        export.push(b'\n');
    }
    export.extend_from_slice(body);
    let input = dir.join("export.csv");
    std::fs::write(&input, &export).expect("write the export");

    let out = dir.join("out");
    let mut argv = vec![
        "genoptag".to_string(),
        "scan".into(),
        input.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--threads".into(),
        "1".into(),
        "--quiet".into(),
        "--audit-all".into(),
        "--batch-size".into(),
        "7".into(),
    ];
    if steer & 8 == 8 {
        argv.push("--mapping".into());
        argv.push(dir.join("catch-all.toml").display().to_string());
    }
    let cli = Cli::try_parse_from(&argv).expect("arguments");
    let Command::Scan(args) = cli.command else {
        unreachable!()
    };
    let cfg = genoptag::cmd::scan::config(&args).expect("config");
    let mut scanned = match genoptag::pipeline::scan(&cfg) {
        Ok(scanned) => scanned,
        Err(err) => {
            assert!(
                steer & 1 == 0,
                "a file with a canonical header must scan, got: {err}"
            );
            return;
        }
    };
    let c = &scanned.summary.counts;
    assert_eq!(
        c.rows_read,
        c.evaluated + c.rejected,
        "rows_read = evaluated + rejected"
    );
    assert_eq!(
        c.evaluated,
        c.reopen + c.review + c.not_affected + c.out_of_scope,
        "evaluated = the sum of the four classifications"
    );
    assert_eq!(scanned.summary.inputs[0].rows, c.rows_read);
    // The lists' last rows may still be patched in behind the scan.
    scanned.staging.finished().expect("the lists finished");
    let staging = scanned.staging.path();
    assert_eq!(
        rows(&staging.join("audit.csv")),
        c.evaluated,
        "audit.csv (--audit-all) holds every evaluated row"
    );
    assert_eq!(
        rows(&staging.join("rejects.csv")),
        c.rejected,
        "rejects.csv holds every rejected row"
    );
});
