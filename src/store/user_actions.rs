//! Challenges and the one-time user actions made from them, kept in the
//! database so that a user action is accepted once across every instance and
//! restart; and whether an environment requires them.

use std::time::Duration;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict,
};

use super::{
    Store,
    entity::{credential, environment_signing, user_action},
    error,
};
use crate::domain::{
    ChallengeId, CredentialId, EnvironmentId, Error, IdentityId, Result, Timestamp,
    signing::{
        ActionRequest, MAX_ACTION_LIFETIME, NewUserAction, Refusal, UserActionGrant,
        challenge_bytes,
    },
};

/// How long a used or expired user action is kept before it is purged; a
/// purged one is refused as unknown, so this only affects the message.
const KEEP_EXPIRED: Duration = Duration::from_secs(24 * 60 * 60);

/// A challenge handed to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub id: ChallengeId,
    pub bytes: Vec<u8>,
    pub expires_at: Timestamp,
}

/// A signed user action, handed out once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserAction {
    pub token: String,
    pub expires_at: Timestamp,
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

impl Store {
    /// Records a challenge for `identity` to sign, valid for `lifetime`
    /// (at most five minutes).
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn begin_action(
        &self,
        env: EnvironmentId,
        identity: IdentityId,
        action: ActionRequest,
        lifetime: Duration,
    ) -> Result<Challenge> {
        let now = Timestamp::now();
        let id = ChallengeId::generate();
        let bytes = challenge_bytes(id, &action);
        let expires_at = Timestamp(now.0 + micros(lifetime.min(MAX_ACTION_LIFETIME)));
        user_action::Entity::delete_many()
            .filter(user_action::Column::ExpiresAt.lt(now.0 - micros(KEEP_EXPIRED)))
            .exec(&self.db)
            .await
            .map_err(error::on_query("purge expired user actions"))?;
        user_action::ActiveModel {
            id: Set(id.0),
            environment_id: Set(env.0),
            identity_id: Set(identity.0),
            method: Set(action.method),
            request_sha256: Set(action.request_sha256.to_vec()),
            challenge: Set(bytes.clone()),
            expires_at: Set(expires_at.0),
            credential_id: Set(None),
            token_hash: Set(None),
            consumed_at: Set(None),
        }
        .insert(&self.db)
        .await
        .map_err(error::on_query("store the challenge"))?;
        Ok(Challenge {
            id,
            bytes,
            expires_at,
        })
    }

