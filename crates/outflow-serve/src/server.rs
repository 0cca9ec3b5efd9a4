//! Running the service: bind, serve, reload on SIGHUP or a change of the model file, shut down
//! gracefully on SIGTERM / SIGINT.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::http::{Limits, router};
use crate::state::AppState;

/// Serves `state` on an already bound listener until SIGTERM / SIGINT (or `shutdown` resolves);
/// in-flight requests finish before it returns. SIGHUP reloads the model.
pub async fn serve_on(
    listener: TcpListener,
    state: Arc<AppState>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let st = Arc::clone(&state);
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut hup) = signal(SignalKind::hangup()) else { return };
            while hup.recv().await.is_some() {
                let st = Arc::clone(&st);
                let result = tokio::task::spawn_blocking(move || st.reload()).await;
                match result {
                    Ok(Ok(m)) => eprintln!("SIGHUP: model reloaded (generation {})", m.generation),
                    Ok(Err(e)) => eprintln!("SIGHUP: new model refused, previous one still served: {e}"),
                    Err(e) => eprintln!("SIGHUP: reload failed: {e}"),
                }
            }
        });
    }
    axum::serve(listener, router(state, limits))
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = shutdown => {}
                _ = terminate() => {}
            }
        })
        .await
}

async fn terminate() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Checks the model file's version (an object's ETag, a local file's size, time and inode) every
/// `every` and reloads the model when it changed; a file that fails to load leaves the old model served
/// (and is not tried again until it changes). Runs until dropped.
pub async fn watch_model(state: Arc<AppState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let st = Arc::clone(&state);
        match tokio::task::spawn_blocking(move || st.reload_if_changed()).await {
            Ok(Ok(Some(m))) => {
                eprintln!("model file changed (version {}): reloaded (generation {})", m.version, m.generation)
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => eprintln!("model file check: {e}; the previous model is still served"),
            Err(e) => eprintln!("model file check failed: {e}"),
        }
    }
}

/// Binds `addr` and serves until a shutdown signal, on a runtime with `workers` threads (0: all cores);
/// with `watch`, the model file is checked for changes at that interval ([`watch_model`]).
pub fn run(
    addr: SocketAddr,
    state: Arc<AppState>,
    limits: Limits,
    workers: usize,
    watch: Option<Duration>,
) -> std::io::Result<()> {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if workers > 0 {
        rt.worker_threads(workers);
    }
    rt.enable_all().build()?.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        eprintln!("outflow serve: listening on http://{} (docs at /docs)", listener.local_addr()?);
        if let Some(every) = watch {
            tokio::spawn(watch_model(Arc::clone(&state), every));
        }
        serve_on(listener, state, limits, std::future::pending()).await
    })
}
