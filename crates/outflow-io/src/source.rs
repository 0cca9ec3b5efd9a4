//! Inputs that can be opened (and re-opened) as a byte stream, with transparent gzip.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

use crate::error::{IoError, Result};
use crate::store::Location;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

#[derive(Clone)]
enum Origin {
    File(PathBuf),
    Memory(Arc<[u8]>),
    #[cfg(feature = "object-store")]
    Object(crate::store::remote::ObjectLocation, u64),
}

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(p) => write!(f, "File({})", p.display()),
            Origin::Memory(b) => write!(f, "Memory({} bytes)", b.len()),
            #[cfg(feature = "object-store")]
            Origin::Object(o, size) => write!(f, "Object({}, {size} bytes)", o.url()),
        }
    }
}

/// A file, an object in a store, or an in-memory buffer to read a table from. Gzip is detected by its
/// magic bytes.
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

    /// A path, `-` (standard input), or a URL ([`Location::parse`]): an object is read as a stream when
    /// opened (two small requests here check that it exists and whether it is gzip).
    pub fn parse(location: &str) -> Result<Self> {
        Self::location(&Location::parse(location)?)
    }

    /// A local file or an object ([`Location`]).
    pub fn location(location: &Location) -> Result<Self> {
        match location {
            Location::Local(p) => Self::path(p),
            #[cfg(feature = "object-store")]
            Location::Object(o) => {
                let (size, _) = o.head()?;
                let magic = if size >= 2 { o.first_bytes(2)? } else { Vec::new() };
                Ok(Input {
                    name: o.url().to_owned(),
                    origin: Origin::Object(o.clone(), size),
                    gzip: magic == GZIP_MAGIC,
                })
            }
        }
    }

    /// The object and its size, for object inputs (Parquet reads them by ranges).
    #[cfg(all(feature = "object-store", feature = "arrow"))]
    pub(crate) fn object(&self) -> Option<(&crate::store::remote::ObjectLocation, u64)> {
        match &self.origin {
            Origin::Object(o, size) => Some((o, *size)),
            _ => None,
        }
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
            _ => None,
        }
    }

    /// Opens a fresh decompressed stream from the start. A line longer than [`MAX_LINE_BYTES`] fails the
    /// read: no flow log has one, and reading `/dev/zero` or a gzip bomb of one line must not exhaust
    /// memory. Gzip input that expands more than [`MAX_GZIP_RATIO`] times (checked once
    /// [`GZIP_RATIO_FROM`] bytes are out) fails too: flow logs compress 5 to 40 times, a decompression
    /// bomb about a thousand.
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>> {
        let raw: Box<dyn Read + Send> = match &self.origin {
            Origin::File(p) => Box::new(File::open(p).map_err(|source| IoError::Io { path: p.clone(), source })?),
            Origin::Memory(b) => Box::new(Cursor::new(Arc::clone(b))),
            #[cfg(feature = "object-store")]
            Origin::Object(o, _) => Box::new(o.reader(0)?),
        };
        Ok(if self.gzip {
            let compressed = Arc::new(AtomicU64::new(0));
            let counted = Counted { inner: raw, count: Arc::clone(&compressed) };
            let inflated = BufReader::with_capacity(1 << 17, MultiGzDecoder::new(BufReader::new(counted)));
            Box::new(LineLimit { compressed: Some(compressed), ..LineLimit::new(inflated) })
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

/// Reads until `buf` is full or the input ends; the bytes read.
pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
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

/// The most a gzip input may expand (decompressed bytes per compressed byte).
pub const MAX_GZIP_RATIO: u64 = 200;

/// Decompressed bytes after which the expansion of a gzip input is checked (small inputs of any ratio
/// cost nothing).
pub const GZIP_RATIO_FROM: u64 = 64 << 20;

/// A reader that counts the bytes read through it.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A reader that fails once a line runs past [`MAX_LINE_BYTES`], or a gzip input expands past
/// [`MAX_GZIP_RATIO`].
struct LineLimit<R> {
    inner: R,
    /// Bytes since the last line break.
    run: usize,
    /// Bytes read (decompressed).
    total: u64,
    /// Compressed bytes consumed so far, for gzip input.
    compressed: Option<Arc<AtomicU64>>,
}

impl<R: BufRead> LineLimit<R> {
    fn new(inner: R) -> Self {
        LineLimit { inner, run: 0, total: 0, compressed: None }
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
        if let Some(compressed) = &self.compressed
            && self.total > GZIP_RATIO_FROM
        {
            let packed = compressed.load(Ordering::Relaxed).max(1);
            if self.total / packed > MAX_GZIP_RATIO {
                let message = format!(
                    "gzip expands more than {MAX_GZIP_RATIO} times ({} MiB from {} KiB): a decompression bomb, not a flow log",
                    self.total >> 20,
                    packed >> 10
                );
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message));
            }
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
        self.total += amt as u64;
        self.inner.consume(amt);
    }
}
