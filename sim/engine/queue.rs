//! The pending-event queue: a 4-ary min-heap of integer keys, ordered by (time, seq), with
//! the payloads kept apart in a slab.
//!
//! # Ordering
//!
//! `seq` grows by one on every `schedule`, so events at the same time come out in the
//! order they were scheduled (FIFO), never in an order that depends on their payload.
//!
//! # Layout, and why
//!
//! The heap holds 16-byte keys `(time, tag)` with `tag = seq << SLOT_BITS | slot`: the
//! high bits of `tag` are the sequence number, so comparing `(time, tag)` is comparing
//! `(time, seq)`, and the low bits say where the payload sits in `slots`. Sifting moves 16
//! bytes whatever the payload size, four children share a cache line or two, and the heap
//! is half as deep as a binary one. Measured with `examples/hold.rs` (K = 1000, 10^7
//! events), this beats `BinaryHeap<Reverse<(u64, u64)>>` doing the same work with no
//! payload at all; the numbers are in the README.
//!
//! # Cancellation, and why it cannot leak
//!
//! Cancellation is lazy: `cancel` records the key's `seq` in `cancelled`, and the entry is
//! dropped when it reaches the front, so cancelling never searches the heap. The queue is
//! *monotone*: nothing is scheduled before [`EventQueue::floor`], the time of the last
//! removed entry (the `Scheduler` guarantees it by clamping to now). So entries leave in
//! increasing key order, and a key is still in the heap exactly when it was issued after
//! the last wholesale drop of cancelled entries and it is greater than the last removed
//! key. `cancel` records
//! only such keys, and dropping a cancelled entry removes its record, so `cancelled` never
//! holds more than the entries still in the heap: cancelling an already-popped or
//! already-cancelled key, however often, grows nothing. The cost is one `is_empty` check
//! per pop while nothing is cancelled, and `O(log c)` per pop while `c` cancellations are
//! outstanding.
//!
//! The trade-off of lazy deletion: a cancelled entry (and its payload) stays until its due
//! time reaches the front, so a model that cancels timers far in the future holds about
//! (cancellations per unit of time) x (timer length) dead entries, bounded and level, not
//! growing (tested by `hold_with_timeouts_keeps_the_queue_bounded`). When only cancelled
//! entries are left they are dropped at once.

use std::collections::BTreeSet;

use crate::engine::time::SimTime;

/// Names one scheduled event, for cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    /// When the event is due.
    pub time: SimTime,
    /// Its insertion sequence number: 0 for the first event scheduled, then 1, 2, ...
    pub seq: u64,
}

/// Bits of a heap tag that locate the payload; the rest is the sequence number.
const SLOT_BITS: u32 = 24;
/// Most entries (live or cancelled-but-not-yet-dropped) the queue holds at once: 16.7 M.
pub const PENDING_MAX: usize = 1 << SLOT_BITS;
/// Most events one queue schedules over its life: 1.1e12, about 30 hours at 10 M/s.
pub const SCHEDULED_MAX: u64 = 1 << (64 - SLOT_BITS);
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// One heap entry: a key, 16 bytes, no payload.
#[derive(Clone, Copy, Debug)]
struct Key {
    time: u64,
    tag: u64,
}

impl Key {
    /// The total order as one integer, so a comparison is one branch-free `cmp`/`sbb`.
    #[inline(always)]
    fn order(self) -> u128 {
        ((self.time as u128) << 64) | self.tag as u128
    }
    #[inline(always)]
    fn seq(self) -> u64 {
        self.tag >> SLOT_BITS
    }
    #[inline(always)]
    fn slot(self) -> usize {
        (self.tag & SLOT_MASK) as usize
    }
}

