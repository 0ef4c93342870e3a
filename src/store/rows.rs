//! Multi-row INSERTs from plain values: each statement's text is made once per
//! row count and its values pushed straight from the domain objects, without
//! building a SeaORM model per row or a query tree per statement.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, Value};

use crate::domain::{
    Assignment, EnvironmentId, Identity, IdentityId, Node, Result, Role, Timestamp, change::Event,
};
use crate::store::error;

/// Bound values in one INSERT: under SQLite's 32,766 and PostgreSQL's 65,535.
const VALUES_PER_STATEMENT: usize = 30_000;

/// A table and the columns an INSERT fills, in the order values are pushed.
pub(super) struct Table {
    name: &'static str,
    columns: &'static [&'static str],
}

pub(super) const ROLES: Table = Table {
    name: "roles",
    columns: &[
        "id",
        "environment_id",
        "name",
        "name_folded",
        "description",
        "created_at",
        "updated_at",
    ],
};

pub(super) const ROLE_PERMISSIONS: Table = Table {
    name: "role_permissions",
    columns: &["role_id", "position", "permission"],
};

pub(super) const IDENTITIES: Table = Table {
    name: "identities",
    columns: &[
        "id",
        "environment_id",
        "kind",
        "status",
        "email",
        "email_folded",
        "external_id",
        "display_name",
        "created_at",
        "updated_at",
    ],
};

pub(super) const NODES: Table = Table {
    name: "nodes",
    columns: &[
        "id",
        "environment_id",
        "key",
        "name",
        "kind",
        "parent_id",
        "created_at",
        "updated_at",
    ],
};

pub(super) const ASSIGNMENTS: Table = Table {
    name: "assignments",
    columns: &[
        "id",
        "environment_id",
        "identity_id",
        "role_id",
        "node_id",
        "effective_from",
        "effective_to",
        "created_at",
    ],
};

/// The change log; `revision` is left to the database, `before` and
/// `signed_by` are NULL (a created object has no before-image).
pub(super) const CHANGES: Table = Table {
    name: "changes",
    columns: &[
        "environment_id",
        "at",
        "actor_id",
        "action",
        "object_kind",
        "object_id",
        "after",
    ],
};

impl Table {
    /// `INSERT INTO table (columns) VALUES (…), …` for `rows` rows, with the
    /// backend's placeholders.
    fn insert_sql(&self, backend: DbBackend, rows: usize) -> String {
        let columns = self
            .columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let width = self.columns.len();
        let mut sql = String::with_capacity(64 + columns.len() + rows * width * 8);
        sql.push_str(&format!(
            "INSERT INTO \"{}\" ({columns}) VALUES ",
            self.name
        ));
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..width {
                if column > 0 {
                    sql.push_str(", ");
                }
                match backend {
                    DbBackend::Postgres => {
                        sql.push('$');
                        sql.push_str(&(row * width + column + 1).to_string());
                    }
                    _ => sql.push('?'),
                }
            }
            sql.push(')');
        }
        sql
    }

    /// Rows per statement.
    pub(super) fn rows_per_statement(&self) -> usize {
        (VALUES_PER_STATEMENT / self.columns.len()).max(1)
    }
}

/// Inserts one row per item of `items` into `table`, `push` giving each row's
/// values in the table's column order, as few statements as fit.
pub(super) async fn insert<T, F>(
    txn: &DatabaseTransaction,
    table: &Table,
    items: &[T],
    push: F,
    doing: &'static str,
) -> Result<()>
where
    T: Sync,
    F: Fn(&T, &mut Vec<Value>) + Sync,
{
    let backend = txn.get_database_backend();
    let per_statement = table.rows_per_statement();
    let mut full: Option<String> = None;
    for chunk in items.chunks(per_statement) {
        let mut values = Vec::with_capacity(chunk.len() * table.columns.len());
        chunk.iter().for_each(|item| push(item, &mut values));
        debug_assert_eq!(values.len(), chunk.len() * table.columns.len());
        let sql = if chunk.len() == per_statement {
            full.get_or_insert_with(|| table.insert_sql(backend, per_statement))
                .clone()
        } else {
            table.insert_sql(backend, chunk.len())
        };
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(error::on_write(doing, || {
                "an object of the bulk load already exists (its id, or a role name, \
                 email, external id or node key in use)"
                    .to_owned()
            }))?;
    }
    Ok(())
}

