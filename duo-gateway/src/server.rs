//! [`Gateway`]: binding the listeners and serving until shutdown, with a grace period for
//! running streams. Client connections are bounded in number and time (the `connection` module);
//! the API listener serves TLS when `[fastapi.tls]` enables it (the `tls` module), the metrics
//! listener is always plain HTTP.

mod activity;
mod body;
mod connection;
mod tls;

pub(crate) use tls::check as check_tls;

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use connection::ConnectionLimits;

use crate::config::Config;
use crate::routes::{metrics_router, router};
use crate::state::{AppState, StartError};

/// A gateway with its listeners bound, ready to [`run`](Gateway::run).
pub struct Gateway {
    state: AppState,
    api: TcpListener,
    /// TLS on the API listener, when enabled.
    tls: Option<tls::Tls>,
    metrics: Option<TcpListener>,
}

impl Gateway {
    /// Builds the state from `config` and binds the API and metrics listeners (port 0 picks a
    /// free port; a metrics port of 0 disables the metrics listener).
    ///
    /// # Errors
    /// Invalid configuration (among it a TLS certificate or key that cannot be served), a
    /// prompt definition that fails to load, or a port in use.
    pub async fn bind(config: Config) -> Result<Self, StartError> {
        let api_addr = format!("{}:{}", config.fastapi.api_host, config.fastapi.api_port);
        let metrics_addr = (config.fastapi.metrics_port != 0).then(|| {
            format!(
                "{}:{}",
                config.fastapi.metrics_host, config.fastapi.metrics_port
            )
        });
        let tls_config = config.fastapi.tls.clone();
        let state = AppState::new(config)?;
        let tls = tls::Tls::from_config(&tls_config)?;
        let api = bind(&api_addr).await?;
        let metrics = match metrics_addr {
            Some(addr) => Some(bind(&addr).await?),
            None => None,
        };
        Ok(Self {
            state,
            api,
            tls,
            metrics,
        })
    }

    /// The address the API listens on.
    ///
    /// # Errors
    /// When the OS cannot tell (it always can for a bound TCP listener).
    pub fn api_addr(&self) -> std::io::Result<SocketAddr> {
        self.api.local_addr()
    }

    /// The address the metrics listener listens on, if enabled.
    #[must_use]
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The shared state.
    #[must_use]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, lets running requests and
    /// streams finish for up to `fastapi.shutdown_grace_s`, and returns.
    ///
    /// # Errors
    /// None today (accept errors are logged and retried); kept for listener failures.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let grace = self.state.config().shutdown_grace();
        let limits = ConnectionLimits::from_config(&self.state.config().fastapi);
        tracing::debug!(?limits, "client connection limits");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        if let Some(listener) = self.metrics {
            let app = metrics_router(self.state.clone());
            tokio::spawn(connection::serve(
                listener,
                None,
                app,
                limits,
                stop_rx.clone(),
            ));
        }
        let acceptor = self.tls.as_ref().map(tls::Tls::acceptor);
        if let Some(tls) = self.tls {
            tokio::spawn(tls.watch(stop_rx.clone()));
        }
        let app = router(self.state.clone());
        let signalled = async move {
            shutdown.await;
            tracing::info!(
                grace_s = grace.as_secs(),
                "shutting down: no new connections; waiting for running requests"
            );
            let _ = stop_tx.send(true);
        };
        let mut deadline_rx = stop_rx.clone();
        let deadline = async move {
            let _ = deadline_rx.wait_for(|stop| *stop).await;
            tokio::time::sleep(grace).await;
        };
        let server = async move {
            tokio::join!(
                signalled,
                connection::serve(self.api, acceptor, app, limits, stop_rx)
            );
        };
        tokio::select! {
            () = server => Ok(()),
            () = deadline => {
                tracing::warn!(grace_s = grace.as_secs(), "grace period over: cutting the requests still running");
                Ok(())
            }
        }
    }
}

async fn bind(addr: &str) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: addr.to_owned(),
            source,
        })
}

/// Serves the gateway described by `config` until SIGTERM or Ctrl-C.
///
/// # Errors
/// As [`Gateway::bind`] and [`Gateway::run`].
pub async fn serve(config: Config) -> Result<(), StartError> {
    let gateway = Gateway::bind(config).await?;
    if let Ok(addr) = gateway.api_addr() {
        tracing::info!(
            %addr,
            tls = gateway.tls.is_some(),
            metrics = ?gateway.metrics_addr(),
            "duo-gateway listening"
        );
    }
    gateway.run(shutdown_signal()).await
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
