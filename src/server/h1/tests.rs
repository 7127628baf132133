//! The HTTP/1.1 loop over real loopback sockets, with a small router in place of the app.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::write::chunk_size;
use super::*;

/// Sets its flag when dropped: the handler's future was dropped.
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn router(dropped: Arc<AtomicBool>) -> Router {
    Router::new()
        .route(
            "/echo",
            post(|body: String| async move { format!("got {body}") }),
        )
        .route(
            "/stream",
            get(|| async {
                let parts = ["one", "two", "three"].map(|s| Ok::<_, Infallible>(Bytes::from(s)));
                Body::from_stream(futures_util::stream::iter(parts))
            }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                "slow done"
            }),
        )
        .route(
            "/hang",
            post(move || {
                let guard = Dropped(dropped.clone());
                async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }
            }),
        )
}

/// A loopback connection served by [`serve`]; the task returns its outcome.
async fn connect(
    router: Router,
) -> (
    TcpStream,
    watch::Sender<bool>,
    tokio::task::JoinHandle<Outcome>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop) = watch::channel(false);
    let task = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let progress = Progress::new();
        let stopping = AtomicBool::new(false);
        let own = serve(&mut tcp, &router, &progress, &stopping, 1000);
        tokio::pin!(own);
        // As `conn::supervise` does: set the flag, then poll the connection again.
        let mut stop = stop;
        loop {
            tokio::select! {
                biased;
                outcome = &mut own => return outcome,
                _ = stop.wait_for(|stop| *stop), if !stopping.load(Ordering::Relaxed) => {
                    stopping.store(true, Ordering::Relaxed);
                }
            }
        }
    });
    let client = TcpStream::connect(addr).await.unwrap();
    (client, stop_tx, task)
}

/// Reads until `n` responses' worth of bytes end in `end`, or the server closes.
async fn read_until(client: &mut TcpStream, end: &str, n: usize) -> String {
    let mut got = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        while String::from_utf8_lossy(&got).matches(end).count() < n {
            let k = client.read(&mut chunk).await.unwrap();
            if k == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..k]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("no answer within 5 s");
    String::from_utf8(got).unwrap()
}

