//! The `genoptag` binary: parse the command line, run the command, map errors to exit codes
//! (0 done · 1 fatal error · 2 wrong usage · 3 too many rejects).

use clap::Parser;

use genoptag::cli::{Cli, Command};
use genoptag::cmd;

fn main() {
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
