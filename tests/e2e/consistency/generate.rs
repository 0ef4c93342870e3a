//! The random parts of a world: a seeded generator, the permission vocabulary,
//! role contents and assignment windows.

/// A small deterministic generator (splitmix64): the same seed, the same world.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `percent` times out of a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SERVICES: &[&str] = &["Wallets", "Payments", "Ledger", "Reports"];

/// Every concrete permission the world's questions name.
pub fn permissions() -> Vec<String> {
    SERVICES
        .iter()
        .flat_map(|s| {
            [
                s.to_string(),
                format!("{s}:Read"),
                format!("{s}:Write"),
                format!("{s}:Items:Create"),
                format!("{s}:Items:Delete"),
            ]
        })
        .collect()
}

/// One to four permissions or patterns for a role: exact ones, `X:*`,
/// `X:Items:*`, a pattern matching none of the vocabulary, and rarely `*`.
pub fn role_permissions(rng: &mut Rng) -> Vec<String> {
    let concrete = permissions();
    let mut held: Vec<String> = Vec::new();
    for _ in 0..1 + rng.below(4) {
        let service = rng.pick(SERVICES);
        let p = match rng.below(20) {
            0..=10 => rng.pick(&concrete).clone(),
            11..=14 => format!("{service}:*"),
            15..=17 => format!("{service}:Items:*"),
            18 => "Unused:*".to_owned(),
            _ => "*".to_owned(),
        };
        if !held.contains(&p) {
            held.push(p);
        }
    }
    held
}

/// What `pattern`, as a role holds it, grants: written from DESIGN.md, not from the server's code.
pub fn covers(pattern: &str, permission: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => permission.starts_with(prefix) && permission.len() > prefix.len(),
        None => pattern == permission,
    }
}

const HOUR: i64 = 3_600_000_000;

/// An assignment window around `now` (microseconds): unbounded, past, current,
/// future or half-open, with odd microseconds so that boundaries are exact.
pub fn window(rng: &mut Rng, now: i64) -> (Option<i64>, Option<i64>) {
    let mut jitter = || (rng.below(HOUR as usize / 2) as i64) | 1;
    let (a, b, c, d) = (jitter(), jitter(), jitter(), jitter());
    match rng.below(9) {
        0..=2 => (None, None),
        3 => (Some(now - 3 * HOUR - a), Some(now - HOUR - b)),
        4 => (Some(now - HOUR - a), Some(now + HOUR + b)),
        5 => (Some(now + HOUR + a), Some(now + 3 * HOUR + b)),
        6 => (None, Some(now + [-1, 1][c as usize % 2] * (HOUR + d))),
        7 => (Some(now + [-1, 1][c as usize % 2] * (HOUR + d)), None),
        // Back to back: one assignment's end is another's start in the reference too.
        _ => (Some(now - HOUR - a), Some(now - HOUR - a + 1)),
    }
}
