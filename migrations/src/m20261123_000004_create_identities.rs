use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_environments::Environments;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Identities {
    Table,
    Id,
    EnvironmentId,
    Kind,
    Status,
    Email,
    EmailFolded,
    ExternalId,
    DisplayName,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Identities::Table)
                    .col(uuid(Identities::Id).primary_key())
                    .col(uuid(Identities::EnvironmentId))
                    .col(string(Identities::Kind))
                    .col(string(Identities::Status))
                    .col(string_null(Identities::Email))
                    .col(string_null(Identities::EmailFolded))
                    .col(string_null(Identities::ExternalId))
                    .col(string(Identities::DisplayName))
                    .col(big_integer(Identities::CreatedAt))
                    .col(big_integer(Identities::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Identities::Table, Identities::EnvironmentId)
                            .to(Environments::Table, Environments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (
                "identities_environment_email_unique",
                Identities::EmailFolded,
            ),
            (
                "identities_environment_external_id_unique",
                Identities::ExternalId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Identities::Table)
                        .col(Identities::EnvironmentId)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Identities::Table).to_owned())
            .await
    }
}
