//! Recurring jobs: a job kind and a cron pattern (five fields, minute to weekday) read in
//! the installation's time zone, e.g. `0 2 * * *` for 02:00 every day, Asia/Shanghai.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::job::JobKind;

/// A job kind run on a cron pattern.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub kind: JobKind,
    pub pattern: String,
    cron: croner::Cron,
}

impl Schedule {
    /// Parses `pattern` for the job kind named `name`; the error says what is wrong.
    pub fn parse(name: &str, pattern: &str) -> Result<Self, String> {
        let kind = JobKind::parse(name)
            .filter(|kind| kind.is_schedulable())
            .ok_or_else(|| {
                format!("{name:?} is not a job kind that runs on a schedule (housekeeping)")
            })?;
        let cron = croner::Cron::from_str(pattern).map_err(|error| {
            format!("{pattern:?} is not a cron pattern such as \"0 2 * * *\": {error}")
        })?;
        Ok(Self {
            kind,
            pattern: pattern.to_owned(),
            cron,
        })
    }

    /// The first time after `after` (exclusive) at which the job is due, in `zone`'s clock.
    pub fn next_after(&self, after: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&after.with_timezone(&zone), false)
            .ok()
            .map(|next| next.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daily_schedule_fires_at_local_time() {
        let schedule = Schedule::parse("housekeeping", "0 2 * * *").expect("parses");
        let now = DateTime::parse_from_rfc3339("2026-11-28T20:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        // 04:00 in Shanghai on the 29th; next 02:00 there is 18:00 UTC on the 29th
        let next = schedule
            .next_after(now, chrono_tz::Asia::Shanghai)
            .expect("next");
        assert_eq!(next.to_rfc3339(), "2026-11-29T18:00:00+00:00");
        assert!(
            schedule
                .next_after(next, chrono_tz::Asia::Shanghai)
                .expect("after")
                > next
        );
    }

    #[test]
    fn unknown_kinds_and_bad_patterns_are_refused_with_the_reason() {
        assert!(
            Schedule::parse("extract_text", "* * * * *")
                .err()
                .unwrap_or_default()
                .contains("not a job kind")
        );
        assert!(Schedule::parse("nonsense", "* * * * *").is_err());
        assert!(
            Schedule::parse("housekeeping", "every day")
                .err()
                .unwrap_or_default()
                .contains("cron pattern")
        );
    }
}
