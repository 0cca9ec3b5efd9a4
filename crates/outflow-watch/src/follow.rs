//! Following a growing log like `tail -F`: one file (renamed away and recreated, or truncated), a Zeek log
//! directory (the rotated files in order, then the current one), or standard input.
//!
//! Files are polled, not watched through inotify: a poll every few tens of milliseconds costs nothing
//! measurable and works the same on every platform and network filesystem. A file is known by a
//! fingerprint of its first bytes (decompressed for gzip), not by its name or inode, so a rotated file is
//! recognised after a rename, a copy or a compression, and a read position survives restarts.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use crate::alert::sha256_hex;
use crate::error::{Result, WatchError};

/// Bytes of a file's start that identify it.
const FINGERPRINT_BYTES: u64 = 1024;
/// The longest line kept; a longer one is cut there and reported as malformed by the parser.
const MAX_LINE: usize = outflow::io::MAX_LINE_BYTES;
/// How long a gzip file that ends early is taken for one still being written.
const GZIP_GRACE: Duration = Duration::from_secs(600);
/// How long a read of standard input waits for a line before the batch so far is scored.
const STDIN_WAIT: Duration = Duration::from_millis(20);
/// A rotated plain file modified this recently may still be being written.
const ROTATED_QUIET: Duration = Duration::from_secs(2);
/// How often a directory is listed for new rotated files.
const SCAN_EVERY: Duration = Duration::from_millis(500);

/// What is followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// One log file, followed across renames and truncations.
    File(PathBuf),
    /// A Zeek log directory: rotated `LOG.*.log[.gz]` files (in it or in its dated subdirectories) in name
    /// order, then `current/LOG.log` (or `LOG.log`), followed.
    Dir {
        /// The directory.
        dir: PathBuf,
        /// The log's name (`conn`).
        log: String,
    },
    /// Standard input, read to its end.
    Stdin,
}

impl Source {
    /// A path as given on the command line: `-` is standard input, a directory is a log directory of
    /// `conn` logs, anything else a file.
    pub fn from_arg(arg: &Path) -> Source {
        if arg.as_os_str() == "-" {
            Source::Stdin
        } else if arg.is_dir() {
            Source::Dir { dir: arg.to_owned(), log: "conn".into() }
        } else {
            Source::File(arg.to_owned())
        }
    }

    /// How it is named in messages.
    pub fn describe(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Dir { dir, log } => format!("{} ({log} logs)", dir.display()),
            Source::Stdin => "standard input".into(),
        }
    }
}

/// A file's identity: the digest of its first bytes, with the name and size it was seen under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    /// The path it was read from (informative).
    pub path: String,
    /// How many leading bytes the digest covers (fewer than 1,024 only while the file was shorter).
    pub head_len: u64,
    /// SHA-256 of those bytes, hex.
    pub head_sha256: String,
    /// Device and inode it had: a file at the followed path with another inode is a new file, whatever
    /// its first bytes (a header alone is the same in every file).
    #[serde(default)]
    pub ident: Option<(u64, u64)>,
}

impl FileId {
    /// The same file as `other` (same leading bytes), whatever path it was seen under.
    fn same(&self, other: &FileId) -> bool {
        self.head_len == other.head_len && self.head_sha256 == other.head_sha256
    }

    fn matches(&self, head: &[u8]) -> bool {
        head.len() as u64 >= self.head_len && sha256_hex(&head[..self.head_len as usize]) == self.head_sha256
    }
}

/// Where reading stands: the file, the bytes of it consumed (decompressed for gzip) and its lines read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The file (none for standard input, or before any line was read).
    pub file: Option<FileId>,
    /// Bytes consumed, up to the end of the last whole line.
    pub offset: u64,
    /// Lines consumed.
    pub line: u64,
}

/// A file of a directory read before, and how far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFile {
    /// The file.
    pub file: FileId,
    /// Bytes consumed.
    pub offset: u64,
    /// Lines consumed.
    pub line: u64,
    /// Whether it was read to its end (it was rotated away or is a finished gzip file).
    pub complete: bool,
}

