//! User action signing: identities' public keys, the challenges and one-time
//! user actions made from them, the per-environment requirement, and the
//! credential that signed each change.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_environments::Environments;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
    EnvironmentId,
    IdentityId,
    Kind,
    Name,
    PublicKey,
    CreatedAt,
    RevokedAt,
}

/// A challenge, and once signed the user action made from it.
#[derive(DeriveIden)]
enum UserActions {
    Table,
    Id,
    EnvironmentId,
    IdentityId,
    Method,
    RequestSha256,
    Challenge,
    ExpiresAt,
    CredentialId,
    TokenHash,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum EnvironmentSigning {
    Table,
    EnvironmentId,
    RequireSignedActions,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Changes {
    Table,
    SignedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Credentials outlive their identity (kept, revoked), as API keys do.
        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .col(uuid(Credentials::Id).primary_key())
                    .col(uuid(Credentials::EnvironmentId))
                    .col(uuid(Credentials::IdentityId))
                    .col(string(Credentials::Kind))
                    .col(string(Credentials::Name))
                    .col(binary(Credentials::PublicKey))
                    .col(big_integer(Credentials::CreatedAt))
                    .col(big_integer_null(Credentials::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Credentials::Table, Credentials::EnvironmentId)
                            .to(Environments::Table, Environments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("credentials_identity")
                    .table(Credentials::Table)
                    .col(Credentials::IdentityId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserActions::Table)
                    .col(uuid(UserActions::Id).primary_key())
                    .col(uuid(UserActions::EnvironmentId))
                    .col(uuid(UserActions::IdentityId))
                    .col(string(UserActions::Method))
                    .col(binary(UserActions::RequestSha256))
                    .col(binary(UserActions::Challenge))
                    .col(big_integer(UserActions::ExpiresAt))
                    .col(uuid_null(UserActions::CredentialId))
                    .col(string_null(UserActions::TokenHash).unique_key())
                    .col(big_integer_null(UserActions::ConsumedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("user_actions_expiry")
                    .table(UserActions::Table)
                    .col(UserActions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EnvironmentSigning::Table)
                    .col(uuid(EnvironmentSigning::EnvironmentId).primary_key())
                    .col(boolean(EnvironmentSigning::RequireSignedActions))
                    .col(big_integer(EnvironmentSigning::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EnvironmentSigning::Table, EnvironmentSigning::EnvironmentId)
                            .to(Environments::Table, Environments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Changes::Table)
                    .add_column(uuid_null(Changes::SignedBy))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Changes::Table)
                    .drop_column(Changes::SignedBy)
                    .to_owned(),
            )
            .await?;
        for table in [
            EnvironmentSigning::Table.into_iden(),
            UserActions::Table.into_iden(),
            Credentials::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
