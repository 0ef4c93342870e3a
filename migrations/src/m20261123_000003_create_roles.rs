use sea_orm_migration::{prelude::*, schema::*};

use super::m20261123_000001_create_environments::Environments;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Roles {
    Table,
    Id,
    EnvironmentId,
    Name,
    NameFolded,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RolePermissions {
    Table,
    RoleId,
    Position,
    Permission,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(uuid(Roles::Id).primary_key())
                    .col(uuid(Roles::EnvironmentId))
                    .col(string(Roles::Name))
                    .col(string(Roles::NameFolded))
                    .col(text(Roles::Description))
                    .col(big_integer(Roles::CreatedAt))
                    .col(big_integer(Roles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Roles::Table, Roles::EnvironmentId)
                            .to(Environments::Table, Environments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("roles_environment_name_unique")
                    .table(Roles::Table)
                    .col(Roles::EnvironmentId)
                    .col(Roles::NameFolded)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RolePermissions::Table)
                    .col(uuid(RolePermissions::RoleId))
                    .col(integer(RolePermissions::Position))
                    .col(string(RolePermissions::Permission))
                    .primary_key(
                        Index::create()
                            .col(RolePermissions::RoleId)
                            .col(RolePermissions::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RolePermissions::Table, RolePermissions::RoleId)
                            .to(Roles::Table, Roles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("role_permissions_unique")
                    .table(RolePermissions::Table)
                    .col(RolePermissions::RoleId)
                    .col(RolePermissions::Permission)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RolePermissions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Roles::Table).to_owned())
            .await
    }
}
