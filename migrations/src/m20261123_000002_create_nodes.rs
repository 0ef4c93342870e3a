use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_environments::Environments;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Nodes {
    Table,
    Id,
    EnvironmentId,
    Key,
    Name,
    Kind,
    ParentId,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Nodes::Table)
                    .col(uuid(Nodes::Id).primary_key())
                    .col(uuid(Nodes::EnvironmentId))
                    .col(string(Nodes::Key))
                    .col(string(Nodes::Name))
                    .col(string(Nodes::Kind))
                    .col(uuid_null(Nodes::ParentId))
                    .col(big_integer(Nodes::CreatedAt))
                    .col(big_integer(Nodes::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Nodes::Table, Nodes::EnvironmentId)
                            .to(Environments::Table, Environments::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Nodes::Table, Nodes::ParentId)
                            .to(Nodes::Table, Nodes::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("nodes_environment_key_unique")
                    .table(Nodes::Table)
                    .col(Nodes::EnvironmentId)
                    .col(Nodes::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("nodes_parent")
                    .table(Nodes::Table)
                    .col(Nodes::ParentId)
                    .col(Nodes::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Nodes::Table).to_owned())
            .await
    }
}
