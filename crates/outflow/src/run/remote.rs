//! Run directories in object stores (`s3://bucket/runs/r1`, …): a run is written to a local staging
//! directory as usual, then published — every file uploaded whole, `summary.json` last — so a reader of
//! the store sees either no `summary.json` (an unfinished or failed run, which [`download_run`] refuses)
//! or a complete run.

use std::path::{Path, PathBuf};

use outflow_io::store::{Location, StoreErrorKind};

use super::write::{INCOMPLETE, LOCK};
use super::{RunDirError, SUMMARY};
use crate::error::{OutflowError, Result};

/// A run directory in a store, held by one run: its prefix was checked (empty unless `force`) and a lock
/// object created before any work. Dropped without [`RemoteRunClaim::publish`] — the run failed — the
/// lock is removed and nothing else was written.
#[derive(Debug)]
pub struct RemoteRunClaim {
    dest: Location,
    lock: Location,
    /// The prefix held nothing before: a failed upload removes what it wrote.
    was_empty: bool,
    released: bool,
}

/// The remote claims this process holds, released by [`super::abandon_active_runs`] on a signal.
static ACTIVE: std::sync::Mutex<Vec<Location>> = std::sync::Mutex::new(Vec::new());

pub(crate) fn abandon_remote_runs() {
    let claims = std::mem::take(&mut *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()));
    for lock in claims {
        let _ = lock.delete();
    }
}

fn shown(l: &Location) -> PathBuf {
    PathBuf::from(l.to_string())
}

/// Claims a run directory in a store before any work: its prefix must hold nothing (but a lock) unless
/// `force`, and no other run may be writing it (a lock object, created only if absent).
pub fn claim_remote_run(dest: &Location, force: bool) -> Result<RemoteRunClaim> {
    dest.check_writable()?;
    let existing = dest.list()?;
    let lock = dest.join(LOCK);
    if existing.iter().any(|n| n == LOCK) {
        return Err(RunDirError::Busy(shown(dest)).into());
    }
    if !existing.is_empty() && !force {
        return Err(RunDirError::NotEmpty(shown(dest)).into());
    }
    let note = format!("outflow pid {}\n", std::process::id());
    match lock.write(note.as_bytes(), false) {
        Ok(()) => {}
        Err(outflow_io::IoError::Store { kind: StoreErrorKind::AlreadyExists, .. }) => {
            return Err(RunDirError::Busy(shown(dest)).into());
        }
        Err(e) => return Err(e.into()),
    }
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).push(lock.clone());
    Ok(RemoteRunClaim { dest: dest.clone(), lock, was_empty: existing.is_empty(), released: false })
}

impl RemoteRunClaim {
    /// Where the run goes.
    pub fn location(&self) -> &Location {
        &self.dest
    }

    /// Uploads the finished run in `staged` (every file, `summary.json` last) and releases the lock. On
    /// failure `summary.json` is not there: the run is never taken for complete; what was uploaded is
    /// removed when the prefix was empty before (as far as the store still answers).
    pub fn publish(mut self, staged: &Path) -> Result<()> {
        let mut names = Location::from(staged).list()?;
        names.retain(|n| n != LOCK && n != INCOMPLETE && n != SUMMARY && !is_temporary(n));
        if !staged.join(SUMMARY).is_file() {
            return Err(RunDirError::MissingFile(staged.join(SUMMARY)).into());
        }
        names.push(SUMMARY.to_owned());
        let mut uploaded = Vec::new();
        for name in &names {
            match upload(staged, name, &self.dest, true) {
                Ok(()) => uploaded.push(name),
                Err(e) => {
                    if self.was_empty {
                        for n in &uploaded {
                            let _ = self.dest.join(n).delete();
                        }
                    }
                    return Err(e);
                }
            }
        }
        self.release();
        Ok(())
    }

    fn release(&mut self) {
        if !self.released {
            self.released = true;
            let _ = self.lock.delete();
            let lock = self.lock.to_string();
            ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|l| l.to_string() != lock);
        }
    }
}

impl Drop for RemoteRunClaim {
    fn drop(&mut self) {
        self.release();
    }
}

fn is_temporary(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    file.starts_with('.') && file.ends_with(".tmp")
}

/// Uploads `staged/name` to `dest/name` whole.
fn upload(staged: &Path, name: &str, dest: &Location, overwrite: bool) -> Result<()> {
    let local = Location::from(staged).join(name);
    let bytes = local.read()?;
    Ok(dest.join(name).write(&bytes, overwrite)?)
}

/// Uploads the files `names` (relative paths under `staged`) to `dest`; an existing object is replaced
/// only with `overwrite` (checked for all of them before the first upload).
pub fn upload_files(staged: &Path, names: &[String], dest: &Location, overwrite: bool) -> Result<()> {
    if !overwrite {
        for n in names {
            if dest.join(n).exists()? {
                return Err(OutflowError::Io(outflow_io::IoError::Store {
                    url: dest.join(n).to_string(),
                    kind: StoreErrorKind::AlreadyExists,
                    message: "exists; pass --force to replace it".into(),
                }));
            }
        }
    }
    for n in names {
        upload(staged, n, dest, true)?;
    }
    Ok(())
}

/// Downloads a finished run directory (its `summary.json` present) into the local directory `into`
/// (created), so [`super::RunDir::read`] and the report can read it.
pub fn download_run(src: &Location, into: &Path) -> Result<()> {
    let names = src.list()?;
    if names.is_empty() {
        return Err(RunDirError::NotADirectory(shown(src)).into());
    }
    if !names.iter().any(|n| n == SUMMARY) {
        return Err(RunDirError::MissingFile(shown(&src.join(SUMMARY))).into());
    }
    for name in names.iter().filter(|n| *n != LOCK && !is_temporary(n)) {
        // Object names come from the store: one that would leave `into` is refused.
        if name.split('/').any(|p| p.is_empty() || p == "." || p == ".." || p.contains('\\')) {
            return Err(RunDirError::invalid(shown(&src.join(name)), "not a file name of a run directory").into());
        }
        let bytes = src.join(name).read()?;
        let path = name.split('/').fold(into.to_owned(), |p, part| p.join(part));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| OutflowError::File { path: parent.to_owned(), source })?;
        }
        outflow_core::write_atomic(&path, &bytes, true)?;
    }
    Ok(())
}

impl super::RunDir {
    /// Reads a run directory at a path or in a store (downloaded to a temporary directory, removed
    /// afterwards; `dir` then holds the URL).
    pub fn read_at(at: &Location) -> Result<super::RunDir> {
        if let Some(dir) = at.as_local() {
            return super::RunDir::read(dir);
        }
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = std::env::temp_dir().join(format!("outflow-run-{}-{unique}", std::process::id()));
        let result = download_run(at, &tmp).and_then(|()| super::RunDir::read(&tmp));
        let _ = std::fs::remove_dir_all(&tmp);
        result.map(|run| super::RunDir { dir: shown(at), ..run })
    }
}
