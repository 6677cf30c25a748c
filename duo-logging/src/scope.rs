//! The request a model call belongs to. [`RequestLogLayer`](crate::RequestLogLayer) runs each
//! request's handler inside [`in_request`], and the [`Logged`](crate::Logged) decorator reads
//! [`current_request`] when a call starts: one decorated client, built once per endpoint, logs
//! every call on the request that made it.

use std::future::Future;

use tokio::task::futures::TaskLocalFuture;

use crate::handle::RequestLogHandle;

tokio::task_local! {
    static REQUEST: RequestLogHandle;
}

/// Runs `future` as part of the request `handle` records: model calls it makes through a
/// [`Logged`](crate::Logged) client are logged on that request. `RequestLogLayer` does this for
/// every request it serves; call it for work outside such a layer (a job, a test).
pub fn in_request<F: Future>(
    handle: RequestLogHandle,
    future: F,
) -> TaskLocalFuture<RequestLogHandle, F> {
    REQUEST.scope(handle, future)
}

/// The request being served by the current task, if it runs inside [`in_request`].
#[must_use]
pub fn current_request() -> Option<RequestLogHandle> {
    REQUEST.try_with(RequestLogHandle::clone).ok()
}
