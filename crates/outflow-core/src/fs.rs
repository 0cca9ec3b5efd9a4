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
    if !overwrite && path.exists() {
        return Err(WriteError::Exists(path.to_owned()));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{unique}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        if overwrite {
            return std::fs::rename(&tmp, path).map_err(io(path));
        }
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(WriteError::Exists(path.to_owned())),
            // A file system without hard links: the check above is the best we can do.
            Err(_) if !path.exists() => std::fs::rename(&tmp, path).map_err(io(path)),
            Err(e) => Err(io(path)(e)),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result
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
