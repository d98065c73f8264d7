//! A list's patch on a thread of its own: pass 2 sends it the rows it classified again, a batch
//! at a time, and goes on to the next batch, and after the last to the counts and the report,
//! while the list is rewritten.
//!
//! On the 10M-row file the rewrite of `audit.csv` (175 MB, from its 17th kilobyte on) is the
//! long pole of pass 2: done between batches, it held up the rows' classification, and after
//! the last batch the counts and the report waited for it on one thread while the other core
//! was idle.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::patch::Patch;
use crate::error::Error;

/// A row classified again, as the three lists' patches put it in. Shared by them.
pub(in crate::pipeline) struct Replacing {
    /// Where pass 1 wrote it, or would have, in each list ([`crate::pipeline::Lists::at`]).
    pub(in crate::pipeline) at: [u64; 3],
    /// Its `source` and `line` columns.
    pub(in crate::pipeline) head: Vec<u8>,
    /// The rest of the row as pass 1 wrote it, and as it is now.
    pub(in crate::pipeline) before: Vec<u8>,
    pub(in crate::pipeline) now: Vec<u8>,
    /// Whether each list held it, and holds it now.
    pub(in crate::pipeline) was: [bool; 3],
    pub(in crate::pipeline) is: [bool; 3],
}

/// Batches that may wait for a list's thread: at most this many more than it is patching in
/// (4,096 rows a batch, about 800 bytes a row: a few megabytes however far it falls behind).
const QUEUE: usize = 2;

/// A list being patched: on a thread of its own, or here when the system would not start one.
pub(in crate::pipeline) enum Patching {
    Behind {
        send: SyncSender<Arc<[Replacing]>>,
        thread: JoinHandle<Result<(), Error>>,
    },
    Here {
        patch: Patch,
        list: usize,
    },
}

impl Patching {
    /// Starts patching `patch`, list number `list` of the three.
    pub(in crate::pipeline) fn start(patch: Patch, list: usize) -> Patching {
        let (send, receive) = sync_channel(QUEUE);
        let patch_all = move |patch| patch_all(patch, list, &receive);
        match crate::threads::spawn_or_keep("genoptag-patch", patch, patch_all) {
            Ok(thread) => Patching::Behind { send, thread },
            Err(patch) => Patching::Here { patch, list },
        }
    }

    /// Puts in a batch of rows, in input order. An error of a list's thread shows when it is
    /// [`Patching::finished`].
    pub(in crate::pipeline) fn send(&mut self, rows: &Arc<[Replacing]>) -> Result<(), Error> {
        match self {
            // A thread that stopped (on an error) has dropped its end: its error is kept.
            Patching::Behind { send, .. } => {
                let _ = send.send(Arc::clone(rows));
                Ok(())
            }
            Patching::Here { patch, list } => patch_in(patch, *list, rows),
        }
    }

    /// Puts in what is left and finishes the list.
    pub(in crate::pipeline) fn finished(self) -> Result<(), Error> {
        match self {
            Patching::Behind { send, thread } => {
                drop(send);
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }
            Patching::Here { patch, .. } => patch.finish(),
        }
    }
}

/// A list's thread: every batch as it comes, then the rest of the list.
fn patch_all(
    mut patch: Patch,
    list: usize,
    batches: &Receiver<Arc<[Replacing]>>,
) -> Result<(), Error> {
    for rows in batches {
        patch_in(&mut patch, list, &rows)?;
    }
    patch.finish()
}

fn patch_in(patch: &mut Patch, list: usize, rows: &[Replacing]) -> Result<(), Error> {
    for row in rows {
        patch.replace(
            row.at[list],
            &row.head,
            row.was[list].then_some(&row.before[..]),
            row.is[list].then_some(&row.now[..]),
        )?;
    }
    patch.run()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::dir::Staging;
    use crate::output::lists::Behind;

    /// A staged `audit.csv` of a header and rows `a,1,x` … with the places of its rows.
    fn staged(rows: usize) -> (tempfile::TempDir, Staging, Vec<u64>) {
        let dir = tempfile::tempdir().unwrap();
        let staging = Staging::create(&dir.path().join("out")).unwrap();
        let mut list = b"head\n".to_vec();
        let mut at = Vec::new();
        for k in 0..rows {
            at.push(list.len() as u64);
            list.extend_from_slice(format!("a,{k},x\n").as_bytes());
        }
        std::fs::write(staging.path().join("audit.csv"), &list).unwrap();
        (dir, staging, at)
    }

    fn replacing(at: u64, k: usize, now: &str) -> Replacing {
        Replacing {
            at: [at; 3],
            head: b"a,".to_vec(),
            before: format!("{k},x\n").into_bytes(),
            now: now.as_bytes().to_vec(),
            was: [true; 3],
            is: [!now.is_empty(); 3],
        }
    }

    fn patched(behind: bool, batches: &[Vec<usize>]) -> Vec<u8> {
        let (_dir, staging, at) = staged(50);
        let patch = Patch::new(&staging, "audit.csv", &Behind::start());
        let mut patching = if behind {
            Patching::start(patch, 0)
        } else {
            Patching::Here { patch, list: 0 }
        };
        assert_eq!(matches!(patching, Patching::Behind { .. }), behind);
        for batch in batches {
            // Even rows grow, odd ones leave the list.
            let rows: Vec<Replacing> = (batch.iter())
                .map(|&k| match k % 2 {
                    0 => replacing(at[k], k, &format!("{k},grown\n")),
                    _ => replacing(at[k], k, ""),
                })
                .collect();
            patching.send(&rows.into()).unwrap();
        }
        patching.finished().unwrap();
        std::fs::read(staging.path().join("audit.csv")).unwrap()
    }

    #[test]
    fn a_list_patched_on_its_thread_is_the_list_patched_here() {
        let batches = vec![vec![0, 3], vec![4, 5, 6], vec![], vec![20, 49]];
        let list = patched(true, &batches);
        assert_eq!(list, patched(false, &batches));
        let text = String::from_utf8(list).unwrap();
        assert!(text.starts_with("head\na,0,grown\na,1,x\na,2,x\na,4,grown\na,6,grown\na,7,x\n"));
        assert!(text.ends_with("a,48,x\n"), "{text}");
    }

    #[test]
    fn an_error_on_a_lists_thread_shows_when_it_is_finished() {
        let (_dir, staging, at) = staged(10);
        let patch = Patch::new(&staging, "audit.csv", &Behind::start());
        let mut patching = Patching::start(patch, 0);
        // Row 2 is not where row 3 is said to stand: the thread stops at the first batch.
        let wrong = replacing(at[2], 3, "3,y\n");
        patching.send(&vec![wrong].into()).unwrap();
        // What is sent after it is let go, however much: nothing waits for a thread that ended.
        for (k, &at) in at.iter().enumerate().skip(4) {
            patching.send(&vec![replacing(at, k, "")].into()).unwrap();
        }
        let err = patching.finished().unwrap_err().to_string();
        assert!(
            err.contains("differs from its first classification"),
            "{err}"
        );
    }
}
