//! `rbacd export`, `import` and `apply` with the built binary.

use std::path::{Path, PathBuf};

use rbacd::proto::v1 as pb;

use super::world::{assert_same_answers, populate, rows};
use crate::support::*;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `rbacd ARGS --server … --api-key …` against `server`.
async fn rbacd(server: &TestServer, args: &[&str]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"))
        .args(args)
        .args([
            "--server",
            &format!("http://{}", server.addr),
            "--api-key",
            ADMIN_KEY,
        ])
        .env_remove("RBACD_SERVER")
        .env_remove("RBACD_API_KEY")
        .env("RBACD_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run the rbacd binary");
    Run {
        code: output.status.code().expect("an exit code"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

impl Run {
    #[track_caller]
    fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success: {}{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }
}

/// A fresh directory for a test's files.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbacd-bulk-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The document without its header comment (which names the revision).
fn body(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The document's lines, sorted: equal for documents that differ only in order.
fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = body(text).lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn export_then_import_into_a_fresh_server_gives_the_same_document() {
    let dir = scratch();
    let source = TestServer::start().await;
    populate(&source).await;
    let file = dir.join("env.yaml");
    rbacd(&source, &["export", "--output-file", path(&file)])
        .await
        .ok();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("- name: Docs_Reader"), "{text}");
    assert!(text.contains("identity: alice@example.com"), "{text}");
    assert!(text.contains("parent: payments:eu"), "{text}");
    assert!(text.contains("identity: builtin:admin"), "{text}");
    // Diff-friendly: a second export is the same text.
    assert_eq!(body(rbacd(&source, &["export"]).await.ok()), body(&text));

    let target = TestServer::start().await;
    let imported = rbacd(&target, &["import", path(&file)]).await;
    assert!(
        imported.ok().contains("4 nodes, 5 assignments"),
        "{}",
        imported.stdout
    );
    assert_eq!(body(rbacd(&target, &["export"]).await.ok()), body(&text));
    assert_eq!(
        rows(&source.clients(Some(ADMIN_KEY))).await,
        rows(&target.clients(Some(ADMIN_KEY))).await
    );
    assert_same_answers(&source, &target).await;

    // Applying the same document to either is a no-op.
    let again = rbacd(&target, &["apply", path(&file), "--yes", "--prune"]).await;
    assert!(again.ok().contains("no changes"), "{}", again.stdout);
}

#[tokio::test]
async fn a_bad_file_is_reported_by_line_and_changes_nothing() {
    let dir = scratch();
    let server = TestServer::start().await;
    let before = rows(&server.clients(Some(ADMIN_KEY))).await;

    let syntax = dir.join("syntax.yaml");
    std::fs::write(
        &syntax,
        "roles:\n  - name: A\n    permissions: [Docs:Read\n",
    )
    .unwrap();
    let shape = dir.join("shape.yaml");
    std::fs::write(&shape, "roles:\n  - name: A\n    colour: blue\n").unwrap();
    let meaning = dir.join("meaning.yaml");
    std::fs::write(
        &meaning,
        "roles:\n  - name: Reader\n    permissions:\n      - Docs:Read\n\
         nodes:\n  - key: team\n\
         assignments:\n  - identity: alice@example.com\n    node: team\n    role: Reader\n\
         \x20 - identity: alice@example.com\n    node: nowhere\n    role: Reader\n",
    )
    .unwrap();
    for (file, expected) in [
        (&syntax, "line 4".to_owned()),
        (&shape, "line 3".to_owned()),
        (
            &meaning,
            format!("{}:8: assignments[0].identity", path(&meaning)),
        ),
        (
            &meaning,
            format!("{}:11: assignments[1].node", path(&meaning)),
        ),
    ] {
        for command in ["import", "apply"] {
            let run = rbacd(
                &server,
                &[command, path(file), "--yes"][..if command == "import" { 2 } else { 3 }],
            )
            .await;
            assert_eq!(run.code, 2, "{command} {}: {}", path(file), run.stdout);
            assert!(
                run.stderr.contains(&expected),
                "{command}: expected `{expected}` in {}",
                run.stderr
            );
        }
    }
    assert_eq!(rows(&server.clients(Some(ADMIN_KEY))).await, before);
}

#[tokio::test]
async fn apply_prints_the_plan_runs_it_with_yes_and_deletes_only_with_prune() {
    let dir = scratch();
    let server = TestServer::start().await;
    populate(&server).await;
    let admin = server.clients(Some(ADMIN_KEY));
    let file = dir.join("env.yaml");
    rbacd(&server, &["export", "-o", path(&file)]).await.ok();
    let text = std::fs::read_to_string(&file).unwrap();

    // Edit: a new role granted on a new node, a changed role, a dropped assignment.
    let edited = text
        .replace("  - Docs:Read\n", "  - Docs:Read\n  - Docs:List\n")
        .replace(
            "nodes:\n",
            "nodes:\n- key: archive\n  name: Archive\n  parent: payments\n",
        )
        .replace(
            "roles:\n",
            "roles:\n- name: Auditor\n  permissions:\n  - Audit:Read\n",
        )
        .replace(
            "assignments:\n",
            "assignments:\n- identity: alice@example.com\n  node: archive\n  role: Auditor\n  to: 2031-01-01\n",
        )
        .replace(
            "- identity: external:svc|robot\n  node: wallet:42\n  role: Docs_Writer\n",
            "",
        );
    assert_ne!(edited, text, "the edits apply to the exported layout");
    std::fs::write(&file, &edited).unwrap();
    let before = rows(&admin).await;

    let plan = rbacd(&server, &["apply", path(&file)]).await;
    let printed = plan.ok();
    for line in [
        "+ role Auditor [Audit:Read]",
        "~ role Docs_Reader [Docs:Read, Docs:List]",
        "+ node archive under payments",
        "+ assignment alice@example.com holds Auditor at archive until 2031-01-01T00:00:00Z",
        "1 objects are not in the document and are kept; --prune deletes them",
        "dry run",
    ] {
        assert!(printed.contains(line), "`{line}` in:\n{printed}");
    }
    rbacd(&server, &["apply", path(&file), "--dry-run", "--prune"])
        .await
        .ok();
    assert_eq!(rows(&admin).await, before, "a plan changes nothing");

    let applied = rbacd(&server, &["apply", path(&file), "--yes"]).await;
    assert!(
        applied.ok().contains("applied 4 changes"),
        "{}",
        applied.stdout
    );
    let kept = rbacd(&server, &["apply", path(&file), "--yes"]).await;
    assert!(kept.ok().contains("no changes"), "{}", kept.stdout);

    let pruned = rbacd(&server, &["apply", path(&file), "--yes", "--prune"]).await;
    assert!(
        pruned
            .ok()
            .contains("- assignment external:svc|robot holds Docs_Writer at wallet:42"),
        "{}",
        pruned.stdout
    );
    let after = rbacd(&server, &["export"]).await;
    let normalized_edit = edited.replace("to: 2031-01-01\n", "to: 2031-01-01T00:00:00Z\n");
    assert_eq!(sorted_lines(after.ok()), sorted_lines(&normalized_edit));
    let twice = rbacd(&server, &["apply", path(&file), "--yes", "--prune"]).await;
    assert!(twice.ok().contains("no changes"), "{}", twice.stdout);
}

/// Every assignment the environment exports, with its id.
async fn assignments(clients: &Clients) -> Vec<pb::BulkAssignment> {
    super::world::export(clients)
        .await
        .into_iter()
        .flat_map(|m| m.assignments)
        .collect()
}

#[tokio::test]
async fn apply_changes_a_window_in_place_keeping_the_assignment_id() {
    let dir = scratch();
    let server = TestServer::start().await;
    populate(&server).await;
    let admin = server.clients(Some(ADMIN_KEY));
    let windowed = |all: Vec<pb::BulkAssignment>| {
        all.into_iter()
            .find(|a| a.effective_from == at(1_900_000_000, 0))
            .expect("the windowed assignment")
    };
    let before = windowed(assignments(&admin).await);
    assert!(!before.id.is_empty(), "an export carries assignment ids");

    let file = dir.join("env.yaml");
    rbacd(&server, &["export", "-o", path(&file)]).await.ok();
    let text = std::fs::read_to_string(&file).unwrap();
    let old_end = text
        .lines()
        .find(|l| l.starts_with("  to: 2033-05-18"))
        .expect("the window's end in the export")
        .to_owned();
    std::fs::write(&file, text.replace(&old_end, "  to: 2040-01-01")).unwrap();

    let plan = rbacd(&server, &["apply", path(&file), "--yes", "--prune"]).await;
    let printed = plan.ok();
    assert!(
        printed.contains("~ assignment alice@example.com holds Docs_Writer at payments:eu")
            && printed.contains("until 2040-01-01T00:00:00Z (new window)")
            && printed.contains("applied 1 changes"),
        "{printed}"
    );
    assert!(
        !printed.contains("- assignment"),
        "nothing is removed: {printed}"
    );

    let after = windowed(assignments(&admin).await);
    assert_eq!(after.id, before.id, "the assignment keeps its id");
    assert_eq!(after.effective_from, before.effective_from);
    assert_eq!(after.effective_to, at(2_208_988_800, 0));
    let again = rbacd(&server, &["apply", path(&file), "--yes", "--prune"]).await;
    assert!(again.ok().contains("no changes"), "{}", again.stdout);
}
