//! Where a user's files live: a local path, or an object in a store named by a URL — `s3://bucket/key`
//! (`s3a://` too), `gs://bucket/key`, `az://container/key` (`abfs[s]://…`), `http(s)://host/path` (read
//! only), `file:///path` — read and written whole, or read as a stream.
//!
//! Object stores come from the `object_store` crate (feature `object-store`), configured the way each
//! provider's own tools are: credentials, region and endpoint from the standard environment variables
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_PROFILE` with `~/.aws/credentials` and `~/.aws/config`; `GOOGLE_APPLICATION_CREDENTIALS`;
//! `AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY`, …), else the instance's metadata service.
//! An `http://` endpoint (a local S3 server) is allowed without further setting.
//!
//! Writes are whole from a reader's point of view: a local file goes through a temporary file and a
//! rename ([`outflow_core::write_atomic`]); an object is one `PUT`, or a multipart upload completed only
//! when every part is in (aborted on failure) for objects of [`MULTIPART_FROM`] bytes or more. Without
//! `overwrite` an existing object is refused, atomically for single `PUT`s (`If-None-Match: *`).
//!
//! Errors name the URL and what went wrong, never a credential: messages from a server are cut to its
//! error code and message, with the values of credential variables masked.
//!
//! ```
//! use outflow_io::store::Location;
//! let dir = tempfile::tempdir().unwrap();
//! let run = Location::parse(&format!("file://{}", dir.path().display())).unwrap();
//! run.join("summary.json").write(b"{}", false).unwrap();
//! assert_eq!(run.join("summary.json").read().unwrap(), b"{}");
//! assert_eq!(run.list().unwrap(), vec!["summary.json".to_string()]);
//! let e = Location::parse("ftp://host/conn.log").unwrap_err().to_string();
//! assert!(e.contains("ftp://host/conn.log") && e.contains("s3://"), "{e}");
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{IoError, Result};

/// Objects of this many bytes or more are uploaded in parts (of [`PART_BYTES`]); smaller ones in one
/// request.
pub const MULTIPART_FROM: usize = 16 << 20;

/// The size of each part of a multipart upload (S3's minimum is 5 MiB).
pub const PART_BYTES: usize = 8 << 20;

/// What kind of failure a store reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The URL is not one this build reads (scheme, bucket name, shape).
    InvalidUrl,
    /// No such object or bucket.
    NotFound,
    /// The object exists and replacing it was not asked for.
    AlreadyExists,
    /// The credentials were refused or lack the permission.
    Denied,
    /// The store cannot do this (a write to an `http(s)://` URL).
    Unsupported,
    /// The network or the server failed.
    Other,
}

/// A local path, or an object named by a URL.
#[derive(Clone)]
#[non_exhaustive]
pub enum Location {
    /// A path on this machine (`file://` URLs become one).
    Local(PathBuf),
    /// An object (or, for a run directory, a prefix) in a store.
    #[cfg(feature = "object-store")]
    Object(remote::ObjectLocation),
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

impl fmt::Display for Location {
    /// The path, or the URL without credentials or query.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            #[cfg(feature = "object-store")]
            Location::Object(o) => f.write_str(o.url()),
        }
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        Location::Local(p.to_owned())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Location::Local(p)
    }
}

/// The scheme of `s` when it is a URL (`scheme://…`), lowercased.
fn url_scheme(s: &str) -> Option<String> {
    let (scheme, _) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .then(|| scheme.to_ascii_lowercase())
}

/// A location as it may be printed: a path as it is, a URL without user, password or query (presigned
/// URLs carry their signature there).
pub fn shown_url(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else { return s.to_owned() };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    // In abfs[s]://container@account.dfs.core.windows.net the part before '@' is the container.
    let azure = scheme.eq_ignore_ascii_case("abfs") || scheme.eq_ignore_ascii_case("abfss");
    let host = if azure { authority } else { authority.rsplit_once('@').map_or(authority, |(_, h)| h) };
    format!("{scheme}://{host}{path}")
}

pub(crate) fn store_error(url: &str, kind: StoreErrorKind, message: impl Into<String>) -> IoError {
    IoError::Store { url: url.to_owned(), kind, message: message.into() }
}

impl Location {
    /// A path, a `file://` URL, or an object-store URL. A URL of another scheme, or an object-store URL
    /// in a build without the `object-store` feature, is an error naming it and the schemes read.
    pub fn parse(s: &str) -> Result<Location> {
        let Some(scheme) = url_scheme(s) else { return Ok(Location::Local(PathBuf::from(s))) };
        let shown = shown_url(s);
        match scheme.as_str() {
            "file" => file_url_path(s, &shown).map(Location::Local),
            #[cfg(feature = "object-store")]
            "s3" | "s3a" | "gs" | "az" | "azure" | "abfs" | "abfss" | "http" | "https" => {
                remote::ObjectLocation::parse(s, &scheme, shown).map(Location::Object)
            }
            #[cfg(not(feature = "object-store"))]
            "s3" | "s3a" | "gs" | "az" | "azure" | "abfs" | "abfss" | "http" | "https" => Err(store_error(
                &shown,
                StoreErrorKind::Unsupported,
                "this build reads local files only (object stores need the `object-store` feature)",
            )),
            other => Err(store_error(
                &shown,
                StoreErrorKind::InvalidUrl,
                format!(
                    "unknown URL scheme '{other}': expected s3://, gs://, az://, http(s)://, file:// or a local path"
                ),
            )),
        }
    }

