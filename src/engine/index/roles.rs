//! Roles, with each role's permissions split into interned exact permissions
//! (a [`PermissionSet`], so a check's role test is usually one load; a sorted
//! list names the matching pattern) and wildcard prefixes (tried longest first).

use compact_str::CompactString;
use hashbrown::HashMap;

use super::permission_set::PermissionSet;
use super::slots::{allocate_slot, table_heap_bytes};
use super::text_index::TextIndex;
use crate::domain::{PermissionPattern, Role, RoleId, RoleName};

#[derive(Clone)]
pub(crate) struct RoleRow {
    pub id: RoleId,
    pub name: RoleName,
    /// Name and patterns again, cheap to copy into a decision.
    pub name_text: CompactString,
    pub pattern_texts: Vec<CompactString>,
    pub patterns: Vec<PermissionPattern>,
    /// (permission id, index in `patterns`), sorted by permission id.
    exact: Vec<(u32, u32)>,
    /// The permission ids of `exact`, for the check's membership test.
    holds: PermissionSet,
    /// Indexes in `patterns` of the wildcard patterns, longest prefix first.
    wildcards: Vec<u32>,
    /// Assignments of this role that are indexed.
    pub assignments: u32,
}

/// Concrete permission names that some role holds, as dense ids, counted by holder.
#[derive(Clone, Default)]
struct PermissionNames {
    by_name: TextIndex,
    holders: Vec<u32>,
    names: Vec<Option<Box<str>>>,
    free: Vec<u32>,
}

impl PermissionNames {
    fn intern(&mut self, name: &str) -> Option<u32> {
        if let Some(id) = self.by_name.get(name) {
            self.holders[id as usize] += 1;
            return Some(id);
        }
        let id = allocate_slot(&mut self.free, self.names.len())?;
        if id as usize == self.names.len() {
            self.names.push(Some(name.into()));
            self.holders.push(1);
        } else {
            self.names[id as usize] = Some(name.into());
            self.holders[id as usize] = 1;
        }
        self.by_name.insert(name, id);
        Some(id)
    }

