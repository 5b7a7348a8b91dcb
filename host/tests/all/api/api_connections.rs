//! The server's connections against hostile clients, over real sockets: a
//! client trickling its headers is dropped, an idle kept-alive connection is
//! closed, and one address cannot hold more than its share of connections.

use crate::common::*;
use mailroom::store::testing::TestDb;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(
    app: &App,
    header_timeout_secs: u64,
    per_address: usize,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let mut http = test_settings().http;
    http.header_read_timeout_secs = header_timeout_secs;
    http.connections_per_address = per_address;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = app.router.clone();
    tokio::spawn(mailroom::cli::connections::serve(
        listener,
        router,
        http,
        async move {
            let _ = stopped.await;
        },
    ));
    (address, stop)
}

/// Reads until the peer closes (or `limit` passes): what it sent, and when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&got).into_owned(),
                    Some(started.elapsed()),
                );
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), None),
        }
    }
}

#[tokio::test]
async fn trickled_headers_and_idle_connections_are_dropped() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let (address, _stop) = start(&app, 1, 16).await;

    // A client sending a header byte every 200 ms never finishes: dropped
    // about a second after it connected, without an answer from the API.
    let mut slow = TcpStream::connect(address).await.expect("connect");
    let started = Instant::now();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut closed = false;
    for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    let (answer, closed_after) = read_until_closed(&mut slow, Duration::from_secs(3)).await;
    assert!(
        closed || closed_after.is_some(),
        "the trickling client is still connected"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!answer.contains("200 OK"), "{answer}");

    // A kept-alive connection is served, then closed once idle.
    let mut idle = TcpStream::connect(address).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let (answer, closed_after) = read_until_closed(&mut idle, Duration::from_secs(4)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let closed_after = closed_after.expect("the idle connection stays open");
    assert!(
        closed_after >= Duration::from_millis(500),
        "closed before it was idle: {closed_after:?}"
    );
}

#[tokio::test]
async fn one_address_holds_a_bounded_number_of_connections() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let (address, _stop) = start(&app, 30, 2).await;
    let first = TcpStream::connect(address).await.expect("connect");
    let _second = TcpStream::connect(address).await.expect("connect");
    let mut third = TcpStream::connect(address).await.expect("connect");
    let (answer, closed) = read_until_closed(&mut third, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "the third connection stays open");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON error body");
    assert_eq!(v["error"]["code"], "too_many_connections");
    // Closing one gives its place back.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut again = TcpStream::connect(address).await.expect("connect");
        again
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let (answer, _) = read_until_closed(&mut again, Duration::from_secs(5)).await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "no place given back: {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn stack_rejections_answer_in_the_error_shape_and_metrics_stay_bounded() {
    let db = TestDb::sqlite().await;
    let app = app_on(&db).await;
    let (address, _stop) = start(&app, 30, 64).await;
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let error_code = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body = r.bytes().await.expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON error body");
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{v}"
        );
        (
            status,
            v["error"]["code"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let long = format!("{base}/v1/contacts?text={}", "a".repeat(20_000));
    let r = client.get(&long).send().await.expect("send");
    assert_eq!(error_code(r).await, (414, "uri_too_long".to_owned()));
    let mut many = client.get(format!("{base}/healthz"));
    for i in 0..150 {
        many = many.header(format!("x-h{i}"), "v");
    }
    assert_eq!(
        error_code(many.send().await.expect("send")).await,
        (431, "headers_too_large".to_owned())
    );
    let big = client
        .get(format!("{base}/healthz"))
        .header("x-big", "b".repeat(60_000));
    assert_eq!(
        error_code(big.send().await.expect("send")).await,
        (431, "headers_too_large".to_owned())
    );
    let r = client
        .delete(format!("{base}/healthz"))
        .send()
        .await
        .expect("send");
    assert_eq!(error_code(r).await, (405, "method_not_allowed".to_owned()));

    // Made-up methods and paths fold into one label value each.
    let size = |text: &str| text.len();
    let before = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("M{i}X").as_bytes()).expect("method");
        let r = client
            .request(method, format!("{base}/nowhere/{i}"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 404);
        let method = reqwest::Method::from_bytes(format!("Q{i}Z").as_bytes()).expect("method");
        let r = client
            .request(method, format!("{base}/healthz"))
            .send()
            .await
            .expect("send");
        assert_eq!(error_code(r).await.0, 405);
    }
    let after = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        !after.contains("M7X") && !after.contains("Q7Z") && !after.contains("/nowhere/"),
        "{after}"
    );
    assert!(
        after.contains("method=\"other\",route=\"(unmatched)\",status=\"404\""),
        "{after}"
    );
    assert!(
        after.contains("method=\"other\",route=\"/healthz\",status=\"405\""),
        "{after}"
    );
    assert!(
        size(&after) < size(&before) + 20_000,
        "{} → {} bytes",
        size(&before),
        size(&after)
    );
}