    /// An object of a store the caller built (any [`object_store::ObjectStore`]: a configured S3
    /// client, an in-memory store, …); `url` is how it is named in messages, shown as given (so it
    /// should hold no credential).
    #[cfg(feature = "object-store")]
    pub fn object(
        store: std::sync::Arc<dyn object_store::ObjectStore>,
        path: object_store::path::Path,
        url: impl Into<String>,
    ) -> Location {
        Location::Object(remote::ObjectLocation::new(store, path, url.into()))
    }

    /// The local path, when it is one.
    pub fn as_local(&self) -> Option<&Path> {
        match self {
            Location::Local(p) => Some(p),
            #[cfg(feature = "object-store")]
            Location::Object(_) => None,
        }
    }

    /// Whether this names an object in a store (not a local path).
    pub fn is_remote(&self) -> bool {
        self.as_local().is_none()
    }

    /// The location of `name` (a relative path with `/` separators) under this one taken as a directory.
    pub fn join(&self, name: &str) -> Location {
        match self {
            Location::Local(p) => Location::Local(name.split('/').fold(p.clone(), |acc, part| acc.join(part))),
            #[cfg(feature = "object-store")]
            Location::Object(o) => Location::Object(o.join(name)),
        }
    }

    /// The last part of the path (the file or object name).
    pub fn file_name(&self) -> Option<String> {
        match self {
            Location::Local(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
            #[cfg(feature = "object-store")]
            Location::Object(o) => o.file_name(),
        }
    }

    /// The whole file or object.
    pub fn read(&self) -> Result<Vec<u8>> {
        self.read_versioned().map(|(bytes, _)| bytes)
    }

    /// The whole file or object with its version (see [`Location::version`]) as read.
    pub fn read_versioned(&self) -> Result<(Vec<u8>, String)> {
        match self {
            Location::Local(p) => {
                let io = |source| IoError::Io { path: p.clone(), source };
                let meta = std::fs::metadata(p).map_err(io)?;
                if !meta.is_file() {
                    return Err(io(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file")));
                }
                let bytes = std::fs::read(p).map_err(io)?;
                Ok((bytes, local_version(&meta)))
            }
            #[cfg(feature = "object-store")]
            Location::Object(o) => o.read_versioned(),
        }
    }

    /// A token that changes whenever the content does: the object's ETag (else its modification time
    /// and size), a local file's modification time, size and inode.
    pub fn version(&self) -> Result<String> {
        match self {
            Location::Local(p) => std::fs::metadata(p)
                .map(|m| local_version(&m))
                .map_err(|source| IoError::Io { path: p.clone(), source }),
            #[cfg(feature = "object-store")]
            Location::Object(o) => o.head().map(|(_, version)| version),
        }
    }

    /// Whether the file or object exists.
    pub fn exists(&self) -> Result<bool> {
        match self {
            Location::Local(p) => Ok(p.exists()),
            #[cfg(feature = "object-store")]
            Location::Object(o) => match o.head() {
                Ok(_) => Ok(true),
                Err(IoError::Store { kind: StoreErrorKind::NotFound, .. }) => Ok(false),
                Err(e) => Err(e),
            },
        }
    }

    /// Fails when this is a location only read (an `http(s)://` URL), or a local path that is a directory
    /// or whose directory does not exist: checked before any work.
    pub fn check_writable(&self) -> Result<()> {
        match self {
            Location::Local(p) => {
                let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
                if p.is_dir() {
                    Err(IoError::Write(format!("{} is a directory, not a file", p.display())))
                } else if let Some(d) = dir.filter(|d| !d.is_dir()) {
                    Err(IoError::Write(format!("{}: its directory {} does not exist", p.display(), d.display())))
                } else {
                    Ok(())
                }
            }
            #[cfg(feature = "object-store")]
            Location::Object(o) => o.writable(),
        }
    }

    /// Writes `bytes` whole (see the module docs); without `overwrite` an existing file or object is an
    /// error. A local file's directory must exist (a typing error in a path is reported, not created).
    pub fn write(&self, bytes: &[u8], overwrite: bool) -> Result<()> {
        match self {
            Location::Local(p) => outflow_core::write_atomic(p, bytes, overwrite).map_err(|e| match e {
                outflow_core::WriteError::Exists(_) => {
                    store_error(&p.display().to_string(), StoreErrorKind::AlreadyExists, already_exists())
                }
                outflow_core::WriteError::Io { source, .. } => IoError::Write(source.to_string()),
                other => IoError::Write(other.to_string()),
            }),
            #[cfg(feature = "object-store")]
            Location::Object(o) => o.write(bytes, overwrite),
        }
    }

    /// The files under this location taken as a directory (an object prefix), as relative paths with
    /// `/` separators, sorted; empty when there is nothing there.
    pub fn list(&self) -> Result<Vec<String>> {
        match self {
            Location::Local(p) => {
                let mut out = Vec::new();
                if p.is_dir() {
                    list_local(p, "", &mut out).map_err(|source| IoError::Io { path: p.clone(), source })?;
                }
                out.sort();
                Ok(out)
            }
            #[cfg(feature = "object-store")]
            Location::Object(o) => o.list(),
        }
    }

    /// Removes the file or object (absent is not an error).
    pub fn delete(&self) -> Result<()> {
        match self {
            Location::Local(p) => match std::fs::remove_file(p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(IoError::Io { path: p.clone(), source: e }),
                _ => Ok(()),
            },
            #[cfg(feature = "object-store")]
            Location::Object(o) => o.delete(),
        }
    }
}

fn already_exists() -> &'static str {
    "exists; pass --force (or overwrite = true) to replace it"
}

fn file_url_path(s: &str, shown: &str) -> Result<PathBuf> {
    let rest = &s["file://".len()..];
    // file:///abs/path, or file://localhost/abs/path; a relative path has no place in a file URL.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return Err(store_error(
            shown,
            StoreErrorKind::InvalidUrl,
            "a file URL names an absolute path: file:///dir/file",
        ));
    }
    let decoded = percent_decode(path)
        .ok_or_else(|| store_error(shown, StoreErrorKind::InvalidUrl, "bad percent-encoding in the path"))?;
    Ok(PathBuf::from(decoded))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn local_version(meta: &std::fs::Metadata) -> String {
    let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0u64;
    format!("{}-{}-{inode}", meta.len(), modified.map_or(0, |d| d.as_nanos()))
}

