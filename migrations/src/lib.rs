//! rbacd's schema, one timestamped migration per table. Every uniqueness rule
//! of the contract is an index here, so concurrent duplicates cannot both commit.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_environments;
mod m20261123_000002_create_nodes;
mod m20261123_000003_create_roles;
mod m20261123_000004_create_identities;
mod m20261123_000005_create_assignments;
mod m20261123_000006_create_changes;
mod m20261123_000007_index_changes_by_object;
mod m20261123_000008_create_api_keys;
mod m20261124_000001_user_action_signing;
mod m20261201_000001_create_request_records;

/// Applies rbacd's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_environments::Migration),
            Box::new(m20261123_000002_create_nodes::Migration),
            Box::new(m20261123_000003_create_roles::Migration),
            Box::new(m20261123_000004_create_identities::Migration),
            Box::new(m20261123_000005_create_assignments::Migration),
            Box::new(m20261123_000006_create_changes::Migration),
            Box::new(m20261123_000007_index_changes_by_object::Migration),
            Box::new(m20261123_000008_create_api_keys::Migration),
            Box::new(m20261124_000001_user_action_signing::Migration),
            Box::new(m20261201_000001_create_request_records::Migration),
        ]
    }
}
