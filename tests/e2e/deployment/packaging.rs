//! What operators see of the binary: logs a pipeline can parse, no colours in
//! files, no secrets in `--help`.

use std::{process::Stdio, time::Duration};

use crate::support::{ADMIN_KEY, database::TestDb};
use rbacd::server::{App, Settings};
use sea_orm::{ConnectionTrait, Database, Statement};

use tokio::io::{AsyncBufReadExt, BufReader};

fn rbacd() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"));
    for name in [
        "DATABASE_URL",
        "RBACD_LOG",
        "RBACD_LOG_FORMAT",
        "RBACD_BOOTSTRAP_API_KEY",
        "RBACD_LISTEN",
    ] {
        command.env_remove(name);
    }
    command
}

/// The stderr lines of `rbacd serve` on a fresh SQLite file until it says it serves.
async fn first_start_lines(json: bool) -> Vec<String> {
    let db = std::env::temp_dir().join(format!("rbacd-pkg-{}.db", uuid::Uuid::new_v4().simple()));
    let mut command = rbacd();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url"])
        .arg(format!("sqlite://{}?mode=rwc", db.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if json {
        command.env("RBACD_LOG_FORMAT", "json");
    }
    let mut child = command.spawn().expect("start rbacd serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.contains("serving gRPC");
            seen.push(line);
            if done {
                return;
            }
        }
    })
    .await;
    let _ = child.kill().await;
    let _ = std::fs::remove_file(&db);
    read.unwrap_or_else(|_| panic!("rbacd never said it serves: {seen:#?}"));
    seen
}

#[tokio::test]
async fn json_logs_are_json_on_every_line_and_the_first_key_is_one_event() {
    let lines = first_start_lines(true).await;
    let mut keys = Vec::new();
    for line in &lines {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if let Some(key) = event["fields"]["api_key"].as_str() {
            keys.push(key.to_owned());
        }
    }
    assert_eq!(
        keys.len(),
        1,
        "one event carries the new admin key: {lines:#?}"
    );
    assert!(keys[0].len() >= 24);
}

#[tokio::test]
async fn logs_carry_no_colours_when_stderr_is_not_a_terminal() {
    let lines = first_start_lines(false).await;
    assert!(
        lines.iter().all(|l| !l.contains('\u{1b}')),
        "ANSI escapes in {lines:#?}"
    );
}

#[tokio::test]
async fn serve_help_never_shows_the_database_url() {
    let out = rbacd()
        .args(["serve", "--help"])
        .env("DATABASE_URL", "postgres://rbacd:hunter2secret@db/rbacd")
        .env(
            "RBACD_BOOTSTRAP_API_KEY",
            "bootstrap-secret-0123456789abcdef",
        )
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--database-url"));
    assert!(help.contains("--max-connections"));
    for secret in ["hunter2secret", "bootstrap-secret"] {
        assert!(!help.contains(secret), "--help shows {secret}");
    }
}

#[tokio::test]
async fn tables_live_in_the_database_schema_named() {
    let db = TestDb::new().await;
    let mut bad = Settings::new(db.url.clone());
    bad.database_schema = Some("Robert'); DROP".into());
    let error = App::open(bad)
        .await
        .err()
        .expect("a bad schema name is refused");
    assert!(error.to_string().contains("--database-schema"), "{error}");

    let mut settings = Settings::new(db.url.clone());
    settings.bootstrap_api_key = Some(ADMIN_KEY.into());
    settings.database_schema = Some("rbacd_app".into());
    let app = App::open(settings)
        .await
        .expect("open in a schema of its own");
    drop(app);
    if !db.is_postgres() {
        return; // SQLite has no schemas: the setting is ignored.
    }
    let conn = Database::connect(db.url.as_str()).await.unwrap();
    let count = |schema: &'static str| {
        let conn = &conn;
        async move {
            let row = conn
                .query_one_raw(Statement::from_string(
                    conn.get_database_backend(),
                    format!(
                        "SELECT count(*)::bigint AS n FROM information_schema.tables \
                         WHERE table_schema = '{schema}' AND table_name = 'roles'"
                    ),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    assert_eq!(count("rbacd_app").await, 1, "the tables are in rbacd_app");
    assert_eq!(count("public").await, 0, "and not in public");
    // A second start finds its tables and its environment there.
    let mut again = Settings::new(db.url.clone());
    again.database_schema = Some("rbacd_app".into());
    let reopened = App::open(again).await.expect("reopen");
    assert!(
        reopened.bootstrapped.is_none(),
        "the environment was already there"
    );
}
