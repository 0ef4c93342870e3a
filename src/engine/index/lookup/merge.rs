//! LookupIdentities: a merge, ascending by identity id, of the runs of the
//! node's and its ancestors' assignment lists whose role grants the permission.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::super::EnvIndex;
use super::super::nodes::NodeAssignment;
use super::identity_entry;
use super::order::owner_id;
use crate::domain::{IdentityId, IdentityStatus, NodeRef, Permission, Timestamp};
use crate::engine::answer::{Denial, Found, IdentityEntry};

/// Entries a page may read beyond its own items (those not in effect at the
/// asked time, or of identities not ACTIVE) before it stops short: the bound on
/// a page's work. The cursor then names the last identity read.
const SKIP_BUDGET: usize = 2048;

/// A run still to merge: its entries not read yet, ascending by owner id.
struct Run<'a> {
    entries: &'a [NodeAssignment],
}

impl EnvIndex {
    /// The ACTIVE identities the check would allow at `node`, ascending by id,
    /// starting after `after`.
    pub fn lookup_identities(
        &self,
        permission: &Permission,
        node: &NodeRef,
        at: Timestamp,
        after: Option<IdentityId>,
        limit: usize,
    ) -> Result<Found<IdentityEntry, IdentityId>, Denial> {
        let node = self.nodes.resolve(node).ok_or(Denial::UnknownNode)?;
        let limit = limit.max(1);
        let mut runs = self.granting_runs(node, permission, after);
        let mut heads: BinaryHeap<Reverse<(IdentityId, usize)>> = BinaryHeap::new();
        for (i, run) in runs.iter().enumerate() {
            if let Some(id) = run.entries.first().and_then(|e| self.owner(e)) {
                heads.push(Reverse((id, i)));
            }
        }
        let mut found: Vec<IdentityEntry> = Vec::with_capacity(limit.min(1024));
        let (mut skipped, mut read_to) = (0usize, None);
        while let Some(&Reverse((id, _))) = heads.peek() {
            if found.len() == limit || skipped >= SKIP_BUDGET {
                break;
            }
            // Every run's entries for this identity: allowed if any is in effect.
            let mut allowed = false;
            let mut holder = None;
            while let Some(Reverse((next, i))) = heads.peek().copied() {
                if next != id {
                    break;
                }
                heads.pop();
                let entry = runs[i].entries[0];
                allowed = allowed || self.entry_allows(&entry, at, &mut holder);
                let entries = runs[i].entries;
                runs[i].entries = &entries[1..];
                if let Some(id) = runs[i].entries.first().and_then(|e| self.owner(e)) {
                    heads.push(Reverse((id, i)));
                }
            }
            match holder.filter(|_| allowed) {
                Some(row) => found.push(identity_entry(row)),
                None => skipped += 1,
            }
            read_to = Some(id);
        }
        Ok(Found {
            items: found,
            next_after: if heads.is_empty() { None } else { read_to },
        })
    }

    /// For the node and each ancestor, the runs of entries whose role grants
    /// `permission`, each cut to the identities after `after`.
    fn granting_runs(
        &self,
        node: u32,
        permission: &Permission,
        after: Option<IdentityId>,
    ) -> Vec<Run<'_>> {
        let asked = self.asked(permission);
        let mut granting: Vec<(u32, bool)> = Vec::new();
        let mut runs = Vec::new();
        for &slot in self.nodes.ancestry(node).as_slice() {
            let Some(row) = self.nodes.row(slot) else {
                continue;
            };
            let mut rest = row.assignments.as_slice();
            while let Some(first) = rest.first() {
                let role = first.role;
                let len = rest.partition_point(|e| e.role == role);
                let (run, next) = rest.split_at(len);
                rest = next;
                let grants = match granting.iter().find(|(r, _)| *r == role) {
                    Some(&(_, grants)) => grants,
                    None => {
                        let grants = self.roles.grants(role, asked.id, asked.text);
                        granting.push((role, grants));
                        grants
                    }
                };
                if !grants {
                    continue;
                }
                // `None` owners (none are expected) sort first and are passed over too.
                let start = run.partition_point(|e| self.owner(e) <= after);
                if start < run.len() {
                    runs.push(Run {
                        entries: &run[start..],
                    });
                }
            }
        }
        runs
    }

    fn owner(&self, entry: &NodeAssignment) -> Option<IdentityId> {
        owner_id(&self.assignments, &self.identities, entry)
    }

    /// Whether the entry's assignment is in effect at `at` and its owner ACTIVE;
    /// sets `holder` to the owner's row.
    fn entry_allows<'a>(
        &'a self,
        entry: &NodeAssignment,
        at: Timestamp,
        holder: &mut Option<&'a super::super::identities::IdentityRow>,
    ) -> bool {
        let Some(owner) = self.assignments.get(entry.assignment).map(|a| a.identity) else {
            return false;
        };
        let Some(row) = self.identities.row(owner) else {
            return false;
        };
        *holder = Some(row);
        row.status == IdentityStatus::Active
            && (row.grants.iter())
                .find(|g| g.assignment == entry.assignment)
                .is_some_and(|g| self.assignments.in_effect(g, at))
    }
}