/// Inserts one row per item of `items` into `table`, whose first column is
/// `id`, skipping every row that would clash with one in the table (or an
/// earlier one of `items`); returns the ids of the rows inserted.
pub(super) async fn insert_new<T, F>(
    txn: &impl ConnectionTrait,
    table: &Table,
    items: &[T],
    push: F,
    doing: &'static str,
) -> Result<Vec<uuid::Uuid>>
where
    T: Sync,
    F: Fn(&T, &mut Vec<Value>) + Sync,
{
    debug_assert_eq!(table.columns.first(), Some(&"id"));
    let backend = txn.get_database_backend();
    let mut inserted = Vec::with_capacity(items.len());
    for chunk in items.chunks(table.rows_per_statement()) {
        let mut values = Vec::with_capacity(chunk.len() * table.columns.len());
        chunk.iter().for_each(|item| push(item, &mut values));
        let mut sql = table.insert_sql(backend, chunk.len());
        sql.push_str(r#" ON CONFLICT DO NOTHING RETURNING "id""#);
        for row in txn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(error::on_query(doing))?
        {
            inserted.push(row.try_get("", "id").map_err(error::on_query(doing))?);
        }
    }
    Ok(inserted)
}

pub(super) fn role(r: &Role, out: &mut Vec<Value>) {
    out.extend([
        r.id.0.into(),
        r.environment_id.0.into(),
        r.name.to_string().into(),
        r.name.folded().into(),
        r.description.clone().into(),
        r.created_at.micros().into(),
        r.updated_at.micros().into(),
    ]);
}

/// A role's permission at its position.
pub(super) fn permission(
    (role, position, permission): &(uuid::Uuid, i32, String),
    out: &mut Vec<Value>,
) {
    out.extend([
        (*role).into(),
        (*position).into(),
        permission.clone().into(),
    ]);
}

pub(super) fn identity(i: &Identity, out: &mut Vec<Value>) {
    out.extend([
        i.id.0.into(),
        i.environment_id.0.into(),
        i.kind.as_str().into(),
        i.status.as_str().into(),
        i.email.as_ref().map(ToString::to_string).into(),
        i.email.as_ref().map(crate::domain::Email::folded).into(),
        i.external_id.as_ref().map(ToString::to_string).into(),
        i.display_name.clone().into(),
        i.created_at.micros().into(),
        i.updated_at.micros().into(),
    ]);
}

pub(super) fn node(n: &Node, out: &mut Vec<Value>) {
    out.extend([
        n.id.0.into(),
        n.environment_id.0.into(),
        n.key.to_string().into(),
        n.name.clone().into(),
        n.kind.clone().into(),
        n.parent_id.map(|p| p.0).into(),
        n.created_at.micros().into(),
        n.updated_at.micros().into(),
    ]);
}

pub(super) fn assignment(a: &Assignment, out: &mut Vec<Value>) {
    out.extend([
        a.id.0.into(),
        a.environment_id.0.into(),
        a.identity_id.0.into(),
        a.role_id.0.into(),
        a.node_id.0.into(),
        a.effective_from.map(Timestamp::micros).into(),
        a.effective_to.map(Timestamp::micros).into(),
        a.created_at.micros().into(),
    ]);
}

/// What every change row of one bulk write shares.
#[derive(Clone, Copy)]
pub(super) struct ChangeCommon<'a> {
    pub environment: EnvironmentId,
    pub at: Timestamp,
    pub actor: Option<IdentityId>,
    pub action: &'a str,
}

impl ChangeCommon<'_> {
    /// The change row of `event`, a creation: no before-image, not signed.
    pub(super) fn push(&self, event: &Event, out: &mut Vec<Value>) {
        out.extend([
            self.environment.0.into(),
            self.at.micros().into(),
            self.actor.map(|a| a.0).into(),
            self.action.into(),
            event.object_kind().as_str().into(),
            event.object_id().into(),
            event.after_text().into(),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_rows_on_postgres_and_anonymous_on_sqlite() {
        let table = Table {
            name: "t",
            columns: &["a", "b"],
        };
        assert_eq!(
            table.insert_sql(DbBackend::Postgres, 2),
            r#"INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4)"#
        );
        assert_eq!(
            table.insert_sql(DbBackend::Sqlite, 2),
            r#"INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?)"#
        );
    }

    #[test]
    fn a_statement_stays_under_the_bound_value_limits() {
        for table in [
            ROLES,
            ROLE_PERMISSIONS,
            IDENTITIES,
            NODES,
            ASSIGNMENTS,
            CHANGES,
        ] {
            assert!(table.rows_per_statement() * table.columns.len() <= 32_766);
        }
    }
}
