//! An environment stays administrable: the last live key of its
//! Administrators cannot be revoked, and `rbacd environment recover` mints a
//! fresh admin key when every one is lost anyway.

use std::process::Stdio;

use super::*;

/// The ids of the live keys of identity `id`, listed with `secret`.
async fn live_keys(server: &TestServer, secret: &str, id: &str) -> Vec<String> {
    let keys = server
        .clients(Some(secret))
        .identities
        .clone()
        .list_api_keys(pb::ListApiKeysRequest {
            identity: identity_by_id(id),
            ..Default::default()
        })
        .await
        .expect("list keys")
        .into_inner()
        .api_keys;
    let live = keys.into_iter().filter(|k| k.revoke_time.is_none());
    live.map(|k| k.id).collect()
}

fn revoke(id: &str) -> pb::RevokeApiKeyRequest {
    pb::RevokeApiKeyRequest {
        request_id: Default::default(),
        api_key_id: id.into(),
    }
}

#[tokio::test]
async fn the_last_admin_key_cannot_be_revoked() {
    let server = TestServer::start().await;
    let admin_id = admin_assignments(&server).await.remove(0).identity_id;
    let keys = live_keys(&server, ADMIN_KEY, &admin_id).await;
    assert_eq!(keys.len(), 1);
    let status = expect_code(
        server.identities().revoke_api_key(revoke(&keys[0])).await,
        Code::FailedPrecondition,
    );
    assert!(
        status.message().contains("environment recover"),
        "{status:?}"
    );

    // Another ACTIVE Administrator's key keeps the environment administrable.
    let admin_role = administrator(&server).await;
    let root = root(&server).await;
    let (other, other_key) = account_with_key(&server, "other-admin", &admin_role, &root).await;
    let mut o = server.clients(Some(&other_key)).identities.clone();
    o.revoke_api_key(revoke(&keys[0]))
        .await
        .expect("another Administrator still holds a key");

    // With two keys left, either one can go — but not both, even at once.
    let second = o
        .create_api_key(pb::CreateApiKeyRequest {
            request_id: Default::default(),
            identity: identity_by_id(&other.id),
            name: "second".into(),
        })
        .await
        .expect("a second key")
        .into_inner();
    let [first_id, second_id] =
        <[String; 2]>::try_from(live_keys(&server, &other_key, &other.id).await)
            .expect("two live keys");
    let mut s = server.clients(Some(&second.secret)).identities.clone();
    let (a, b) = tokio::join!(
        o.revoke_api_key(revoke(&first_id)),
        s.revoke_api_key(revoke(&second_id)),
    );
    let codes = [&a, &b].map(|r| r.as_ref().map_or_else(|s| s.code(), |_| Code::Ok));
    assert!(
        codes.contains(&Code::Ok) && codes.contains(&Code::FailedPrecondition),
        "exactly one of two concurrent revokes passes: {a:?} {b:?}"
    );
    let survivor = if a.is_ok() {
        &second.secret
    } else {
        &other_key
    };
    assert_eq!(live_keys(&server, survivor, &other.id).await.len(), 1);
}

async fn recover(server: &TestServer, environment: &str) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"))
        .args(["environment", "recover", environment])
        .args(["--database-url", server.database_url()])
        .env("RBACD_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run the rbacd binary")
}

#[tokio::test]
async fn environment_recover_mints_a_fresh_admin_key() {
    let server = TestServer::start().await;
    let admin_id = admin_assignments(&server).await.remove(0).identity_id;
    let output = recover(&server, "default").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let secret = stdout
        .lines()
        .find_map(|l| l.strip_prefix("admin API key:"))
        .map(str::trim)
        .expect("the key is printed")
        .to_owned();
    assert!(
        stdout.contains(&admin_id),
        "the existing admin account gets it: {stdout}"
    );

    // The running server follows the change log, then accepts it.
    let mut roles = server.clients(Some(&secret)).roles.clone();
    let mut result = roles.list_roles(pb::ListRolesRequest::default()).await;
    for _ in 0..50 {
        if result.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        result = roles.list_roles(pb::ListRolesRequest::default()).await;
    }
    result.expect("the recovered key administers the environment");

    let output = recover(&server, "no-such-environment").await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no-such-environment"), "{stderr}");
}
