//! Review: queueing review tasks, handing them to idle reviewers, their verdicts, the
//! auto-approve timeout and working shifts.

use crate::engine::time::MS_PER_HOUR;
use crate::engine::{Scheduler, SimDuration};
use crate::model::change::{Phase, draw, purpose};
use crate::model::gate::Outcome;
use crate::model::reviewers::{Busy, ReviewTask};
use crate::model::trace::{TraceEvent, TraceSink};

use super::{Event, Failure, World};

impl<S: TraceSink> World<'_, S> {
    pub(super) fn request_reviews(
        &mut self,
        slot: u32,
        count: u8,
        senior: bool,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let c = &mut self.changes[slot as usize];
        c.phase = Phase::Reviewing;
        c.reviews_needed = count;
        c.reviews_started = 0;
        c.first_reviewer = None;
        if senior {
            c.guard_cleared = true;
        }
        c.queued_at = Some(now);
        let (id, generation) = (c.id, c.generation);
        let level = self.cfg.reviewers.discipline.level(c.kind, c.task.class);
        for _ in 0..count {
            let task = ReviewTask {
                slot,
                generation,
                queued_at: now,
                level,
            };
            self.reviewers.enqueue(task, senior);
            let queue_len = self.reviewers.waiting();
            self.emit(
                now,
                TraceEvent::ReviewQueued {
                    change: id,
                    senior_only: senior,
                    queue_len,
                },
            );
        }
        if let Some(timeout) = self.cfg.policy.auto_approve_after {
            sched.after(timeout, Event::AutoApprove { slot, generation });
        }
        self.dispatch_reviews(sched);
    }

    /// Whether a queued review task no longer needs doing.
    pub(super) fn is_stale(&self, task: &ReviewTask) -> bool {
        let c = &self.changes[task.slot as usize];
        c.generation != task.generation
            || c.phase != Phase::Reviewing
            || c.reviews_started >= c.reviews_needed
    }

    /// Hands queued tasks to idle reviewers until one side runs out.
    pub(super) fn dispatch_reviews(&mut self, sched: &mut Scheduler<Event>) {
        loop {
            if self.assign_from(true, sched) || self.assign_from(false, sched) {
                continue;
            }
            break;
        }
    }

    /// Tries to start one task from the senior (or peer) queue; true if it made progress.
    pub(super) fn assign_from(&mut self, senior_queue: bool, sched: &mut Scheduler<Event>) -> bool {
        let now = sched.now();
        let Some(&task) = self.reviewers.front(senior_queue) else {
            return false;
        };
        if self.is_stale(&task) {
            self.reviewers.pop_queue(senior_queue);
            let queue_len = self.reviewers.waiting();
            let change = self.changes[task.slot as usize].id;
            self.emit(now, TraceEvent::ReviewDropped { change, queue_len });
            return true;
        }
        let exclude = self.changes[task.slot as usize].first_reviewer;
        let Some(r) = self.reviewers.choose(senior_queue, exclude) else {
            return false;
        };
        let waiting_before = self.reviewers.waiting();
        self.reviewers.pop_queue(senior_queue);
        self.reviewers.make_unavailable(r);
        let rushed = waiting_before > self.cfg.reviewers.load.queue_above;
        let c = &mut self.changes[task.slot as usize];
        let index = c.reviews_started;
        c.reviews_started += 1;
        c.reviews_in_flight += 1;
        c.first_reviewer.get_or_insert(r);
        let id = c.id;
        let rv = &mut self.reviewers.reviewers[r as usize];
        let group = &self.cfg.reviewers.groups[rv.group as usize];
        let mut rng = c.rng(purpose::REVIEW + index as u64 * 16);
        let mut work = group.review_time.sample(&mut rng);
        // Reading time grows with the change (SmartBear: an inspection rate in LOC/h).
        if let Some(lph) = self.cfg.reviewers.lines_per_hour {
            work = work + SimDuration::from_ms_f64(c.size as f64 / lph * MS_PER_HOUR as f64);
        }
        // A review pauses outside its reviewer's hours and resumes at the next shift, so
        // reviewing never exceeds scheduled time.
        let done = match group.hours {
            Some(h) => h.advance(now, work),
            None => now + work,
        };
        rv.busy = Some(Busy {
            slot: task.slot,
            generation: task.generation,
            index,
            started_at: now,
            rushed,
            work,
        });
        let senior = rv.senior;
        if let Some(a) = rv.author {
            self.authors[a as usize].reviewing = true;
        }
        sched.at(done, Event::ReviewDone { reviewer: r });
        let queue_len = self.reviewers.waiting();
        self.emit(
            now,
            TraceEvent::ReviewStarted {
                change: id,
                reviewer: r,
                senior,
                waited_ms: now.saturating_since(task.queued_at).as_ms(),
                rushed,
                queue_len,
            },
        );
        true
    }

    pub(super) fn on_review_done(&mut self, r: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let rv = &mut self.reviewers.reviewers[r as usize];
        let busy = rv
            .busy
            .take()
            .expect("ReviewDone for a reviewer with no review");
        let senior = rv.senior;
        let group = &self.cfg.reviewers.groups[rv.group as usize];
        let c = &mut self.changes[busy.slot as usize];
        assert_eq!(
            c.generation, busy.generation,
            "a change slot was reused while under review"
        );
        c.reviews_in_flight -= 1;
        // Detection: careful-review probability, cut by load (rubber-stamping) and size.
        let rc = &self.cfg.reviewers;
        let mut p = group.detection.get(c.task.class);
        if busy.rushed {
            p *= rc.load.detection_factor;
        }
        if c.size > rc.size.above_loc {
            p *= rc.size.detection_factor;
        }
        let i = busy.index as usize;
        let approved = if c.defective {
            c.u[draw::DETECT[i]] >= p
        } else {
            c.u[draw::FALSE_REJECT[i]] >= rc.false_rejection
        };
        let (id, phase, kind) = (c.id, c.phase, c.kind);
        // Working time spent, not the wall-clock span (which may include a night).
        let busy_ms = busy.work.as_ms();
        self.emit(
            now,
            TraceEvent::ReviewFinished {
                change: id,
                reviewer: r,
                senior,
                busy_ms,
                approved,
            },
        );
        if phase == Phase::Reviewing {
            if !approved {
                self.emit(now, TraceEvent::Rejected { change: id, kind });
                self.report_outcome(busy.slot, Outcome::Rejected, sched);
                self.attempt_failed(busy.slot, Failure::Rejected, sched);
                self.release(busy.slot);
            } else {
                let c = &mut self.changes[busy.slot as usize];
                c.reviews_needed -= 1;
                if c.reviews_needed == 0 {
                    self.approved(busy.slot, sched);
                }
            }
        } else if phase == Phase::Done {
            // Decided while this review ran: free it now that nothing refers to it.
            self.release(busy.slot);
        }
        if let Some(a) = self.reviewers.reviewers[r as usize].author {
            self.authors[a as usize].reviewing = false;
        }
        self.reviewers.make_idle_if_free(r);
        self.dispatch_reviews(sched);
    }

    pub(super) fn on_auto_approve(
        &mut self,
        slot: u32,
        generation: u32,
        sched: &mut Scheduler<Event>,
    ) {
        let c = &mut self.changes[slot as usize];
        if c.generation != generation || c.phase != Phase::Reviewing {
            return;
        }
        let id = c.id;
        self.emit(sched.now(), TraceEvent::AutoApproved { change: id });
        self.approved(slot, sched);
    }

    pub(super) fn on_shift(&mut self, group: u32, start: bool, sched: &mut Scheduler<Event>) {
        let g = group as usize;
        let Some(hours) = self.cfg.reviewers.groups[g].hours else {
            return;
        };
        if start {
            self.reviewers.shift_start(g);
            if let Some((_, end)) = hours.shift_at_or_after(sched.now()) {
                sched.at(end, Event::ShiftEnd { group });
            }
            self.dispatch_reviews(sched);
        } else {
            self.reviewers.shift_end(g);
            if let Some((next, _)) = hours.shift_at_or_after(sched.now()) {
                sched.at(next, Event::ShiftStart { group });
            }
        }
    }
}
