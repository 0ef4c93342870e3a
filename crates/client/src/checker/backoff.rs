//! Exponential backoff with jitter between attempts to open a stream.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(super) struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
    seed: u64,
}

impl Backoff {
    pub(super) fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_millis(1));
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.subsec_nanos() as u64)
            | 1;
        Self {
            initial,
            max: max.max(initial),
            next: initial,
            seed,
        }
    }

    /// The wait before the next attempt: the current step, less up to half of
    /// it at random (so that many clients do not retry in lockstep); doubles the step.
    pub(super) fn next_wait(&mut self) -> Duration {
        let step = self.next;
        self.next = (step * 2).min(self.max);
        // xorshift64: enough to spread retries.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let half = step / 2;
        half + half.mul_f64((self.seed % 1000) as f64 / 1000.0)
    }

    /// After a stream that worked: the next failure starts from the first step again.
    pub(super) fn reset(&mut self) {
        self.next = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(350));
        let waits: Vec<_> = (0..4).map(|_| b.next_wait()).collect();
        let steps = [100, 200, 350, 350];
        for (wait, step) in waits.iter().zip(steps) {
            assert!(
                *wait >= ms(step / 2) && *wait <= ms(step),
                "{wait:?} for {step}"
            );
        }
        b.reset();
        assert!(b.next_wait() <= ms(100));
    }
}
