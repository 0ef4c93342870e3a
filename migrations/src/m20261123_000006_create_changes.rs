use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Changes {
    Table,
    Revision,
    EnvironmentId,
    At,
    ActorId,
    Action,
    ObjectKind,
    ObjectId,
    Before,
    After,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign keys: the log outlives the objects it describes.
        manager
            .create_table(
                Table::create()
                    .table(Changes::Table)
                    .col(big_pk_auto(Changes::Revision))
                    .col(uuid(Changes::EnvironmentId))
                    .col(big_integer(Changes::At))
                    .col(uuid_null(Changes::ActorId))
                    .col(string(Changes::Action))
                    .col(string(Changes::ObjectKind))
                    .col(uuid(Changes::ObjectId))
                    .col(text_null(Changes::Before))
                    .col(text_null(Changes::After))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("changes_environment_revision")
                    .table(Changes::Table)
                    .col(Changes::EnvironmentId)
                    .col(Changes::Revision)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Changes::Table).to_owned())
            .await
    }
}
