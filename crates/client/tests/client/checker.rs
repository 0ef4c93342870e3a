//! The Checker: many tasks over one stream get unary Check's answers under
//! their own correlation ids; the window bounds what is in flight.

use std::{collections::HashMap, sync::Arc, time::Duration};

use rbacd_client::{Checker, CheckerOptions, pb};
use tonic::Code;

use crate::support::{Server, question, questions, seed, unary};

type Answer = Result<pb::CheckResponse, (Code, String)>;

fn comparable(answer: Result<pb::CheckResponse, tonic::Status>) -> Answer {
    answer
        .map(|mut a| {
            a.correlation_id.clear();
            a
        })
        .map_err(|s| (s.code(), s.message().to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_get_the_unary_answers_under_their_own_ids() {
    let server = Server::start().await;
    let channel = server.authed().await;
    seed(channel.clone()).await;
    let questions = questions();
    let mut expected = Vec::new();
    for q in &questions {
        expected.push(comparable(
            unary(channel.clone())
                .check(q.clone())
                .await
                .map(|r| r.into_inner()),
        ));
    }
    assert!(expected.iter().any(|a| matches!(a, Ok(a) if a.allowed)));
    assert!(expected.iter().any(|a| matches!(a, Ok(a) if !a.allowed)));
    assert!(
        expected
            .iter()
            .any(|a| matches!(a, Err((Code::InvalidArgument, _))))
    );

    let checker = Checker::new(
        channel,
        CheckerOptions {
            window: 16,
            ..Default::default()
        },
    );
    let questions = Arc::new(questions);
    let expected = Arc::new(expected);
    let mut tasks = Vec::new();
    for task in 0..64usize {
        let (checker, questions, expected) = (checker.clone(), questions.clone(), expected.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let n = (task * 7 + i) % questions.len();
                let mut q = questions[n].clone();
                // Callers' ids need not be unique: the checker uses its own on the wire.
                q.correlation_id = format!("caller-{}", i % 3);
                let answer = checker.check(q.clone()).await;
                if let Ok(a) = &answer {
                    assert_eq!(a.correlation_id, q.correlation_id);
                }
                assert_eq!(comparable(answer), expected[n], "question {n}: {q:?}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(checker.in_flight(), 0);
    assert_eq!(checker.streams_opened(), 1, "all of it over one stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_bounds_checks_in_flight_and_min_revision_is_passed_through() {
    let server = Server::start_with(|s| s.min_revision_timeout = Duration::from_millis(150)).await;
    let channel = server.authed().await;
    seed(channel.clone()).await;
    let revision = unary(channel.clone())
        .check(question("alice@example.com", "Docs:Read", "docs"))
        .await
        .unwrap()
        .into_inner()
        .revision;
    let checker = Checker::new(
        channel,
        CheckerOptions {
            window: 3,
            ..Default::default()
        },
    );

    let reached = pb::CheckRequest {
        min_revision: revision,
        ..question("alice@example.com", "Docs:Read", "docs")
    };
    assert!(checker.check(reached).await.unwrap().allowed);

    // Each waits (150 ms) for a revision that never comes; the server reads
    // nothing meanwhile, so most of the 8 are held back by the window.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let checker = checker.clone();
        let behind = pb::CheckRequest {
            min_revision: revision + 1_000,
            ..question("alice@example.com", "Docs:Read", "docs")
        };
        tasks.push(tokio::spawn(async move { checker.check(behind).await }));
    }
    let mut most = 0;
    while !tasks.iter().all(|t| t.is_finished()) {
        most = most.max(checker.in_flight());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(most, 3, "the window fills and never overflows");
    for task in tasks {
        let status = task.await.unwrap().unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert!(status.message().contains("revision"), "{status:?}");
    }
    assert_eq!(checker.in_flight(), 0);
    // The stream survives per-check errors.
    assert_eq!(checker.streams_opened(), 1);
}

#[tokio::test]
async fn a_malformed_check_keeps_its_field_violations() {
    use tonic_types::StatusExt;
    let server = Server::start().await;
    let channel = server.authed().await;
    let checker = Checker::new(channel, CheckerOptions::default());
    let status = checker
        .check(question("alice@example.com", "Docs:*", "docs"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: HashMap<_, _> = status
        .get_details_bad_request()
        .expect("field violations")
        .field_violations
        .into_iter()
        .map(|v| (v.field, v.description))
        .collect();
    assert!(fields.contains_key("permission"), "{fields:?}");
}
