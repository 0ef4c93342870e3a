//! CreateIdentity, GetIdentity: success, bad input, unique emails and external ids, races.

use super::*;

#[tokio::test]
async fn create_and_get_identity() {
    let server = TestServer::start().await;
    let mut identities = server.identities();

    let created = identities
        .create_identity(pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
            kind: pb::IdentityKind::Unspecified.into(),
            email: "JDoe@Example.co".into(),
            external_id: "auth0|123456789".into(),
            display_name: "Jane Doe".into(),
        })
        .await
        .expect("create identity")
        .into_inner();
    let jane = created.identity.expect("the identity");
    assert!(is_uuid(&jane.id));
    // UNSPECIFIED is taken as USER; CreateIdentity makes it ACTIVE.
    assert_eq!(jane.kind(), pb::IdentityKind::User);
    assert_eq!(jane.status(), pb::IdentityStatus::Active);
    assert_eq!(jane.email, "JDoe@Example.co", "stored as written");
    assert_eq!(jane.external_id, "auth0|123456789");
    assert_eq!(jane.display_name, "Jane Doe");
    assert!(jane.create_time.is_some() && jane.update_time.is_some());
    assert!(created.revision > 0);

    let bot = identities
        .create_identity(pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
            kind: pb::IdentityKind::ServiceAccount.into(),
            email: String::new(),
            external_id: String::new(),
            display_name: "build bot".into(),
        })
        .await
        .expect("a service account needs no email")
        .into_inner();
    assert!(bot.revision > created.revision);
    let bot = bot.identity.unwrap();
    assert_eq!(bot.kind(), pb::IdentityKind::ServiceAccount);
    assert_eq!(bot.status(), pb::IdentityStatus::Active);
    assert_eq!(bot.email, "");
    assert_eq!(bot.external_id, "");

    // By id, email in any case, external id.
    for r in [
        identity_by_id(&jane.id),
        identity_by_email("jdoe@example.co"),
        identity_by_email("JDOE@EXAMPLE.CO"),
        identity_by_external_id("auth0|123456789"),
    ] {
        assert_eq!(get(&server, r).await, jane);
    }
    assert_eq!(get(&server, identity_by_id(&bot.id)).await, bot);

    // Only a USER's email needs the user@domain form.
    let svc = identities
        .create_identity(pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
            kind: pb::IdentityKind::ServiceAccount.into(),
            email: "build-bot".into(),
            external_id: String::new(),
            display_name: String::new(),
        })
        .await
        .expect("a service account's email is free-form")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(svc.email, "build-bot");

    // Limits: 256 characters are fine.
    let long_local = format!("{}@example.co", "a".repeat(256 - "@example.co".len()));
    let long = identities
        .create_identity(pb::CreateIdentityRequest {
            assignments: Default::default(),
            request_id: Default::default(),
            kind: pb::IdentityKind::User.into(),
            email: long_local.clone(),
            external_id: "e".repeat(256),
            display_name: "d".repeat(256),
        })
        .await
        .expect("256-character fields")
        .into_inner()
        .identity
        .unwrap();
    assert_eq!(long.email, long_local);
}

#[tokio::test]
async fn create_identity_refuses_bad_input() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    for bad in ["jdoe", "@example.co", "jdoe@", "a@b@c", "j doe@example.co"] {
        let status = expect_invalid(identities.create_identity(user(bad)).await, "email");
        assert!(status.message().contains("email"), "{}", status.message());
    }
    let too_long = format!("{}@example.co", "a".repeat(257 - "@example.co".len()));
    let status = expect_invalid(identities.create_identity(user(&too_long)).await, "email");
    assert!(status.message().contains("256"), "{}", status.message());
    expect_invalid(
        identities
            .create_identity(pb::CreateIdentityRequest {
                external_id: "x".repeat(257),
                ..user("ok@example.co")
            })
            .await,
        "external_id",
    );
    expect_invalid(
        identities
            .create_identity(pb::CreateIdentityRequest {
                display_name: "x".repeat(257),
                ..user("ok@example.co")
            })
            .await,
        "display_name",
    );
    expect_invalid(
        identities
            .create_identity(pb::CreateIdentityRequest {
                kind: 42,
                ..user("ok@example.co")
            })
            .await,
        "kind",
    );
    // Nothing was created.
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("ok@example.co"),
            })
            .await,
        "ok@example.co",
    );
}

#[tokio::test]
async fn emails_and_external_ids_are_unique() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    let first = identities
        .create_identity(pb::CreateIdentityRequest {
            external_id: "auth0|1".into(),
            ..user("jdoe@example.co")
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();

    for email in ["jdoe@example.co", "JDoe@Example.CO"] {
        let status = expect_code(
            identities.create_identity(user(email)).await,
            Code::AlreadyExists,
        );
        assert!(
            status.message().to_lowercase().contains("jdoe@example.co"),
            "{}",
            status.message()
        );
    }
    let status = expect_code(
        identities
            .create_identity(pb::CreateIdentityRequest {
                external_id: "auth0|1".into(),
                ..user("other@example.co")
            })
            .await,
        Code::AlreadyExists,
    );
    assert!(status.message().contains("auth0|1"), "{}", status.message());
    // Nothing of the refused identity remains.
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("other@example.co"),
            })
            .await,
        "other@example.co",
    );
    // External ids are matched exactly: another case is another id.
    let other = identities
        .create_identity(pb::CreateIdentityRequest {
            external_id: "AUTH0|1".into(),
            ..user("other@example.co")
        })
        .await
        .expect("external ids are case-sensitive")
        .into_inner()
        .identity
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(
        get(&server, identity_by_external_id("auth0|1")).await,
        first
    );
    assert_eq!(
        get(&server, identity_by_external_id("AUTH0|1")).await,
        other
    );
}

#[tokio::test]
async fn get_identity_errors() {
    let server = TestServer::start().await;
    let mut identities = server.identities();
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_email("ghost@example.co"),
            })
            .await,
        "ghost@example.co",
    );
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_external_id("auth0|ghost"),
            })
            .await,
        "auth0|ghost",
    );
    let missing = uuid::Uuid::new_v4().to_string();
    expect_not_found(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_id(&missing),
            })
            .await,
        &missing,
    );
    let status = expect_code(
        identities
            .get_identity(pb::GetIdentityRequest {
                identity: identity_by_id("12345"),
            })
            .await,
        Code::InvalidArgument,
    );
    assert!(
        violated_fields(&status)
            .iter()
            .any(|f| f.starts_with("identity")),
        "{status:?}"
    );
    expect_invalid(
        identities
            .get_identity(pb::GetIdentityRequest { identity: None })
            .await,
        "identity",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_identical_creates_yield_one_winner() {
    let server = TestServer::start().await;
    let calls = (0..32).map(|i| {
        let mut identities = server.identities();
        let email = if i % 2 == 0 {
            "racer@example.co"
        } else {
            "RACER@example.co"
        };
        tokio::spawn(async move { identities.create_identity(user(email)).await })
    });
    let mut ok = 0;
    let mut exists = 0;
    for result in futures::future::join_all(calls).await {
        match result.expect("no panic") {
            Ok(_) => ok += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
                assert_no_sql(&status);
                exists += 1;
            }
        }
    }
    assert_eq!((ok, exists), (1, 31));
}
