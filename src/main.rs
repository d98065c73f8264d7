//! The `genoptag` binary: parse the command line, run the command, map errors to exit codes
//! (0 done · 1 fatal error, a bug's panic too · 2 wrong usage · 3 too many rejects).

use clap::Parser;

use genoptag::cli::{Cli, Command};
use genoptag::cmd;

fn main() {
    genoptag::timings::mark("start");
    genoptag::panics::report_as_internal_errors();
    no_huge_pages();
    genoptag::memory::keep_freed_memory_a_while();
    let cli = Cli::parse();
    // A panic was reported where it happened (`panics`); the staging directory went as it
    // unwound.
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &cli.command {
        Command::Scan(args) => cmd::scan::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Rules => {
            print!("{}", cmd::rules::text());
            Ok(0)
        }
        Command::History(args) => cmd::history::run(args),
    }));
    genoptag::memory::keep_memory_to_the_end();
    genoptag::timings::mark("end");
    let Ok(result) = run else {
        std::process::exit(1);
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
