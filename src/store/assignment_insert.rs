//! CreateAssignment combined: whoever gets the lane first writes every
//! request queued at that moment, with two statements for all of them: one
//! reads the roles they hand out (each request's granting rule is asked with
//! its role as stored), one inserts the rows and resolves their references
//! itself (`INSERT … SELECT`, one `SELECT` per request, `ON CONFLICT DO
//! NOTHING`). Each inserted row joins the batch as its own request, so each
//! still commits or fails on its own. A request whose references name
//! nothing, or whose triple is taken, inserts nothing; its caller then takes
//! the general path, which says which.
//!
//! The statement needs no savepoint: it can fail only when the database does,
//! and then the batch fails with it (its requests are told to retry).

use std::sync::{Arc, Mutex};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, QueryResult, Statement,
    Value,
};
use tokio::sync::{OwnedMutexGuard, oneshot};

use super::{
    Caller, Written,
    assignments::{AssignmentView, GrantCheck, NewAssignment},
    error,
    lanes::{Batch, Done, Lane, copy},
    resolve::{self, placeholder},
    write::{change, committed, open_write},
};
use crate::domain::{
    Assignment, AssignmentId, Error, IdentityRef, NodeRef, Result, RoleRef, Timestamp,
    change::Event,
};

/// Requests written by one statement at most (11 bind values each).
const MAX_COMBINED: usize = 128;

/// The CreateAssignments waiting for a lane.
#[derive(Default)]
pub(super) struct Waiting(Mutex<Vec<Request>>);

impl Waiting {
    fn push(&self, request: Request) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request);
    }

    /// The oldest waiting requests, as many as one statement writes.
    fn take(&self) -> Vec<Request> {
        let mut waiting = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = waiting.len().min(MAX_COMBINED);
        waiting.drain(..n).collect()
    }
}

/// One CreateAssignment waiting to be written.
struct Request {
    caller: Caller,
    new: NewAssignment,
    may_grant: GrantCheck,
    action: &'static str,
    id: AssignmentId,
    reply: oneshot::Sender<Reply>,
}

/// What the writer of a request tells it.
enum Reply {
    /// Inserted; in the batch that `Done` answers for.
    Inserted(AssignmentView, Done),
    /// Nothing inserted: a reference names nothing or the triple is taken.
    Missed,
    /// Refused, or the batch failed.
    Failed(Error),
}

/// Creates `new` in `lane`'s batch, with the creates waiting beside it;
/// `None` when it inserted nothing.
pub(super) async fn create(
    db: DatabaseConnection,
    lane: Arc<Lane>,
    caller: Caller,
    new: NewAssignment,
    may_grant: GrantCheck,
    action: &'static str,
) -> Result<Option<Written<AssignmentView>>> {
    let (reply, mut replied) = oneshot::channel();
    // Queued before it can be taken, so that whoever takes it counts it.
    let mut ticket = lane.queue();
    let id = AssignmentId::generate();
    lane.creates.push(Request {
        caller,
        new,
        may_grant,
        action,
        id,
        reply,
    });
    enum Turn {
        Taken(std::result::Result<Reply, oneshot::error::RecvError>),
        Holding(OwnedMutexGuard<Batch>),
    }
    let turn = tokio::select! {
        biased;
        reply = &mut replied => Turn::Taken(reply),
        batch = ticket.lock() => Turn::Holding(batch),
    };
    let reply = match turn {
        Turn::Taken(reply) => {
            ticket.answered();
            reply
        }
        Turn::Holding(batch) => {
            drop(ticket);
            write_waiting(&db, &lane, batch, id).await;
            replied.await
        }
    };
    match reply {
        Ok(Reply::Inserted(view, done)) => {
            let outcome = committed(done).await?;
            Ok(Some(Written {
                value: view,
                revision: outcome.revision,
                changes: outcome.changes,
            }))
        }
        Ok(Reply::Missed) => Ok(None),
        Ok(Reply::Failed(e)) => Err(e),
        Err(_) => Err(Error::Unavailable(
            "the write's transaction was abandoned; retry it".into(),
        )),
    }
}

