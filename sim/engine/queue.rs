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
//! is half as deep as a binary one.
//!
//! A popped root is left in place (`hole`) until the next call: in a discrete-event run the
//! handler of an event usually schedules the next one, which then overwrites the root and
//! sinks once, instead of the last leaf sinking and the new key rising.
//!
//! Measured with `examples/hold.rs --baseline` (10^7 events, 2-core machine, shared): the
//! plain `BinaryHeap<Reverse<(u64, u64)>>` loop does ~23 M events/s at K = 1000; this queue
//! inside the full `Simulation` (payload, model call, fingerprint) did 28 M without the
//! hole and 33 M with it. Sinking bottom-up (hole to a leaf, then the last leaf rises)
//! measured no better; bytewise FNV for the fingerprint cost ~15% against the word-wise
//! hash in `sim`.

//! # Cancellation, and why it cannot leak
//!
//! Every key names its slot, and every slot remembers the seq of its occupant, so `cancel`
//! goes straight to the entry in O(1) (no heap search, no set): it drops the payload at
//! once and leaves a tombstone (the slot with no payload) that is skipped and freed when
//! its 16-byte heap key reaches the front. A key whose slot no longer holds its seq (the
//! event ran, or was cancelled and dropped, and the slot was reused) is refused, so
//! cancelling stale keys, however often, changes nothing.
//!
//! The trade-off of lazy deletion: a tombstone stays until its due time reaches the front,
//! so a model that cancels timers far in the future holds about (cancellations per unit of
//! time) x (timer length) of them: bounded and level, not growing (tested by
//! `hold_with_timeouts_keeps_the_queue_bounded`). When only tombstones are left they are
//! all dropped at once.

use crate::engine::time::SimTime;

/// Names one scheduled event, for cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    /// When the event is due.
    pub time: SimTime,
    /// Its insertion sequence number: 0 for the first event scheduled, then 1, 2, ...
    pub seq: u64,
    /// Where the queue keeps the payload, so `cancel` finds it without a search.
    slot: u32,
}

