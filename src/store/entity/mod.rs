//! SeaORM entities, one per table; private to the store.

pub mod api_key;
pub mod assignment;
pub mod change;
pub mod credential;
pub mod environment;
pub mod environment_signing;
pub mod identity;
pub mod node;
pub mod request_record;
pub mod role;
pub mod role_permission;
pub mod user_action;
