//! The connection cap. Each connection holds a [`Slot`] for its life. At the cap, a new connection
//! gets in by closing the one that has been idle longest: a client that stalls or sends nothing is
//! idle from its accept, so stalled clients cannot lock real ones out, and a connection with a
//! request in flight is never cut off. Only while every connection has a request in flight does the
//! accept loop wait, leaving new clients in the kernel's backlog.

use std::{
    collections::HashMap,
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
    /// Woken when a connection goes idle or ends: room may be made now.
    room: Arc<Notify>,
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
            room: Arc::new(Notify::new()),
        })
    }

    /// A slot for a new connection, once there is room (made by closing the longest-idle one).
    pub(super) async fn admit(self: &Arc<Self>) -> Slot {
        loop {
            // Registered before looking, so a connection going idle meanwhile still wakes us.
            let room = self.room.notified();
            if let Some(slot) = self.try_admit() {
                return slot;
            }
            room.await;
        }
    }

    /// Closes the connection idle longest, if any: room for a new one, or a file descriptor when
    /// the process has run out of them.
    pub(super) fn close_longest_idle(&self) {
        let mut live = self.live();
        let longest = live
            .connections
            .values()
            .filter_map(|activity| Some((activity.idle_since()?, activity)))
            .min_by_key(|(idle_since, _)| *idle_since);
        if let Some((_, activity)) = longest {
            activity.close();
            live.closed_for_room += 1;
        }
    }

    fn try_admit(self: &Arc<Self>) -> Option<Slot> {
        let mut live = self.live();
        if live.connections.len() < self.max {
            let id = live.next_id;
            live.next_id += 1;
            let activity = Activity::new(self.room.clone());
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
        self.admission.room.notify_waiters();
    }
}
