//! A mapped input cut short while it is read: the error the run ends with instead of a crash.
//!
//! A page of a memory map past the end of a file that another program has just truncated (an
//! export job writing the file anew while the scan reads it) cannot be read: the kernel sends
//! the reader `SIGBUS`, which by default ends the process with "Bus error" and no word of which
//! file or why. While an input is mapped, a handler catches a `SIGBUS` at an address inside its
//! map, writes a message naming the file to stderr and exits with the code of a fatal error
//! (1). The staging directory is left as a crash leaves it, and the next run removes it; the
//! last run's output stays in place. A `SIGBUS` anywhere else takes its default course.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// The map being read (`START..END`; empty when none) and the message for it.
static START: AtomicUsize = AtomicUsize::new(0);
static END: AtomicUsize = AtomicUsize::new(0);
static MESSAGE: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static MESSAGE_LEN: AtomicUsize = AtomicUsize::new(0);
/// A thread has caught the fault and is ending the process.
static ENDING: AtomicBool = AtomicBool::new(false);

/// While it lives, a `SIGBUS` inside `map` ends the run with an error naming `file`. (A scan
/// maps one input at a time; of guards that overlap in one process, the last made is heard.)
pub(super) struct Guard {
    /// The message, made before any fault: the handler may only write bytes that exist.
    message: Box<[u8]>,
    start: usize,
}

impl Guard {
    pub(super) fn new(map: &[u8], file: &str) -> Guard {
        install();
        let mut message: Box<[u8]> = format!(
            "genoptag: error: {file}: the file was cut short while it was read (is another \
             program writing it?): scan it again once it is complete\n"
        )
        .into_bytes()
        .into_boxed_slice();
        let start = map.as_ptr() as usize;
        MESSAGE_LEN.store(message.len(), Ordering::SeqCst);
        MESSAGE.store(message.as_mut_ptr(), Ordering::SeqCst);
        END.store(start + map.len(), Ordering::SeqCst);
        START.store(start, Ordering::SeqCst);
        Guard { message, start }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // The map is no longer read; the message is let go with the guard.
        if START
            .compare_exchange(self.start, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            END.store(0, Ordering::SeqCst);
        }
        let _ = MESSAGE.compare_exchange(
            self.message.as_mut_ptr(),
            std::ptr::null_mut(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }
}

fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: the handler only reads atomics and calls `write` and `_exit`, which are
        // async-signal-safe; `sigaction` is given a zeroed struct with the handler filled in.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel hands a `SA_SIGINFO` handler a valid `siginfo_t`.
    let at = unsafe { (*info).si_addr() } as usize;
    let (start, end) = (START.load(Ordering::SeqCst), END.load(Ordering::SeqCst));
    if start <= at && at < end {
        if ENDING.swap(true, Ordering::SeqCst) {
            // Another thread hit the cut too and is writing the message: this one waits for
            // its `_exit`, so that the message is written once and whole.
            loop {
                // SAFETY: `pause` is async-signal-safe; it only waits.
                unsafe {
                    libc::pause();
                }
            }
        }
        let message = MESSAGE.load(Ordering::SeqCst);
        let len = MESSAGE_LEN.load(Ordering::SeqCst);
        // SAFETY: `message` points at `len` bytes leaked before the map was read; `_exit` ends
        // the process without running anything that is not async-signal-safe.
        unsafe {
            libc::write(2, message.cast(), len);
            libc::_exit(1);
        }
    }
    // Not a map this module guards: the default action, which the fault, raised again when
    // this handler returns, then takes.
    // SAFETY: `signal` is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}