fn post_echo(body: &str) -> String {
    format!(
        "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn keeps_the_connection_for_the_next_request() {
    let (mut client, _stop, task) = connect(router(Arc::default())).await;
    client.write_all(post_echo("a").as_bytes()).await.unwrap();
    let first = read_until(&mut client, "got a", 1).await;
    assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{first}");
    assert!(first.contains("\r\ncontent-length: 5\r\n"), "{first}");
    assert!(first.contains("\r\ndate: "), "{first}");
    assert!(!first.contains("connection: close"), "{first}");
    client.write_all(post_echo("bb").as_bytes()).await.unwrap();
    let second = read_until(&mut client, "got bb", 1).await;
    assert!(second.ends_with("\r\n\r\ngot bb"), "{second}");
    drop(client);
    assert!(matches!(task.await.unwrap(), Outcome::Closed));
}

#[tokio::test]
async fn answers_pipelined_requests_in_order() {
    let (mut client, _stop, _task) = connect(router(Arc::default())).await;
    let both = post_echo("first") + &post_echo("second");
    client.write_all(both.as_bytes()).await.unwrap();
    let got = read_until(&mut client, "got ", 2).await;
    let first = got.find("got first").expect(&got);
    let second = got.find("got second").expect(&got);
    assert!(first < second, "{got}");
}

#[tokio::test]
async fn a_body_that_arrives_late_is_read_whole() {
    let (mut client, _stop, _task) = connect(router(Arc::default())).await;
    let request = post_echo("split-body");
    let (head, tail) = request.split_at(request.len() - 5);
    client.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.write_all(tail.as_bytes()).await.unwrap();
    let got = read_until(&mut client, "got split-body", 1).await;
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
}

#[tokio::test]
async fn a_head_sent_a_byte_at_a_time_is_read() {
    let (mut client, _stop, _task) = connect(router(Arc::default())).await;
    for byte in post_echo("slow").bytes() {
        client.write_all(&[byte]).await.unwrap();
        client.flush().await.unwrap();
    }
    let got = read_until(&mut client, "got slow", 1).await;
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
}

#[tokio::test]
async fn a_head_without_an_end_goes_to_hyper_at_the_limit() {
    let (mut client, _stop, task) = connect(router(Arc::default())).await;
    let endless = format!("GET /{} HTTP/1.1", "a".repeat(MAX_HEAD));
    client.write_all(endless.as_bytes()).await.unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("no hand-off")
        .unwrap();
    assert!(matches!(outcome, Outcome::Handoff(b) if b.len() >= MAX_HEAD));
}

#[tokio::test]
async fn a_streamed_body_is_chunked() {
    let (mut client, _stop, _task) = connect(router(Arc::default())).await;
    client
        .write_all(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let got = read_until(&mut client, "0\r\n\r\n", 1).await;
    assert!(got.contains("\r\ntransfer-encoding: chunked\r\n"), "{got}");
    let body = &got[got.find("\r\n\r\n").unwrap() + 4..];
    assert_eq!(body, "3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n0\r\n\r\n");
}

#[tokio::test]
async fn connection_close_is_honoured() {
    let (mut client, _stop, task) = connect(router(Arc::default())).await;
    let request = post_echo("x").replace("host: x\r\n", "host: x\r\nConnection: close\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    let got = read_until(&mut client, "\u{0}", 1).await;
    assert!(got.contains("\r\nconnection: close\r\n"), "{got}");
    assert!(got.ends_with("got x"), "{got}");
    assert!(matches!(task.await.unwrap(), Outcome::Closed));
}

#[tokio::test]
async fn a_client_that_hangs_up_drops_the_answer() {
    let dropped = Arc::new(AtomicBool::new(false));
    let (mut client, _stop, task) = connect(router(dropped.clone())).await;
    client
        .write_all(b"POST /hang HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !dropped.load(Ordering::SeqCst),
        "dropped before the hang-up"
    );
    drop(client);
    let outcome = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the loop did not see the hang-up")
        .unwrap();
    assert!(matches!(outcome, Outcome::Closed));
    assert!(
        dropped.load(Ordering::SeqCst),
        "the handler's future lives on"
    );
}

#[tokio::test]
async fn requests_it_does_not_serve_go_to_hyper_with_their_bytes() {
    let cases = [
        "GET /echo HTTP/1.0\r\nhost: x\r\n\r\n".to_owned(),
        "POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
            .to_owned(),
        "POST /echo HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 1\r\n\r\n"
            .to_owned(),
        "HEAD /echo HTTP/1.1\r\nhost: x\r\n\r\n".to_owned(),
        "POST /echo HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 1\r\n\r\na".to_owned(),
        format!(
            "POST /echo HTTP/1.1\r\ncontent-length: {}\r\n\r\n",
            MAX_BODY + 1
        ),
        // Past `--max-body-bytes`: hyper's handler refuses it unread.
        "POST /echo HTTP/1.1\r\ncontent-length: 1001\r\n\r\n".to_owned(),
        "GARBAGE\r\n\r\n".to_owned(),
    ];
    for request in cases {
        let (mut client, _stop, task) = connect(router(Arc::default())).await;
        client.write_all(request.as_bytes()).await.unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("no hand-off")
            .unwrap();
        match outcome {
            Outcome::Handoff(bytes) => assert_eq!(bytes, request.as_bytes(), "{request:?}"),
            Outcome::Closed => panic!("closed instead of a hand-off: {request:?}"),
        }
    }
}

#[tokio::test]
async fn an_idle_connection_closes_at_shutdown() {
    let (mut client, stop, task) = connect(router(Arc::default())).await;
    client.write_all(post_echo("a").as_bytes()).await.unwrap();
    read_until(&mut client, "got a", 1).await;
    stop.send(true).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("an idle connection stayed open at shutdown")
        .unwrap();
    assert!(matches!(outcome, Outcome::Closed));
}

#[tokio::test]
async fn a_busy_connection_closes_after_its_response_at_shutdown() {
    let (mut client, stop, task) = connect(router(Arc::default())).await;
    client
        .write_all(b"POST /slow HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.send(true).unwrap();
    // Read to the end: the server closes after the response.
    let got = read_until(&mut client, "\u{0}", 1).await;
    assert!(got.contains("\r\nconnection: close\r\n"), "{got}");
    assert!(got.ends_with("slow done"), "{got}");
    assert!(matches!(task.await.unwrap(), Outcome::Closed));
}

#[test]
fn chunk_sizes_are_hex() {
    for (n, text) in [(0, "0"), (9, "9"), (10, "a"), (255, "ff"), (4096, "1000")] {
        let mut out = Vec::new();
        chunk_size(&mut out, n);
        assert_eq!(out, format!("{text}\r\n").as_bytes());
    }
}

#[test]
fn content_length_is_digits_within_the_cap() {
    assert_eq!(content_length(b"0"), Some(0));
    assert_eq!(content_length(b"123"), Some(123));
    for bad in [&b""[..], b"-1", b"+1", b"1 ", b"0x10", b"99999999"] {
        assert_eq!(content_length(bad), None, "{bad:?}");
    }
    assert_eq!(
        content_length(MAX_BODY.to_string().as_bytes()),
        Some(MAX_BODY)
    );
    assert_eq!(content_length((MAX_BODY + 1).to_string().as_bytes()), None);
}
