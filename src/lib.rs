//! genoptag: finds the refusals of danskbonus under integrationsloven § 22 that must be reopened
//! after Ankestyrelsen's 2021 practice change. See `SPEC.md` in the shared folder for the contract.

pub mod cli;
pub mod cmd;
pub mod error;
pub mod input;
pub mod ledger;
pub mod memory;
pub mod output;
pub mod panics;
pub mod pipeline;
pub mod rules;
pub mod threads;
pub mod timings;
