//! CheckStream: order, malformed items, concurrency, ending, backpressure, a
//! request that does not decode.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_stream_of_ten_thousand_with_malformed_items() {
    let server = TestServer::start().await;
    let world = build_world(&server).await;
    let client = server.authorization();
    let cases = generate(&world, 10_000, 0x5eed_0001, "s");
    let malformed = cases
        .iter()
        .filter(|(_, w)| matches!(w, Want::Invalid(_)))
        .count();
    assert_eq!(malformed, 10);
    let allowed = cases
        .iter()
        .filter(
            |(_, w)| matches!(w, Want::Decision(e) if e.reason == rbacd::engine::Reason::Granted),
        )
        .count();
    assert!(
        (500..9500).contains(&allowed),
        "a useful mix of answers: {allowed} allowed"
    );
    let answers = stream_all(&client, cases.iter().map(|(r, _)| r.clone()).collect()).await;
    assert_answers(&world, &cases, &answers);

    // The same checks in batches of 1000 give the same answers.
    for (chunk, answers) in cases.chunks(1000).zip(answers.chunks(1000)) {
        let results = client
            .clone()
            .batch_check(pb::BatchCheckRequest {
                checks: chunk.iter().map(|(r, _)| r.clone()).collect(),
            })
            .await
            .expect("batch check")
            .into_inner()
            .results;
        assert_answers(&world, chunk, &results);
        for (b, s) in results.iter().zip(answers) {
            assert_eq!(b.allowed, s.allowed);
            assert_eq!(b.reason_code, s.reason_code);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_check_streams() {
    let server = TestServer::start().await;
    let world = Arc::new(build_world(&server).await);
    let mut tasks = Vec::new();
    for s in 0..8u64 {
        // Half share the harness's connection, half have their own.
        let client = if s % 2 == 0 {
            server.authorization()
        } else {
            server.connect_clients(ADMIN_KEY).await.authz
        };
        let world = Arc::clone(&world);
        tasks.push(tokio::spawn(async move {
            let cases = generate(&world, 1_500, 0x1000 + s, &format!("stream{s}"));
            let answers = stream_all(&client, cases.iter().map(|(r, _)| r.clone()).collect()).await;
            assert_answers(&world, &cases, &answers);
            answers.len()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("a stream task"), 1_500);
    }
}

#[tokio::test]
async fn check_stream_ends_cleanly_when_the_client_half_closes() {
    let server = TestServer::start().await;
    let client = server.authorization();
    let jane = create_user(&server, "jane@example.com").await;

    // No checks at all: the stream ends at once, with OK.
    let answers = stream_all(&client, Vec::new()).await;
    assert!(answers.is_empty());

    // Checks sent one at a time, each answered before the next is sent, then a half-close.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut answers = client
        .clone()
        .check_stream(ReceiverStream::new(rx))
        .await
        .expect("open CheckStream")
        .into_inner();
    for i in 0..5 {
        let mut request = ask_key(&jane, "Docs:Read", "root");
        request.correlation_id = format!("one-by-one-{i}");
        tx.send(request).await.expect("send");
        let resp = tokio::time::timeout(Duration::from_secs(5), answers.message())
            .await
            .expect("an answer while the stream is open")
            .expect("no error")
            .expect("an answer");
        assert_eq!(resp.correlation_id, format!("one-by-one-{i}"));
        assert_denied(&resp, pb::DecisionReason::NoMatchingAssignment);
    }
    drop(tx);
    let end = tokio::time::timeout(Duration::from_secs(5), answers.message())
        .await
        .expect("the stream ends after the half-close");
    assert!(matches!(end, Ok(None)), "a clean end: {end:?}");
}

#[tokio::test]
async fn check_stream_ends_cleanly_when_the_server_drains() {
    let server = TestServer::start().await;
    let client = server.authorization();
    let jane = create_user(&server, "jane@example.com").await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut answers = client
        .clone()
        .check_stream(ReceiverStream::new(rx))
        .await
        .expect("open CheckStream")
        .into_inner();
    tx.send(ask_key(&jane, "Docs:Read", "root"))
        .await
        .expect("send");
    let first = answers
        .message()
        .await
        .expect("no error")
        .expect("an answer");
    assert_denied(&first, pb::DecisionReason::NoMatchingAssignment);
    // The client keeps its side open; the server is told to stop.
    let stopping = tokio::spawn(server.stop());
    let end = tokio::time::timeout(Duration::from_secs(10), answers.message())
        .await
        .expect("the stream ends when the server drains");
    assert!(matches!(end, Ok(None)), "a clean end: {end:?}");
    tokio::time::timeout(Duration::from_secs(15), stopping)
        .await
        .expect("the server stops with a stream still open on the client's side")
        .expect("stop does not panic");
    drop(tx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_held_back_and_others_are_served() {
    const SENT: usize = 200_000;
    let server = TestServer::start().await;
    let root = root(&server).await;
    let role = create_role(&server, "Reader", &["Docs:Read"]).await;
    let jane = create_user(&server, "jane@example.com").await;
    assign(&server, &jane, &role, &root).await;
    let client = server.authorization();

    let (tx, rx) = tokio::sync::mpsc::channel::<pb::CheckRequest>(64);
    let sent = Arc::new(AtomicUsize::new(0));
    let producer = {
        let sent = Arc::clone(&sent);
        let jane = jane.clone();
        tokio::spawn(async move {
            for i in 0..SENT {
                let mut request = ask_key(&jane, "Docs:Read", "root");
                request.correlation_id = i.to_string();
                if tx.send(request).await.is_err() {
                    return;
                }
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Opened, but never read.
    let answers = client
        .clone()
        .check_stream(ReceiverStream::new(rx))
        .await
        .expect("open CheckStream")
        .into_inner();

    // The sender must stall: its count stops growing well short of SENT.
    let started = Instant::now();
    let mut last = usize::MAX;
    let mut still_for = Duration::ZERO;
    while still_for < Duration::from_secs(2) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the sender never stalled: {} of {SENT} sent",
            sent.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = sent.load(Ordering::Relaxed);
        assert!(
            now < SENT,
            "all {SENT} checks were accepted by a server whose client does not read"
        );
        if now == last {
            still_for += Duration::from_millis(250);
        } else {
            still_for = Duration::ZERO;
            last = now;
        }
    }
    assert!(!producer.is_finished());
    let stalled_at = sent.load(Ordering::Relaxed);
    eprintln!("the never-reading client stalled after {stalled_at} of {SENT} checks");

    // Meanwhile the server answers others, reads and writes, on other connections.
    let other = server.connect_clients(ADMIN_KEY).await.authz;
    let resp = tokio::time::timeout(
        Duration::from_secs(2),
        other.clone().check(ask_key(&jane, "Docs:Read", "root")),
    )
    .await
    .expect("another client is answered while one does not read")
    .expect("check");
    assert_allowed(&resp.into_inner());
    let other_roles = server.connect_clients(ADMIN_KEY).await.roles;
    let writes = tokio::time::timeout(
        Duration::from_secs(5),
        other_roles.clone().create_role(pb::CreateRoleRequest {
            request_id: Default::default(),
            name: "Writer".into(),
            description: String::new(),
            permissions: vec!["Docs:Write".into()],
        }),
    )
    .await
    .expect("a write is served meanwhile");
    writes.expect("create role");
    assert_eq!(sent.load(Ordering::Relaxed), stalled_at, "still held back");

    // Once the client reads, the held-back checks flow again, in order.
    let wanted = (stalled_at + 20_000).min(SENT);
    let mut answers = answers;
    let mut read = 0usize;
    let reading = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(resp) = answers.message().await.expect("no error") {
            assert_eq!(resp.correlation_id, read.to_string());
            assert!(resp.allowed);
            read += 1;
            if read == wanted {
                break;
            }
        }
    })
    .await;
    reading.expect("the held-back checks are answered once the client reads");
    assert_eq!(read, wanted);
    assert!(
        sent.load(Ordering::Relaxed) > stalled_at,
        "the sender moves again"
    );
    drop(answers);
    producer.abort();
}

/// Sends each request as the bytes it is given, so a test can send one that
/// does not decode; answers decode as usual.
#[derive(Clone, Copy, Default)]
struct RawRequests;

struct RawEncoder;

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use prost::bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Codec for RawRequests {
    type Encode = Vec<u8>;
    type Decode = pb::CheckResponse;
    type Encoder = RawEncoder;
    type Decoder = tonic_prost::ProstDecoder<pb::CheckResponse>;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

#[tokio::test]
async fn a_request_that_does_not_decode_ends_the_stream_with_its_status() {
    let server = TestServer::start().await;
    let jane = create_user(&server, "jane@example.com").await;
    let mut good = ask_key(&jane, "Docs:Read", "root");
    good.correlation_id = "good".into();
    // A varint cut short: not a CheckRequest.
    let requests = vec![
        good.encode_to_vec(),
        vec![0xff, 0xff, 0xff],
        good.encode_to_vec(),
    ];
    let mut grpc = tonic::client::Grpc::new(server.authed());
    grpc.ready().await.expect("a ready channel");
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(
        "/rbacd.v1.AuthorizationService/CheckStream",
    );
    let mut answers = grpc
        .streaming(
            tonic::Request::new(tokio_stream::iter(requests)),
            path,
            RawRequests,
        )
        .await
        .expect("open CheckStream")
        .into_inner();
    let first = answers
        .message()
        .await
        .expect("the first request is answered")
        .expect("an answer");
    assert_eq!(first.correlation_id, "good");
    assert_denied(&first, pb::DecisionReason::NoMatchingAssignment);
    let end = tokio::time::timeout(Duration::from_secs(5), answers.message())
        .await
        .expect("the call ends");
    let status = end.expect_err("the call ends with the decoding error, not OK");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}
