//! The reviewer pool: who is at work, who is busy, and the two review queues.
//!
//! Each queue keeps one FIFO per priority level of the scenario's queue discipline
//! (`QueueDiscipline::level`); the front of a queue is the oldest task of the most urgent
//! non-empty level (FIFO has a single level).
//!
//! Peer review tasks may go to anyone (juniors first, keeping seniors free for senior
//! tasks); senior tasks only to seniors, who serve the senior queue before the peer
//! queue. Idle reviewers are kept in ordered sets, so the lowest-numbered idle reviewer
//! takes the next task: a fixed, seed-independent choice.

use std::collections::{BTreeSet, VecDeque};

use crate::engine::{Scheduler, SimTime};
use crate::model::config::{QueueDiscipline, ReviewerConfig, Seniority};
use crate::model::world::Event;

/// A review task waiting in a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReviewTask {
    /// Change slot.
    pub(crate) slot: u32,
    /// Slot generation when queued.
    pub(crate) generation: u32,
    /// When it joined the queue.
    pub(crate) queued_at: SimTime,
    /// Priority level under the queue discipline (0 is served first).
    pub(crate) level: u8,
}

/// A review in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Busy {
    /// Change slot.
    pub(crate) slot: u32,
    /// Slot generation.
    pub(crate) generation: u32,
    /// 0 for the first review of the change, 1 for the second.
    pub(crate) index: u8,
    /// When it started.
    pub(crate) started_at: SimTime,
    /// Whether it was rushed (queue over the rubber-stamp threshold).
    pub(crate) rushed: bool,
    /// Working time the review takes (it pauses outside the reviewer's hours).
    pub(crate) work: crate::engine::SimDuration,
}

/// One reviewer.
#[derive(Clone, Debug)]
pub(crate) struct Reviewer {
    /// Group index.
    pub(crate) group: u32,
    /// Senior or not.
    pub(crate) senior: bool,
    /// The review in progress.
    pub(crate) busy: Option<Busy>,
    /// Away because of a reviewer-outage fault.
    pub(crate) away: bool,
    /// The author this reviewer also is (`ReviewerGroup::from_authors`), global index.
    pub(crate) author: Option<u32>,
}

/// Reviewers, their availability and the queues.
pub(crate) struct ReviewerPool {
    pub(crate) reviewers: Vec<Reviewer>,
    group_first: Vec<u32>,
    pub(crate) on_shift: Vec<bool>,
    pub(crate) idle_junior: BTreeSet<u32>,
    pub(crate) idle_senior: BTreeSet<u32>,
    peer_queue: [VecDeque<ReviewTask>; QueueDiscipline::LEVELS],
    senior_queue: [VecDeque<ReviewTask>; QueueDiscipline::LEVELS],
    waiting: u32,
}

impl ReviewerPool {
    /// The pool of `cfg`; `author_first[g]` is the global index of author group g's first
    /// author (for reviewers drawn from authors).
    pub(crate) fn new(cfg: &ReviewerConfig, author_first: &[u32]) -> ReviewerPool {
        let mut reviewers = Vec::new();
        let mut group_first = Vec::new();
        for (g, group) in cfg.groups.iter().enumerate() {
            group_first.push(reviewers.len() as u32);
            for i in 0..group.count {
                reviewers.push(Reviewer {
                    group: g as u32,
                    senior: group.seniority == Seniority::Senior,
                    busy: None,
                    away: false,
                    author: group.from_authors.map(|a| author_first[a] + i),
                });
            }
        }
        group_first.push(reviewers.len() as u32);
        ReviewerPool {
            reviewers,
            group_first,
            on_shift: vec![false; cfg.groups.len()],
            idle_junior: BTreeSet::new(),
            idle_senior: BTreeSet::new(),
            peer_queue: Default::default(),
            senior_queue: Default::default(),
            waiting: 0,
        }
    }

    /// Reviewer indices of group `g`.
    pub(crate) fn members(&self, g: usize) -> std::ops::Range<u32> {
        self.group_first[g]..self.group_first[g + 1]
    }

    /// Review tasks waiting, both queues.
    pub(crate) fn waiting(&self) -> u32 {
        self.waiting
    }

    /// The next task of the senior (or peer) queue: the oldest of the most urgent level.
    pub(crate) fn front(&self, senior_queue: bool) -> Option<&ReviewTask> {
        let queue = if senior_queue {
            &self.senior_queue
        } else {
            &self.peer_queue
        };
        queue.iter().find_map(|q| q.front())
    }