fn list_local(dir: &Path, prefix: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        if e.file_type()?.is_dir() {
            list_local(&e.path(), &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(feature = "object-store")]
#[cfg(feature = "object-store")]
pub use remote::ObjectLocation;

#[cfg(feature = "object-store")]
pub(crate) mod remote {
    //! Objects: the store clients, a private runtime that drives them, and blocking calls over it.

    use std::future::Future;
    use std::io::Read;
    use std::sync::{Arc, OnceLock};
    use std::time::Duration;

    use bytes::Bytes;
    use futures::StreamExt;
    use object_store::path::Path as ObjectPath;
    use object_store::{
        BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode, PutOptions,
        PutPayload, RetryConfig, WriteMultipart,
    };

    use super::{MULTIPART_FROM, PART_BYTES, StoreErrorKind, already_exists, store_error};
    use crate::error::{IoError, Result};

    /// An object (or a prefix) of a store, with the URL that names it in messages.
    #[derive(Clone)]
    pub struct ObjectLocation {
        store: Arc<dyn ObjectStore>,
        path: ObjectPath,
        url: String,
        /// A plain web server (`http(s)://`): read only, maybe without ranged reads.
        http: bool,
    }

    /// The runtime every store call runs on: the clients are async, the readers of this crate are not.
    /// Calls are spawned on it and waited for on the caller's thread, so they work from any thread,
    /// including a blocking task of another runtime.
    fn runtime() -> &'static tokio::runtime::Runtime {
        static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("outflow-store")
                .enable_all()
                .build()
                .expect("a runtime for object-store requests")
        })
    }

    /// Runs `f` on the store runtime and waits for it.
    fn block<T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime().spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv().ok()
    }

    /// How a request is retried: a few times within half a minute (a command should not hang for
    /// minutes on a server that is down).
    fn retry() -> RetryConfig {
        RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: 4,
            retry_timeout: Duration::from_secs(30),
        }
    }

    /// S3's bucket naming rules: 3–63 lowercase letters, digits, dots and hyphens, starting and ending
    /// with a letter or digit, not shaped like an IP address. GCS and Azure containers follow the same
    /// shape (Azure without dots).
    fn check_bucket(url: &str, scheme: &str, bucket: &str) -> Result<()> {
        let what = if matches!(scheme, "az" | "azure" | "abfs" | "abfss") { "container" } else { "bucket" };
        let gcs = scheme == "gs";
        let bad = |why: &str| {
            Err(store_error(url, StoreErrorKind::InvalidUrl, format!("malformed {what} name '{bucket}': {why}")))
        };
        if bucket.is_empty() {
            return bad("the URL names no bucket (expected scheme://bucket/key)");
        }
        // GCS allows 222 characters in a name with dots (63 between them) and underscores.
        let longest = if gcs && bucket.contains('.') { 222 } else { 63 };
        if !(3..=longest).contains(&bucket.len()) || (gcs && bucket.split('.').any(|p| p.len() > 63)) {
            return bad("a name has 3 to 63 characters (GCS: up to 222 with dots, 63 between them)");
        }
        let dots = what == "bucket";
        let allowed = |b: u8| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (dots && b == b'.') || (gcs && b == b'_')
        };
        if !bucket.bytes().all(allowed) {
            return bad(match (dots, gcs) {
                (_, true) => "only lowercase letters, digits, dots, hyphens and underscores",
                (true, false) => "only lowercase letters, digits, dots and hyphens",
                (false, _) => "only lowercase letters, digits and hyphens",
            });
        }
        let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if !edge(bucket.as_bytes()[0]) || !edge(bucket.as_bytes()[bucket.len() - 1]) {
            return bad("it starts and ends with a letter or a digit");
        }
        if bucket.contains("..") || (bucket.contains("--") && what == "container") {
            return bad("no two dots (or, for a container, hyphens) in a row");
        }
        if bucket.split('.').count() == 4 && bucket.split('.').all(|p| p.parse::<u8>().is_ok()) {
            return bad("it may not look like an IP address");
        }
        Ok(())
    }

    impl ObjectLocation {
        pub(super) fn new(store: Arc<dyn ObjectStore>, path: ObjectPath, url: String) -> Self {
            ObjectLocation { store, path, url, http: false }
        }

        pub(super) fn parse(s: &str, scheme: &str, shown: String) -> Result<Self> {
            let url = url::Url::parse(s)
                .map_err(|e| store_error(&shown, StoreErrorKind::InvalidUrl, format!("not a URL: {e}")))?;
            let invalid = |m: String| store_error(&shown, StoreErrorKind::InvalidUrl, m);
            let path = ObjectPath::from_url_path(url.path()).map_err(|e| invalid(format!("bad object path: {e}")))?;
            let bucket = url.host_str().unwrap_or("");
            let store: Arc<dyn ObjectStore> = match scheme {
                "s3" | "s3a" => {
                    check_bucket(&shown, scheme, bucket)?;
                    Arc::new(s3(bucket).map_err(|e| config_error(&shown, e))?)
                }
                "gs" => {
                    check_bucket(&shown, scheme, bucket)?;
                    let b = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                        .with_bucket_name(bucket)
                        .with_retry(retry());
                    Arc::new(b.build().map_err(|e| config_error(&shown, e))?)
                }
                "az" | "azure" => {
                    check_bucket(&shown, scheme, bucket)?;
                    let b = object_store::azure::MicrosoftAzureBuilder::from_env()
                        .with_container_name(bucket)
                        .with_retry(retry());
                    Arc::new(b.build().map_err(|e| config_error(&shown, e))?)
                }
                "abfs" | "abfss" => {
                    let b = object_store::azure::MicrosoftAzureBuilder::from_env().with_url(s).with_retry(retry());
                    Arc::new(b.build().map_err(|e| config_error(&shown, e))?)
                }
                _ => {
                    if url.query().is_some() {
                        return Err(invalid(
                            "an http(s) URL with a query (a presigned URL) is not read; download it first".into(),
                        ));
                    }
                    let origin = url.origin().ascii_serialization();
                    let b = object_store::http::HttpBuilder::new()
                        .with_url(origin)
                        .with_retry(retry())
                        .with_client_options(ClientOptions::new().with_allow_http(true));
                    Arc::new(b.build().map_err(|e| config_error(&shown, e))?)
                }
            };
            Ok(ObjectLocation { store, path, url: shown, http: matches!(scheme, "http" | "https") })
        }

        pub(crate) fn url(&self) -> &str {
            &self.url
        }

        pub(super) fn join(&self, name: &str) -> Self {
            let path = name.split('/').filter(|p| !p.is_empty()).fold(self.path.clone(), |acc, part| acc.join(part));
            let url = format!("{}/{}", self.url.trim_end_matches('/'), name.trim_start_matches('/'));
            ObjectLocation { store: Arc::clone(&self.store), path, url, http: self.http }
        }

        pub(super) fn file_name(&self) -> Option<String> {
            self.path.filename().map(str::to_owned)
        }

        fn need_key(&self) -> Result<()> {
            if self.path.as_ref().is_empty() {
                return Err(store_error(&self.url, StoreErrorKind::InvalidUrl, "names a bucket, not an object"));
            }
            Ok(())
        }

        /// A store error as ours. "Not found" from a request without a body (HEAD) cannot tell a missing
        /// bucket from a missing key: a listing of the key's parent asks the bucket.
        fn error(&self, e: object_store::Error) -> IoError {
            let not_found = matches!(e, object_store::Error::NotFound { .. });
            let classified = classify(&self.url, e);
            if not_found && !self.http {
                let (store, parent) = (Arc::clone(&self.store), self.path.parts().collect::<Vec<_>>());
                let parent: ObjectPath = parent[..parent.len().saturating_sub(1)].iter().cloned().collect();
                if let Some(Err(e)) = block(async move { store.list_with_delimiter(Some(&parent)).await })
                    && let listed @ IoError::Store { kind: StoreErrorKind::NotFound, .. } = classify(&self.url, e)
                {
                    return listed;
                }
            }
            classified
        }

        /// Fails for a store this crate only reads (`http(s)://`).
        pub(crate) fn writable(&self) -> Result<()> {
            if self.http {
                return Err(store_error(
                    &self.url,
                    StoreErrorKind::Unsupported,
                    "http(s) URLs are read only; write to s3://, gs://, az:// or a path",
                ));
            }
            Ok(())
        }

        /// Whether the store answers ranged reads (object stores do; a plain web server may not).
        pub(crate) fn ranged(&self) -> bool {
            !self.http
        }

        /// The first `n` bytes (fewer when the object is shorter), read from the start of a stream.
        pub(crate) fn first_bytes(&self, n: usize) -> Result<Vec<u8>> {
            if self.ranged() {
                return self.get_range(0..n as u64).map(|b| b.to_vec());
            }
            // A web server may not answer ranges: a stream, dropped after the first bytes.
            let mut buf = vec![0u8; n];
            let got = crate::source::read_up_to(&mut self.reader(0)?, &mut buf)
                .map_err(|e| store_error(&self.url, StoreErrorKind::Other, e.to_string()))?;
            buf.truncate(got);
            Ok(buf)
        }

        fn lost(&self) -> IoError {
            store_error(&self.url, StoreErrorKind::Other, "the request was cancelled")
        }

        /// The object's size and version.
        pub(crate) fn head(&self) -> Result<(u64, String)> {
            self.need_key()?;
            let (store, path) = (Arc::clone(&self.store), self.path.clone());
            let meta =
                block(async move { store.head(&path).await }).ok_or_else(|| self.lost())?.map_err(|e| self.error(e))?;
            Ok((meta.size, version(&meta)))
        }

        pub(super) fn read_versioned(&self) -> Result<(Vec<u8>, String)> {
            self.need_key()?;
            let (store, path) = (Arc::clone(&self.store), self.path.clone());
            let got = block(async move {
                let r = store.get(&path).await?;
                let meta = r.meta.clone();
                Ok::<_, object_store::Error>((r.bytes().await?, meta))
            })
            .ok_or_else(|| self.lost())?
            .map_err(|e| self.error(e))?;
            Ok((got.0.to_vec(), version(&got.1)))
        }

        /// Bytes `range` of the object.
        pub(crate) fn get_range(&self, range: std::ops::Range<u64>) -> Result<Bytes> {
            let (store, path) = (Arc::clone(&self.store), self.path.clone());
            block(async move { store.get_range(&path, range).await })
                .ok_or_else(|| self.lost())?
                .map_err(|e| self.error(e))
        }

        /// A reader of the object from byte `start` to its end, fetched as it is read (a few chunks
        /// ahead).
        pub(crate) fn reader(&self, start: u64) -> Result<ObjectReader> {
            self.need_key()?;
            let (store, path) = (Arc::clone(&self.store), self.path.clone());
            let (tx, rx) = tokio::sync::mpsc::channel::<std::result::Result<Bytes, object_store::Error>>(4);
            runtime().spawn(async move {
                let opts = GetOptions { range: (start > 0).then_some(GetRange::Offset(start)), ..Default::default() };
                let mut stream = match store.get_opts(&path, opts).await {
                    Ok(r) => r.into_stream(),
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                while let Some(chunk) = stream.next().await {
                    let failed = chunk.is_err();
                    // The reader was dropped: stop fetching.
                    if tx.send(chunk).await.is_err() || failed {
                        return;
                    }
                }
            });
            Ok(ObjectReader { rx, chunk: Bytes::new(), url: self.url.clone() })
        }

        pub(super) fn write(&self, bytes: &[u8], overwrite: bool) -> Result<()> {
            self.need_key()?;
            self.writable()?;
            let (store, path) = (Arc::clone(&self.store), self.path.clone());
            let data = Bytes::copy_from_slice(bytes);
            if data.len() < MULTIPART_FROM {
                let mode = if overwrite { PutMode::Overwrite } else { PutMode::Create };
                let opts = PutOptions { mode, ..Default::default() };
                return block(async move { store.put_opts(&path, PutPayload::from(data), opts).await.map(|_| ()) })
                    .ok_or_else(|| self.lost())?
                    .map_err(|e| self.error(e));
            }
            // A multipart upload has no atomic "create only": the check comes first.
            if !overwrite {
                match self.head() {
                    Ok(_) => return Err(store_error(&self.url, StoreErrorKind::AlreadyExists, already_exists())),
                    Err(IoError::Store { kind: StoreErrorKind::NotFound, .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            block(async move {
                let upload = store.put_multipart(&path).await?;
                let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
                for part in data.chunks(PART_BYTES) {
                    if let Err(e) = w.wait_for_capacity(4).await {
                        let _ = w.abort().await;
                        return Err(e);
                    }
                    w.write(part);
                }
                w.finish().await.map(|_| ())
            })
            .ok_or_else(|| self.lost())?
            .map_err(|e| self.error(e))
        }

        pub(super) fn list(&self) -> Result<Vec<String>> {
            let (store, prefix) = (Arc::clone(&self.store), self.path.clone());
            let base = self.path.clone();
            let metas = block(async move {
                let prefix = (!prefix.as_ref().is_empty()).then_some(prefix);
                store.list(prefix.as_ref()).collect::<Vec<_>>().await
            })
            .ok_or_else(|| self.lost())?;
            let mut out = Vec::new();
            for m in metas {
                let m = m.map_err(|e| self.error(e))?;
                let parts: Vec<String> = match m.location.prefix_match(&base) {
                    Some(rest) => rest.map(|p| p.as_ref().to_owned()).collect(),
                    None => continue,
                };
                if !parts.is_empty() {
                    out.push(parts.join("/"));
                }
            }
            out.sort();
            Ok(out)
        }

        pub(super) fn delete(&self) -> Result<()> {
            self.need_key()?;
            let (store, path) = (Arc::clone(&self.store), self.path.clone());
            match block(async move { store.delete(&path).await }).ok_or_else(|| self.lost())? {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(self.error(e)),
            }
        }
    }

    /// An S3 client for `bucket`: the environment's settings, else an AWS profile's.
    fn s3(bucket: &str) -> object_store::Result<object_store::aws::AmazonS3> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket).with_retry(retry());
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            // The environment wins over the profile, as with AWS's own tools.
            for (key, value) in super::profile::aws_profile() {
                if let Ok(k) = key.parse::<AmazonS3ConfigKey>()
                    && b.get_config_value(&k).is_none()
                {
                    b = b.with_config(k, value);
                }
            }
        }
        // A local server (MinIO, SeaweedFS, Garage) speaks plain HTTP: naming its http:// endpoint is
        // the user's choice of it.
        let endpoint = b.get_config_value(&AmazonS3ConfigKey::Endpoint).unwrap_or_default();
        if endpoint.starts_with("http://") {
            b = b.with_allow_http(true);
        }
        b.build()
    }

    fn version(meta: &object_store::ObjectMeta) -> String {
        match &meta.e_tag {
            Some(tag) => tag.clone(),
            None => format!("{}-{}", meta.size, meta.last_modified.timestamp_nanos_opt().unwrap_or(0)),
        }
    }

    fn config_error(url: &str, e: object_store::Error) -> IoError {
        store_error(url, StoreErrorKind::InvalidUrl, format!("cannot set up the client: {}", redact(&e.to_string())))
    }

    /// A store error as one of ours: the kind, and what the server said (its error code and message).
    pub(crate) fn classify(url: &str, e: object_store::Error) -> IoError {
        use object_store::Error as E;
        let detail = server_detail(&e);
        let with = |m: &str| if detail.is_empty() { m.to_owned() } else { format!("{m} ({detail})") };
        let (kind, message) = match &e {
            E::NotFound { .. } if detail.contains("NoSuchBucket") => (StoreErrorKind::NotFound, with("no such bucket")),
            E::NotFound { .. } => (StoreErrorKind::NotFound, "no such object".to_owned()),
            E::AlreadyExists { .. } | E::Precondition { .. } => {
                (StoreErrorKind::AlreadyExists, already_exists().to_owned())
            }
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => (
                StoreErrorKind::Denied,
                with(
                    "access denied: check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*) and the permissions",
                ),
            ),
            E::NotSupported { .. } | E::NotImplemented { .. } => {
                (StoreErrorKind::Unsupported, with("the store does not support this"))
            }
            _ if detail.contains("SignatureDoesNotMatch")
                || detail.contains("InvalidAccessKeyId")
                || detail.contains("AccessDenied") =>
            {
                (StoreErrorKind::Denied, with("access denied: check the credentials and the permissions"))
            }
            _ if detail.contains("NoSuchBucket") => (StoreErrorKind::NotFound, with("no such bucket")),
            _ => (
                StoreErrorKind::Other,
                format!("request failed: {}", if detail.is_empty() { root_cause(&e) } else { detail.clone() }),
            ),
        };
        store_error(url, kind, message)
    }

    /// The S3-style `<Code>` and `<Message>` of a server's reply, when the error carries one.
    fn server_detail(e: &object_store::Error) -> String {
        let text = full_text(e);
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let start = text.find(&open)? + open.len();
            let end = text[start..].find(&format!("</{name}>"))? + start;
            Some(text[start..end].to_owned())
        };
        let out = match (tag("Code"), tag("Message")) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c,
            (None, Some(m)) => m,
            (None, None) => String::new(),
        };
        redact(&out)
    }

    fn full_text(e: &dyn std::error::Error) -> String {
        let mut s = e.to_string();
        let mut cur = e.source();
        while let Some(c) = cur {
            s.push_str(": ");
            s.push_str(&c.to_string());
            cur = c.source();
        }
        s
    }

    /// The innermost cause (a refused connection, a timeout, a server's status) on one line, with the
    /// server it was talking to: the origin of the request's URL, never its path or query.
    fn root_cause(e: &object_store::Error) -> String {
        let full = full_text(e);
        let mut cur: &dyn std::error::Error = e;
        let mut last = e.to_string();
        while let Some(c) = cur.source() {
            last = c.to_string();
            cur = c;
        }
        let mut last: String = last.lines().next().unwrap_or("").chars().take(200).collect();
        if let Some(i) = full.find("http://").or_else(|| full.find("https://")) {
            let url = full[i..].split(char::is_whitespace).next().unwrap_or("");
            let origin = super::shown_url(url);
            let origin = match origin.find("://").and_then(|k| origin[k + 3..].find('/').map(|j| k + 3 + j)) {
                Some(end) => origin[..end].to_owned(),
                None => origin,
            };
            last = format!("{last} (server {origin})");
        }
        redact(&last)
    }

    /// Masks the values of credential variables wherever they appear.
    pub(crate) fn redact(s: &str) -> String {
        const SECRETS: [&str; 9] = [
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_ACCESS_KEY_ID",
            "AZURE_STORAGE_ACCOUNT_KEY",
            "AZURE_STORAGE_ACCESS_KEY",
            "AZURE_STORAGE_SAS_KEY",
            "AZURE_STORAGE_TOKEN",
            "AZURE_CLIENT_SECRET",
            "GOOGLE_SERVICE_ACCOUNT_KEY",
        ];
        let mut out = s.to_owned();
        for name in SECRETS {
            if let Ok(v) = std::env::var(name)
                && v.len() >= 4
            {
                out = out.replace(&v, "***");
            }
        }
        for (k, v) in super::profile::aws_profile() {
            let secret = matches!(k.as_str(), "aws_access_key_id" | "aws_secret_access_key" | "aws_session_token");
            if secret && v.len() >= 4 {
                out = out.replace(&v, "***");
            }
        }
        out
    }

    /// An object as Parquet reads it, by ranged requests: the footer, then the column chunks asked for.
    /// The reader asks for each page header and page separately (tens of bytes to a megabyte), so reads
    /// are served from a few cached blocks of [`CHUNK_BLOCK`] bytes fetched whole; a read of several
    /// blocks goes to the store directly.
    #[cfg(feature = "arrow")]
    pub(crate) struct ObjectChunks {
        inner: Arc<Blocks>,
    }

    /// The block size of [`ObjectChunks`]' cache.
    #[cfg(feature = "arrow")]
    const CHUNK_BLOCK: u64 = 4 << 20;

    /// Blocks kept (the most recently used).
    #[cfg(feature = "arrow")]
    const CACHED_BLOCKS: usize = 4;

    #[cfg(feature = "arrow")]
    struct Blocks {
        object: ObjectLocation,
        size: u64,
        cache: std::sync::Mutex<std::collections::VecDeque<(u64, Bytes)>>,
    }

    #[cfg(feature = "arrow")]
    impl Blocks {
        fn block(&self, index: u64) -> Result<Bytes> {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(i) = cache.iter().position(|(k, _)| *k == index) {
                let hit = cache.remove(i).expect("present");
                cache.push_front(hit.clone());
                return Ok(hit.1);
            }
            drop(cache);
            let start = index * CHUNK_BLOCK;
            let bytes = self.object.get_range(start..(start + CHUNK_BLOCK).min(self.size))?;
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            cache.push_front((index, bytes.clone()));
            cache.truncate(CACHED_BLOCKS);
            Ok(bytes)
        }

        fn bytes(&self, start: u64, length: u64) -> Result<Bytes> {
            let end = start.saturating_add(length).min(self.size);
            if start >= end {
                return Ok(Bytes::new());
            }
            let (first, last) = (start / CHUNK_BLOCK, (end - 1) / CHUNK_BLOCK);
            if first == last {
                let b = self.block(first)?;
                let at = (start - first * CHUNK_BLOCK) as usize;
                return Ok(b.slice(at..at + (end - start) as usize));
            }
            if last - first >= 2 {
                return self.object.get_range(start..end);
            }
            let mut out = Vec::with_capacity((end - start) as usize);
            for index in first..=last {
                let b = self.block(index)?;
                let from = start.max(index * CHUNK_BLOCK) - index * CHUNK_BLOCK;
                let to = end.min((index + 1) * CHUNK_BLOCK) - index * CHUNK_BLOCK;
                out.extend_from_slice(&b[from as usize..to as usize]);
            }
            Ok(Bytes::from(out))
        }
    }

    #[cfg(feature = "arrow")]
    impl ObjectChunks {
        pub(crate) fn new(object: ObjectLocation, size: u64) -> Self {
            let cache = std::sync::Mutex::new(std::collections::VecDeque::new());
            ObjectChunks { inner: Arc::new(Blocks { object, size, cache }) }
        }
    }

    #[cfg(feature = "arrow")]
    impl parquet::file::reader::Length for ObjectChunks {
        fn len(&self) -> u64 {
            self.inner.size
        }
    }

    /// A reader from an offset to the end of the object, through the block cache.
    #[cfg(feature = "arrow")]
    pub(crate) struct BlockReader {
        inner: Arc<Blocks>,
        pos: u64,
    }

    #[cfg(feature = "arrow")]
    impl Read for BlockReader {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.pos >= self.inner.size || out.is_empty() {
                return Ok(0);
            }
            // Up to the end of the current block: one cached fetch per call.
            let block_end = (self.pos / CHUNK_BLOCK + 1) * CHUNK_BLOCK;
            let n = (out.len() as u64).min(block_end - self.pos).min(self.inner.size - self.pos);
            let b = self.inner.bytes(self.pos, n).map_err(std::io::Error::other)?;
            out[..b.len()].copy_from_slice(&b);
            self.pos += b.len() as u64;
            Ok(b.len())
        }
    }

    #[cfg(feature = "arrow")]
    impl parquet::file::reader::ChunkReader for ObjectChunks {
        type T = BlockReader;

        fn get_read(&self, start: u64) -> parquet::errors::Result<BlockReader> {
            Ok(BlockReader { inner: Arc::clone(&self.inner), pos: start })
        }

        fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
            let b = self
                .inner
                .bytes(start, length as u64)
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
            if b.len() != length {
                return Err(parquet::errors::ParquetError::EOF(format!(
                    "{}: {length} bytes at {start} asked, {} there",
                    self.inner.object.url,
                    b.len()
                )));
            }
            Ok(b)
        }
    }

    /// A blocking reader over an object's byte stream.
    pub(crate) struct ObjectReader {
        rx: tokio::sync::mpsc::Receiver<std::result::Result<Bytes, object_store::Error>>,
        chunk: Bytes,
        url: String,
    }

    impl Read for ObjectReader {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            while self.chunk.is_empty() {
                // Not tokio's blocking_recv: that panics on a thread inside a runtime; this only blocks.
                match futures::executor::block_on(self.rx.recv()) {
                    None => return Ok(0),
                    Some(Ok(b)) => self.chunk = b,
                    Some(Err(e)) => {
                        let message = match classify(&self.url, e) {
                            IoError::Store { message, .. } => message,
                            other => other.to_string(),
                        };
                        return Err(std::io::Error::other(message));
                    }
                }
            }
            let n = self.chunk.len().min(out.len());
            out[..n].copy_from_slice(&self.chunk[..n]);
            self.chunk = self.chunk.slice(n..);
            Ok(n)
        }
    }
}

