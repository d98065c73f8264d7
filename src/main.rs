//! The `genoptag` binary: parse the command line, run the command, map errors to exit codes
//! (0 done · 1 fatal error · 2 wrong usage · 3 too many rejects).

use clap::Parser;

use genoptag::cli::{Cli, Command};
use genoptag::cmd;

fn main() {
    no_huge_pages();
    prompt_purging();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Scan(args) => cmd::scan::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Rules => {
            print!("{}", cmd::rules::text());
            Ok(0)
        }
        Command::History(args) => cmd::history::run(args),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("genoptag: error: {err}");
            std::process::exit(err.exit_code());
        }
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's own option setter (in the library the `mimalloc` crate links).
unsafe extern "C" {
    fn mi_option_set(option: libc::c_int, value: libc::c_long);
}

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e`.
const MI_OPTION_PURGE_DELAY: libc::c_int = 15;

/// Makes mimalloc give freed memory back to the system after 10 ms (its v2 default) instead of
/// the second its v3 waits: with a second, the index freed after settling was still resident
/// when the second pass began, and the 10M-row scan peaked at 113-119 MB instead of 85-91 MB.
/// At once (0) gives 81 MB but costs ~0.2 s in page faults and TLB flushes of memory freed and
/// used again (three alternating runs of each, BENCHMARKS.md).
/// A `MIMALLOC_PURGE_DELAY` in the environment wins.
fn prompt_purging() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets one of mimalloc's options; any value is valid, and it is read as memory is
    // freed, so setting it first thing in `main` governs the whole run.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 10) }
}

/// Keeps transparent huge pages out of this process (Linux). Its memory is a compact index and
/// batches that come and go; in 2 MiB pages, handed out by the kernel now and then (this machine
/// runs DAMON, which can advise them), the same 10M-row scan was measured at 250-560 MiB of
/// resident memory instead of 90. Pages of 4 KiB cost nothing measurable here.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process; its result is not needed.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
