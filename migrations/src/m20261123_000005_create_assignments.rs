use sea_orm_migration::{prelude::*, schema::*};

use super::{
    m20261123_000001_create_environments::Environments, m20261123_000002_create_nodes::Nodes,
    m20261123_000003_create_roles::Roles, m20261123_000004_create_identities::Identities,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assignments {
    Table,
    Id,
    EnvironmentId,
    IdentityId,
    RoleId,
    NodeId,
    EffectiveFrom,
    EffectiveTo,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Assignments::Table)
                    .col(uuid(Assignments::Id).primary_key())
                    .col(uuid(Assignments::EnvironmentId))
                    .col(uuid(Assignments::IdentityId))
                    .col(uuid(Assignments::RoleId))
                    .col(uuid(Assignments::NodeId))
                    .col(big_integer_null(Assignments::EffectiveFrom))
                    .col(big_integer_null(Assignments::EffectiveTo))
                    .col(big_integer(Assignments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assignments::Table, Assignments::EnvironmentId)
                            .to(Environments::Table, Environments::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assignments::Table, Assignments::IdentityId)
                            .to(Identities::Table, Identities::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assignments::Table, Assignments::RoleId)
                            .to(Roles::Table, Roles::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assignments::Table, Assignments::NodeId)
                            .to(Nodes::Table, Nodes::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("assignments_triple_unique")
                    .table(Assignments::Table)
                    .col(Assignments::IdentityId)
                    .col(Assignments::RoleId)
                    .col(Assignments::NodeId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("assignments_node", Assignments::NodeId),
            ("assignments_role", Assignments::RoleId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Assignments::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Assignments::Table).to_owned())
            .await
    }
}