/// Writes the requests waiting for the held lane, and answers each; `own` is
/// the holder's request, if it is still waiting.
async fn write_waiting(
    db: &DatabaseConnection,
    lane: &Arc<Lane>,
    mut batch: OwnedMutexGuard<Batch>,
    own: AssignmentId,
) {
    let requests = lane.creates.take();
    let Some(first) = requests.first() else {
        lane.release(batch, 0);
        return;
    };
    let env = first.caller.environment;
    let txn = match batch.resume().await {
        Ok(Some(txn)) => Ok(txn),
        Ok(None) => open_write(db, env).await,
        Err(e) => Err(e),
    };
    let now = Timestamp::now();
    let written = match txn {
        Ok(txn) => write(&txn, &requests, now)
            .await
            .map(|verdicts| (txn, verdicts)),
        Err(e) => Err(e),
    };
    let (txn, verdicts) = match written {
        Ok(written) => written,
        Err(e) => {
            // The shared transaction is broken: its requests fail with these.
            batch.fail(&e);
            for request in requests {
                let _ = request.reply.send(Reply::Failed(copy(&e)));
            }
            return;
        }
    };
    // The others taken here no longer wait for the lane.
    let settled = requests.iter().filter(|r| r.id != own).count();
    let mut members = Vec::new();
    for (request, verdict) in requests.iter().zip(&verdicts) {
        if let Verdict::Inserted(view) = verdict {
            let event = Event::AssignmentCreated(view.assignment.clone());
            let recorded = change(request.caller, now, request.action, None, event);
            members.push((vec![recorded], None));
        }
    }
    let mut done = lane.join_all(batch, txn, members, settled).into_iter();
    for (request, verdict) in requests.into_iter().zip(verdicts) {
        let answer = match verdict {
            Verdict::Inserted(view) => {
                Reply::Inserted(view, done.next().expect("one per inserted row"))
            }
            Verdict::Missed => Reply::Missed,
            Verdict::Refused(e) => Reply::Failed(e),
        };
        let _ = request.reply.send(answer);
    }
}

/// What became of one request in the statement.
enum Verdict {
    Inserted(AssignmentView),
    Missed,
    Refused(Error),
}

/// Asks each request's granting rule with its role as stored, then inserts
/// the rows of those allowed; a verdict per request.
async fn write(
    txn: &DatabaseTransaction,
    requests: &[Request],
    now: Timestamp,
) -> Result<Vec<Verdict>> {
    let refs: Vec<_> = requests
        .iter()
        .map(|r| (r.caller.environment, &r.new.role))
        .collect();
    let roles = resolve::roles(txn, &refs).await?;
    let mut refused = Vec::with_capacity(requests.len());
    let mut allowed = Vec::with_capacity(requests.len());
    for (request, role) in requests.iter().zip(roles) {
        // A role that does not exist: the general path says so.
        let verdict = role.map(|role| (request.may_grant)(&role)).transpose();
        match verdict {
            Err(e) => refused.push(Some(e)),
            Ok(found) => {
                if found.is_some() {
                    allowed.push(request);
                }
                refused.push(None);
            }
        }
    }
    let mut inserted = insert(txn, &allowed, now).await?;
    Ok(requests
        .iter()
        .zip(refused)
        .map(|(request, refusal)| match refusal {
            Some(e) => Verdict::Refused(e),
            None => match inserted.iter().position(|v| v.assignment.id == request.id) {
                Some(i) => Verdict::Inserted(inserted.swap_remove(i)),
                None => Verdict::Missed,
            },
        })
        .collect())
}

