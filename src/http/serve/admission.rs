//! The connection cap. Each connection holds a [`Slot`] for its life. At the cap, a new connection
//! gets in by closing the one that has been idle longest: a client that stalls or sends nothing is
//! idle from its accept, so stalled clients cannot lock real ones out, and a connection with a
//! request in flight is never cut off. Only while every connection has a request in flight does the
//! accept loop wait, leaving new clients in the kernel's backlog. The idle connections are kept in
//! the order they went idle ([`Idle`]), so finding the longest-idle one does not read every
//! connection: at the cap that happens for every new connection, while thousands are open.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::{sync::Notify, time::Instant};

use super::activity::Activity;

/// How often, at most, reaching the cap is logged.
const CAP_WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// The connections being served, up to a maximum.
pub(super) struct Admission {
    max: usize,
    live: Mutex<Live>,
    idle: Arc<Idle>,
}

struct Live {
    next_id: u64,
    connections: HashMap<u64, Arc<Activity>>,
    /// Connections closed to make room since the cap was last logged.
    closed_for_room: u64,
    warned_at: Option<Instant>,
}

impl Admission {
    pub(super) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            live: Mutex::new(Live {
                next_id: 0,
                connections: HashMap::new(),
                closed_for_room: 0,
                warned_at: None,
            }),
            idle: Arc::new(Idle::default()),
        })
    }

    /// A slot for a new connection, once there is room (made by closing the longest-idle one).
    pub(super) async fn admit(self: &Arc<Self>) -> Slot {
        loop {
            // Registered before looking, so a connection going idle meanwhile still wakes us.
            let room = self.idle.room.notified();
            if let Some(slot) = self.try_admit() {
                return slot;
            }
            room.await;
        }
    }

    /// Closes the connection idle longest, if any: room for a new one, or a file descriptor when
    /// the process has run out of them.
    pub(super) fn close_longest_idle(&self) {
        // An entry whose connection got busy or ended meanwhile is passed over.
        while let Some((since, id)) = self.idle.pop_longest() {
            let activity = self.live().connections.get(&id).cloned();
            if activity.is_some_and(|activity| activity.close_if_idle_since(since)) {
                self.live().closed_for_room += 1;
                return;
            }
        }
    }

    fn try_admit(self: &Arc<Self>) -> Option<Slot> {
        let mut live = self.live();
        if live.connections.len() < self.max {
            let id = live.next_id;
            live.next_id += 1;
            let activity = Activity::new(id, self.idle.clone());
            live.connections.insert(id, activity.clone());
            return Some(Slot {
                id,
                activity,
                admission: self.clone(),
            });
        }
        let now = Instant::now();
        if live
            .warned_at
            .is_none_or(|at| now >= at + CAP_WARNING_INTERVAL)
        {
            tracing::warn!(
                max_connections = self.max,
                closed_for_room = live.closed_for_room,
                "at the connection cap: closing the longest-idle connection for each new one"
            );
            live.warned_at = Some(now);
            live.closed_for_room = 0;
        }
        drop(live);
        self.close_longest_idle();
        None
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        // A map of handles and counters, valid whatever a panicking holder did.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A connection's place under the cap, given back when the connection ends.
pub(super) struct Slot {
    id: u64,
    activity: Arc<Activity>,
    admission: Arc<Admission>,
}

impl Slot {
    pub(super) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission.live().connections.remove(&self.id);
        self.activity.ended();
        self.admission.idle.notify_room();
    }
}

/// The idle connections, longest idle first. Each connection's [`Activity`] files itself here when
/// it goes idle and takes itself out when it gets a request, is asked to close, or ends.
#[derive(Default)]
pub(super) struct Idle {
    /// When each went idle, and its id.
    longest_first: Mutex<BTreeSet<(Instant, u64)>>,
    /// Woken when a connection goes idle or ends: room may be made now.
    room: Notify,
}

impl Idle {
    pub(super) fn insert(&self, since: Instant, id: u64) {
        self.set().insert((since, id));
    }

    pub(super) fn remove(&self, since: Instant, id: u64) {
        self.set().remove(&(since, id));
    }

    /// A connection went idle or ended: an accept waiting for room looks again.
    pub(super) fn notify_room(&self) {
        self.room.notify_waiters();
    }

    fn pop_longest(&self) -> Option<(Instant, u64)> {
        self.set().pop_first()
    }

    fn set(&self) -> MutexGuard<'_, BTreeSet<(Instant, u64)>> {
        // A set of ids, valid whatever a panicking holder did.
        self.longest_first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn admitted(admission: &Arc<Admission>) -> Slot {
        let slot = admission.admit().await;
        // Connections accepted at different instants.
        tokio::time::sleep(Duration::from_millis(2)).await;
        slot
    }

    #[tokio::test]
    async fn the_cap_closes_the_longest_idle_connection_and_never_a_busy_one() {
        let admission = Admission::new(3);
        let first = admitted(&admission).await;
        let second = admitted(&admission).await;
        let third = admitted(&admission).await;
        let busy = first.activity().begin_request();

        admission.close_longest_idle();
        assert!(!first.activity().is_closing(), "busy");
        assert!(second.activity().is_closing(), "idle longest");
        assert!(!third.activity().is_closing());

        // Idle again after its request, the first went idle after the third: the third goes next.
        drop(busy);
        admission.close_longest_idle();
        assert!(third.activity().is_closing());
        assert!(!first.activity().is_closing());
        admission.close_longest_idle();
        assert!(first.activity().is_closing());
        // Nothing left to close.
        admission.close_longest_idle();
        assert_eq!(admission.live().closed_for_room, 3);
    }

    #[tokio::test]
    async fn an_ended_connection_is_not_chosen() {
        let admission = Admission::new(2);
        let first = admitted(&admission).await;
        let second = admitted(&admission).await;
        drop(first);
        admission.close_longest_idle();
        assert!(second.activity().is_closing());
        assert_eq!(admission.live().closed_for_room, 1);
    }
}
