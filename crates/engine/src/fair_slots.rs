//! Slots for background work shared by every tenant of a node, handed out fairly: a tenant holds
//! at most its share at once, and when a slot comes free the waiting tenants take turns (round
//! robin), so one tenant's queue of slow jobs delays another's job by one job at most.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use sb_domain::TenantId;
use tokio::sync::oneshot;

/// A pool of `capacity` slots, at most `per_tenant` of them for one tenant.
pub struct FairSlots {
    capacity: usize,
    per_tenant: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: usize,
    by_tenant: HashMap<TenantId, usize>,
    /// Tenants with waiting jobs, in turn order.
    turns: VecDeque<TenantId>,
    waiting: HashMap<TenantId, VecDeque<oneshot::Sender<Slot>>>,
}

/// A held slot; dropping it gives it back and hands it to the next tenant in turn.
pub struct Slot {
    pool: Arc<FairSlots>,
    tenant: TenantId,
    /// False for a slot that was never taken (a hand-over that found its waiter gone).
    held: bool,
}

impl FairSlots {
    pub fn new(capacity: usize, per_tenant: usize) -> Arc<Self> {
        assert!(capacity > 0 && per_tenant > 0);
        Arc::new(Self { capacity, per_tenant, state: Mutex::default() })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn has_room(&self, state: &State, tenant: &TenantId) -> bool {
        state.running < self.capacity
            && state.by_tenant.get(tenant).copied().unwrap_or(0) < self.per_tenant
    }

    fn take(self: &Arc<Self>, state: &mut State, tenant: &TenantId) -> Slot {
        state.running += 1;
        *state.by_tenant.entry(tenant.clone()).or_default() += 1;
        Slot { pool: self.clone(), tenant: tenant.clone(), held: true }
    }

    /// Waits for a slot for `tenant`.
    pub async fn acquire(self: &Arc<Self>, tenant: &TenantId) -> Slot {
        let receiver = {
            let mut state = self.lock();
            if self.has_room(&state, tenant) && !state.waiting.contains_key(tenant) {
                return self.take(&mut state, tenant);
            }
            let (sender, receiver) = oneshot::channel();
            if !state.waiting.contains_key(tenant) {
                state.turns.push_back(tenant.clone());
            }
            state.waiting.entry(tenant.clone()).or_default().push_back(sender);
            receiver
        };
        receiver.await.expect("a waiting job is always handed a slot")
    }

    /// Hands free slots to waiting tenants, each turn to the next tenant that has room.
    fn dispatch(self: &Arc<Self>, state: &mut State) {
        let mut skipped = 0;
        while state.running < self.capacity && skipped < state.turns.len() {
            let Some(tenant) = state.turns.pop_front() else { break };
            if !self.has_room(state, &tenant) {
                state.turns.push_back(tenant);
                skipped += 1;
                continue;
            }
            skipped = 0;
            let Some(sender) = state.waiting.get_mut(&tenant).and_then(VecDeque::pop_front) else {
                state.waiting.remove(&tenant);
                continue;
            };
            let slot = self.take(state, &tenant);
            if let Err(mut unwanted) = sender.send(slot) {
                // The job stopped waiting: the slot goes back without a second dispatch.
                unwanted.held = false;
                self.give_back(state, &tenant);
            }
            if state.waiting.get(&tenant).is_some_and(|queue| !queue.is_empty()) {
                state.turns.push_back(tenant);
            } else {
                state.waiting.remove(&tenant);
            }
        }
    }

    fn give_back(&self, state: &mut State, tenant: &TenantId) {
        state.running -= 1;
        if let Some(count) = state.by_tenant.get_mut(tenant) {
            *count -= 1;
            if *count == 0 {
                state.by_tenant.remove(tenant);
            }
        }
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot").field("tenant", &self.tenant).finish()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        let pool = self.pool.clone();
        let mut state = pool.lock();
        pool.give_back(&mut state, &self.tenant);
        pool.dispatch(&mut state);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn ready(slot: &mut tokio::task::JoinHandle<Slot>) -> bool {
        tokio::time::timeout(Duration::from_millis(50), slot).await.is_ok()
    }

    /// Waits (up to five seconds) until `count` jobs wait in the pool.
    async fn waiting(pool: &FairSlots, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while pool.lock().waiting.values().map(VecDeque::len).sum::<usize>() != count {
            assert!(tokio::time::Instant::now() < deadline, "{count} jobs never waited");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn a_tenant_holds_its_share_and_waiting_tenants_take_turns() {
        let pool = FairSlots::new(2, 1);
        let (a, b, c) = (TenantId::new(), TenantId::new(), TenantId::new());
        let a1 = pool.acquire(&a).await;
        // a's second job waits although a slot is free: a's share is one.
        let mut a2 = tokio::spawn({
            let (pool, a) = (pool.clone(), a.clone());
            async move { pool.acquire(&a).await }
        });
        waiting(&pool, 1).await;
        assert!(!ready(&mut a2).await);
        let b1 = pool.acquire(&b).await;
        let mut c1 = tokio::spawn({
            let (pool, c) = (pool.clone(), c.clone());
            async move { pool.acquire(&c).await }
        });
        waiting(&pool, 2).await;
        // a's slot comes free: a waited first and has room again.
        drop(a1);
        let a2 = a2.await.unwrap();
        assert!(!ready(&mut c1).await, "both slots are taken");
        drop(b1);
        let c1 = c1.await.unwrap();
        drop((a2, c1));
        let state = pool.lock();
        assert_eq!((state.running, state.turns.len(), state.waiting.len()), (0, 0, 0));
    }

    #[tokio::test]
    async fn a_job_that_stops_waiting_gives_its_turn_away() {
        let pool = FairSlots::new(1, 1);
        let (a, b) = (TenantId::new(), TenantId::new());
        let held = pool.acquire(&a).await;
        let gone = tokio::spawn({
            let (pool, b) = (pool.clone(), b.clone());
            async move { pool.acquire(&b).await }
        });
        waiting(&pool, 1).await;
        gone.abort();
        let _ = gone.await;
        drop(held);
        let again = tokio::time::timeout(Duration::from_secs(1), pool.acquire(&a)).await;
        assert!(again.is_ok(), "the slot was not lost to the job that left");
    }
}