/// Inserts every request's row unless its references name nothing or its
/// triple is taken; the rows inserted.
async fn insert(
    txn: &DatabaseTransaction,
    requests: &[&Request],
    now: Timestamp,
) -> Result<Vec<AssignmentView>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all_raw(statement(backend, requests, now))
        .await
        .map_err(error::on_query("create the assignments"))?;
    rows.iter()
        .map(|row| {
            let id: AssignmentId = uuid_column(row, "id")?.into();
            let new = &requests
                .iter()
                .find(|r| r.id == id)
                .ok_or_else(|| {
                    Error::Internal("an assignment no one asked for was created".into())
                })?
                .new;
            let text = |name: &str| -> Result<String> {
                row.try_get("", name)
                    .map_err(error::on_query("read the created assignments"))
            };
            Ok(AssignmentView {
                role_name: text("role_name")?,
                node_key: text("node_key")?,
                inherited: false,
                assignment: Assignment {
                    id,
                    environment_id: uuid_column(row, "environment_id")?.into(),
                    identity_id: uuid_column(row, "identity_id")?.into(),
                    role_id: uuid_column(row, "role_id")?.into(),
                    node_id: uuid_column(row, "node_id")?.into(),
                    effective_from: new.effective_from,
                    effective_to: new.effective_to,
                    created_at: now,
                },
            })
        })
        .collect()
}

fn uuid_column(row: &QueryResult, name: &str) -> Result<uuid::Uuid> {
    row.try_get("", name)
        .map_err(error::on_query("read the created assignments"))
}

/// `INSERT … SELECT` from the three rows each request's references name,
/// skipping a taken triple, returning the ids it resolved and the names the
/// answer shows.
fn statement(backend: DbBackend, requests: &[&Request], now: Timestamp) -> Statement {
    let mut values: Vec<Value> = Vec::with_capacity(requests.len() * 11);
    let mut selects = Vec::with_capacity(requests.len());
    for request in requests {
        let new = &request.new;
        let env = request.caller.environment.0;
        let (identity_column, identity_value): (&str, Value) = match &new.identity {
            IdentityRef::Id(id) => ("id", id.0.into()),
            IdentityRef::Email(email) => ("email_folded", email.folded().into()),
            IdentityRef::ExternalId(ext) => ("external_id", ext.as_str().into()),
        };
        let (role_column, role_value): (&str, Value) = match &new.role {
            RoleRef::Id(id) => ("id", id.0.into()),
            RoleRef::Name(name) => ("name_folded", name.folded().into()),
        };
        let (node_column, node_value): (&str, Value) = match &new.node {
            NodeRef::Id(id) => ("id", id.0.into()),
            NodeRef::Key(key) => ("key", key.as_str().into()),
        };
        let first = values.len();
        values.extend([
            request.id.0.into(),
            new.effective_from.map(Timestamp::micros).into(),
            new.effective_to.map(Timestamp::micros).into(),
            now.micros().into(),
            env.into(),
            identity_value,
            env.into(),
            role_value,
            env.into(),
            node_value,
        ]);
        let p: Vec<String> = (first + 1..=values.len())
            .map(|n| placeholder(backend, n))
            .collect();
        selects.push(format!(
            r#"SELECT {}, i."environment_id", i."id", r."id", n."id", {}, {}, {}
FROM "identities" i, "roles" r, "nodes" n
WHERE i."environment_id" = {} AND i."{identity_column}" = {}
  AND r."environment_id" = {} AND r."{role_column}" = {}
  AND n."environment_id" = {} AND n."{node_column}" = {}"#,
            p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9]
        ));
    }
    let sql = format!(
        r#"INSERT INTO "assignments" ("id", "environment_id", "identity_id", "role_id", "node_id", "effective_from", "effective_to", "created_at")
{}
ON CONFLICT DO NOTHING
RETURNING "id", "environment_id", "identity_id", "role_id", "node_id",
  (SELECT "name" FROM "roles" WHERE "roles"."id" = "assignments"."role_id") AS "role_name",
  (SELECT "key" FROM "nodes" WHERE "nodes"."id" = "assignments"."node_id") AS "node_key""#,
        selects.join("\nUNION ALL\n")
    );
    Statement::from_sql_and_values(backend, sql, values)
}
