//! Inputs that can be opened (and re-opened) as a byte stream, with transparent gzip.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::error::{IoError, Result};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

#[derive(Debug, Clone)]
enum Origin {
    File(PathBuf),
    Memory(Arc<[u8]>),
}

/// A file or an in-memory buffer to read a table from. Gzip is detected by its magic bytes.
#[derive(Debug, Clone)]
pub struct Input {
    name: String,
    origin: Origin,
    gzip: bool,
}

impl Input {
    /// A file on disk; `-` reads standard input into memory.
    pub fn path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if path == Path::new("-") {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf).map_err(|source| IoError::Io { path: path.to_owned(), source })?;
            return Ok(Input::bytes("<stdin>", buf));
        }
        let mut f = File::open(path).map_err(|source| IoError::Io { path: path.to_owned(), source })?;
        if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(IoError::Io { path: path.to_owned(), source: std::io::Error::other("is a directory") });
        }
        let mut magic = [0u8; 2];
        let n = read_up_to(&mut f, &mut magic).map_err(|source| IoError::Io { path: path.to_owned(), source })?;
        Ok(Input {
            name: path.display().to_string(),
            origin: Origin::File(path.to_owned()),
            gzip: n == 2 && magic == GZIP_MAGIC,
        })
    }

    /// An in-memory buffer (gzip or plain).
    pub fn bytes(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        let bytes: Vec<u8> = bytes.into();
        let gzip = bytes.starts_with(&GZIP_MAGIC);
        Input { name: name.into(), origin: Origin::Memory(bytes.into()), gzip }
    }

    /// The name used in error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the input is gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// The path, for file inputs.
    pub fn file_path(&self) -> Option<&Path> {
        match &self.origin {
            Origin::File(p) => Some(p),
            Origin::Memory(_) => None,
        }
    }

    /// Opens a fresh decompressed stream from the start. A line longer than [`MAX_LINE_BYTES`] fails the
    /// read: no flow log has one, and reading `/dev/zero` or a gzip bomb of one line must not exhaust
    /// memory.
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>> {
        let raw: Box<dyn Read + Send> = match &self.origin {
            Origin::File(p) => Box::new(File::open(p).map_err(|source| IoError::Io { path: p.clone(), source })?),
            Origin::Memory(b) => Box::new(Cursor::new(Arc::clone(b))),
        };
        Ok(if self.gzip {
            Box::new(LineLimit::new(BufReader::with_capacity(1 << 17, MultiGzDecoder::new(BufReader::new(raw)))))
        } else {
            Box::new(LineLimit::new(BufReader::with_capacity(1 << 17, raw)))
        })
    }

    /// Reads the first `n` decompressed bytes (fewer if the input is shorter). A read failure after some
    /// bytes returns those bytes: the reader that follows reports the failure with its line number.
    pub fn head(&self, n: usize) -> Result<Vec<u8>> {
        let mut r = self.open()?;
        let mut buf = vec![0u8; n];
        let mut got = 0;
        while got < n {
            match r.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if got == 0 => return Err(self.read_error(0, e)),
                Err(_) => break,
            }
        }
        buf.truncate(got);
        Ok(buf)
    }

    /// Maps a read failure to a typed error; for gzip input it is a decompression error.
    pub(crate) fn read_error(&self, line: u64, e: std::io::Error) -> IoError {
        let path = PathBuf::from(&self.name);
        if self.gzip {
            IoError::Decompress { path, line, message: e.to_string() }
        } else {
            IoError::Io { path, source: e }
        }
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The longest line an input may hold (8 MiB).
pub const MAX_LINE_BYTES: usize = 8 << 20;

/// The most columns an input may have (flow logs have tens; CICFlowMeter about 80). Above it a header,
/// or JSON keys that differ from line to line, would build that many columns of every row.
pub const MAX_FIELDS: usize = 10_000;

/// A reader that fails once a line runs past [`MAX_LINE_BYTES`].
struct LineLimit<R> {
    inner: R,
    /// Bytes since the last line break.
    run: usize,
}

impl<R: BufRead> LineLimit<R> {
    fn new(inner: R) -> Self {
        LineLimit { inner, run: 0 }
    }
}

impl<R: BufRead> Read for LineLimit<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineLimit<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.run > MAX_LINE_BYTES {
            let message = format!("a line longer than {} MiB: not a flow log", MAX_LINE_BYTES >> 20);
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The bytes about to be consumed are still buffered: looking at them reads nothing.
        if let Ok(buf) = self.inner.fill_buf() {
            let part = &buf[..amt.min(buf.len())];
            self.run = match memchr::memrchr(b'\n', part) {
                Some(i) => part.len() - i - 1,
                None => self.run + part.len(),
            };
        }
        self.inner.consume(amt);
    }
}