/// A min-queue of events keyed by (time, seq).
pub struct EventQueue<E> {
    /// 4-ary min-heap: the children of `i` are `4i + 1 ..= 4i + 4`.
    heap: Vec<Key>,
    /// Payloads by slot; `None` marks a free slot.
    slots: Vec<Option<E>>,
    /// Free slots, reused last-in first-out (the warmest in cache).
    free: Vec<u32>,
    next_seq: u64,
    /// Sequence numbers of cancelled entries still in the heap.
    cancelled: BTreeSet<u64>,
    /// The order of the last removed key, live or cancelled; `None` before the first
    /// removal and after `clear_cancelled`.
    removed_last: Option<u128>,
    /// Every seq below this has left the heap (set by `clear_cancelled`).
    seq_floor: u64,
    /// The time of the last live event popped.
    live_time: u64,
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
            heap: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            cancelled: BTreeSet::new(),
            removed_last: None,
            seq_floor: 0,
            live_time: 0,
        }
    }

    /// Schedules `event` at `time` and returns its key.
    ///
    /// `time` must not be before [`floor`](Self::floor) (the queue is monotone; the
    /// `Scheduler` guarantees it by clamping to now). Breaking that, or holding more than
    /// [`PENDING_MAX`] entries, is a bug in the caller and panics.
    pub fn schedule(&mut self, time: SimTime, event: E) -> EventKey {
        assert!(
            time >= self.floor(),
            "event queue: scheduled at {time}, before the floor {}",
            self.floor()
        );
        let seq = self.next_seq;
        assert!(
            seq < SCHEDULED_MAX,
            "event queue: more than 2^40 events scheduled"
        );
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(event);
                slot as u64
            }
            None => {
                assert!(
                    self.slots.len() < PENDING_MAX,
                    "event queue: more than {PENDING_MAX} entries pending"
                );
                self.slots.push(Some(event));
                (self.slots.len() - 1) as u64
            }
        };
        self.push(Key {
            time: time.0,
            tag: (seq << SLOT_BITS) | slot,
        });
        EventKey { time, seq }
    }

    /// Cancels a pending event. Returns false if it was already popped or cancelled.
    ///
    /// `key` must come from `schedule` on this queue.
    pub fn cancel(&mut self, key: EventKey) -> bool {
        if key.seq >= self.next_seq || key.seq < self.seq_floor {
            return false;
        }
        // The smallest tag with this seq: any slot compares greater, so a key equal to the
        // last removed one is caught by `<=`.
        let order = ((key.time.0 as u128) << 64) | (key.seq << SLOT_BITS) as u128;
        if self.removed_last.is_some_and(|last| order <= last) {
            return false;
        }
        self.cancelled.insert(key.seq)
    }

    /// Removes and returns the earliest live event.
    pub fn pop(&mut self) -> Option<(EventKey, E)> {
        self.pop_at_or_before(SimTime::NEVER)
    }

    /// Removes and returns the earliest live event if it is due at or before `horizon`.
    ///
    /// Cancelled entries at the front are dropped on the way.
    pub fn pop_at_or_before(&mut self, horizon: SimTime) -> Option<(EventKey, E)> {
        loop {
            if !self.heap.is_empty() && self.cancelled.len() == self.heap.len() {
                // Everything left is cancelled: drop it all now, so "nothing live is left"
                // is an empty queue (a run stops `Exhausted`, not `Horizon`), and the floor
                // falls back to the last live time, where such a run keeps its clock.
                self.clear_cancelled();
            }
            let &front = self.heap.first()?;
            // A cancelled entry past the horizon stays put, so the floor never passes the
            // horizon (where the clock stops and may schedule again).
            if front.time > horizon.0 {
                return None;
            }
            let cancelled = !self.cancelled.is_empty() && self.cancelled.remove(&front.seq());
            self.pop_front();
            self.removed_last = Some(front.order());
            let slot = front.slot();
            let event = self.slots[slot].take();
            self.free.push(slot as u32);
            if cancelled {
                continue;
            }
            let event = event.expect("event queue: a heap key points at an empty slot");
            self.live_time = front.time;
            let key = EventKey {
                time: SimTime(front.time),
                seq: front.seq(),
            };
            return Some((key, event));
        }
    }

    /// The earliest time `schedule` accepts: the time of the last entry removed, live or
    /// cancelled, or of the last live event once only cancelled entries were left.
    ///
    /// Only a `pop_at_or_before` that returns `None` can leave it past the last live
    /// event's time (by dropping cancelled entries up to its horizon).
    pub fn floor(&self) -> SimTime {
        match self.removed_last {
            Some(order) => SimTime((order >> 64) as u64),
            None => SimTime(self.live_time),
        }
    }

    /// The time of the earliest pending entry (possibly a cancelled one).
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|k| SimTime(k.time))
    }

    /// Pending entries, including cancelled ones not yet dropped.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Cancellations recorded and not yet dropped (at most `len()`).
    pub fn cancelled_len(&self) -> usize {
        self.cancelled.len()
    }

    /// Events scheduled over the queue's life, which is also the next `seq`.
    pub fn scheduled_total(&self) -> u64 {
        self.next_seq
    }

    /// Drops every entry, all of which are cancelled.
    fn clear_cancelled(&mut self) {
        debug_assert_eq!(self.cancelled.len(), self.heap.len());
        self.heap.clear();
        self.slots.clear();
        self.free.clear();
        self.cancelled.clear();
        self.seq_floor = self.next_seq;
        self.removed_last = None;
    }

    /// Sifts `key` up from a new leaf.
    #[inline(always)]
    fn push(&mut self, key: Key) {
        let order = key.order();
        let mut i = self.heap.len();
        self.heap.push(key);
        while i > 0 {
            let parent = (i - 1) / 4;
            let p = self.heap[parent];
            if p.order() < order {
                break;
            }
            self.heap[i] = p;
            i = parent;
        }
        self.heap[i] = key;
    }

    /// Removes the root: the last leaf goes to the root's place and sinks.
    ///
    /// The sinking compares the four children branch-free (the winner is picked with
    /// conditional moves), which is where a binary heap loses to mispredicted branches.
    #[inline(always)]
    fn pop_front(&mut self) {
        let Some(last) = self.heap.pop() else {
            return;
        };
        let n = self.heap.len();
        if n == 0 {
            return;
        }
        let order = last.order();
        let heap = &mut self.heap[..];
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            let best = if first + 4 <= n {
                let c = &heap[first..first + 4];
                let (a, b) = if c[1].order() < c[0].order() {
                    (1, c[1])
                } else {
                    (0, c[0])
                };
                let (d, e) = if c[3].order() < c[2].order() {
                    (3, c[3])
                } else {
                    (2, c[2])
                };
                let at = if e.order() < b.order() { d } else { a };
                first + at
            } else if first < n {
                let mut best = first;
                for j in first + 1..n {
                    if heap[j].order() < heap[best].order() {
                        best = j;
                    }
                }
                best
            } else {
                break;
            };
            if order < heap[best].order() {
                break;
            }
            heap[i] = heap[best];
            i = best;
        }
        heap[i] = last;
    }
}
