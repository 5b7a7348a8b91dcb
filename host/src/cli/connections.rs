//! Accepting and serving HTTP connections within [`HttpSettings`]: a client
//! has `header_read_timeout_secs` to send each request's headers (hyper's
//! timer, which also runs while a kept-alive connection waits for its next
//! request, so idle connections close too), and one address holds at most
//! `connections_per_address` connections; past that, a new one is answered
//! 503 in the API's error shape and closed.

use crate::config::HttpSettings;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Open connections per client address.
#[derive(Default)]
struct OpenConnections(Mutex<HashMap<IpAddr, usize>>);

/// One counted connection; uncounted when dropped.
struct Slot {
    open: Arc<OpenConnections>,
    address: IpAddr,
}

impl OpenConnections {
    fn take(self: &Arc<Self>, address: IpAddr, cap: usize) -> Option<Slot> {
        let mut open = self.0.lock();
        let count = open.entry(address).or_default();
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            open: self.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.0.lock();
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\nconnection: close\r\nretry-after: 1\r\ncontent-length: 108\r\n\r\n\
{\"error\":{\"code\":\"too_many_connections\",\"message\":\"this address has too many open connections; close some\"}}";

/// Serves `app` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    http: HttpSettings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(OpenConnections::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(http.header_read_timeout_secs))
        // Above the API's own limits (`request_head`), which answer in its
        // error shape; hyper's bare 431 is only for heads past these.
        .max_headers(4 * crate::api::request_head::MAX_HEADERS)
        .max_buf_size((4 * (http.max_header_bytes + http.max_uri_bytes)).max(8192));
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        while tasks.try_join_next().is_some() {}
        let Some(slot) = open.take(remote.ip(), http.connections_per_address) else {
            tracing::debug!(client = %remote.ip(), "too many connections from one address");
            tasks.spawn(async move {
                let mut stream = stream;
                let _ = stream.write_all(TOO_MANY_CONNECTIONS).await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            app.clone().oneshot(request)
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let _slot = slot;
            tokio::pin!(connection);
            let stopping = async move {
                // An error means the server is gone: stop as well.
                let _ = stop.wait_for(|stop| *stop).await;
            };
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = stopping => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(client = %remote, error = %e, "connection ended with an error");
            }
        });
    }
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canned_answer_has_its_declared_length() {
        let text = std::str::from_utf8(TOO_MANY_CONNECTIONS).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{}",
            body.len()
        );
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["error"]["code"], "too_many_connections");
    }

    #[test]
    fn slots_are_counted_per_address_and_given_back() {
        let open = Arc::new(OpenConnections::default());
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let first = open.take(a, 2).expect("first");
        let _second = open.take(a, 2).expect("second");
        assert!(open.take(a, 2).is_none());
        assert!(open.take(b, 2).is_some());
        drop(first);
        assert!(open.take(a, 2).is_some());
    }
}
