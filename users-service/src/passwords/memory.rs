//! Argon2's working memory, kept between hashes and given back when logins stop.
//!
//! Each hash needs `m` KiB of blocks. Allocating them fresh costs more than the hash's
//! arithmetic on this kind of machine (every page is faulted in and zeroed), and keeping
//! them forever would keep that memory resident. So finished buffers wait in a small pool
//! (at most one per concurrent hash) and are dropped, and unmapped, once no hash has run
//! for `IDLE_RELEASE`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Block;

/// How long an unused buffer is kept.
pub const IDLE_RELEASE: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Pool {
    free: Vec<Vec<Block>>,
    last_used: Option<Instant>,
}

/// Buffers of `blocks` blocks each.
pub struct MemoryPool {
    blocks: usize,
    pool: Mutex<Pool>,
}

impl MemoryPool {
    pub fn new(blocks: usize) -> Self {
        Self { blocks, pool: Mutex::default() }
    }

    /// A buffer of `blocks` blocks: a pooled one when the size matches, else a fresh one
    /// (a stored hash made with other parameters).
    pub fn take(&self, blocks: usize) -> Vec<Block> {
        if blocks == self.blocks
            && let Some(buffer) = self.lock().free.pop()
        {
            return buffer;
        }
        vec![Block::default(); blocks]
    }

    /// Returns a buffer for the next hash. Argon2 overwrites every block it uses, so a
    /// buffer need not be cleared; it never leaves this process.
    pub fn give(&self, buffer: Vec<Block>) {
        if buffer.len() != self.blocks {
            return;
        }
        let mut pool = self.lock();
        pool.free.push(buffer);
        pool.last_used = Some(Instant::now());
    }

    /// Drops the pooled buffers if no hash finished within `IDLE_RELEASE`. Returns how many.
    pub fn release_idle(&self) -> usize {
        let mut pool = self.lock();
        if pool.last_used.is_some_and(|t| t.elapsed() < IDLE_RELEASE) {
            return 0;
        }
        std::mem::take(&mut pool.free).len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_released_after_idling() {
        let pool = MemoryPool::new(8);
        let buffer = pool.take(8);
        let address = buffer.as_ptr();
        pool.give(buffer);
        let again = pool.take(8);
        assert_eq!(again.as_ptr(), address, "the same buffer comes back");
        pool.give(again);
        assert_eq!(pool.release_idle(), 0, "just used: kept");
        pool.lock().last_used = Instant::now().checked_sub(IDLE_RELEASE);
        assert_eq!(pool.release_idle(), 1);
        assert_eq!(pool.take(4).len(), 4, "another size is allocated, not pooled");
    }
}
