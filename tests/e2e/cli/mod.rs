//! The client subcommands end to end: the built `rbacd` binary talking to the
//! real server, started in-process on an ephemeral port.

mod assignments;
mod basics;
mod identities;
mod output;
mod resources;

use std::process::Stdio;

use crate::support::*;
use rbacd::proto::v1 as pb;
use serde_json::Value;

/// What one run of the binary printed, and how it exited.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Stdout parsed as JSON; the run must have succeeded.
    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Stdout of a successful run.
    #[track_caller]
    fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success: {}", self.stderr);
        &self.stdout
    }

    /// Stdout split into rows of cells (cells are apart by two spaces or more).
    #[track_caller]
    fn table(&self) -> Vec<Vec<String>> {
        let rows = self.ok().lines().map(|line| {
            let cells = line.split("  ").map(str::trim).filter(|c| !c.is_empty());
            cells.map(str::to_owned).collect()
        });
        rows.collect()
    }

    /// The run failed with exit status 2; its stderr.
    #[track_caller]
    fn failed(&self) -> &str {
        assert_eq!(
            self.code, 2,
            "expected an error: {}{}",
            self.stdout, self.stderr
        );
        &self.stderr
    }
}

fn command(args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_rbacd"));
    command
        .args(args)
        .env_remove("RBACD_SERVER")
        .env_remove("RBACD_API_KEY")
        .env_remove("RBACD_SIGNING_KEY")
        .env("RBACD_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn run_binary(args: &[&str]) -> Run {
    let output = command(args).output().await.expect("run the rbacd binary");
    Run {
        code: output.status.code().expect("an exit code, not a signal"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// `args` plus `--server ADDRESS` and the admin's `--api-key`.
fn against<'a>(address: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--server", address, "--api-key", ADMIN_KEY]);
    all
}

/// Runs `rbacd LINE` against `server`, LINE split at whitespace.
async fn rbacd(server: &TestServer, line: &str) -> Run {
    let args: Vec<&str> = line.split_whitespace().collect();
    rbacd_args(server, &args).await
}

/// Runs `rbacd ARGS` against `server`, for arguments holding spaces.
async fn rbacd_args(server: &TestServer, args: &[&str]) -> Run {
    let address = format!("http://{}", server.addr);
    run_binary(&against(&address, args)).await
}

/// The object in `items` whose `field` is `value`.
#[track_caller]
fn find<'a>(items: &'a Value, field: &str, value: &str) -> &'a Value {
    let items = items.as_array().expect("a JSON array");
    let found = items.iter().find(|item| item[field] == value);
    found.unwrap_or_else(|| panic!("no item with {field} = {value} in {items:#?}"))
}

/// A `revision` as proto JSON writes a uint64: a decimal string.
#[track_caller]
fn revision(response: &Value) -> u64 {
    let text = response["revision"].as_str();
    let text = text.unwrap_or_else(|| panic!("revision is not a string: {response}"));
    text.parse().expect("a decimal revision")
}

/// The proto JSON of a response, as the CLI must print it.
fn proto<M: rbacd::proto::json::Named>(message: &M) -> Value {
    rbacd::proto::json::to_value(message).expect("proto JSON")
}
