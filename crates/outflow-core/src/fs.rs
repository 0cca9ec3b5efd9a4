//! Writing files so that a reader never sees half of one, and nothing is replaced unless asked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The file exists and replacing it was not asked for.
    #[error("{0} exists; pass --force (or overwrite = true) to replace it")]
    Exists(PathBuf),
    /// The operating system refused.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io { path: path.to_owned(), source }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` through a temporary file in the same directory, flushed to disk, then moved
/// into place, so a reader sees the old file or the whole new one. Without `overwrite` an existing file
/// is an error, and the check is atomic: the new file is linked into place only if the name is free (a
/// concurrent writer of the same name loses instead of being overwritten).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("out.csv");
/// outflow_core::write_atomic(&p, b"a,b\n", false).unwrap();
/// assert!(matches!(outflow_core::write_atomic(&p, b"x", false), Err(outflow_core::WriteError::Exists(_))));
/// outflow_core::write_atomic(&p, b"c,d\n", true).unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"c,d\n");
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), WriteError> {
    let mut f = AtomicFile::create(path, overwrite)?;
    f.write_all(bytes).map_err(io(path))?;
    f.commit()
}

/// A file written in parts — a table too large to hold, batch by batch — that appears at its path only
/// when [`AtomicFile::commit`] is called, whole: until then it is a temporary file in the same
/// directory (`.NAME.PID.N.tmp`), removed if the writer is dropped uncommitted. Replacing an existing
/// file follows [`write_atomic`]'s rules.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("scores.csv");
/// let mut f = outflow_core::AtomicFile::create(&p, false).unwrap();
/// f.write_all(b"row\n0\n").unwrap();
/// assert!(!p.exists());
/// f.write_all(b"1\n").unwrap();
/// f.commit().unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"row\n0\n1\n");
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    overwrite: bool,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicFile {
    /// Starts the file (an existing one without `overwrite` is an error at once).
    pub fn create(path: &Path, overwrite: bool) -> Result<Self, WriteError> {
        if !overwrite && path.exists() {
            return Err(WriteError::Exists(path.to_owned()));
        }
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{unique}.tmp", std::process::id()));
        // Errors name the user's path, not the temporary file's.
        if !dir.is_dir() {
            let why = format!("{} is not a directory", dir.display());
            return Err(io(path)(std::io::Error::new(std::io::ErrorKind::NotFound, why)));
        }
        let file = std::fs::File::create(&tmp).map_err(io(path))?;
        Ok(AtomicFile {
            path: path.to_owned(),
            tmp,
            overwrite,
            file: Some(std::io::BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The path the file will have.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the file to disk and moves it into place.
    pub fn commit(mut self) -> Result<(), WriteError> {
        let file = self.file.take().expect("a file until committed");
        let tmp = self.tmp.clone();
        let result = (|| {
            let f = file.into_inner().map_err(|e| io(&self.path)(e.into_error()))?;
            f.sync_all().map_err(io(&self.path))?;
            drop(f);
            if self.overwrite {
                return std::fs::rename(&tmp, &self.path).map_err(io(&self.path));
            }
            match std::fs::hard_link(&tmp, &self.path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(WriteError::Exists(self.path.clone())),
                // A file system without hard links: the check above is the best we can do.
                Err(_) if !self.path.exists() => std::fs::rename(&tmp, &self.path).map_err(io(&self.path)),
                Err(e) => Err(io(&self.path)(e)),
            }
        })();
        let _ = std::fs::remove_file(&tmp);
        result
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.as_mut().expect("a file until committed").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().expect("a file until committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_temporary_file_is_left_and_races_lose() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.json");
        let results: Vec<bool> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|i| {
                    let p = p.clone();
                    s.spawn(move || write_atomic(&p, format!("{i}").as_bytes(), false).is_ok())
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(results.iter().filter(|&&ok| ok).count(), 1);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.json")]);
        let e = write_atomic(&dir.path().join("no/such/dir/x"), b"x", true).unwrap_err();
        assert!(e.to_string().contains("no/such/dir"), "{e}");
    }
}
