//! Phase times for developers: with `GENOPTAG_TIMINGS` set, each phase's end is printed to
//! stderr as the seconds since the first mark and the process's processor time so far (user and
//! system: twice the wall time when two threads work throughout), with the phase's name (never
//! a row's data).

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
            "genoptag: timing {:>8.3} s {:>8.3} cpu-s {phase}",
            start.elapsed().as_secs_f64(),
            cpu_seconds()
        );
    }
}

/// The processor time the process has used so far, in seconds (Unix; elsewhere 0).
fn cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: `getrusage` only fills the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return seconds(usage.ru_utime) + seconds(usage.ru_stime);
        }
    }
    0.0
}