/// What a follower needs to carry on after a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowState {
    /// The position after the last line handed out.
    pub position: Option<Position>,
    /// Directory mode: the files already read (the latest 1,000).
    #[serde(default)]
    pub read: Vec<ReadFile>,
    /// Directory mode: rotated files whose path sorts at or before this one were read or skipped (Zeek
    /// names them by date and time, so the name orders them): a restart does not list them again.
    #[serde(default)]
    pub done_through: Option<String>,
}

/// One line of the log, without its line ending.
#[derive(Debug, Clone)]
pub struct Line {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The file's name as shown in messages.
    pub file: Arc<str>,
    /// 1-based line number in that file.
    pub number: u64,
    /// True for the first line handed out from a file (or after it was truncated): a parser keeps no
    /// header from before it.
    pub new_file: bool,
}

/// Counters of what happened to the files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowCounters {
    /// Files opened.
    pub files: u64,
    /// Renames of the followed file seen.
    pub rotations: u64,
    /// Truncations seen.
    pub truncations: u64,
    /// Lines longer than the limit (cut).
    pub long_lines: u64,
}

enum Reader {
    Plain(BufReader<File>),
    Gzip(Box<BufReader<MultiGzDecoder<File>>>),
    Stdin(Receiver<std::io::Result<Vec<u8>>>),
}

struct Open {
    path: PathBuf,
    shown: Arc<str>,
    reader: Reader,
    /// The inode (and device) for a plain file: a different one at the path means it was renamed away.
    ident: Option<(u64, u64)>,
    id: Option<FileId>,
    offset: u64,
    line: u64,
    /// Followed (plain file at the watched path) rather than read to its end.
    followed: bool,
    fresh: bool,
    /// Renamed away: read to its end once more before the new file is opened.
    draining: bool,
}

/// A `tail -F` over a [`Source`]: [`Follower::next_line`] hands out whole lines as they are written.
pub struct Follower {
    source: Source,
    open: Option<Open>,
    pending: Vec<u8>,
    carry: u64,
    queue: VecDeque<(PathBuf, u64, u64)>,
    read: Vec<ReadFile>,
    done_through: Option<String>,
    known: HashSet<PathBuf>,
    last_scan: Option<Instant>,
    counters: FollowCounters,
    notices: Vec<String>,
    stdin_done: bool,
    /// Lines handed out before reading on: the header of a file whose reading starts past it.
    header: VecDeque<Line>,
}

/// Where to start without a saved position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Start {
    /// Every line already there.
    #[default]
    Beginning,
    /// Only lines written from now on.
    End,
}

impl Follower {
    /// A follower of `source`, resuming from `state` when it holds a position, else from `start`.
    pub fn new(source: Source, state: FollowState, start: Start) -> Result<Follower> {
        let mut f = Follower {
            source,
            open: None,
            pending: Vec::new(),
            carry: 0,
            queue: VecDeque::new(),
            read: state.read,
            done_through: state.done_through,
            known: HashSet::new(),
            last_scan: None,
            counters: FollowCounters::default(),
            notices: Vec::new(),
            stdin_done: false,
            header: VecDeque::new(),
        };
        match f.source.clone() {
            Source::Stdin => f.open_stdin(),
            Source::File(path) => f.start_file(&path, state.position, start)?,
            Source::Dir { dir, .. } => {
                if !dir.is_dir() {
                    return Err(WatchError::Source(format!("{} is not a directory", dir.display())));
                }
                if let Some(p) = state.position.filter(|p| p.file.is_some()) {
                    let id = p.file.clone().expect("checked");
                    // The checkpointed position is the latest word on that file.
                    f.read.retain(|r| !r.file.same(&id));
                    f.read.push(ReadFile { file: id, offset: p.offset, line: p.line, complete: false });
                } else if start == Start::End {
                    f.skip_existing()?;
                }
                f.scan()?;
            }
        }
        Ok(f)
    }

    /// What happened since the last call (rotations, truncations, files that disappeared), for the log.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// The counters.
    pub fn counters(&self) -> &FollowCounters {
        &self.counters
    }