    fn release(&mut self, id: u32) {
        let Some(count) = self.holders.get_mut(id as usize) else {
            return;
        };
        *count = count.saturating_sub(1);
        if *count == 0 {
            if let Some(name) = self.names[id as usize].take() {
                self.by_name.remove(&name);
            }
            self.free.push(id);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.by_name.text_bytes()
            + self.by_name.heap_bytes()
            + self.names.capacity() * 16
            + (self.holders.capacity() + self.free.capacity()) * 4
    }
}

#[derive(Clone, Default)]
pub(crate) struct RoleTable {
    rows: Vec<Option<RoleRow>>,
    free: Vec<u32>,
    by_id: HashMap<RoleId, u32>,
    permissions: PermissionNames,
}

impl RoleTable {
    pub fn row(&self, slot: u32) -> Option<&RoleRow> {
        self.rows.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn row_mut(&mut self, slot: u32) -> Option<&mut RoleRow> {
        self.rows.get_mut(slot as usize).and_then(Option::as_mut)
    }

    pub fn slot_of(&self, id: &RoleId) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// The id of a concrete permission some role holds exactly.
    pub fn permission_id(&self, permission: &str) -> Option<u32> {
        self.permissions.by_name.get(permission)
    }

    /// Index in the role's `patterns` of the pattern granting `permission`, preferring
    /// an exact match, then the longest wildcard prefix.
    pub fn matching_pattern(&self, slot: u32, id: Option<u32>, permission: &str) -> Option<u32> {
        self.row(slot)?.matching_pattern(id, permission)
    }

    /// Whether the role grants `permission` (of interned id `id`, if any).
    #[inline]
    pub fn grants(&self, slot: u32, id: Option<u32>, permission: &str) -> bool {
        self.row(slot).is_some_and(|row| row.grants(id, permission))
    }

    /// Creates or updates a role; returns its slot.
    pub fn save(&mut self, role: &Role) -> Option<u32> {
        let slot = match self.slot_of(&role.id) {
            Some(slot) => slot,
            None => {
                let slot = allocate_slot(&mut self.free, self.rows.len())?;
                if slot as usize == self.rows.len() {
                    self.rows.push(None);
                }
                self.by_id.insert(role.id, slot);
                slot
            }
        };
        let assignments = match self.rows[slot as usize].take() {
            Some(old) => {
                self.release_permissions(&old);
                old.assignments
            }
            None => 0,
        };
        let row = self.build_row(role, assignments);
        self.rows[slot as usize] = Some(row);
        Some(slot)
    }

    /// Removes a role; returns its slot if it existed.
    pub fn remove(&mut self, id: &RoleId) -> Option<u32> {
        let slot = self.by_id.remove(id)?;
        if let Some(old) = self.rows.get_mut(slot as usize).and_then(Option::take) {
            self.release_permissions(&old);
        }
        self.free.push(slot);
        Some(slot)
    }

    fn build_row(&mut self, role: &Role, assignments: u32) -> RoleRow {
        let mut exact = Vec::new();
        let mut wildcards = Vec::new();
        for (index, pattern) in role.permissions.iter().enumerate() {
            let index = index as u32;
            if pattern.wildcard_prefix().is_some() {
                wildcards.push(index);
            } else if let Some(id) = self.permissions.intern(pattern.as_str()) {
                exact.push((id, index));
            }
        }
        exact.sort_unstable();
        let mut duplicates = Vec::new();
        exact.dedup_by(|later, first| {
            let same = later.0 == first.0;
            if same {
                duplicates.push(later.0);
            }
            same
        });
        for id in duplicates {
            self.permissions.release(id);
        }
        let holds = PermissionSet::new(exact.iter().map(|&(id, _)| id));
        wildcards.sort_by_key(|&i| {
            let prefix = role.permissions[i as usize].wildcard_prefix();
            std::cmp::Reverse(prefix.map_or(0, str::len))
        });
        RoleRow {
            id: role.id,
            name: role.name.clone(),
            name_text: role.name.as_str().into(),
            pattern_texts: role.permissions.iter().map(|p| p.as_str().into()).collect(),
            patterns: role.permissions.clone(),
            exact,
            holds,
            wildcards,
            assignments,
        }
    }

    fn release_permissions(&mut self, row: &RoleRow) {
        for &(id, _) in &row.exact {
            self.permissions.release(id);
        }
    }

    pub fn heap_bytes(&self) -> usize {
        let rows: usize = self
            .rows
            .iter()
            .flatten()
            .map(|r| {
                r.name.as_str().len()
                    + r.patterns.capacity() * 24
                    + r.patterns.iter().map(|p| p.as_str().len()).sum::<usize>()
                    + r.exact.capacity() * 8
                    + r.holds.heap_bytes()
                    + r.wildcards.capacity() * 4
                    + r.pattern_texts.capacity() * 24
            })
            .sum();
        rows + self.rows.capacity() * std::mem::size_of::<Option<RoleRow>>()
            + self.free.capacity() * 4
            + table_heap_bytes(self.by_id.capacity(), 20)
            + self.permissions.heap_bytes()
    }
}

impl RoleRow {
    #[inline]
    fn grants(&self, id: Option<u32>, permission: &str) -> bool {
        let exact = id.is_some_and(|id| self.holds.contains(id, &self.exact));
        exact || (!self.wildcards.is_empty() && self.wildcard(permission).is_some())
    }

    fn wildcard(&self, permission: &str) -> Option<u32> {
        self.wildcards.iter().copied().find(|&i| {
            self.patterns[i as usize]
                .wildcard_prefix()
                .is_some_and(|prefix| {
                    permission.len() > prefix.len() && permission.starts_with(prefix)
                })
        })
    }

    fn matching_pattern(&self, id: Option<u32>, permission: &str) -> Option<u32> {
        if let Some(id) = id
            && let Ok(i) = self.exact.binary_search_by_key(&id, |&(p, _)| p)
        {
            return Some(self.exact[i].1);
        }
        self.wildcard(permission)
    }
}
