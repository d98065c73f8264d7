//! One module per subcommand: each turns its parsed arguments into a run and an exit code.

pub mod check;
pub mod explain;
pub mod history;
pub mod rules;
pub mod scan;