#[cfg(feature = "object-store")]
mod profile {
    //! AWS's shared files (`~/.aws/credentials`, `~/.aws/config`), read for the profile `AWS_PROFILE`
    //! (else `default`) when the environment holds no access key: the static keys, session token,
    //! region and endpoint, as the AWS command line reads them.

    use std::path::PathBuf;

    fn home() -> Option<PathBuf> {
        std::env::var_os("HOME").map(PathBuf::from)
    }

    /// The `key = value` lines of section `[section]` of an INI file.
    fn section(text: &str, section: &str) -> Vec<(String, String)> {
        let mut inside = false;
        let mut out = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                inside = name.trim() == section;
                continue;
            }
            if inside && let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        out
    }

    /// object_store configuration keys and values from the profile.
    pub(crate) fn aws_profile() -> Vec<(String, String)> {
        let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
        let credentials = std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .or_else(|| home().map(|h| h.join(".aws/credentials")));
        let config =
            std::env::var_os("AWS_CONFIG_FILE").map(PathBuf::from).or_else(|| home().map(|h| h.join(".aws/config")));
        let mut out = Vec::new();
        let map = |k: &str| match k {
            "aws_access_key_id" => Some("aws_access_key_id"),
            "aws_secret_access_key" => Some("aws_secret_access_key"),
            "aws_session_token" => Some("aws_session_token"),
            "region" => Some("aws_region"),
            "endpoint_url" => Some("aws_endpoint"),
            _ => None,
        };
        if let Some(text) = credentials.and_then(|p| std::fs::read_to_string(p).ok()) {
            out.extend(section(&text, &profile).into_iter().filter_map(|(k, v)| map(&k).map(|k| (k.to_owned(), v))));
        }
        if let Some(text) = config.and_then(|p| std::fs::read_to_string(p).ok()) {
            let name = if profile == "default" { profile.clone() } else { format!("profile {profile}") };
            for (k, v) in section(&text, &name) {
                if let Some(k) = map(&k)
                    && !out.iter().any(|(o, _)| o == k)
                    && (k != "aws_region" || std::env::var_os("AWS_REGION").is_none())
                {
                    out.push((k.to_owned(), v));
                }
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn sections_are_read_by_name() {
            let text =
                "[default]\naws_access_key_id = A\n[profile dev]\nregion=eu-west-1\n# c\nendpoint_url = http://x\n";
            assert_eq!(super::section(text, "default"), vec![("aws_access_key_id".into(), "A".into())]);
            assert_eq!(
                super::section(text, "profile dev"),
                vec![("region".into(), "eu-west-1".into()), ("endpoint_url".into(), "http://x".into())]
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_credentials_or_query() {
        assert_eq!(shown_url("https://user:pw@host:9/a/b?X-Amz-Signature=s#f"), "https://host:9/a/b");
        assert_eq!(shown_url("s3://bucket"), "s3://bucket");
        assert_eq!(url_scheme("S3://b/k").as_deref(), Some("s3"));
        assert_eq!(url_scheme("dir/file://x"), None);
        assert_eq!(url_scheme("C:\\logs\\conn.log"), None);
    }

    #[test]
    fn paths_and_file_urls_are_local() {
        assert_eq!(Location::parse("logs/conn.log").unwrap().as_local(), Some(Path::new("logs/conn.log")));
        assert_eq!(Location::parse("file:///tmp/a%20b.log").unwrap().as_local(), Some(Path::new("/tmp/a b.log")));
        assert_eq!(Location::parse("file://localhost/x").unwrap().as_local(), Some(Path::new("/x")));
        let e = Location::parse("file://relative/x").unwrap_err();
        assert!(matches!(e, IoError::Store { kind: StoreErrorKind::InvalidUrl, .. }), "{e}");
        let e = Location::parse("ftp://user:secret@host/conn.log").unwrap_err().to_string();
        assert!(e.contains("ftp://host/conn.log") && !e.contains("secret"), "{e}");
    }

    #[cfg(feature = "object-store")]
    #[test]
    fn bucket_names_are_checked_before_any_request() {
        for (url, why) in [
            ("s3://My_Bucket/k", "lowercase"),
            ("s3://ab/k", "3 to 63"),
            ("s3://-abc/k", "starts and ends"),
            ("s3://192.168.1.1/k", "IP address"),
            ("s3:///k", "no bucket"),
            ("gs://a..b/k", "two dots"),
        ] {
            let e = Location::parse(url).unwrap_err();
            let text = e.to_string();
            assert!(matches!(e, IoError::Store { kind: StoreErrorKind::InvalidUrl, .. }), "{url}: {text}");
            assert!(text.contains(why) && text.contains("malformed"), "{url}: {text}");
        }
        assert!(Location::parse("s3://outflow-logs.eu/2026/conn.log.gz").unwrap().is_remote());
        let run = Location::parse("s3://outflow/runs/r1").unwrap();
        assert_eq!(run.join("figures/a.png").to_string(), "s3://outflow/runs/r1/figures/a.png");
        assert_eq!(run.join("summary.json").file_name().as_deref(), Some("summary.json"));
    }

    #[test]
    fn local_locations_write_whole_and_list() {
        let dir = tempfile::tempdir().unwrap();
        let run = Location::from(dir.path().join("run"));
        assert!(run.list().unwrap().is_empty());
        std::fs::create_dir_all(dir.path().join("run/figures")).unwrap();
        run.join("figures/a.png").write(b"png", false).unwrap();
        run.join("scores.csv").write(b"row\n", false).unwrap();
        let e = run.join("scores.csv").write(b"x", false).unwrap_err();
        assert!(matches!(e, IoError::Store { kind: StoreErrorKind::AlreadyExists, .. }), "{e}");
        assert_eq!(run.list().unwrap(), vec!["figures/a.png", "scores.csv"]);
        let v1 = run.join("scores.csv").version().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        run.join("scores.csv").write(b"row\n1\n", true).unwrap();
        assert_ne!(run.join("scores.csv").version().unwrap(), v1);
        run.join("scores.csv").delete().unwrap();
        run.join("scores.csv").delete().unwrap();
        assert!(!run.join("scores.csv").exists().unwrap());
    }
}
