//! The output directory (SPEC §5): every file is written into a new directory beside it, which
//! takes its place only when the run has finished, so a crash never leaves a half list that looks
//! whole. Files are readable by their owner only.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A staging directory that becomes the output directory on [`Staging::commit`], and is removed
/// if dropped before.
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    committed: bool,
    /// Files being finished and written to disk in the background ([`Staging::finish_behind`]).
    syncing: Vec<Syncing>,
}

/// A file being finished and written to disk on a thread of its own, or, when the system would
/// not start one, finished and written where it was asked for.
enum Syncing {
    Behind(std::thread::JoinHandle<Result<(), Error>>),
    Done(Result<(), Error>),
}

impl Syncing {
    fn start(job: impl FnOnce() -> Result<(), Error> + Send + 'static) -> Syncing {
        match crate::threads::spawn_or_keep("genoptag-sync", job, |job| job()) {
            Ok(thread) => Syncing::Behind(thread),
            Err(job) => Syncing::Done(job()),
        }
    }

    /// Waits for the job; `dir` is named if it panicked.
    fn finished(self, dir: &Path) -> Result<(), Error> {
        match self {
            Syncing::Behind(thread) => thread.join().unwrap_or_else(|_| {
                Err(Error::output(
                    dir,
                    io::Error::other("finishing a file panicked"),
                ))
            }),
            Syncing::Done(result) => result,
        }
    }
}

fn sibling(target: &Path, tag: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    target.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

impl Staging {
    /// Prepares to replace `target`, which must be absent, empty, or an earlier run's output.
    pub fn create(target: &Path) -> Result<Staging, Error> {
        let target = if target.is_absolute() {
            target.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| Error::output(target, e))?
                .join(target)
        };
        if target.exists() {
            let is_ours = target.is_dir()
                && (target.join("summary.json").is_file()
                    || fs::read_dir(&target)
                        .map(|mut d| d.next().is_none())
                        .unwrap_or(false));
            if !is_ours {
                return Err(Error::NotAnOutputDir { path: target });
            }
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::output(parent, e))?;
        }
        remove_stale(&target, "genoptag-tmp");
        let dir = sibling(&target, "genoptag-tmp");
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
        }
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::output(&dir, e))?;
        Ok(Staging {
            dir,
            target,
            committed: false,
            syncing: Vec::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Creates a file (and its folder) in the staging directory, mode 0600.
    pub fn create_file(&self, relative: &str) -> Result<File, Error> {
        let path = self.dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| Error::output(parent, e))?;
        }
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::output(&path, e))
    }

    /// Writes finished files to disk (`fsync`), each on its own thread, while the run goes on
    /// (the report is written meanwhile): [`Staging::commit`] waits for them, and fails if one
    /// failed, before anything is put in place.
    pub fn sync_behind(&mut self, names: &[&str]) {
        for name in names {
            self.finish_behind(name, || Ok(()));
        }
    }

    /// Removes a file the run wrote for itself in the staging directory (`path`), on a thread of
    /// its own: [`Staging::commit`] waits for it.
    pub fn remove_behind(&mut self, path: &Path) {
        let path = path.to_path_buf();
        self.syncing.push(Syncing::start(move || {
            fs::remove_file(&path).map_err(|e| Error::output(&path, e))
        }));
    }

    /// Finishes a file (`finish`, on a thread of its own) and then writes it to disk, while the
    /// run goes on, as [`Staging::sync_behind`] does.
    pub fn finish_behind(
        &mut self,
        name: &str,
        finish: impl FnOnce() -> Result<(), Error> + Send + 'static,
    ) {
        let path = self.dir.join(name);
        self.syncing.push(Syncing::start(move || {
            finish()?;
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::output(&path, e))
        }));
    }

    /// Waits for the files being finished and written to disk behind the run
    /// ([`Staging::finish_behind`], [`Staging::sync_behind`]): until then a list may still be
    /// patched. [`Staging::commit`] waits for them itself; a caller that reads the staged files
    /// before (a test) waits first.
    pub fn finished(&mut self) -> Result<(), Error> {
        let mut result = Ok(());
        for syncing in self.syncing.drain(..) {
            result = result.and(syncing.finished(&self.dir));
        }
        result
    }

    /// Lets the last run's output go from the page cache, on a thread of its own while the run
    /// goes on (the report is written meanwhile): its files stay as they are, on disk and
    /// readable, but removing them after the commit then only frees their blocks. Dropping
    /// the pages took 13 ms of the 40 ms that removing a 240 MB output took here, on the run's
    /// critical path; in the tail of a run, after pass 2, a core is free for it.
    pub fn uncache_previous(&mut self) {
        if !self.target.is_dir() {
            return;
        }
        let target = self.target.clone();
        self.syncing.push(Syncing::start(move || {
            uncache(&target);
            Ok(())
        }));
    }

    /// Puts the staging directory in the target's place, once every file in it is on disk.
    pub fn commit(mut self) -> Result<PathBuf, Error> {
        self.finished()?;
        crate::timings::mark("lists finished and synced");
        let old = sibling(&self.target, "genoptag-old");
        let had_old = self.target.exists();
        if had_old {
            rename(&self.target, &old)?;
        }
        rename(&self.dir, &self.target)?;
        self.committed = true;
        crate::timings::mark("output in place");
        if had_old {
            remove_output(&old).map_err(|e| Error::output(&old, e))?;
            crate::timings::mark("previous output removed");
        }
        Ok(self.target.clone())
    }
}

