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
    /// What the prefix held when it was claimed (with `force`): replaced by the new run.
    existing: Vec<String>,
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

/// Claims a run directory in a store before any work: no other run may be writing it (a lock object,
/// created only if absent, comes first), and its prefix must otherwise hold nothing unless `force`.
pub fn claim_remote_run(dest: &Location, force: bool) -> Result<RemoteRunClaim> {
    dest.check_writable()?;
    let lock = dest.join(LOCK);
    let note = format!("outflow pid {}\n", std::process::id());
    match lock.write(note.as_bytes(), false) {
        Ok(()) => {}
        Err(outflow_io::IoError::Store { kind: StoreErrorKind::AlreadyExists, .. }) => {
            return Err(RunDirError::Busy(shown(dest)).into());
        }
        Err(e) => return Err(e.into()),
    }
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).push(lock.clone());
    // From here on the claim releases the lock however this ends.
    let mut claim = RemoteRunClaim { dest: dest.clone(), lock, existing: Vec::new(), released: false };
    let mut existing = dest.list()?;
    existing.retain(|n| n != LOCK);
    if !existing.is_empty() && !force {
        return Err(RunDirError::NotEmpty(shown(dest)).into());
    }
    claim.existing = existing;
    Ok(claim)
}

impl RemoteRunClaim {
    /// Where the run goes.
    pub fn location(&self) -> &Location {
        &self.dest
    }

    /// Uploads the finished run in `staged` and releases the lock. An earlier run's `summary.json` goes
    /// first (the prefix stops looking complete), then every file of the new run, then the earlier run's
    /// files the new one does not have, and `summary.json` last. On failure there is no `summary.json`:
    /// what this run uploaded is removed (as far as the store still answers), and a run it replaced is
    /// left without its summary — incomplete, never mistaken for either run.
    pub fn publish(mut self, staged: &Path) -> Result<()> {
        let mut names = Location::from(staged).list()?;
        names.retain(|n| n != LOCK && n != INCOMPLETE && n != SUMMARY && !is_temporary(n));
        if !staged.join(SUMMARY).is_file() {
            return Err(RunDirError::MissingFile(staged.join(SUMMARY)).into());
        }
        if self.existing.iter().any(|n| n == SUMMARY) {
            self.dest.join(SUMMARY).delete()?;
        }
        let mut uploaded: Vec<&str> = Vec::new();
        let result = (|| {
            for name in &names {
                upload(staged, name, &self.dest, true)?;
                uploaded.push(name);
            }
            for old in self.existing.iter().filter(|o| *o != SUMMARY && !names.contains(o)) {
                self.dest.join(old).delete()?;
            }
            upload(staged, SUMMARY, &self.dest, true)
        })();
        if let Err(e) = result {
            // A summary the server stored before the failure reached us goes too.
            let _ = self.dest.join(SUMMARY).delete();
            for n in &uploaded {
                let _ = self.dest.join(n).delete();
            }
            return Err(e);
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

/// Uploads the files `names` (relative paths under `staged`) to `dest`, replacing objects of the same
/// names (a caller that must not replace checks first).
pub fn upload_files(staged: &Path, names: &[String], dest: &Location) -> Result<()> {
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
    if names.iter().any(|n| n == LOCK) {
        return Err(RunDirError::Busy(shown(src)).into());
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
        let tmp = tempfile::Builder::new()
            .prefix("outflow-run-")
            .tempdir()
            .map_err(|source| OutflowError::File { path: std::env::temp_dir(), source })?;
        let dir = tmp.path().join("run");
        let run = download_run(at, &dir).and_then(|()| super::RunDir::read(&dir))?;
        Ok(super::RunDir { dir: shown(at), ..run })
    }
}