    /// True when reading waits for input itself (standard input): the caller need not pause.
    pub fn waits(&self) -> bool {
        matches!(self.source, Source::Stdin)
    }

    /// True once standard input has ended (never for files, which may still grow).
    pub fn finished(&self) -> bool {
        self.stdin_done
    }

    /// The state to save so that a restart resumes after the last line handed out.
    pub fn state(&mut self) -> FollowState {
        if let Some(o) = &mut self.open {
            refresh_id(o);
        }
        let position = self.open.as_ref().map(|o| Position { file: o.id.clone(), offset: o.offset, line: o.line });
        let mut read = self.read.clone();
        if read.len() > 1000 {
            read.drain(..read.len() - 1000);
        }
        FollowState { position, read, done_through: self.done_through.clone() }
    }

    /// The next whole line, or `None` when nothing more is written yet.
    pub fn next_line(&mut self) -> Result<Option<Line>> {
        if let Some(line) = self.header.pop_front() {
            return Ok(Some(line));
        }
        loop {
            if self.open.is_none() && !self.open_next()? {
                return Ok(None);
            }
            let o = self.open.as_mut().expect("opened above");
            match read_line(&mut o.reader, &mut self.pending, &mut self.carry) {
                Ok(ReadOutcome::Line(consumed, cut)) => {
                    if cut {
                        self.counters.long_lines += 1;
                    }
                    o.offset += consumed;
                    o.line += 1;
                    let mut bytes = std::mem::take(&mut self.pending);
                    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        bytes.pop();
                    }
                    let new_file = std::mem::replace(&mut o.fresh, false);
                    if o.id.is_none() || o.id.as_ref().is_some_and(|id| id.head_len < FINGERPRINT_BYTES.min(o.offset)) {
                        refresh_id(o);
                    }
                    return Ok(Some(Line { bytes, file: o.shown.clone(), number: o.line, new_file }));
                }
                Ok(ReadOutcome::Eof) => {
                    if !self.at_end()? {
                        return Ok(None);
                    }
                }
                Ok(ReadOutcome::Waiting) => return Ok(None),
                Err(e) if e.kind() == ErrorKind::UnexpectedEof && matches!(o.reader, Reader::Gzip(_)) => {
                    // A rotated file still being compressed: come back to it later.
                    let recent = modified_within(&o.path, GZIP_GRACE);
                    let o = self.open.take().expect("open");
                    self.clear_pending();
                    if recent {
                        self.known.remove(&o.path);
                        self.finish_file(o, false);
                        return Ok(None);
                    }
                    self.notices.push(format!("{}: truncated gzip stream; the rest of it is skipped", o.shown));
                    self.finish_file(o, true);
                }
                Err(e) => {
                    let o = self.open.take().expect("open");
                    self.notices.push(format!("{}: {e}; the rest of it is skipped", o.shown));
                    self.clear_pending();
                    if matches!(o.reader, Reader::Stdin(_)) {
                        self.stdin_done = true;
                        return Ok(None);
                    }
                    self.finish_file(o, true);
                }
            }
        }
    }

    /// At the end of what is written: true to carry on with another file, false to wait.
    fn at_end(&mut self) -> Result<bool> {
        let o = self.open.as_mut().expect("open");
        if !o.followed {
            // A rotated file or standard input read to its end.
            if matches!(o.reader, Reader::Stdin(_)) {
                self.stdin_done = true;
                return Ok(false);
            }
            let o = self.open.take().expect("open");
            // A rotated file that was written to a moment ago may still be being copied in: it is
            // looked at again by a later scan, from where it was left.
            let settling = matches!(o.reader, Reader::Plain(_)) && modified_within(&o.path, ROTATED_QUIET);
            if settling {
                self.known.remove(&o.path);
                self.clear_pending();
                self.finish_file(o, false);
                return Ok(false);
            }
            self.flush_partial_line();
            self.finish_file(o, true);
            return Ok(true);
        }
        match std::fs::metadata(&o.path) {
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(self.rescan_for_rotation()),
            Err(e) => Err(WatchError::Source(format!("{}: {e}", o.path.display()))),
            Ok(meta) => {
                let now = ident_of(&meta);
                if now.is_some() && now != o.ident {
                    // Renamed away and a new file created: the old one is read to its end (once more,
                    // for what was written between the last read and the rename), then the new one from
                    // its start.
                    if !o.draining {
                        o.draining = true;
                        return Ok(true);
                    }
                    self.counters.rotations += 1;
                    let o = self.open.take().expect("open");
                    self.notices.push(format!("{}: rotated; reading the new file", o.shown));
                    self.flush_partial_line();
                    self.finish_file(o, true);
                    return Ok(true);
                }
                if meta.len() < o.offset {
                    self.counters.truncations += 1;
                    self.notices.push(format!("{}: truncated; reading it from the start", o.shown));
                    self.pending.clear();
                    self.carry = 0;
                    if let Reader::Plain(r) = &mut o.reader {
                        r.seek(SeekFrom::Start(0))
                            .map_err(|e| WatchError::Source(format!("{}: {e}", o.path.display())))?;
                    }
                    o.offset = 0;
                    o.line = 0;
                    o.id = None;
                    o.fresh = true;
                    return Ok(true);
                }
                Ok(self.rescan_for_rotation())
            }
        }
    }

    /// Directory mode: whether rotated files appeared that come before the current one. Zeek's
    /// rotation renames the current file away first, so a new rotated file means the current file was
    /// finished (read to its end above).
    fn rescan_for_rotation(&mut self) -> bool {
        if !matches!(self.source, Source::Dir { .. }) {
            return false;
        }
        let due = self.last_scan.is_none_or(|t| t.elapsed() >= SCAN_EVERY);
        if due && self.scan().is_ok() && !self.queue.is_empty() {
            // The current file may be one of them under a new name: it is finished once the queue holds
            // anything unread, and its path is opened again after.
            let o = self.open.take().expect("open");
            self.flush_partial_line();
            self.finish_file(o, false);
            return true;
        }
        false
    }

    /// A partial last line of a file that will not grow any more is handed out as a line next time.
    fn flush_partial_line(&mut self) {
        // Kept in `pending`: the next file's first read appends to it, so it is dropped instead (a
        // partial line at a rotation is a torn write that Zeek never produces).
        if !self.pending.is_empty() {
            self.notices.push("an unterminated last line before a rotation was dropped".into());
        }
        self.clear_pending();
    }

    fn clear_pending(&mut self) {
        self.pending.clear();
        self.carry = 0;
    }

    fn finish_file(&mut self, o: Open, complete: bool) {
        if complete && !o.followed {
            self.note_done(&o.path);
        }
        let Some(id) = o.id else { return };
        match self.read.iter_mut().find(|r| r.file.same(&id)) {
            Some(r) => {
                r.offset = o.offset;
                r.line = o.line;
                r.complete |= complete;
            }
            None => self.read.push(ReadFile { file: id, offset: o.offset, line: o.line, complete }),
        }
    }

    /// The entry of the files read that `head` starts like, the furthest read if several do.
    fn read_entry(&self, head: &[u8], also: impl Fn(&ReadFile) -> bool) -> Option<&ReadFile> {
        self.read.iter().filter(|r| r.file.matches(head) && also(r)).max_by_key(|r| (r.complete, r.offset))
    }

    /// Directory mode: a rotated file was read to its end (or skipped on purpose).
    fn note_done(&mut self, path: &Path) {
        if !matches!(self.source, Source::Dir { .. }) {
            return;
        }
        let p = path.to_string_lossy().into_owned();
        if self.done_through.as_ref().is_none_or(|d| p > *d) {
            self.done_through = Some(p);
        }
    }

    fn open_stdin(&mut self) {
        let (tx, rx) = std::sync::mpsc::sync_channel(1 << 16);
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            loop {
                let mut buf = Vec::new();
                match lock.read_until(b'\n', &mut buf) {
                    Ok(0) => break,
                    Ok(_) => {
                        if tx.send(Ok(buf)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        self.open = Some(Open {
            path: PathBuf::from("-"),
            shown: Arc::from("<stdin>"),
            reader: Reader::Stdin(rx),
            ident: None,
            id: None,
            offset: 0,
            line: 0,
            followed: false,
            fresh: true,
            draining: false,
        });
    }

    fn start_file(&mut self, path: &Path, position: Option<Position>, start: Start) -> Result<()> {
        let Some(pos) = position.filter(|p| p.file.is_some()) else {
            // Opened now, so that a rotation before the first read does not skip the file.
            if path.exists() {
                let mut o = open_file(path, true)?;
                if start == Start::End {
                    let (end, lines) = whole_lines(path)?;
                    seek_to(&mut o, end, lines)?;
                    self.header = header_lines(path, &o.shown, end)?;
                    o.fresh = self.header.is_empty();
                }
                self.open = Some(o);
            } else {
                self.notices.push(format!("{}: no such file yet; waiting for it to appear", path.display()));
            }
            return Ok(());
        };
        let id = pos.file.clone().expect("checked");
        if let Ok(head) = read_head(path)
            && id.matches(&head)
            && std::fs::metadata(path).map(|m| m.len() >= pos.offset).unwrap_or(false)
        {
            let mut o = open_file(path, true)?;
            seek_to(&mut o, pos.offset, pos.line)?;
            o.id = Some(id);
            o.fresh = true;
            self.open = Some(o);
            return Ok(());
        }
        // The file read last was rotated while we were down: look for it next to the path (logrotate's
        // `conn.log.1`, `conn.log.1.gz`, Zeek's `conn.<time>.log`), read its rest, then the new file.
        if let Some(rotated) = find_sibling(path, &id) {
            self.notices.push(format!(
                "{} was rotated to {}; reading its rest first",
                path.display(),
                rotated.display()
            ));
            // Rotated more than once while we were down: the newer rotated files come next, oldest first.
            let newer = newer_siblings(path, &rotated);
            self.queue.push_back((rotated, pos.offset, pos.line));
            for p in newer {
                self.notices.push(format!("{} was rotated again meanwhile; reading {}", path.display(), p.display()));
                self.queue.push_back((p, 0, 0));
            }
        } else {
            self.notices.push(format!(
                "{} is not the file read before (it was rotated or replaced) and the old one was not found \
                 next to it; its unread lines, if any, are lost",
                path.display()
            ));
        }
        Ok(())
    }

    /// Opens the next file: a queued rotated file, else the followed one. False when there is none yet.
    fn open_next(&mut self) -> Result<bool> {
        if matches!(self.source, Source::Stdin) {
            return Ok(false);
        }
        if let Source::Dir { .. } = self.source {
            let due = self.last_scan.is_none_or(|t| t.elapsed() >= SCAN_EVERY);
            if self.queue.is_empty() && due {
                self.scan()?;
            }
        }
        if let Some((path, offset, line)) = self.queue.pop_front() {
            let gz = is_gzip(&path);
            let mut o = match open_file(&path, false) {
                Ok(o) => o,
                Err(e) => {
                    self.notices.push(format!("{e}; skipped"));
                    return Ok(true);
                }
            };
            o.id = read_head(&path).ok().map(|h| id_of(&path, &h));
            if offset > 0
                && let Err(e) = seek_to(&mut o, offset, line)
            {
                {
                    let recent = modified_within(&path, GZIP_GRACE);
                    if gz && recent {
                        // Still being compressed: found again by a later scan.
                        self.known.remove(&path);
                        return Ok(false);
                    }
                    self.notices.push(format!("{e}; skipped"));
                    return Ok(true);
                }
            }
            self.open = Some(o);
            return Ok(true);
        }
        let current = self.current_path();
        let Some(path) = current.filter(|p| p.is_file()) else { return Ok(false) };
        let mut o = open_file(&path, true)?;
        if let Ok(head) = read_head(&path)
            && let Some(r) = self.read_entry(&head, |r| r.file.ident.is_none() || r.file.ident == o.ident)
        {
            {
                if r.complete {
                    // Finished before (e.g. renamed back): only new files count.
                    return Ok(false);
                }
                let (offset, line) = (r.offset, r.line);
                seek_to(&mut o, offset, line)?;
                o.id = Some(r.file.clone());
            }
        }
        self.open = Some(o);
        Ok(true)
    }

    fn current_path(&self) -> Option<PathBuf> {
        match &self.source {
            Source::File(p) => Some(p.clone()),
            Source::Dir { dir, log } => {
                let name = format!("{log}.log");
                let current = dir.join("current").join(&name);
                Some(if dir.join("current").is_dir() { current } else { dir.join(name) })
            }
            Source::Stdin => None,
        }
    }

    /// Directory mode: every rotated file not seen before, in order, queued (or, at the start with
    /// [`Start::End`], marked as read).
    fn scan(&mut self) -> Result<()> {
        self.last_scan = Some(Instant::now());
        let Source::Dir { dir, log } = &self.source else { return Ok(()) };
        let mut found = rotated_files(dir, log)?;
        let done = self.done_through.clone();
        found.retain(|p| {
            !self.known.contains(p) && done.as_ref().is_none_or(|d| p.to_string_lossy().as_ref() > d.as_str())
        });
        if let Some(o) = &mut self.open {
            refresh_id(o);
        }
        for path in found {
            let Ok(head) = read_head(&path) else { continue };
            if head.is_empty() {
                continue; // not written yet
            }
            self.known.insert(path.clone());
            // The file being read, under its rotated name: the rest of it is read from there.
            if let Some(o) = self.open.as_ref().filter(|o| o.id.as_ref().is_some_and(|id| id.matches(&head))) {
                self.queue.push_back((path, o.offset, o.line));
                continue;
            }
            match self.read_entry(&head, |_| true) {
                Some(r) if r.complete => {}
                Some(r) => self.queue.push_back((path, r.offset, r.line)),
                None => self.queue.push_back((path, 0, 0)),
            }
        }
        Ok(())
    }

    fn skip_existing(&mut self) -> Result<()> {
        let Source::Dir { dir, log } = &self.source else { return Ok(()) };
        for path in rotated_files(dir, log)? {
            self.note_done(&path);
            self.known.insert(path);
        }
        if let Some(current) = self.current_path().filter(|p| p.is_file()) {
            let mut o = open_file(&current, true)?;
            let (end, lines) = whole_lines(&current)?;
            seek_to(&mut o, end, lines)?;
            self.header = header_lines(&current, &o.shown, end)?;
            o.fresh = self.header.is_empty();
            self.open = Some(o);
        }
        Ok(())
    }
}

/// The rotated files of a log in a directory and its subdirectories, oldest first: Zeek names them
/// `LOG.<start>-<end>.log[.gz]` in dated directories (zeekctl) or `LOG.<time>.log` next to the
/// current one; `current/` (the file being written) is left out.
fn rotated_files(dir: &Path, log: &str) -> Result<Vec<PathBuf>> {
    let prefix = format!("{log}.");
    let current = format!("{log}.log");
    let mut found = Vec::new();
    let list = |d: &Path| -> Result<Vec<std::fs::DirEntry>> {
        let rd = std::fs::read_dir(d).map_err(|e| WatchError::Source(format!("{}: {e}", d.display())))?;
        Ok(rd.filter_map(|e| e.ok()).collect())
    };
    let mut consider = |p: PathBuf| {
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else { return };
        if name.starts_with(&prefix)
            && name != current
            && (name.ends_with(".log") || name.ends_with(".log.gz"))
            && !name.starts_with('.')
        {
            found.push(p);
        }
    };
    for e in list(dir)? {
        let path = e.path();
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            if path.file_name().is_some_and(|n| n == "current") {
                continue;
            }
            if let Ok(sub) = list(&path) {
                for s in sub {
                    if s.file_type().map(|t| t.is_file()).unwrap_or(false) {
                        consider(s.path());
                    }
                }
            }
        } else if e.file_type().map(|t| t.is_file()).unwrap_or(false) {
            consider(path);
        }
    }
    // Dated directories sort by their names (YYYY-MM-DD), files within by their start time.
    found.sort();
    Ok(found)
}

/// The end of a plain file's last whole line and the lines before it (a line being written is read
/// from its start).
fn whole_lines(path: &Path) -> Result<(u64, u64)> {
    let err = |e: std::io::Error| WatchError::Source(format!("cannot read {}: {e}", path.display()));
    let mut file = File::open(path).map_err(err)?;
    let (mut end, mut lines, mut at) = (0u64, 0u64, 0u64);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(err(e)),
        };
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            lines += 1;
            end = at + i as u64 + 1;
        }
        at += n as u64;
    }
    Ok((end, lines))
}

