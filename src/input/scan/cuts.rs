//! Where a file is cut into pieces for reading in parallel ([`split_by`]): just after a line
//! end where the next records look whole, found by the quick scan in a small window read near
//! each cut, never through the file's memory map.

use std::ops::ControlFlow;

use super::{Found, Layout, RecordParser, SplitRow, scan};
use crate::input::records::Fields;

/// Where to cut data of `len` bytes from `from` on into pieces of about `size` bytes for reading
/// in parallel: each cut is just after a line end where the next records look whole (`width`
/// fields each, nothing the quick scan doubts). A look can be fooled by a quoted field that holds
/// whole lines; the reader then finds the piece before does not end at the cut, and reads on
/// from where it does. The data is read only near each cut, through `read(at, out, n)` (the `n`
/// bytes from `at` into `out`), a window at a time: a file is then looked at in a few hundred
/// small reads, never through its memory map (where, on Linux, each page touched can bring a
/// whole large folio of the page cache into the process: hundreds of MB at once).
pub fn split_by(
    len: usize,
    from: usize,
    size: usize,
    layout: Layout,
    width: usize,
    parser: &mut RecordParser,
    read: impl FnMut(usize, &mut Vec<u8>, usize) -> std::io::Result<()>,
) -> std::io::Result<Vec<usize>> {
    // The first window looked at near a cut (it grows 4 times over while it cannot tell).
    const WINDOW: usize = 16 << 10;
    split_in_windows(len, from, size, layout, width, parser, read, WINDOW)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn split_in_windows(
    len: usize,
    from: usize,
    size: usize,
    layout: Layout,
    width: usize,
    parser: &mut RecordParser,
    mut read: impl FnMut(usize, &mut Vec<u8>, usize) -> std::io::Result<()>,
    first_window: usize,
) -> std::io::Result<Vec<usize>> {
    // The largest window: past it, the rest is read as one piece.
    const MOST: usize = 64 << 20;
    let size = size.max(1);
    let mut starts = vec![from];
    let mut window = Vec::new();
    let mut near = from.saturating_add(size);
    'cuts: while near < len {
        let mut want = first_window.max(1);
        loop {
            let n = want.min(len - near);
            read(near, &mut window, n)?;
            match record_start_in(&window, near + n == len, layout, width, parser) {
                Start::At(at) => {
                    starts.push(near + at);
                    near = (near + at).saturating_add(size);
                    continue 'cuts;
                }
                Start::MoreNeeded if near + n < len && want < MOST => want *= 4,
                Start::MoreNeeded | Start::None => break 'cuts,
            }
        }
    }
    Ok(starts)
}

/// Moves each cut after the first (`cuts` as [`split_by`] makes them, for data of `len` bytes)
/// forward to the first record start where the records on either side differ in field `person`
/// (the CPR number, as written): a person's rows that stand together in the input then fall in
/// one piece, which settles them among themselves as it is read (`pipeline::mapped::piece`).
/// Only the records in a window read at each cut are looked at, and never those of the next
/// piece; where no such place is found there, the cut stays. A record without the field
/// counts as another person's.
pub fn between_persons(
    cuts: &mut [usize],
    len: usize,
    layout: Layout,
    person: usize,
    parser: &mut RecordParser,
    mut read: impl FnMut(usize, &mut Vec<u8>, usize) -> std::io::Result<()>,
) -> std::io::Result<()> {
    const WINDOW: usize = 16 << 10;
    let (mut window, mut fields) = (Vec::new(), Vec::new());
    // For a record the quick scan found but cannot split where it stands (a doubled quote).
    let mut full = RecordParser::new(layout.delimiter);
    for k in 1..cuts.len() {
        let at = cuts[k];
        let until = cuts.get(k + 1).copied().unwrap_or(len);
        let n = WINDOW.min(until.saturating_sub(at));
        read(at, &mut window, n)?;
        let mut moved = None;
        // The field of the record before, once one is read (`None` in it: a record without it).
        let mut before: Option<Option<Vec<u8>>> = None;
        scan(&window, 0, window.len(), layout, parser, |found| {
            let (span, value) = match found {
                Found::Quick(span) => {
                    let raw = &window[span.start..span.end];
                    let value = match SplitRow::split(raw, layout.delimiter, &mut fields) {
                        Some(row) => row.get(person).map(<[u8]>::to_vec),
                        None => (full.parse(raw).is_some())
                            .then(|| full.record.get(person).map(<[u8]>::to_vec))
                            .flatten(),
                    };
                    (span, value)
                }
                Found::Parsed(span, record) => (span, record.get(person).map(<[u8]>::to_vec)),
            };
            // A record that runs to the window's end may go on past it.
            if span.end >= window.len() && at + n < len {
                return ControlFlow::Break(());
            }
            if let Some(before) = &before
                && (before.is_none() || *before != value)
            {
                moved = Some(span.start);
                return ControlFlow::Break(());
            }
            before = Some(value);
            ControlFlow::Continue(())
        });
        if let Some(start) = moved {
            cuts[k] = at + start;
        }
    }
    Ok(())
}

/// What [`record_start_in`] found.
enum Start {
    At(usize),
    /// The window ended before it could tell.
    MoreNeeded,
    None,
}

/// The first position after a line end in `window` (data from a position to cut near; `at_end`
/// when it runs to the end of the data) where the next records look whole.
fn record_start_in(
    window: &[u8],
    at_end: bool,
    layout: Layout,
    width: usize,
    parser: &mut RecordParser,
) -> Start {
    const TRIES: usize = 64;
    const RECORDS: usize = 4;
    let undecided = if at_end {
        Start::None
    } else {
        Start::MoreNeeded
    };
    let mut at = 0;
    for _ in 0..TRIES {
        let Some(line_end) = window[at..].iter().position(|&b| b == b'\n') else {
            return undecided;
        };
        let candidate = at + line_end + 1;
        if candidate >= window.len() {
            return undecided;
        }
        let (mut seen, mut whole, mut cut_short) = (0, true, false);
        scan(window, candidate, window.len(), layout, parser, |found| {
            seen += 1;
            let span = match found {
                Found::Quick(span) | Found::Parsed(span, _) => span,
            };
            // A record that runs to the window's end may go on past it.
            cut_short = !at_end && span.end >= window.len();
            whole &= !cut_short && matches!(found, Found::Quick(span) if span.fields == width);
            if whole && seen < RECORDS {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        });
        if cut_short || (whole && seen < RECORDS && !at_end) {
            return Start::MoreNeeded;
        }
        if whole {
            return Start::At(candidate);
        }
        at = candidate;
    }
    Start::None
}
