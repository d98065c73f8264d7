//! What a run asks of its memory allocator, mimalloc (the binary's global allocator; a library
//! user with another allocator is not affected): when freed memory goes back to the system.

use libmimalloc_sys::{mi_collect, mi_option_set};

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps memory freed before it gives it back to the system: a second (its v3
/// default) rather than 10 ms. Pass 1 frees and takes again the memory of every batch of rows;
/// given back at once, each batch paid page faults and TLB flushes for it again (~10 % of the
/// CPU time of a 10M-row scan, `perf`). The big free, the index after settling, is given back
/// by [`release_freed`] instead. A `MIMALLOC_PURGE_DELAY` in the environment wins.
pub fn keep_freed_memory_a_while() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets one of mimalloc's options; any value is valid, and it is read as memory is
    // freed, so setting it first thing in `main` governs the whole run.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 1000) }
}

/// Gives the memory freed so far back to the system now: called once the index is settled and
/// most of it freed, so that it is not resident into pass 2 (113-119 MB instead of ~85 at the
/// 10M-row scan's peak).
pub fn release_freed() {
    // SAFETY: `mi_collect` only returns free memory of mimalloc's heaps to the system; it is
    // safe to call at any time, from any thread.
    unsafe { mi_collect(true) }
}

/// Lets the process end without mimalloc giving its memory back range by range: the system
/// takes it all at once at exit. At the end of the 10M-row scan, mimalloc's collection on exit
/// made some 60 `madvise` calls, 11 ms; called when the command is done, just before exit.
pub fn keep_memory_to_the_end() {
    // SAFETY: as in `keep_freed_memory_a_while`; a negative delay turns purging off.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}
