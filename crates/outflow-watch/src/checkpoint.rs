//! The checkpoint: where reading stands, the alert file's length and the counters, written atomically
//! (a temporary file flushed to disk, then renamed) after each batch's alerts are settled.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, WatchError};
use crate::follow::FollowState;
use crate::live::LiveState;
use crate::sink::FileState;
use crate::watch::Counters;

/// The checkpoint format's version.
pub const CHECKPOINT_VERSION: u32 = 1;

/// What a restart resumes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`CHECKPOINT_VERSION`].
    pub version: u32,
    /// The source followed, as given.
    pub source: String,
    /// Read position (after the last line of the last settled batch).
    pub follow: FollowState,
    /// The Zeek ASCII header in force at that position (the lines after it are records of its section).
    #[serde(default)]
    pub header: String,
    /// The alert file, when alerts go to one.
    #[serde(default)]
    pub alerts_file: Option<FileState>,
    /// Host and pair models: the closed windows and the early alerts of the open ones.
    #[serde(default)]
    pub live: Option<LiveState>,
    /// SHA-256 of the model in use.
    pub model_sha256: String,
    /// The counters so far.
    pub counters: Counters,
    /// When it was written.
    pub written_at: String,
}

impl Checkpoint {
    /// Reads a checkpoint; `None` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Checkpoint>> {
        let bad = |message: String| WatchError::Checkpoint { path: path.display().to_string(), message };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(bad(e.to_string())),
        };
        let c: Checkpoint = serde_json::from_str(&text)
            .map_err(|e| bad(format!("unreadable ({e}); remove it to start from the beginning")))?;
        if c.version != CHECKPOINT_VERSION {
            return Err(bad(format!("format version {} (expected {CHECKPOINT_VERSION})", c.version)));
        }
        Ok(Some(c))
    }

    /// Writes it atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).expect("a checkpoint serialises");
        outflow::write_atomic(path, &bytes, true)
            .map_err(|e| WatchError::Checkpoint { path: path.display().to_string(), message: e.to_string() })
    }
}
