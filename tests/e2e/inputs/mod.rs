//! Hostile and out-of-range input: every field refused with INVALID_ARGUMENT, never INTERNAL.

mod edges;