/// The `#` directives at the start of a file, up to `end`, as lines: a reader that starts past them
/// still needs the header they declare.
fn header_lines(path: &Path, shown: &Arc<str>, end: u64) -> Result<VecDeque<Line>> {
    let err = |e: std::io::Error| WatchError::Source(format!("cannot read {}: {e}", path.display()));
    let mut reader = BufReader::new(File::open(path).map_err(err)?.take(end));
    let mut lines = VecDeque::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(err)? == 0
            || buf.first() != Some(&b'#')
            || buf.last() != Some(&b'\n')
        {
            break;
        }
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        let number = lines.len() as u64 + 1;
        lines.push_back(Line { bytes: buf.clone(), file: shown.clone(), number, new_file: number == 1 });
        if lines.len() > 64 {
            break;
        }
    }
    Ok(lines)
}

/// Whether a file was modified less than `age` ago.
fn modified_within(path: &Path, age: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| SystemTime::now().duration_since(t).unwrap_or_default() < age)
        .unwrap_or(false)
}

fn is_gzip(path: &Path) -> bool {
    let mut magic = [0u8; 2];
    File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && magic == [0x1f, 0x8b]
}

pub(crate) fn ident_of(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

fn open_file(path: &Path, followed: bool) -> Result<Open> {
    let err = |e: std::io::Error| WatchError::Source(format!("cannot open {}: {e}", path.display()));
    let file = File::open(path).map_err(err)?;
    let meta = file.metadata().map_err(err)?;
    let reader = if is_gzip(path) {
        Reader::Gzip(Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file))))
    } else {
        Reader::Plain(BufReader::with_capacity(1 << 16, file))
    };
    // A compressed file does not grow: it is read to its end like a rotated one.
    let followed = followed && matches!(reader, Reader::Plain(_));
    Ok(Open {
        path: path.to_owned(),
        shown: Arc::from(path.display().to_string()),
        reader,
        ident: ident_of(&meta),
        id: None,
        offset: 0,
        line: 0,
        followed,
        fresh: true,
        draining: false,
    })
}