/// Bits of a heap tag that locate the payload; the rest is the sequence number.
const SLOT_BITS: u32 = 24;
/// Most entries (live events and tombstones) the queue holds at once: 16.7 M.
pub const PENDING_MAX: usize = 1 << SLOT_BITS;
/// Most events one queue schedules over its life: 1.1e12, about 30 hours at 10 M/s.
pub const SCHEDULED_MAX: u64 = 1 << (64 - SLOT_BITS);
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Where a payload lives. `event` is `Some` while the event is pending and live, and
/// `None` once it is cancelled (a tombstone) or gone (a free slot); `seq` says whose slot
/// it is, so a stale key is refused even after the slot is reused.
struct Slot<E> {
    seq: u64,
    event: Option<E>,
}

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
    /// Payloads by slot.
    slots: Vec<Slot<E>>,
    /// Free slots, reused last-in first-out (the warmest in cache).
    free: Vec<u32>,
    next_seq: u64,
    /// Tombstones in the heap.
    cancelled: usize,
    /// `heap[0]` is an entry already popped, left in place for the next `schedule` to
    /// overwrite (see `push`).
    hole: bool,
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
            cancelled: 0,
            hole: false,
        }
    }

    /// Schedules `event` at `time` and returns its key.
    ///
    /// Holding more than [`PENDING_MAX`] entries or scheduling more than
    /// [`SCHEDULED_MAX`] events is a bug in the caller and panics.
    pub fn schedule(&mut self, time: SimTime, event: E) -> EventKey {
        let seq = self.next_seq;
        assert!(
            seq < SCHEDULED_MAX,
            "event queue: more than 2^40 events scheduled"
        );
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Slot {
                    seq,
                    event: Some(event),
                };
                slot
            }
            None => {
                assert!(
                    self.slots.len() < PENDING_MAX,
                    "event queue: more than {PENDING_MAX} entries pending"
                );
                self.slots.push(Slot {
                    seq,
                    event: Some(event),
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.push(Key {
            time: time.0,
            tag: (seq << SLOT_BITS) | slot as u64,
        });
        EventKey { time, seq, slot }
    }

    /// Cancels a pending event and drops its payload. Returns false if it already ran or
    /// was already cancelled (or `key` comes from another queue and names nothing here).
    pub fn cancel(&mut self, key: EventKey) -> bool {
        match self.slots.get_mut(key.slot as usize) {
            Some(slot) if slot.seq == key.seq && slot.event.is_some() => {
                slot.event = None;
                self.cancelled += 1;
                true
            }
            _ => false,
        }
    }

    /// Removes and returns the earliest live event.
    pub fn pop(&mut self) -> Option<(EventKey, E)> {
        self.pop_at_or_before(SimTime::NEVER)
    }

    /// Removes and returns the earliest live event if it is due at or before `horizon`.
    ///
    /// Tombstones at the front are dropped on the way.
    pub fn pop_at_or_before(&mut self, horizon: SimTime) -> Option<(EventKey, E)> {
        loop {
            self.settle();
            if self.cancelled == self.heap.len() && self.cancelled > 0 {
                // Only tombstones are left: drop them all now, so "nothing live is left"
                // is an empty queue (a run stops `Exhausted`, not `Horizon`).
                self.clear();
            }
            let &front = self.heap.first()?;
            if front.time > horizon.0 {
                return None;
            }
            let slot = &mut self.slots[front.slot()];
            debug_assert_eq!(slot.seq, front.seq(), "event queue: heap and slot disagree");
            let event = slot.event.take();
            self.free.push(front.slot() as u32);
            let Some(event) = event else {
                self.cancelled -= 1;
                self.pop_front();
                continue;
            };
            // A live event's handler usually schedules the next one: leave the root in
            // place and let that `schedule` overwrite it, one sift instead of two.
            self.hole = true;
            let key = EventKey {
                time: SimTime(front.time),
                seq: front.seq(),
                slot: front.slot() as u32,
            };
            return Some((key, event));
        }
    }

    /// The time of the earliest pending entry (possibly a cancelled one).
    pub fn peek_time(&self) -> Option<SimTime> {
        if self.hole {
            // The root is gone; the earliest is among its children.
            let children = &self.heap[1..self.heap.len().min(5)];
            children.iter().map(|k| SimTime(k.time)).min()
        } else {
            self.heap.first().map(|k| SimTime(k.time))
        }
    }

    /// Pending entries, including cancelled ones not yet dropped.
    pub fn len(&self) -> usize {
        self.heap.len() - self.hole as usize
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tombstones of cancelled events not yet dropped (at most `len()`).
    pub fn cancelled_len(&self) -> usize {
        self.cancelled
    }

    /// Events scheduled over the queue's life, which is also the next `seq`.
    pub fn scheduled_total(&self) -> u64 {
        self.next_seq
    }

    /// Drops every entry, all of which are tombstones.
    fn clear(&mut self) {
        debug_assert!(!self.hole);
        debug_assert_eq!(self.cancelled, self.heap.len());
        self.heap.clear();
        self.slots.clear();
        self.free.clear();
        self.cancelled = 0;
    }

    /// Removes the popped root left in place, if any.
    #[inline(always)]
    fn settle(&mut self) {
        if self.hole {
            self.hole = false;
            self.pop_front();
        }
    }

    /// Adds `key`: into the hole at the root if there is one (sinking it), else at a new
    /// leaf (raising it).
    #[inline(always)]
    fn push(&mut self, key: Key) {
        if self.hole {
            self.hole = false;
            self.sink(key);
            return;
        }
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
    #[inline(always)]
    fn pop_front(&mut self) {
        let Some(last) = self.heap.pop() else {
            return;
        };
        if !self.heap.is_empty() {
            self.sink(last);
        }
    }

    /// Puts `last` at the root, overwriting it, and sinks it to its place.
    ///
    /// The sinking compares the four children branch-free (the winner is picked with
    /// conditional moves), which is where a binary heap loses to mispredicted branches.
    #[inline(always)]
    fn sink(&mut self, last: Key) {
        let n = self.heap.len();
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
