//! Who may do what: authentication of a call's API key against the key ring,
//! and the service's own authorization policy, both answered from memory.

mod authenticate;
mod keyring;
mod policy;

pub use authenticate::{API_KEY_HEADER, Authenticator};
pub use keyring::{KeyHolder, KeyRing};
pub use policy::Policy;