    /// Every waiting task, both queues (for the censored waits at the horizon).
    pub(crate) fn queued(&self) -> impl Iterator<Item = &ReviewTask> {
        self.senior_queue.iter().chain(&self.peer_queue).flatten()
    }

    /// Working time of every reviewer over `[0, horizon)`, in ms.
    pub(crate) fn capacity_ms(&self, cfg: &ReviewerConfig, horizon: SimTime) -> u64 {
        cfg.groups
            .iter()
            .map(|g| {
                let per = match g.hours {
                    None => horizon.as_ms(),
                    Some(h) => h.working_between(SimTime::ZERO, horizon).as_ms(),
                };
                per * g.count as u64
            })
            .sum()
    }

    /// Marks reviewer `r` idle if it is free to work.
    pub(crate) fn make_idle_if_free(&mut self, r: u32) {
        let rv = &self.reviewers[r as usize];
        if rv.busy.is_none() && !rv.away && self.on_shift[rv.group as usize] {
            if rv.senior {
                self.idle_senior.insert(r);
            } else {
                self.idle_junior.insert(r);
            }
        }
    }

    /// Removes reviewer `r` from the idle sets.
    /// The idle reviewer who takes the next task of the senior (or peer) queue: seniors
    /// serve the senior queue; a peer task goes to the lowest-numbered idle junior, else
    /// senior; never `exclude` (a change's first reviewer, for two-person review). The one
    /// choice rule of the World and of `audit`'s replay.
    pub(crate) fn choose(&self, senior_queue: bool, exclude: Option<u32>) -> Option<u32> {
        let pick = |set: &std::collections::BTreeSet<u32>| {
            set.iter().copied().find(|&r| Some(r) != exclude)
        };
        if senior_queue {
            pick(&self.idle_senior)
        } else {
            pick(&self.idle_junior).or_else(|| pick(&self.idle_senior))
        }
    }

    /// Queues `task` for a senior (or any) reviewer.
    pub(crate) fn enqueue(&mut self, task: ReviewTask, senior: bool) {
        let queue = if senior {
            &mut self.senior_queue
        } else {
            &mut self.peer_queue
        };
        queue[task.level as usize].push_back(task);
        self.waiting += 1;
    }

    /// Drops the task at the front of the senior (or peer) queue.
    pub(crate) fn pop_queue(&mut self, senior_queue: bool) {
        let queue = if senior_queue {
            &mut self.senior_queue
        } else {
            &mut self.peer_queue
        };
        if let Some(q) = queue.iter_mut().find(|q| !q.is_empty()) {
            q.pop_front();
            self.waiting -= 1;
        }
    }

    pub(crate) fn make_unavailable(&mut self, r: u32) {
        self.idle_junior.remove(&r);
        self.idle_senior.remove(&r);
    }

    /// Puts every group on or off shift at time zero and schedules the shift changes.
    pub(crate) fn start(&mut self, cfg: &ReviewerConfig, sched: &mut Scheduler<Event>) {
        for (g, group) in cfg.groups.iter().enumerate() {
            match group.hours {
                None => self.shift_start(g),
                Some(h) => match h.shift_at_or_after(SimTime::ZERO) {
                    Some((s, e)) if s == SimTime::ZERO => {
                        self.shift_start(g);
                        sched.at(e, Event::ShiftEnd { group: g as u32 });
                    }
                    Some((s, _)) => {
                        sched.at(s, Event::ShiftStart { group: g as u32 });
                    }
                    None => {}
                },
            }
        }
    }

    /// Group `g` starts work: everyone free becomes idle.
    pub(crate) fn shift_start(&mut self, g: usize) {
        self.on_shift[g] = true;
        for r in self.members(g) {
            self.make_idle_if_free(r);
        }
    }

    /// Group `g` stops work: nobody in it takes a new task.
    pub(crate) fn shift_end(&mut self, g: usize) {
        self.on_shift[g] = false;
        for r in self.members(g) {
            self.make_unavailable(r);
        }
    }
}

/// The global index of each author group's first author (authors are numbered group by
/// group, in file order), for reviewers drawn from an author group.
pub(crate) fn author_first(authors: &[crate::model::config::AuthorGroup]) -> Vec<u32> {
    let mut first = Vec::with_capacity(authors.len());
    let mut n = 0;
    for g in authors {
        first.push(n);
        n += g.count;
    }
    first
}
