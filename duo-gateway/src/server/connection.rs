//! Serving one listener with bounded client connections: at most `max_connections` at once, each
//! closed when it sends headers too slowly or idles too long, each request body read within a
//! deadline, and a graceful stop. With a TLS acceptor each connection first completes its
//! handshake, inside its slot and within the header timeout counted from accepting it.
//!
//! Above the cap the listener stops accepting until a connection closes: new clients wait in
//! the kernel's listen backlog (and, past it, retry their SYN) instead of being accepted and
//! reset at once, which would cost a descriptor per attempt and make clients retry in a tight
//! loop. The header and idle timeouts bound how long any slot can be held without a request.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Request, Response, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tower::ServiceExt;

use super::activity::{Activity, InFlight, WaitLimits, WatchedIo};
use super::body::{RequestBody, ResponseBody};
use crate::config::ServerConfig;

/// The bounds of client connections, from `[fastapi]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Header and idle timeouts.
    pub(crate) wait: WaitLimits,
    /// To send a request's body.
    pub(crate) body_read: Duration,
    /// Connections served at once.
    pub(crate) max_connections: usize,
}

impl ConnectionLimits {
    /// The limits `config` sets.
    pub(crate) fn from_config(config: &ServerConfig) -> Self {
        Self {
            wait: WaitLimits {
                header_read: config.header_read_timeout(),
                keep_alive: config.keep_alive_timeout(),
            },
            body_read: config.body_read_timeout(),
            max_connections: config.connection_cap(),
        }
    }
}

/// Completes once `stop` turns true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Serves `app` on `listener` (over TLS with `tls`) until `stop` turns true, then closes the
/// listener, asks every connection to finish its running request, and returns when all are
/// closed. Dropping the future cuts the connections still open.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: ConnectionLimits,
    stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    let mut slot: Option<OwnedSemaphorePermit> = None;
    let stopping = stopped(stop.clone());
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            biased;
            () = &mut stopping => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            permit = Arc::clone(&slots).acquire_owned(), if slot.is_none() => {
                match permit {
                    Ok(permit) => slot = Some(permit),
                    Err(_) => break,
                }
            }
            accepted = listener.accept(), if slot.is_some() => match accepted {
                Ok((tcp, peer)) => {
                    if let Some(permit) = slot.take() {
                        connections.spawn(serve_connection(
                            tcp,
                            peer,
                            tls.clone(),
                            app.clone(),
                            limits,
                            stop.clone(),
                            permit,
                        ));
                    }
                }
                Err(e) => accept_failed(&e).await,
            },
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// A failed `accept`: a client that gave up is skipped; anything else (out of descriptors) is
/// logged and waited out briefly instead of spinning.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Serves one connection until the client closes it, a timeout closes it, or a stop finishes it.
async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: ConnectionLimits,
    stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    // Replies go out in one write; without this Nagle holds the body back ~40 ms.
    let _ = tcp.set_nodelay(true);
    // From accepting: the handshake and the first request's headers share the header timeout.
    let activity = Activity::new();
    match tls {
        None => serve_http(tcp, activity, app, limits, stop).await,
        Some(acceptor) => {
            let handshake = handshake(&acceptor, tcp, peer, &activity, limits, stop.clone());
            if let Some(stream) = handshake.await {
                serve_http(stream, activity, app, limits, stop).await;
            }
        }
    }
}

/// The TLS handshake of a connection accepted from `peer`, given up at its header deadline or
/// a stop; a failure is logged with rustls' reason.
async fn handshake(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    activity: &Activity,
    limits: ConnectionLimits,
    stop: watch::Receiver<bool>,
) -> Option<TlsStream<TcpStream>> {
    let deadline = activity
        .deadline(limits.wait)
        .unwrap_or_else(|| tokio::time::Instant::now() + limits.wait.header_read);
    tokio::select! {
        result = tokio::time::timeout_at(deadline, acceptor.accept(tcp)) => match result {
            Ok(Ok(stream)) => Some(stream),
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!(%peer, "closing a client connection: no TLS handshake within the header timeout");
                None
            }
        },
        () = stopped(stop) => None,
    }
}

/// Serves HTTP/1.1 on `io` (a TCP or TLS stream) under the connection's watchdog.
async fn serve_http<I>(
    io: I,
    activity: Arc<Activity>,
    app: Router,
    limits: ConnectionLimits,
    stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(WatchedIo::new(io, Arc::clone(&activity)));
    let service = EdgeService {
        app,
        activity: Arc::clone(&activity),
        body_read: limits.body_read,
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    // The header timeout is the watchdog's: hyper's own would also count the idle time
    // between requests, making the idle timeout no longer than the header timeout.
    http.timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true);
    let conn = http.serve_connection(io, service);
    tokio::pin!(conn);
    let stopping = stopped(stop);
    tokio::pin!(stopping);
    let mut finishing = false;
    loop {
        let deadline = activity.deadline(limits.wait);
        let wake = tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now));
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "client connection ended with an error");
                }
                return;
            }
            () = &mut stopping, if !finishing => {
                conn.as_mut().graceful_shutdown();
                finishing = true;
            }
            () = activity.changed() => {}
            () = wake, if deadline.is_some() => {
                if activity
                    .deadline(limits.wait)
                    .is_some_and(|d| d <= tokio::time::Instant::now())
                {
                    tracing::debug!("closing a client connection: header or keep-alive timeout");
                    return;
                }
            }
        }
    }
}

/// The router behind one connection: each request's body gets its deadline, and the request
/// stays in flight until its response is sent.
#[derive(Clone)]
struct EdgeService {
    app: Router,
    activity: Arc<Activity>,
    body_read: Duration,
}

impl hyper::service::Service<Request<Incoming>> for EdgeService {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight: Arc<InFlight> = self.activity.begin();
        let expects_continue = request
            .headers()
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let (parts, incoming) = request.into_parts();
        let (body, timed_out) = RequestBody::new(
            incoming,
            self.body_read,
            !expects_continue,
            Arc::clone(&in_flight),
        );
        let mut request = Request::from_parts(parts, axum::body::Body::new(body));
        request.extensions_mut().insert(timed_out);
        let app = self.app.clone();
        Box::pin(async move {
            let response = match app.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok(response.map(|body| ResponseBody::new(body, in_flight)))
        })
    }
}
