//! Running the service: bind, serve, reload on SIGHUP, shut down gracefully on SIGTERM / SIGINT.

use std::net::SocketAddr;
use std::sync::Arc;

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

/// Binds `addr` and serves until a shutdown signal, on a runtime with `workers` threads (0: all cores).
pub fn run(addr: SocketAddr, state: Arc<AppState>, limits: Limits, workers: usize) -> std::io::Result<()> {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if workers > 0 {
        rt.worker_threads(workers);
    }
    rt.enable_all().build()?.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        eprintln!("outflow serve: listening on http://{} (docs at /docs)", listener.local_addr()?);
        serve_on(listener, state, limits, std::future::pending()).await
    })
}