fn seek_to(o: &mut Open, offset: u64, line: u64) -> Result<()> {
    let err = |e: std::io::Error| WatchError::Source(format!("cannot seek in {}: {e}", o.path.display()));
    match &mut o.reader {
        Reader::Plain(r) => {
            r.seek(SeekFrom::Start(offset)).map_err(err)?;
        }
        Reader::Gzip(r) => {
            let skipped = std::io::copy(&mut r.by_ref().take(offset), &mut std::io::sink()).map_err(err)?;
            if skipped < offset {
                return Err(WatchError::Source(format!(
                    "{}: shorter than the position read before ({skipped} of {offset} bytes)",
                    o.path.display()
                )));
            }
        }
        Reader::Stdin(_) => {}
    }
    o.offset = offset;
    o.line = line;
    o.fresh = true;
    Ok(())
}

/// The first bytes of a file, decompressed when it is gzip (fewer when it is shorter, or a gzip file
/// still being written).
fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let mut head = Vec::with_capacity(FINGERPRINT_BYTES as usize);
    if is_gzip(path) {
        let mut gz = MultiGzDecoder::new(file).take(FINGERPRINT_BYTES);
        match gz.read_to_end(&mut head) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {}
            Err(e) => return Err(e),
        }
    } else {
        file.take(FINGERPRINT_BYTES).read_to_end(&mut head)?;
    }
    Ok(head)
}

