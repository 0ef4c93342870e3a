use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Changes {
    Table,
    EnvironmentId,
    ObjectKind,
    ObjectId,
    Revision,
}

const INDEX: &str = "changes_environment_object";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // For the audit trail of one object (or kind of object); ending in the
        // revision lets the database read it in revision order straight off the index.
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Changes::Table)
                    .col(Changes::EnvironmentId)
                    .col(Changes::ObjectKind)
                    .col(Changes::ObjectId)
                    .col(Changes::Revision)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Changes::Table).to_owned())
            .await
    }
}
