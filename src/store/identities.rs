//! Identities: users and service accounts, and their status.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{
    Caller, InitialAssignment, Store, Written, api_keys, assignments, convert, entity::identity,
    error, guard, resolve, write::WriteTx,
};
use crate::domain::{
    Email, EnvironmentId, Error, ExternalId, Identity, IdentityId, IdentityKind, IdentityRef,
    IdentityStatus, Page, PageRequest, Result, change::Event,
};

/// An identity to create.
#[derive(Clone, Debug)]
pub struct NewIdentity {
    pub kind: IdentityKind,
    pub email: Option<Email>,
    pub external_id: Option<ExternalId>,
    pub display_name: String,
}

/// Changes to an identity; `None` keeps a field, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct IdentityUpdate {
    pub display_name: Option<String>,
    pub email: Option<Option<Email>>,
    pub external_id: Option<Option<ExternalId>>,
}

/// Which identities to list; `None` does not filter.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdentityFilter {
    pub status: Option<IdentityStatus>,
    pub kind: Option<IdentityKind>,
}

/// Refuses an email or external id another identity holds.
async fn check_unique(tx: &WriteTx<'_>, identity: &Identity) -> Result<()> {
    let env = tx.caller.environment;
    let taken = |found: &identity::Model| found.id != identity.id.0;
    if let Some(email) = &identity.email {
        let owner = resolve::identity_row(&tx.txn, env, &IdentityRef::Email(email.clone())).await;
        if owner.as_ref().is_ok_and(taken) {
            return Err(Error::AlreadyExists(format!(
                "an identity with email `{email}` already exists (emails are compared case-insensitively)"
            )));
        }
    }
    if let Some(ext) = &identity.external_id {
        let owner =
            resolve::identity_row(&tx.txn, env, &IdentityRef::ExternalId(ext.clone())).await;
        if owner.as_ref().is_ok_and(taken) {
            return Err(Error::AlreadyExists(format!(
                "an identity with external id `{ext}` already exists"
            )));
        }
    }
    Ok(())
}

fn duplicate() -> String {
    "an identity with this email or external id already exists".into()
}

fn active_model(identity: &Identity) -> identity::ActiveModel {
    identity::ActiveModel {
        id: Set(identity.id.0),
        environment_id: Set(identity.environment_id.0),
        kind: Set(identity.kind.as_str().to_owned()),
        status: Set(identity.status.as_str().to_owned()),
        email: Set(identity.email.as_ref().map(|e| e.to_string())),
        email_folded: Set(identity.email.as_ref().map(Email::folded)),
        external_id: Set(identity.external_id.as_ref().map(|e| e.to_string())),
        display_name: Set(identity.display_name.clone()),
        created_at: Set(identity.created_at.micros()),
        updated_at: Set(identity.updated_at.micros()),
    }
}

/// Creates an identity inside `tx`.
pub(super) async fn insert(
    tx: &mut WriteTx<'_>,
    new: NewIdentity,
    status: IdentityStatus,
    action: &str,
) -> Result<Identity> {
    let identity = Identity {
        id: IdentityId::generate(),
        environment_id: tx.caller.environment,
        kind: new.kind,
        status,
        email: new.email,
        external_id: new.external_id,
        display_name: new.display_name,
        created_at: tx.now,
        updated_at: tx.now,
    };
    check_unique(tx, &identity).await?;
    active_model(&identity)
        .insert(&tx.txn)
        .await
        .map_err(error::on_write("create the identity", duplicate))?;
    tx.record(
        action,
        None::<&Identity>,
        Event::IdentitySaved(identity.clone()),
    )
    .await?;
    Ok(identity)
}

/// Creates an identity and its initial assignments inside `tx`.
async fn insert_with_assignments(
    tx: &mut WriteTx<'_>,
    new: NewIdentity,
    status: IdentityStatus,
    initial: Vec<InitialAssignment>,
    action: &str,
) -> Result<(Identity, Vec<assignments::AssignmentView>)> {
    let identity = insert(tx, new, status, action).await?;
    let mut created = Vec::with_capacity(initial.len());
    for (i, item) in initial.into_iter().enumerate() {
        let item = item.for_identity(IdentityRef::Id(identity.id));
        let label = format!("assignments[{i}]");
        created.push(assignments::insert(tx, &item, action, &label).await?);
    }
    Ok((identity, created))
}

