//! Fuzz target `reader`: arbitrary bytes as an export, through the whole scan (reader, record
//! parsing, rules, outputs). A fatal error is allowed for a file without a usable header; a panic
//! never is, and a scan that ran must account for every row exactly once.
//!
//! The first byte steers the shape: bit 0 puts a canonical header in front (so the fuzzer spends
//! its time on records, not on finding a header), bits 1-2 pick its delimiter, bit 3 adds the
//! benefit catch-all of a mapping file, bits 4-6 the size of the pieces the file is cut into
//! (7 bytes to 4 MiB: the cuts, and the pieces a quoted field runs past, on tiny inputs). The
//! same file then goes through `check`, whose reading in pieces is its own.
//! Run: `cargo +nightly fuzz run reader -- -max_total_time=300 -close_fd_mask=1` (`check` prints).

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

    let chunk =
        ["4194304", "7", "31", "64", "100", "257", "1000", "4096"][usize::from((steer >> 4) & 7)];
    let mapping = (steer & 8 == 8).then(|| dir.join("catch-all.toml").display().to_string());
    check(&input, chunk, mapping.as_deref(), steer & 1 == 1);

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
        "--chunk-size".into(),
        chunk.into(),
    ];
    if let Some(mapping) = &mapping {
        argv.push("--mapping".into());
        argv.push(mapping.clone());
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

/// `check` of the export, in pieces of `chunk` bytes: a fatal error only without a header.
fn check(input: &std::path::Path, chunk: &str, mapping: Option<&str>, header: bool) {
    let mut argv = vec![
        "genoptag",
        "check",
        input.to_str().expect("a UTF-8 path"),
        "--chunk-size",
        chunk,
    ];
    if let Some(mapping) = mapping {
        argv.extend(["--mapping", mapping]);
    }
    let Command::Check(args) = Cli::try_parse_from(&argv).expect("arguments").command else {
        unreachable!()
    };
    if let Err(err) = genoptag::cmd::check::run(&args) {
        assert!(
            !header,
            "a file with a canonical header must be checked, got: {err}"
        );
    }
}
