use sea_orm::entity::prelude::*;

/// A challenge; once signed, the user action made from it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_actions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub environment_id: Uuid,
    pub identity_id: Uuid,
    pub method: String,
    pub request_sha256: Vec<u8>,
    pub challenge: Vec<u8>,
    pub expires_at: i64,
    pub credential_id: Option<Uuid>,
    pub token_hash: Option<String>,
    pub consumed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
