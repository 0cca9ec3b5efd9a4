//! The served model, swapped atomically on reload.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use outflow::io::store::Location;
use outflow::{Detector, ModelHeader, ModelKey};

use crate::convert::{FieldSpec, field_specs};

/// A loaded model with what the handlers precompute from it.
#[derive(Debug)]
pub struct Loaded {
    /// The detector.
    pub detector: Detector,
    /// The model file's header (metadata).
    pub header: ModelHeader,
    pub(crate) specs: Vec<FieldSpec>,
    /// How many times a model was loaded (1 for the first).
    pub generation: u64,
    /// The model file's version when it was read (an object's ETag; a local file's size, time and
    /// inode).
    pub version: String,
}

/// Shared state: the current model and where it comes from.
#[derive(Debug)]
pub struct AppState {
    model: ArcSwap<Loaded>,
    location: Location,
    /// The model file's version last reloaded or refused by [`AppState::reload_if_changed`].
    seen: std::sync::Mutex<Option<String>>,
    /// With a key, every model loaded (the first and each reload) must carry its signature.
    key: Option<ModelKey>,
    reload_lock: std::sync::Mutex<()>,
}

/// Loads and checks a model file (and its signature, with a key) from a path or an object.
pub fn load(at: &Location, generation: u64, key: Option<&ModelKey>) -> Result<Loaded, outflow::OutflowError> {
    let (detector, header, version) = Detector::load_at_versioned(at, key)?;
    if detector.level() != outflow::Level::Flow {
        return Err(outflow::OutflowError::WrongLevel { what: "the service", level: detector.level() });
    }
    let specs = field_specs(&detector);
    Ok(Loaded { detector, header, specs, generation, version })
}

impl AppState {
    /// Loads the model at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Arc<Self>, outflow::OutflowError> {
        Self::open_verified(path, None)
    }

    /// Loads the model at `path`; with a key, this model and every reloaded one must be signed with it
    /// (a reload of an unsigned or foreign model fails and the old model keeps serving).
    pub fn open_verified(path: impl Into<PathBuf>, key: Option<ModelKey>) -> Result<Arc<Self>, outflow::OutflowError> {
        Self::open_at(Location::Local(path.into()), key)
    }

    /// Loads the model at a path or an object (`s3://bucket/models/current.json`, …); with a key, as
    /// [`AppState::open_verified`].
    pub fn open_at(location: Location, key: Option<ModelKey>) -> Result<Arc<Self>, outflow::OutflowError> {
        let loaded = load(&location, 1, key.as_ref())?;
        Ok(Arc::new(AppState {
            model: ArcSwap::from_pointee(loaded),
            location,
            seen: std::sync::Mutex::new(None),
            key,
            reload_lock: std::sync::Mutex::new(()),
        }))
    }

    /// The current model. Requests keep the `Arc` they took, so a reload never changes a model under
    /// a request in flight.
    pub fn current(&self) -> Arc<Loaded> {
        self.model.load_full()
    }

    /// Where the model file is: a path or an object.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Reloads the model when its file's version (an object's ETag) differs from the served one's;
    /// `None` when it has not changed. A version whose content was refused (not a model, another
    /// signature, other columns) is not tried again until it changes; a failure to fetch it (the network,
    /// the server) is tried again at the next call.
    pub fn reload_if_changed(&self) -> Result<Option<Arc<Loaded>>, outflow::OutflowError> {
        let version = self.location.version()?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        // `seen` holds the last version acted on, as the check saw it: a store whose listing and
        // download report a version differently must not reload at every check.
        if version == self.current().version || seen.as_deref() == Some(version.as_str()) {
            return Ok(None);
        }
        match self.reload() {
            Ok(m) => {
                *seen = Some(version);
                Ok(Some(m))
            }
            Err(e) => {
                if refused_content(&e) {
                    *seen = Some(version);
                }
                Err(e)
            }
        }
    }

    /// Reads the model file again and swaps it in; a file that fails to load leaves the old model.
    pub fn reload(&self) -> Result<Arc<Loaded>, outflow::OutflowError> {
        let _one_at_a_time = self.reload_lock.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.model.load_full();
        let loaded = Arc::new(load(&self.location, current.generation + 1, self.key.as_ref())?);
        // Clients send the columns the served model reads: a model reading others would fail every request.
        let (now, next) = (current.detector.required_columns(), loaded.detector.required_columns());
        if now != next {
            let added: Vec<&str> = next.iter().filter(|c| !now.contains(c)).copied().collect();
            let dropped: Vec<&str> = now.iter().filter(|c| !next.contains(c)).copied().collect();
            let why = format!(
                "the new model reads other columns (needs {added:?}, no longer {dropped:?}); restart the service to serve it"
            );
            return Err(outflow::InputError::param("model", why).into());
        }
        self.model.store(Arc::clone(&loaded));
        Ok(loaded)
    }
}

/// Whether a reload failed on the file's content (which stays wrong until the file changes) rather than
/// on reading it.
fn refused_content(e: &outflow::OutflowError) -> bool {
    use outflow::OutflowError as E;
    matches!(e, E::Artifact { .. } | E::WrongLevel { .. } | E::Input(_))
}