impl Store {
    /// Creates an ACTIVE identity.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn create_identity(
        &self,
        caller: Caller,
        new: NewIdentity,
    ) -> Result<Written<Identity>> {
        let mut tx = self.begin_write(caller).await?;
        let identity = insert(&mut tx, new, IdentityStatus::Active, "CreateIdentity").await?;
        tx.commit(identity).await
    }

    /// Creates an ACTIVE identity and its initial assignments, all or nothing.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn create_identity_with_assignments(
        &self,
        caller: Caller,
        new: NewIdentity,
        initial: Vec<InitialAssignment>,
    ) -> Result<Written<(Identity, Vec<assignments::AssignmentView>)>> {
        let mut tx = self.begin_write(caller).await?;
        let created = insert_with_assignments(
            &mut tx,
            new,
            IdentityStatus::Active,
            initial,
            "CreateIdentity",
        )
        .await?;
        tx.commit(created).await
    }

    /// Creates an INVITED identity and its initial assignments, all or nothing.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn invite_identity(
        &self,
        caller: Caller,
        new: NewIdentity,
        initial: Vec<InitialAssignment>,
    ) -> Result<Written<(Identity, Vec<assignments::AssignmentView>)>> {
        let mut tx = self.begin_write(caller).await?;
        let created = insert_with_assignments(
            &mut tx,
            new,
            IdentityStatus::Invited,
            initial,
            "InviteIdentity",
        )
        .await?;
        tx.commit(created).await
    }

    /// Returns one identity.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn get_identity(
        &self,
        env: EnvironmentId,
        identity_ref: &IdentityRef,
    ) -> Result<Identity> {
        convert::identity(resolve::identity_row(&self.db, env, identity_ref).await?)
    }

    /// Lists identities in creation order.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn list_identities(
        &self,
        env: EnvironmentId,
        filter: IdentityFilter,
        page: PageRequest,
    ) -> Result<Page<Identity>> {
        let mut query = identity::Entity::find()
            .filter(identity::Column::EnvironmentId.eq(env.0))
            .order_by_asc(identity::Column::Id)
            .limit(page.size + 1);
        if let Some(after) = page.after {
            query = query.filter(identity::Column::Id.gt(after));
        }
        if let Some(status) = filter.status {
            query = query.filter(identity::Column::Status.eq(status.as_str()));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(identity::Column::Kind.eq(kind.as_str()));
        }
        let rows = query
            .all(&self.db)
            .await
            .map_err(error::on_query("list identities"))?;
        let identities = rows
            .into_iter()
            .map(convert::identity)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(identities, page.size, |i| i.id.0))
    }

    /// Changes an identity's display name, email or external id.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn update_identity(
        &self,
        caller: Caller,
        identity_ref: &IdentityRef,
        update: IdentityUpdate,
    ) -> Result<Written<Identity>> {
        self.change_identity(caller, identity_ref, "UpdateIdentity", |identity| {
            if let Some(name) = update.display_name {
                identity.display_name = name;
            }
            if let Some(email) = update.email {
                if let Some(e) = &email
                    && identity.kind == IdentityKind::User
                {
                    e.check_user_form()
                        .map_err(|m| Error::invalid("email", m))?;
                }
                identity.email = email;
            }
            if let Some(ext) = update.external_id {
                identity.external_id = ext;
            }
            Ok(())
        })
        .await
    }

    /// Makes an INVITED or DISABLED identity ACTIVE.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn activate_identity(
        &self,
        caller: Caller,
        identity_ref: &IdentityRef,
    ) -> Result<Written<Identity>> {
        self.change_status(
            caller,
            identity_ref,
            IdentityStatus::Active,
            "ActivateIdentity",
        )
        .await
    }

    /// Makes an INVITED or ACTIVE identity DISABLED.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn disable_identity(
        &self,
        caller: Caller,
        identity_ref: &IdentityRef,
    ) -> Result<Written<Identity>> {
        self.change_status(
            caller,
            identity_ref,
            IdentityStatus::Disabled,
            "DisableIdentity",
        )
        .await
    }

    async fn change_status(
        &self,
        caller: Caller,
        identity_ref: &IdentityRef,
        to: IdentityStatus,
        action: &str,
    ) -> Result<Written<Identity>> {
        self.change_identity(caller, identity_ref, action, |identity| {
            if identity.status == to {
                return Err(Error::FailedPrecondition(format!(
                    "identity {} is already {}",
                    identity.id,
                    to.as_str()
                )));
            }
            identity.status = to;
            Ok(())
        })
        .await
    }

    async fn change_identity(
        &self,
        caller: Caller,
        identity_ref: &IdentityRef,
        action: &str,
        change: impl FnOnce(&mut Identity) -> Result<()>,
    ) -> Result<Written<Identity>> {
        let mut tx = self.begin_write(caller).await?;
        let row = resolve::identity_row(&tx.txn, caller.environment, identity_ref).await?;
        let before = convert::identity(row)?;
        let mut after = before.clone();
        change(&mut after)?;
        if before.status == IdentityStatus::Active && after.status != IdentityStatus::Active {
            guard::keep_an_administrator(&tx, |a| a.identity_id == after.id.0).await?;
        }
        after.updated_at = tx.now;
        check_unique(&tx, &after).await?;
        let mut active = active_model(&after);
        active.id = sea_orm::ActiveValue::Unchanged(after.id.0);
        active
            .update(&tx.txn)
            .await
            .map_err(error::on_write("update the identity", duplicate))?;
        tx.record(action, Some(&before), Event::IdentitySaved(after.clone()))
            .await?;
        tx.commit(after).await
    }

    /// Deletes an identity and its assignments; returns it and how many assignments went.
    #[tracing::instrument(skip_all, err(level = "debug"))]
    pub async fn delete_identity(
        &self,
        caller: Caller,
        identity_ref: &IdentityRef,
    ) -> Result<Written<(Identity, u32)>> {
        let mut tx = self.begin_write(caller).await?;
        let row = resolve::identity_row(&tx.txn, caller.environment, identity_ref).await?;
        let identity = convert::identity(row)?;
        guard::keep_an_administrator(&tx, |a| a.identity_id == identity.id.0).await?;
        let held = assignments::of_identity(&tx.txn, identity.id.0).await?;
        let removed = assignments::delete_rows(&mut tx, held, "DeleteIdentity").await?;
        api_keys::revoke_all_of(&mut tx, identity.id, "DeleteIdentity").await?;
        identity::Entity::delete_by_id(identity.id.0)
            .exec(&tx.txn)
            .await
            .map_err(error::on_query("delete the identity"))?;
        tx.record(
            "DeleteIdentity",
            Some(&identity),
            Event::IdentityDeleted(identity.id),
        )
        .await?;
        tx.commit((identity, removed)).await
    }
}
