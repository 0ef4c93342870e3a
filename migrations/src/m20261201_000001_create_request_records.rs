use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_environments::Environments;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The answers of writes sent with a `request_id`, so a retry gets the
/// original answer instead of writing again.
#[derive(DeriveIden)]
enum RequestRecords {
    Table,
    EnvironmentId,
    IdentityId,
    RequestId,
    RequestSha256,
    Response,
    Revision,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The primary key is the uniqueness rule: two concurrent writes with
        // the same id cannot both commit.
        manager
            .create_table(
                Table::create()
                    .table(RequestRecords::Table)
                    .col(uuid(RequestRecords::EnvironmentId))
                    .col(uuid(RequestRecords::IdentityId))
                    .col(string(RequestRecords::RequestId))
                    .col(string(RequestRecords::RequestSha256))
                    .col(blob(RequestRecords::Response))
                    .col(big_integer(RequestRecords::Revision))
                    .col(big_integer(RequestRecords::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(RequestRecords::EnvironmentId)
                            .col(RequestRecords::IdentityId)
                            .col(RequestRecords::RequestId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestRecords::Table, RequestRecords::EnvironmentId)
                            .to(Environments::Table, Environments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("request_records_created_at")
                    .table(RequestRecords::Table)
                    .col(RequestRecords::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RequestRecords::Table).to_owned())
            .await
    }
}