fn id_of(path: &Path, head: &[u8]) -> FileId {
    let ident = std::fs::metadata(path).ok().as_ref().and_then(ident_of);
    FileId { path: path.display().to_string(), head_len: head.len() as u64, head_sha256: sha256_hex(head), ident }
}

/// Fingerprints the file being read from its first bytes (at most what was read of it, so that a file
/// rewritten from the start is not mistaken for the old one).
fn refresh_id(o: &mut Open) {
    if matches!(o.reader, Reader::Stdin(_)) || o.offset == 0 {
        return;
    }
    if o.id.as_ref().is_some_and(|id| id.head_len >= FINGERPRINT_BYTES.min(o.offset)) {
        return;
    }
    // Only while the path still names the open file: after a rename it is another file.
    if o.ident.is_some() && std::fs::metadata(&o.path).ok().as_ref().and_then(ident_of) != o.ident {
        return;
    }
    if let Ok(head) = read_head(&o.path) {
        let n = (head.len() as u64).min(o.offset) as usize;
        if n == 0 {
            return;
        }
        let mut id = id_of(&o.path, &head[..n]);
        id.ident = o.ident;
        o.id = Some(id);
    }
}

/// A file next to `path` whose first bytes are those of `id`.
fn find_sibling(path: &Path, id: &FileId) -> Option<PathBuf> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".log").unwrap_or(name);
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p != path && p.is_file())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(stem)))
        .collect();
    candidates.sort();
    candidates.into_iter().find(|p| read_head(p).is_ok_and(|h| id.matches(&h)))
}

