//! Identities: status, handles, and the grants each holds.

use compact_str::CompactString;

use super::grants::{AssignmentIds, Grant};
use super::keys::{same_folded, same_text};
use super::slots::{allocate_slot, compact_heap_bytes};
use super::tag_index::TagIndex;
use crate::domain::{AssignmentId, Identity, IdentityId, IdentityRef, IdentityStatus};

#[derive(Clone)]
pub(crate) struct IdentityRow {
    pub id: IdentityId,
    pub status: IdentityStatus,
    /// Kept in the row itself up to 24 bytes, so that confirming a lookup by
    /// email or external id reads no other memory than the row.
    pub email: Option<CompactString>,
    pub external_id: Option<CompactString>,
    pub grants: Vec<Grant>,
}

#[derive(Clone, Default)]
pub(crate) struct IdentityTable {
    rows: Vec<Option<IdentityRow>>,
    free: Vec<u32>,
    by_id: TagIndex,
    /// Keyed by the case-folded email.
    by_email: TagIndex,
    by_external_id: TagIndex,
}

type Rows = [Option<IdentityRow>];

fn row_of(rows: &Rows, slot: u32) -> Option<&IdentityRow> {
    rows.get(slot as usize).and_then(Option::as_ref)
}

impl AssignmentIds for IdentityTable {
    fn assignment_id(&self, owner: u32, slot: u32) -> Option<AssignmentId> {
        let grants = &self.row(owner)?.grants;
        let grant = grants.iter().find(|g| g.assignment == slot)?;
        Some(grant.assignment_id)
    }
}

impl IdentityTable {
    pub fn row(&self, slot: u32) -> Option<&IdentityRow> {
        row_of(&self.rows, slot)
    }

    pub fn row_mut(&mut self, slot: u32) -> Option<&mut IdentityRow> {
        self.rows.get_mut(slot as usize).and_then(Option::as_mut)
    }

    pub fn resolve(&self, identity: &IdentityRef) -> Option<u32> {
        match identity {
            IdentityRef::Id(id) => self.slot_of(id),
            IdentityRef::ExternalId(external_id) => {
                let wanted = external_id.as_str();
                let hash = self.by_external_id.hasher().text(wanted);
                self.by_external_id.find(hash, |s| {
                    let row = self.row(s).and_then(|r| r.external_id.as_ref());
                    row.is_some_and(|e| same_text(e, wanted))
                })
            }
            IdentityRef::Email(email) => {
                let wanted = email.as_str();
                let hash = self.by_email.hasher().folded(wanted);
                self.by_email.find(hash, |s| {
                    let row = self.row(s).and_then(|r| r.email.as_ref());
                    row.is_some_and(|e| same_folded(e, wanted))
                })
            }
        }
    }

    pub fn slot_of(&self, id: &IdentityId) -> Option<u32> {
        let hash = self.by_id.hasher().uuid(id.0.as_bytes());
        self.by_id
            .find(hash, |s| self.row(s).is_some_and(|r| r.id == *id))
    }

    pub fn reserve(&mut self, additional: usize) {
        self.rows.reserve_exact(additional);
        self.by_id.reserve(additional);
    }

    /// Creates or updates an identity (its grants are kept); returns its slot.
    pub fn save(&mut self, identity: &Identity) -> Option<u32> {
        let slot = match self.slot_of(&identity.id) {
            Some(slot) => {
                self.unindex_handles(slot);
                slot
            }
            None => {
                let slot = allocate_slot(&mut self.free, self.rows.len())?;
                if slot as usize == self.rows.len() {
                    self.rows.push(None);
                }
                self.rows[slot as usize] = Some(IdentityRow {
                    id: identity.id,
                    status: identity.status,
                    email: None,
                    external_id: None,
                    grants: Vec::new(),
                });
                let hash = self.by_id.hasher().uuid(identity.id.0.as_bytes());
                self.by_id.insert(hash, slot);
                slot
            }
        };
        let row = self.rows[slot as usize].as_mut()?;
        row.status = identity.status;
        row.email = identity
            .email
            .as_ref()
            .map(|e| CompactString::new(e.as_str()));
        row.external_id = (identity.external_id.as_ref()).map(|e| CompactString::new(e.as_str()));
        self.index_handles(slot);
        Some(slot)
    }

    /// Removes an identity; returns its row, whose grants the caller still has to drop.
    pub fn remove(&mut self, id: &IdentityId) -> Option<IdentityRow> {
        let slot = self.slot_of(id)?;
        self.unindex_handles(slot);
        let hash = self.by_id.hasher().uuid(id.0.as_bytes());
        self.by_id.remove(hash, slot);
        self.free.push(slot);
        self.rows.get_mut(slot as usize).and_then(Option::take)
    }

    fn index_handles(&mut self, slot: u32) {
        let Some(row) = self.row(slot) else { return };
        let email_hash = row.email.as_ref().map(|e| self.by_email.hasher().folded(e));
        let external_hash =
            (row.external_id.as_ref()).map(|e| self.by_external_id.hasher().text(e));
        if let Some(hash) = email_hash {
            self.by_email.insert(hash, slot);
        }
        if let Some(hash) = external_hash {
            self.by_external_id.insert(hash, slot);
        }
    }

    fn unindex_handles(&mut self, slot: u32) {
        let Some(row) = self.row(slot) else { return };
        let email_hash = row.email.as_ref().map(|e| self.by_email.hasher().folded(e));
        let external_hash =
            (row.external_id.as_ref()).map(|e| self.by_external_id.hasher().text(e));
        if let Some(hash) = email_hash {
            self.by_email.remove(hash, slot);
        }
        if let Some(hash) = external_hash {
            self.by_external_id.remove(hash, slot);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        let rows: usize = self
            .rows
            .iter()
            .flatten()
            .map(|r| {
                r.email.as_ref().map_or(0, compact_heap_bytes)
                    + r.external_id.as_ref().map_or(0, compact_heap_bytes)
                    + r.grants.capacity() * std::mem::size_of::<Grant>()
            })
            .sum();
        rows + self.rows.capacity() * std::mem::size_of::<Option<IdentityRow>>()
            + self.free.capacity() * 4
            + self.by_id.heap_bytes()
            + self.by_email.heap_bytes()
            + self.by_external_id.heap_bytes()
    }
}
