//! The loop's side of pools: dispatching their sockets' readiness, lookups
//! and deadlines, and dropping a pool once it is finished.

use std::time::Instant;

use mio::Token;
use wsnova_core::wire::CloseCode;

use crate::event_loop::State;
use crate::pool_runner::{Ctx, POOL_TOKENS, PoolTask};

/// One pool on the loop.
pub(crate) struct PoolEntry {
    pub(crate) task: Box<dyn PoolTask>,
    /// Tells this pool from an earlier one in the same slab slot.
    pub(crate) serial: u64,
}

impl State {
    /// Adds a pool; returns (key, serial).
    pub(crate) fn insert_pool(&mut self, task: Box<dyn PoolTask>) -> (usize, u64) {
        self.next_serial += 1;
        let serial = self.next_serial;
        let key = self.pools.insert(PoolEntry { task, serial });
        (key, serial)
    }

    /// Runs `f` on the pool `(key, serial)` if it still exists, then settles it.
    pub(crate) fn with_pool(
        &mut self,
        key: usize,
        serial: u64,
        f: impl FnOnce(&mut dyn PoolTask, Instant),
    ) {
        match self.pools.get_mut(key) {
            Some(entry) if entry.serial == serial => f(&mut *entry.task, crate::now()),
            _ => return,
        }
        self.run_pool(key, |task, ctx| task.settle(ctx));
    }

    /// Runs `f` on the pool at `key` with its context, then drops it if finished.
    fn run_pool(&mut self, key: usize, f: impl FnOnce(&mut dyn PoolTask, Ctx<'_>)) {
        let Some(entry) = self.pools.get_mut(key) else {
            return;
        };
        let ctx = Ctx {
            registry: &self.registry,
            resolver: &self.resolver,
            tokens: &mut self.pool_tokens,
            key,
        };
        f(&mut *entry.task, ctx);
        if entry.task.is_finished() {
            let mut entry = self.pools.remove(key);
            entry.task.release_all(&mut self.pool_tokens);
            // Dropping it drops its route: its consumers and waiters end.
        }
    }

    /// The pool owning `token`, if any.
    fn pool_of(&self, token: Token) -> Option<usize> {
        self.pool_tokens.get(token.0 - POOL_TOKENS).copied()
    }

    /// A readiness event for a pool's socket.
    pub(crate) fn pool_event(&mut self, event: &mio::event::Event) {
        if let Some(key) = self.pool_of(event.token()) {
            self.run_pool(key, |task, ctx| task.handle_event(event, ctx));
        }
    }

    /// A lookup for a pool's socket finished.
    pub(crate) fn pool_resolved(&mut self, token: Token) {
        if let Some(key) = self.pool_of(token) {
            self.run_pool(key, |task, ctx| task.handle_resolved(token, ctx));
        }
    }

    /// The earliest deadline of any pool.
    pub(crate) fn pools_timeout(&mut self) -> Option<Instant> {
        self.pools
            .iter_mut()
            .filter_map(|(_, p)| p.task.poll_timeout())
            .min()
    }

    /// Runs the pools whose deadline is due at `now`.
    pub(crate) fn fire_pools(&mut self, now: Instant) {
        let due: Vec<usize> = self
            .pools
            .iter_mut()
            .filter_map(|(key, p)| {
                let at = p.task.poll_timeout()?;
                (at <= now).then_some(key)
            })
            .collect();
        for key in due {
            self.run_pool(key, |task, ctx| task.handle_timeout(now, ctx));
        }
    }

    /// Closes every pool (the loop is shutting down).
    pub(crate) fn close_pools(&mut self, now: Instant) {
        let keys: Vec<usize> = self.pools.iter().map(|(key, _)| key).collect();
        for key in keys {
            self.run_pool(key, |task, ctx| {
                if !task.is_closed() {
                    let _ = task.close(now, CloseCode::GOING_AWAY, "");
                }
                task.settle(ctx);
            });
        }
    }
}
