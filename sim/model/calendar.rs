//! Working-hours calendars: when a person is at work, and how working time maps onto
//! simulated time.
//!
//! Time zero is Monday 00:00 UTC. A calendar is a weekly pattern in a time zone, so every
//! question is answered with integer arithmetic on the week, never by stepping minute by
//! minute.

use crate::engine::time::{MS_PER_DAY, MS_PER_MINUTE, MS_PER_WEEK};
use crate::engine::{SimDuration, SimTime};
use crate::model::config::WorkingHours;

impl WorkingHours {
    /// Milliseconds of work per week.
    pub fn working_ms_per_week(&self) -> u64 {
        let per_day = (self.end_min.saturating_sub(self.start_min)) as u64 * MS_PER_MINUTE;
        per_day * self.days.count_ones() as u64
    }

    /// Local time (ms since local Monday 00:00 of week zero) for simulated time `t`.
    fn local(&self, t: SimTime) -> i128 {
        t.as_ms() as i128 + self.utc_offset_min as i128 * MS_PER_MINUTE as i128
    }

    /// The working interval `[start, end)` of local day `day` (days since local week-zero
    /// Monday), in simulated time, or `None` if the day is not a working day.
    fn shift_of_day(&self, day: i128) -> Option<(i128, i128)> {
        let weekday = day.rem_euclid(7) as u32;
        if self.days & (1 << weekday) == 0 || self.end_min <= self.start_min {
            return None;
        }
        let offset = self.utc_offset_min as i128 * MS_PER_MINUTE as i128;
        let day_start = day * MS_PER_DAY as i128 - offset;
        Some((
            day_start + self.start_min as i128 * MS_PER_MINUTE as i128,
            day_start + self.end_min as i128 * MS_PER_MINUTE as i128,
        ))
    }

    /// Whether `t` is within working hours.
    pub fn is_working(&self, t: SimTime) -> bool {
        let day = self.local(t).div_euclid(MS_PER_DAY as i128);
        match self.shift_of_day(day) {
            Some((s, e)) => (s..e).contains(&(t.as_ms() as i128)),
            None => false,
        }
    }

    /// The current shift `[start, end)` if `t` is in one, else the next shift.
    /// Returns `None` only for a calendar with no working time at all.
    pub fn shift_at_or_after(&self, t: SimTime) -> Option<(SimTime, SimTime)> {
        if self.working_ms_per_week() == 0 {
            return None;
        }
        let now = t.as_ms() as i128;
        let first_day = self.local(t).div_euclid(MS_PER_DAY as i128) - 1;
        // A working day exists within any 8 consecutive days; look a little further to be
        // safe with time-zone offsets.
        for day in first_day..first_day + 10 {
            if let Some((s, e)) = self.shift_of_day(day)
                && e > now
            {
                let s = s.max(now).max(0) as u64;
                return Some((SimTime(s), SimTime(e.max(0) as u64)));
            }
        }
        unreachable!("a calendar with working time has a shift within ten days")
    }

    /// The simulated time at which `work` of working time has elapsed after `t`.
    pub fn advance(&self, t: SimTime, work: SimDuration) -> SimTime {
        let per_week = self.working_ms_per_week();
        assert!(per_week > 0, "advance on a calendar with no working time");
        let mut rest = work.as_ms();
        let mut now = t;
        // Skip whole weeks at once: a week of calendar time holds exactly `per_week` of work.
        // Keep at least some work for the loop so an exact multiple ends at a shift's end.
        let weeks = rest.saturating_sub(1) / per_week;
        if weeks > 0 {
            now += SimDuration(weeks * MS_PER_WEEK);
            rest -= weeks * per_week;
        }
        loop {
            let (s, e) = self
                .shift_at_or_after(now)
                .expect("calendar has working time");
            let available = e.as_ms() - s.as_ms();
            if rest <= available {
                return SimTime(s.as_ms() + rest);
            }
            rest -= available;
            now = e;
        }
    }

    /// Working time within `[from, to)`.
    pub fn working_between(&self, from: SimTime, to: SimTime) -> SimDuration {
        let mut total = 0;
        let mut now = from;
        let per_week = self.working_ms_per_week();
        if per_week == 0 {
            return SimDuration::ZERO;
        }
        let span = to.as_ms().saturating_sub(from.as_ms());
        let weeks = span / MS_PER_WEEK;
        total += weeks * per_week;
        now += SimDuration(weeks * MS_PER_WEEK);
        while now < to {
            let Some((s, e)) = self.shift_at_or_after(now) else {
                break;
            };
            if s >= to {
                break;
            }
            total += e.min(to).as_ms() - s.as_ms();
            now = e;
        }
        SimDuration(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nine_to_five() -> WorkingHours {
        WorkingHours {
            start_min: 9 * 60,
            end_min: 17 * 60,
            days: 0b001_1111,
            utc_offset_min: 0,
        }
    }

    #[test]
    fn shifts_and_weekends() {
        let c = nine_to_five();
        let h = |x: u64| SimTime(x * 3_600_000);
        assert!(!c.is_working(h(8)));
        assert!(c.is_working(h(9)));
        assert!(!c.is_working(h(17)));
        // Friday 17:00 → next shift is Monday 09:00 of week two.
        let fri_5pm = h(4 * 24 + 17);
        assert_eq!(c.shift_at_or_after(fri_5pm).unwrap().0, h(7 * 24 + 9));
        // 10 working hours from Monday 08:00 = Tuesday 11:00.
        assert_eq!(c.advance(h(8), SimDuration::from_hours(10)), h(24 + 11));
        // One week of calendar time holds 40 working hours.
        assert_eq!(
            c.working_between(h(0), h(7 * 24)),
            SimDuration::from_hours(40)
        );
        assert_eq!(c.advance(h(0), SimDuration::from_hours(40)), h(4 * 24 + 17));
    }

    #[test]
    fn time_zone_offset_moves_the_shift() {
        // UTC+5:30, 09:00 local = 03:30 UTC.
        let c = WorkingHours {
            utc_offset_min: 330,
            ..nine_to_five()
        };
        let t = SimTime(3 * 3_600_000 + 30 * 60_000);
        assert!(c.is_working(t));
        assert!(!c.is_working(SimTime(t.as_ms() - 1)));
    }
}
