//! Handing freed heap memory back to the operating system.

/// Returns the allocator's free memory to the operating system, where it can
/// (glibc's `malloc_trim`); does nothing elsewhere. Worth it once after a large
/// transient allocation, e.g. the snapshot the index was built from: glibc
/// otherwise keeps those pages in its arenas, counted in the process's RSS.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(
        unsafe_code,
        reason = "malloc_trim is a C function; the one call of it in the service"
    )]
    // SAFETY: malloc_trim only walks and shrinks the allocator's own arenas; it
    // takes the arenas' locks itself, so it is sound from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
