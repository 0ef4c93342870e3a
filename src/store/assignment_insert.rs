//! CreateAssignment in one statement: the references are resolved by the
//! INSERT itself, and the write needs no savepoint (see
//! [`begin_single_statement_write`]). A request whose references name nothing,
//! or whose triple is taken, inserts nothing; the caller then takes the
//! general path, which says which.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};

use super::{
    Caller, Written,
    assignments::{AssignmentView, NewAssignment},
    error,
    lanes::Lane,
    resolve::placeholder,
    write::begin_single_statement_write,
};
use crate::domain::{
    Assignment, AssignmentId, IdentityRef, NodeRef, Result, RoleRef, Timestamp, change::Event,
};

/// Creates `new` in one statement inside `lane`'s batch; `None` when it
/// inserted nothing.
pub(super) async fn create(
    db: DatabaseConnection,
    lane: Arc<Lane>,
    caller: Caller,
    new: NewAssignment,
    action: &'static str,
) -> Result<Option<Written<AssignmentView>>> {
    let mut tx = begin_single_statement_write(&db, lane, caller).await?;
    let env = caller.environment;
    let id = AssignmentId::generate();
    let statement = statement(tx.txn.get_database_backend(), env.0, id, &new, tx.now);
    let Some(row) = tx
        .txn
        .query_one_raw(statement)
        .await
        .map_err(error::on_query("create the assignment"))?
    else {
        tx.leave_unchanged();
        return Ok(None);
    };
    let column = |name: &str| -> Result<uuid::Uuid> {
        row.try_get("", name)
            .map_err(error::on_query("read the created assignment"))
    };
    let created = Assignment {
        id,
        environment_id: env,
        identity_id: column("identity_id")?.into(),
        role_id: column("role_id")?.into(),
        node_id: column("node_id")?.into(),
        effective_from: new.effective_from,
        effective_to: new.effective_to,
        created_at: tx.now,
    };
    let text = |name: &str| -> Result<String> {
        row.try_get("", name)
            .map_err(error::on_query("read the created assignment"))
    };
    let view = AssignmentView {
        role_name: text("role_name")?,
        node_key: text("node_key")?,
        inherited: false,
        assignment: created.clone(),
    };
    tx.record(
        action,
        None::<&Assignment>,
        Event::AssignmentCreated(created),
    )
    .await?;
    tx.commit(view).await.map(Some)
}

/// `INSERT … SELECT` from the three rows the references name, skipping a
/// taken triple, returning the ids it resolved and the names the answer shows.
fn statement(
    backend: DbBackend,
    env: uuid::Uuid,
    id: AssignmentId,
    new: &NewAssignment,
    now: Timestamp,
) -> Statement {
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
    let values: Vec<Value> = vec![
        id.0.into(),
        new.effective_from.map(Timestamp::micros).into(),
        new.effective_to.map(Timestamp::micros).into(),
        now.micros().into(),
        env.into(),
        identity_value,
        env.into(),
        role_value,
        env.into(),
        node_value,
    ];
    let p: Vec<String> = (1..=values.len())
        .map(|n| placeholder(backend, n))
        .collect();
    let sql = format!(
        r#"INSERT INTO "assignments" ("id", "environment_id", "identity_id", "role_id", "node_id", "effective_from", "effective_to", "created_at")
SELECT {}, i."environment_id", i."id", r."id", n."id", {}, {}, {}
FROM "identities" i, "roles" r, "nodes" n
WHERE i."environment_id" = {} AND i."{identity_column}" = {}
  AND r."environment_id" = {} AND r."{role_column}" = {}
  AND n."environment_id" = {} AND n."{node_column}" = {}
ON CONFLICT DO NOTHING
RETURNING "identity_id", "role_id", "node_id",
  (SELECT "name" FROM "roles" WHERE "roles"."id" = "assignments"."role_id") AS "role_name",
  (SELECT "key" FROM "nodes" WHERE "nodes"."id" = "assignments"."node_id") AS "node_key""#,
        p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9]
    );
    Statement::from_sql_and_values(backend, sql, values)
}
