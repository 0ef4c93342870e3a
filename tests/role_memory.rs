//! Index memory per role is proportional to the role's own permissions, not to
//! the number of permissions the environment has interned (issue 9, item 7).
//!
//! Heap bytes are counted by an allocator that counts per thread, so nothing
//! else running in the process is counted.
#![allow(
    unsafe_code,
    reason = "a counting GlobalAlloc is unsafe by its nature; it only forwards to System"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rbacd::domain::change::{Change, Event};
use rbacd::domain::{
    Environment, EnvironmentId, EnvironmentState, PermissionPattern, Role, RoleId, RoleName,
    Snapshot, Timestamp,
};
use rbacd::engine::Engine;

struct Counting;

thread_local! {
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: the thread's slot may already be gone while it exits.
    let _ = LIVE_BYTES.try_with(|live| live.set(live.get() + delta));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_bytes() -> isize {
    LIVE_BYTES.with(Cell::get)
}

const T: Timestamp = Timestamp(1_000);

fn role(env: EnvironmentId, name: &str, patterns: impl IntoIterator<Item = String>) -> Role {
    Role {
        id: RoleId::generate(),
        environment_id: env,
        name: RoleName::parse(name).unwrap(),
        description: String::new(),
        permissions: patterns
            .into_iter()
            .map(|p| PermissionPattern::parse(&p).unwrap())
            .collect(),
        created_at: T,
        updated_at: T,
    }
}

/// An engine whose environment holds 100,000 distinct permissions (100 roles of 1,000).
fn hundred_thousand_permissions() -> (Engine, EnvironmentId) {
    let env = EnvironmentId::generate();
    let roles = (0..100)
        .map(|k| {
            role(
                env,
                &format!("Bulk{k}"),
                (0..1_000).map(|j| format!("Svc{k}:P{j}")),
            )
        })
        .collect();
    let environment = Environment {
        id: env,
        name: "memory".into(),
        created_at: T,
    };
    let state = EnvironmentState {
        roles,
        ..Default::default()
    };
    let snapshot = Snapshot {
        revision: 1,
        environments: vec![(environment, state)],
    };
    (Engine::from_snapshot(snapshot), env)
}

/// Index bytes per role of `roles` one-permission roles saved after the 100,000.
fn bytes_per_role(roles: usize, permission: impl Fn(usize) -> String) -> f64 {
    let (engine, env) = hundred_thousand_permissions();
    let saved: Vec<Role> = (0..roles)
        .map(|i| role(env, &format!("Single{i}"), [permission(i)]))
        .collect();
    // Each change is built before counting and dropped after, so only the index is measured.
    let changes: Vec<Change> = saved
        .into_iter()
        .enumerate()
        .map(|(i, r)| Change {
            revision: 2 + i as u64,
            environment_id: env,
            at: T,
            actor: None,
            action: "CreateRole".into(),
            before: None,
            event: Event::RoleSaved(r),
            signed_by: None,
        })
        .collect();
    let before = live_bytes();
    for change in &changes {
        assert!(engine.apply(change));
    }
    let grown = live_bytes() - before;
    drop(changes);
    grown as f64 / roles as f64
}

#[test]
fn a_one_permission_role_costs_the_same_after_100k_permissions() {
    // Each holding a permission already interned near the top of the id range...
    let existing = bytes_per_role(2_000, |i| format!("Svc99:P{}", 999 - i % 1_000));
    // ...or a new one, interned above all 100,000.
    let fresh = bytes_per_role(2_000, |i| format!("Fresh:P{i}"));
    println!("bytes per one-permission role: {existing:.0} (existing), {fresh:.0} (new)");
    // A row, its name, one pattern and its lookup entries: a few hundred bytes.
    // A bitmap from permission id 0 would be 12.5 KB more for each.
    for measured in [existing, fresh] {
        assert!(
            measured < 1_024.0,
            "{measured:.0} bytes per one-permission role"
        );
    }
}