    /// Checks `signature` over the challenge by `credential`, a live
    /// credential of the identity that began it, and turns the challenge into
    /// a user action. A challenge is completed at most once.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn complete_action(
        &self,
        env: EnvironmentId,
        identity: IdentityId,
        challenge: ChallengeId,
        credential: CredentialId,
        signature: &[u8],
    ) -> Result<UserAction> {
        let now = Timestamp::now();
        let row = user_action::Entity::find_by_id(challenge.0)
            .filter(user_action::Column::EnvironmentId.eq(env.0))
            .filter(user_action::Column::IdentityId.eq(identity.0))
            .one(&self.db)
            .await
            .map_err(error::on_query("look up the challenge"))?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no challenge {challenge} begun by this identity; call BeginAction first"
                ))
            })?;
        if row.credential_id.is_some() {
            return Err(Error::Unauthenticated(format!(
                "reused challenge: challenge {challenge} was already completed; begin a new one"
            )));
        }
        if now.0 >= row.expires_at {
            return Err(Error::Unauthenticated(format!(
                "expired challenge: challenge {challenge} expired; begin a new one"
            )));
        }
        let key = credential::Entity::find_by_id(credential.0)
            .filter(credential::Column::EnvironmentId.eq(env.0))
            .one(&self.db)
            .await
            .map_err(error::on_query("look up the credential"))?
            .ok_or_else(|| {
                Error::NotFound(format!("no credential {credential} in this environment"))
            })?;
        if key.identity_id != identity.0 {
            return Err(Error::Unauthenticated(format!(
                "foreign credential: credential {credential} belongs to another identity; sign with one of the caller's own"
            )));
        }
        if key.revoked_at.is_some() {
            return Err(Error::Unauthenticated(format!(
                "revoked credential: credential {credential} was revoked"
            )));
        }
        let verified = super::credentials::from_row(key)?
            .key()
            .is_some_and(|k| k.verify(&row.challenge, signature));
        if !verified {
            return Err(Error::Unauthenticated(format!(
                "bad signature: the signature is not credential {credential}'s over challenge {challenge}'s bytes"
            )));
        }
        let issued = NewUserAction::generate();
        let completed = user_action::Entity::update_many()
            .col_expr(
                user_action::Column::CredentialId,
                sea_orm::sea_query::Expr::value(Some(credential.0)),
            )
            .col_expr(
                user_action::Column::TokenHash,
                sea_orm::sea_query::Expr::value(Some(issued.hash)),
            )
            .filter(user_action::Column::Id.eq(challenge.0))
            .filter(user_action::Column::CredentialId.is_null())
            .exec(&self.db)
            .await
            .map_err(error::on_query("complete the challenge"))?;
        if completed.rows_affected != 1 {
            return Err(Error::Unauthenticated(format!(
                "reused challenge: challenge {challenge} was already completed; begin a new one"
            )));
        }
        Ok(UserAction {
            token: issued.token,
            expires_at: Timestamp(row.expires_at),
        })
    }

    /// Accepts `token` for one call — by `identity` in `env`, of `method` with
    /// a body whose SHA-256 is `body` — and uses it up; the credential that
    /// signed it. Refused (UNAUTHENTICATED, saying why) otherwise.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn redeem_user_action(
        &self,
        env: EnvironmentId,
        identity: IdentityId,
        token: &str,
        method: &str,
        body: &[u8; 32],
    ) -> Result<CredentialId> {
        let now = Timestamp::now();
        let hash = crate::domain::secret::hash(token.trim());
        let row = user_action::Entity::find()
            .filter(user_action::Column::TokenHash.eq(hash))
            .one(&self.db)
            .await
            .map_err(error::on_query("look up the user action"))?
            .ok_or(Refusal::Unknown)?;
        let revoked = match row.credential_id {
            Some(id) => credential::Entity::find_by_id(id)
                .one(&self.db)
                .await
                .map_err(error::on_query("look up the credential"))?
                .is_none_or(|c| c.revoked_at.is_some()),
            None => true,
        };
        let grant = UserActionGrant {
            environment_id: row.environment_id.into(),
            identity_id: row.identity_id.into(),
            credential_id: row.credential_id.map(Into::into),
            method: row.method,
            request_sha256: row.request_sha256,
            expires_at: Timestamp(row.expires_at),
            consumed: row.consumed_at.is_some(),
            credential_revoked: revoked,
        };
        let credential = grant.admits(env, identity, method, body, now)?;
        // The conditional update is what makes it single use, across instances.
        let consumed = user_action::Entity::update_many()
            .col_expr(
                user_action::Column::ConsumedAt,
                sea_orm::sea_query::Expr::value(Some(now.0)),
            )
            .filter(user_action::Column::Id.eq(row.id))
            .filter(user_action::Column::ConsumedAt.is_null())
            .exec(&self.db)
            .await
            .map_err(error::on_query("use up the user action"))?;
        if consumed.rows_affected != 1 {
            return Err(Refusal::Reused.into());
        }
        Ok(credential)
    }

    /// Whether `env`'s mutating calls need a user action.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn requires_signed_actions(&self, env: EnvironmentId) -> Result<bool> {
        Ok(environment_signing::Entity::find_by_id(env.0)
            .one(&self.db)
            .await
            .map_err(error::on_query("read the environment's signing rule"))?
            .is_some_and(|row| row.require_signed_actions))
    }

    /// Makes `env`'s mutating calls need a user action, or not; in effect for
    /// the next call on every instance.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn set_require_signed_actions(&self, env: EnvironmentId, on: bool) -> Result<()> {
        environment_signing::Entity::insert(environment_signing::ActiveModel {
            environment_id: Set(env.0),
            require_signed_actions: Set(on),
            updated_at: Set(Timestamp::now().0),
        })
        .on_conflict(
            OnConflict::column(environment_signing::Column::EnvironmentId)
                .update_columns([
                    environment_signing::Column::RequireSignedActions,
                    environment_signing::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&self.db)
        .await
        .map_err(error::on_query("set the environment's signing rule"))?;
        Ok(())
    }
}
