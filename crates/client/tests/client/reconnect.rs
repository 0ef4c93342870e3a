//! The Checker after its stream breaks: checks in flight fail with UNAVAILABLE,
//! and a new stream is opened once the server is back on the same port.

use std::time::Duration;

use rbacd_client::{Checker, CheckerOptions, pb};
use tonic::Code;

use crate::support::{Server, question, seed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_resume_on_a_new_stream_after_the_server_restarts() {
    let mut server =
        Server::start_with(|s| s.min_revision_timeout = Duration::from_millis(500)).await;
    let channel = server.authed().await;
    seed(channel.clone()).await;
    let options = CheckerOptions {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..Default::default()
    };
    let checker = Checker::new(channel, options);
    let alice = || question("alice@example.com", "Docs:Read", "docs:1");
    assert!(checker.check(alice()).await.unwrap().allowed);

    // One check held by the server (waiting for its revision), one sent behind it.
    let held = {
        let checker = checker.clone();
        let q = pb::CheckRequest {
            min_revision: 1_000_000,
            ..alice()
        };
        tokio::spawn(async move { checker.check(q).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let behind = {
        let checker = checker.clone();
        tokio::spawn(async move { checker.check(alice()).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.stop().await;
    let held = held.await.unwrap().unwrap_err();
    assert_eq!(held.code(), Code::Unavailable, "{held:?}");
    let behind = behind.await.unwrap().unwrap_err();
    assert_eq!(behind.code(), Code::Unavailable, "{behind:?}");
    assert!(behind.message().contains("retry"), "{behind:?}");

    // While the server is down, a check waits for the next stream.
    let waiting = {
        let checker = checker.clone();
        tokio::spawn(async move { checker.check(alice()).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "a check waits while there is no stream"
    );
    server.restart().await;
    let answer = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("answered once the server is back")
        .unwrap()
        .unwrap();
    assert!(answer.allowed, "{answer:?}");
    assert!(checker.check(alice()).await.unwrap().allowed);
    assert!(checker.streams_opened() >= 2, "a new stream was opened");
}
