//! The pending-event queue, ordered by (time, seq).
//!
//! `seq` grows on every `schedule`, so events at the same time come out in the order they
//! were scheduled (FIFO), never in an order that depends on their payload. Cancellation is
//! lazy: a cancelled key is remembered and its event dropped when it reaches the front, so
//! cancelling never searches the heap.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use crate::engine::time::SimTime;

/// Names one scheduled event, for cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    /// When the event is due.
    pub time: SimTime,
    /// Its insertion sequence number.
    pub seq: u64,
}

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// A min-queue of events keyed by (time, seq).
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    next_seq: u64,
    cancelled: BTreeSet<u64>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
            cancelled: BTreeSet::new(),
        }
    }

    /// Schedules `event` at `time` and returns its key.
    pub fn schedule(&mut self, time: SimTime, event: E) -> EventKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { time, seq, event }));
        EventKey { time, seq }
    }

    /// Cancels a pending event. Returns false if it was already cancelled.
    pub fn cancel(&mut self, key: EventKey) -> bool {
        self.cancelled.insert(key.seq)
    }

    /// Removes and returns the earliest live event.
    pub fn pop(&mut self) -> Option<(EventKey, E)> {
        while let Some(Reverse(e)) = self.heap.pop() {
            if !self.cancelled.is_empty() && self.cancelled.remove(&e.seq) {
                continue;
            }
            return Some((
                EventKey {
                    time: e.time,
                    seq: e.seq,
                },
                e.event,
            ));
        }
        None
    }

    /// The time of the earliest pending entry (possibly a cancelled one).
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(e)| e.time)
    }

    /// Pending entries, including cancelled ones not yet dropped.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}
