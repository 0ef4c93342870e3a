//! The granting rule, stated once: a call may only hand out what its caller
//! holds (Kubernetes RBAC's escalation prevention is the model). Every path
//! that hands out access — assigning a role, writing a role's permissions,
//! making a key for another identity — asks [`Policy::authorize_handing_out`].

use super::Policy;
use super::policy::{acting, unknown};
use crate::domain::{
    Caller, Error, IdentityRef, NodeId, NodeRef, PermissionPattern, Result, Timestamp, builtin,
};

/// How many missing permissions a refusal names.
const NAMED_MISSING: usize = 5;

/// Whether holding `held` gives everything `wanted` gives: an equal pattern, or
/// a wider one (`Wallets:*` covers `Wallets:Read` and `Wallets:Refunds:*`; `*`
/// covers all). A narrower pattern never covers a wider one.
pub fn covers(held: &PermissionPattern, wanted: &PermissionPattern) -> bool {
    match held.wildcard_prefix() {
        None => held == wanted,
        Some(prefix) => {
            let wanted = wanted.as_str();
            wanted.len() > prefix.len() && wanted.starts_with(prefix)
        }
    }
}

/// The patterns of `wanted` that nothing in `held` covers, in order.
pub fn uncovered<'a>(
    held: &[PermissionPattern],
    wanted: &'a [PermissionPattern],
) -> Vec<&'a PermissionPattern> {
    wanted
        .iter()
        .filter(|w| !held.iter().any(|h| covers(h, w)))
        .collect()
}

impl Policy {
    /// The granting rule: refuses (PERMISSION_DENIED naming the first missing
    /// patterns and the node) unless the caller holds, at `at`, patterns
    /// covering every one of `wanted`.
    pub fn authorize_handing_out(
        &self,
        caller: &Caller,
        wanted: &[PermissionPattern],
        at: &NodeRef,
    ) -> Result<()> {
        let Some(actor) = acting(caller) else {
            return Ok(());
        };
        let held = self
            .engine
            .list_permissions(
                caller.environment,
                &IdentityRef::Id(actor),
                at,
                Timestamp::now(),
            )
            .map_err(|_| unknown(at))?;
        let missing = uncovered(&held, wanted);
        if missing.is_empty() {
            return Ok(());
        }
        let mut named: Vec<String> = missing
            .iter()
            .take(NAMED_MISSING)
            .map(|p| format!("`{p}`"))
            .collect();
        if missing.len() > NAMED_MISSING {
            named.push(format!("and {} more", missing.len() - NAMED_MISSING));
        }
        Err(Error::PermissionDenied(format!(
            "identity {actor} may only hand out what it holds itself, and lacks {} at the {at}",
            named.join(", ")
        )))
    }

    /// Granting a role of patterns `role` at `node`: `Rbacd:Assignments:Write`
    /// there and the granting rule there. Returns the node's id.
    pub fn authorize_grant(
        &self,
        caller: &Caller,
        role: &[PermissionPattern],
        node: &NodeRef,
    ) -> Result<NodeId> {
        let id = self.authorize_at(caller, &builtin::assignments_write(), node)?;
        self.authorize_handing_out(caller, role, node)?;
        Ok(id)
    }

    /// Writing a role that will hold `permissions`: `Rbacd:Roles:Write` and
    /// the granting rule, both at the root.
    pub fn authorize_role_write(
        &self,
        caller: &Caller,
        permissions: &[PermissionPattern],
    ) -> Result<()> {
        self.authorize_at_root(caller, &builtin::roles_write())?;
        self.authorize_handing_out(caller, permissions, &NodeRef::root())
    }

    /// Making an API key for `identity`: `Rbacd:Identities:Write` at the root
    /// and, for another identity, the granting rule for each of its
    /// assignments at that assignment's node — whoever holds the key holds
    /// all of them.
    pub fn authorize_key_for(&self, caller: &Caller, identity: &IdentityRef) -> Result<()> {
        self.authorize_at_root(caller, &builtin::identities_write())?;
        let Some(actor) = acting(caller) else {
            return Ok(());
        };
        let (holder, holdings) = self
            .engine
            .holdings(caller.environment, identity)
            .ok_or_else(|| Error::NotFound(format!("no {identity} in this environment")))?;
        if holder == actor {
            return Ok(());
        }
        for holding in holdings {
            self.authorize_handing_out(caller, &holding.patterns, &NodeRef::Id(holding.node))
                .map_err(|e| match e {
                    Error::PermissionDenied(why) => Error::PermissionDenied(format!(
                        "a key for {identity} holds all it holds: {why}"
                    )),
                    other => other,
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(text: &str) -> PermissionPattern {
        PermissionPattern::parse(text).unwrap()
    }

    #[test]
    fn a_pattern_is_covered_by_an_equal_or_wider_one_only() {
        let cases = [
            ("*", "*", true),
            ("*", "Wallets:*", true),
            ("*", "Wallets:Read", true),
            ("Wallets:*", "Wallets:Read", true),
            ("Wallets:*", "Wallets:Refunds:*", true),
            ("Wallets:*", "Wallets:*", true),
            ("Wallets:Read", "Wallets:Read", true),
            ("Wallets:*", "*", false),
            ("Wallets:Read", "Wallets:*", false),
            ("Wallets:Refunds:*", "Wallets:*", false),
            ("Wallets:*", "WalletsX:Read", false),
            ("Wallets:*", "Payments:Read", false),
            ("Wallets:Read", "Wallets:Write", false),
        ];
        for (held, wanted, expected) in cases {
            assert_eq!(
                covers(&pat(held), &pat(wanted)),
                expected,
                "{held} ⊇ {wanted}"
            );
        }
    }

    #[test]
    fn uncovered_names_what_no_held_pattern_covers() {
        let held = [pat("Wallets:*"), pat("Docs:Read")];
        let wanted = [
            pat("Wallets:Read"),
            pat("Docs:Write"),
            pat("*"),
            pat("Docs:Read"),
        ];
        let missing: Vec<&str> = uncovered(&held, &wanted)
            .into_iter()
            .map(PermissionPattern::as_str)
            .collect();
        assert_eq!(missing, ["Docs:Write", "*"]);
    }
}
