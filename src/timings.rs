//! Phase times for developers: with `GENOPTAG_TIMINGS` set, each phase's end is printed to
//! stderr as the seconds since the first mark, with the phase's name (never a row's data).

use std::sync::OnceLock;
use std::time::Instant;

/// When the first phase began, or `None` when the times are not wanted.
fn start() -> Option<Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    *START.get_or_init(|| std::env::var_os("GENOPTAG_TIMINGS").map(|_| Instant::now()))
}

/// Marks the end of `phase` (the first call starts the clock).
pub fn mark(phase: &str) {
    if let Some(start) = start() {
        eprintln!(
            "genoptag: timing {:>8.3} s {phase}",
            start.elapsed().as_secs_f64()
        );
    }
}