/// Files next to `path` named like it and modified after `than`, oldest first.
fn newer_siblings(path: &Path, than: &Path) -> Vec<PathBuf> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Some(stem) = path.file_name().and_then(|n| n.to_str()).map(|n| n.strip_suffix(".log").unwrap_or(n).to_owned())
    else {
        return Vec::new();
    };
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(after) = mtime(than) else { return Vec::new() };
    let mut found: Vec<(SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p != path && p != than && p.is_file())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&stem)))
        .filter_map(|p| mtime(&p).filter(|t| *t > after).map(|t| (t, p)))
        .collect();
    found.sort();
    found.into_iter().map(|(_, p)| p).collect()
}

enum ReadOutcome {
    /// A whole line (bytes consumed; whether it was cut at the limit).
    Line(u64, bool),
    /// At the end for now (the partial line so far is kept).
    Eof,
    /// Standard input has nothing yet.
    Waiting,
}

/// Reads up to the next newline into `pending`. Bytes of a line that is not finished yet stay in
/// `pending` and are counted in `carry`, so that the offset moves past whole lines only.
fn read_line(reader: &mut Reader, pending: &mut Vec<u8>, carry: &mut u64) -> std::io::Result<ReadOutcome> {
    let buf: &mut dyn BufRead = match reader {
        Reader::Plain(r) => r,
        Reader::Gzip(r) => r,
        Reader::Stdin(rx) => {
            // Waits a little for the reading thread rather than returning at once: a pipe delivers in
            // bursts, and the caller sleeps longer when nothing is there.
            return match rx.recv_timeout(STDIN_WAIT) {
                Ok(Ok(line)) => {
                    let n = line.len() as u64;
                    *pending = line;
                    let cut = pending.len() > MAX_LINE;
                    pending.truncate(MAX_LINE);
                    Ok(ReadOutcome::Line(n, cut))
                }
                Ok(Err(e)) => Err(e),
                Err(RecvTimeoutError::Timeout) => Ok(ReadOutcome::Waiting),
                Err(RecvTimeoutError::Disconnected) => Ok(ReadOutcome::Eof),
            };
        }
    };
    let mut consumed = 0u64;
    let mut cut = false;
    loop {
        let available = match buf.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            *carry += consumed;
            return Ok(ReadOutcome::Eof);
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = (MAX_LINE + 1).saturating_sub(pending.len());
        if take <= room {
            pending.extend_from_slice(&available[..take]);
        } else {
            pending.extend_from_slice(&available[..room]);
            cut = true;
        }
        buf.consume(take);
        consumed += take as u64;
        if done {
            return Ok(ReadOutcome::Line(consumed + std::mem::take(carry), cut));
        }
    }
}
