//! Idempotent retries: the encoded answer of a write sent with a `request_id`,
//! kept 24 hours per environment and calling identity.
//!
//! The record is inserted by the write's own transaction, so a write can never
//! commit without it. Write functions do not take the record as an argument:
//! the caller runs the write inside [`Store::recording`], which leaves it in a
//! task-local slot that [`take_pending`] takes at commit. The record's row is
//! inserted then, inside the write's savepoint (a clash fails that write
//! alone); its answer and revision are filled in by [`fill`] once the batch
//! the write belongs to has its revisions.

use std::{any::Any, cell::RefCell, future::Future};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};

use super::{Store, entity::request_record, error};
use crate::domain::{EnvironmentId, IdentityId, Result, Timestamp};

/// How long an answer is kept for retries.
pub const REQUEST_RECORD_MICROS: i64 = 24 * 60 * 60 * 1_000_000;

/// Which request a record answers: per environment and calling identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestKey {
    pub environment: EnvironmentId,
    /// `None` for rbacd itself.
    pub identity: Option<IdentityId>,
    pub request_id: String,
    /// Hex SHA-256 of the method and the request's bytes.
    pub request_sha256: String,
}

/// The answer recorded for a request id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedResponse {
    pub request_sha256: String,
    pub response: Vec<u8>,
    pub revision: u64,
}

type Encode = Box<dyn FnOnce(&dyn Any, u64) -> Option<Vec<u8>> + Send>;

/// A request record a running write owes.
pub(super) struct Pending {
    pub key: RequestKey,
    encode: Encode,
}

tokio::task_local! {
    static PENDING: RefCell<Option<Pending>>;
}

fn identity_column(identity: Option<IdentityId>) -> uuid::Uuid {
    identity.map_or(uuid::Uuid::nil(), |i| i.0)
}

impl Store {
    /// The answer recorded for `key`'s request id in the last 24 hours, if any
    /// (whatever request it answered: the caller compares the hashes).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn recorded_response(&self, key: &RequestKey) -> Result<Option<RecordedResponse>> {
        let cutoff = Timestamp::now().micros() - REQUEST_RECORD_MICROS;
        let row = request_record::Entity::find()
            .filter(request_record::Column::EnvironmentId.eq(key.environment.0))
            .filter(request_record::Column::IdentityId.eq(identity_column(key.identity)))
            .filter(request_record::Column::RequestId.eq(key.request_id.as_str()))
            .filter(request_record::Column::CreatedAt.gt(cutoff))
            .one(&self.db)
            .await
            .map_err(error::on_query("look up the request id"))?;
        Ok(row.map(|r| RecordedResponse {
            request_sha256: r.request_sha256,
            response: r.response,
            revision: r.revision as u64,
        }))
    }

    /// Runs `write`; the first write it commits also records its answer,
    /// `encode(value, revision)`, under `key`, in the same transaction.
    pub async fn recording<T, F>(
        key: RequestKey,
        encode: impl FnOnce(&T, u64) -> Vec<u8> + Send + 'static,
        write: F,
    ) -> F::Output
    where
        T: 'static,
        F: Future,
    {
        let encode: Encode =
            Box::new(move |value, revision| value.downcast_ref::<T>().map(|v| encode(v, revision)));
        PENDING
            .scope(RefCell::new(Some(Pending { key, encode })), write)
            .await
    }
}

/// Whether the running write owes a request record.
pub(super) fn has_pending() -> bool {
    PENDING
        .try_with(|slot| slot.borrow().is_some())
        .unwrap_or(false)
}

/// The request record the running write owes, if any; taken at its commit.
pub(super) fn take_pending() -> Option<Pending> {
    PENDING
        .try_with(|slot| slot.borrow_mut().take())
        .ok()
        .flatten()
}

/// Inserts `pending`'s row, without its answer yet.
pub(super) async fn insert_placeholder(
    txn: &impl ConnectionTrait,
    now: Timestamp,
    key: &RequestKey,
) -> Result<()> {
    let identity = identity_column(key.identity);
    // An expired record of the same id makes way; so do this identity's other
    // expired records, which keeps the table small without a sweeper.
    request_record::Entity::delete_many()
        .filter(request_record::Column::EnvironmentId.eq(key.environment.0))
        .filter(request_record::Column::IdentityId.eq(identity))
        .filter(request_record::Column::CreatedAt.lte(now.micros() - REQUEST_RECORD_MICROS))
        .exec(txn)
        .await
        .map_err(error::on_query("drop expired request ids"))?;
    request_record::ActiveModel {
        environment_id: Set(key.environment.0),
        identity_id: Set(identity),
        request_id: Set(key.request_id.clone()),
        request_sha256: Set(key.request_sha256.clone()),
        response: Set(Vec::new()),
        revision: Set(0),
        created_at: Set(now.micros()),
    }
    .insert(txn)
    .await
    .map_err(error::on_write("record the request id", || {
        "another request with this request_id was written at the same time".into()
    }))?;
    Ok(())
}

/// `pending`'s key and answer: `value` at `revision`.
pub(super) fn answer(
    pending: Pending,
    value: &dyn Any,
    revision: u64,
) -> Result<(RequestKey, Vec<u8>)> {
    let Pending { key, encode } = pending;
    let Some(response) = encode(value, revision) else {
        return Err(crate::domain::Error::Internal(
            "a write committed a value its request record cannot encode".into(),
        ));
    };
    Ok((key, response))
}

/// Completes `key`'s row with its answer, `response` at `revision`.
pub(super) async fn fill(
    txn: &impl ConnectionTrait,
    key: &RequestKey,
    response: Vec<u8>,
    revision: u64,
) -> Result<()> {
    request_record::Entity::update_many()
        .col_expr(request_record::Column::Response, Expr::value(response))
        .col_expr(
            request_record::Column::Revision,
            Expr::value(revision as i64),
        )
        .filter(request_record::Column::EnvironmentId.eq(key.environment.0))
        .filter(request_record::Column::IdentityId.eq(identity_column(key.identity)))
        .filter(request_record::Column::RequestId.eq(key.request_id.as_str()))
        .exec(txn)
        .await
        .map_err(error::on_query("record the request's answer"))?;
    Ok(())
}