/// Asks the kernel to drop the pages of the files in `dir` and in its folders from its cache
/// (`POSIX_FADV_DONTNEED`; a hint: nothing on disk changes, and a failure changes nothing).
fn uncache(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(t) if t.is_dir() => uncache(&entry.path()),
            Ok(t) if t.is_file() => {
                #[cfg(target_os = "linux")]
                if let Ok(file) = File::open(entry.path()) {
                    use std::os::fd::AsRawFd as _;
                    // SAFETY: `posix_fadvise` only reads the descriptor, which `file` holds open.
                    unsafe {
                        libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Removes a previous run's output directory. Its files are removed at once, each on its own
/// thread: most of the time goes to dropping a big list's pages from the page cache, which
/// happens after the directory is let go, so the lists' removals overlap (the last run's 235 MB
/// took 50 ms one after the other, as long as audit.csv alone at once).
fn remove_output(dir: &Path) -> io::Result<()> {
    let mut files: Vec<(u64, PathBuf)> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .map(|entry| (entry.metadata().map_or(0, |m| m.len()), entry.path()))
        .collect();
    // The biggest first: it takes longest.
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    std::thread::scope(|scope| {
        // A file no thread could be started for is removed here, after the others began.
        let removing: Vec<_> = files
            .iter()
            .map(|(_, file)| {
                let remove = move || fs::remove_file(file);
                std::thread::Builder::new()
                    .spawn_scoped(scope, remove)
                    .map_err(|_| file)
            })
            .collect();
        removing.into_iter().try_for_each(|removed| match removed {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("panicked"))),
            Err(file) => fs::remove_file(file),
        })
    })?;
    // What is left: the per-authority folders of `--split-by-authority`.
    fs::remove_dir_all(dir)
}

/// Removes the staging directories beside `target` that runs killed before they finished left
/// (`sibling(target, tag)` of a process no longer running): they hold the lists with their CPR
/// numbers. A directory whose process still runs, or whose name is not such a sibling's, stays.
fn remove_stale(target: &Path, tag: &str) {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let prefix = format!(".{}.{tag}-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && pid != std::process::id() && !running(pid) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether a process with this id runs (Linux: it has a `/proc` entry; elsewhere it is assumed
/// to run, and nothing is removed).
fn running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

fn rename(from: &Path, to: &Path) -> Result<(), Error> {
    fs::rename(from, to).map_err(|e: io::Error| Error::output(to, e))
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = self.finished();
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_left_by_a_killed_run_is_removed_and_a_running_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        // No process has an id this large (Linux's pid_max is at most 2^22).
        let stale = dir.path().join(".out.genoptag-tmp-4294967295");
        let running = dir.path().join(".out.genoptag-tmp-1");
        let other = dir.path().join(".out.genoptag-tmp-x");
        for d in [&stale, &running, &other] {
            fs::create_dir(d).unwrap();
        }
        fs::write(stale.join("reopen.csv"), "cpr").unwrap();
        let staging = Staging::create(&target).unwrap();
        assert!(!stale.exists(), "a killed run's staging is removed");
        assert!(running.exists(), "process 1 runs: its staging stays");
        assert!(other.exists(), "not a staging directory's name");
        drop(staging);
    }

    #[test]
    fn a_file_that_cannot_be_synced_keeps_the_old_output_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("summary.json"), "old").unwrap();
        let commit_fails_keeping_the_old = |staging: Staging, cause: &str| {
            let err = staging.commit().unwrap_err().to_string();
            assert!(err.contains(cause), "{err}");
            assert_eq!(
                fs::read_to_string(target.join("summary.json")).unwrap(),
                "old"
            );
        };
        let mut staging = Staging::create(&target).unwrap();
        fs::write(staging.path().join("audit.csv"), "new").unwrap();
        staging.sync_behind(&["audit.csv", "missing.csv"]);
        commit_fails_keeping_the_old(staging, "missing.csv");

        // A file finished behind the run (the lists' last rows patched in) that failed.
        let mut staging = Staging::create(&target).unwrap();
        fs::write(staging.path().join("audit.csv"), "new").unwrap();
        staging.finish_behind("audit.csv", || {
            Err(Error::output("audit.csv", io::Error::other("disk full")))
        });
        commit_fails_keeping_the_old(staging, "disk full");

        let mut staging = Staging::create(&target).unwrap();
        fs::write(staging.path().join("summary.json"), "new").unwrap();
        staging.finish_behind("summary.json", || Ok(()));
        staging.commit().unwrap();
        assert_eq!(
            fs::read_to_string(target.join("summary.json")).unwrap(),
            "new"
        );
    }

    /// Letting the last output go from the page cache changes none of its files: a run that
    /// fails after it (a full disk) leaves that output whole, folders of per-authority lists
    /// included; one that commits replaces it.
    #[test]
    fn the_last_output_let_go_from_memory_stays_whole_until_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::create_dir_all(target.join("reopen")).unwrap();
        let old = [
            ("summary.json", "{}".repeat(10_000)),
            ("audit.csv", "case;cpr\n".repeat(100_000)),
            ("reopen/kommune-101.csv", "a,b\n".repeat(5_000)),
        ];
        for (name, text) in &old {
            fs::write(target.join(name), text).unwrap();
            File::open(target.join(name)).unwrap().sync_all().unwrap();
        }
        let mut staging = Staging::create(&target).unwrap();
        staging.uncache_previous();
        fs::write(staging.path().join("summary.json"), "new").unwrap();
        staging.finish_behind("summary.json", || {
            Err(Error::output("summary.json", io::Error::other("disk full")))
        });
        assert!(staging.commit().is_err());
        for (name, text) in &old {
            assert_eq!(
                &fs::read_to_string(target.join(name)).unwrap(),
                text,
                "{name}"
            );
        }

        let mut staging = Staging::create(&target).unwrap();
        staging.uncache_previous();
        fs::write(staging.path().join("summary.json"), "new").unwrap();
        staging.commit().unwrap();
        assert_eq!(
            fs::read_to_string(target.join("summary.json")).unwrap(),
            "new"
        );
        assert!(!target.join("audit.csv").exists());
    }
}
