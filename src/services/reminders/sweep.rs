//! The scheduled sweep: raises the reminders no request raises by itself — days a room
//! had too few readings, records whose retention runs out (R15–R17), and the deadlines of
//! the regulations from party events (R22). Each cause has a key, so sweeping again raises
//! nothing twice.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;

use super::ReminderService;
use crate::db;
use crate::domain::reminder::{NewReminder, Recipient, ReminderKind};
use crate::domain::user::Role;
use crate::services::ServiceResult;
use crate::services::loans::loan_reminder;

/// Deadlines further in the past than this are not raised any more (old folders imported
/// with their history would otherwise raise years of stale deadlines at once).
const DEADLINE_LOOKBACK_DAYS: u64 = 31;

/// What one sweep raised.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepReport {
    pub missed_readings: usize,
    pub retention: usize,
    pub deadlines: usize,
    pub overdue_loans: usize,
    pub branch_catalogues: usize,
    pub delivered: usize,
}

impl ReminderService {
    /// Raises the reminders due by `today`, then delivers those that fell due.
    #[tracing::instrument(skip_all, fields(%today))]
    pub async fn sweep(&self, today: NaiveDate) -> ServiceResult<SweepReport> {
        let mut report = SweepReport::default();
        let mut tx = db::begin(&self.pool).await?;
        report.missed_readings = self.missed_readings(&mut tx, today).await?;
        report.retention = self.retention(&mut tx, today).await?;
        report.deadlines = self.deadlines(&mut tx, today).await?;
        report.overdue_loans = self.overdue_loans(&mut tx, today).await?;
        report.branch_catalogues = self.branch_catalogues(&mut tx, today).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        report.delivered = self.deliver(today).await?;
        tracing::info!(?report, "reminder sweep done");
        Ok(report)
    }

    /// One reminder per room and complete day (yesterday and the days before, up to the
    /// configured look-back) with fewer readings than the room expects.
    async fn missed_readings(
        &self,
        conn: &mut db::PgConnection,
        today: NaiveDate,
    ) -> ServiceResult<usize> {
        let (Some(from), Some(to)) = (
            today.checked_sub_days(Days::new(u64::from(self.settings.missed_reading_days))),
            today.checked_sub_days(Days::new(1)),
        ) else {
            return Ok(0);
        };
        let mut raised = 0;
        for day in db::readings::missed_days(conn, from, to, self.timezone.name()).await? {
            let mut reminder = NewReminder::new(
                ReminderKind::MissedReading,
                format!("missed_reading:{}:{}", day.room_id, day.day),
                format!(
                    "庫房 {} {} 溫濕度記錄不足 missed readings: {} of {}",
                    day.code, day.day, day.readings, day.expected
                ),
                day.day.succ_opt().unwrap_or(day.day),
                Recipient::Role(Role::Archivist),
            );
            reminder.room_id = Some(day.room_id);
            reminder.details = serde_json::json!({
                "room_code": day.code, "day": day.day,
                "readings": day.readings, "expected": day.expected,
            });
            raised += usize::from(db::reminders::raise(conn, &reminder).await?.is_some());
        }
        Ok(raised)
    }

    /// One reminder per retention due date falling within the lead time, counting the
    /// active records due then. Nothing is destroyed because it is due: the archivist
    /// takes the due list to appraisal.
    async fn retention(
        &self,
        conn: &mut db::PgConnection,
        today: NaiveDate,
    ) -> ServiceResult<usize> {
        let until = today
            .checked_add_days(Days::new(u64::from(self.settings.retention_lead_days)))
            .unwrap_or(today);
        let mut raised = 0;
        for group in db::deadlines::retention_due_dates(conn, until).await? {
            let mut reminder = NewReminder::new(
                ReminderKind::Retention,
                format!("retention:{}", group.due_on),
                format!(
                    "{} 件檔案保管期限到期，待鑒定 {} records fall due for appraisal on {}",
                    group.records, group.records, group.due_on
                ),
                group.due_on,
                Recipient::Role(Role::Archivist),
            );
            reminder.details = serde_json::json!({
                "records": group.records,
                "due_list": format!("/api/v1/disposition/due?as_of={}", group.due_on),
            });
            raised += usize::from(db::reminders::raise(conn, &reminder).await?.is_some());
        }
        Ok(raised)
    }

    /// One reminder to the records office per loan past its due date and not returned
    /// (R12); the borrower has had the due date since approval. Returning closes both.
    async fn overdue_loans(
        &self,
        conn: &mut db::PgConnection,
        today: NaiveDate,
    ) -> ServiceResult<usize> {
        let mut raised = 0;
        for loan in db::loans::overdue(conn, today).await? {
            let Some(due_on) = loan.due_on else { continue };
            let reminder = loan_reminder(
                &loan,
                format!("loan_overdue:{}", loan.id),
                format!(
                    "借閱逾期未還 loan overdue since {due_on}: {} ({}), borrowed by {}",
                    loan.title,
                    loan.archival_code.as_deref().unwrap_or("-"),
                    loan.borrower
                ),
                due_on.succ_opt().unwrap_or(due_on),
                Recipient::Role(Role::Archivist),
            );
            raised += usize::from(db::reminders::raise(conn, &reminder).await?.is_some());
        }
        Ok(raised)
    }

    /// One reminder per branch and month in which it filed (R22): its catalogue goes to the
    /// parent company within a month of filing; the reminder links the export of what it
    /// filed that month, and is done once the records office reports it.
    async fn branch_catalogues(
        &self,
        conn: &mut db::PgConnection,
        today: NaiveDate,
    ) -> ServiceResult<usize> {
        let Some(since) = today
            .checked_sub_days(Days::new(DEADLINE_LOOKBACK_DAYS))
            .and_then(|day| day.with_day(1))
        else {
            return Ok(0);
        };
        let mut raised = 0;
        for branch in db::deadlines::branch_months(conn, since, self.timezone.name()).await? {
            let month = branch.month.format("%Y-%m");
            let last = branch
                .month
                .checked_add_months(Months::new(1))
                .and_then(|next| next.pred_opt())
                .unwrap_or(branch.month);
            let due_on = branch
                .first_filed
                .checked_add_months(Months::new(1))
                .unwrap_or(branch.first_filed);
            let link = format!(
                "/api/v1/catalogue/export?kind=items&format=xlsx&department={}&filed_from={}&filed_to={last}",
                branch.code, branch.month
            );
            let mut reminder = NewReminder::new(
                ReminderKind::Deadline,
                format!("branch_catalogue:{}:{month}", branch.code),
                format!(
                    "分支機構目錄報送總公司 report the catalogue of branch {} {} filed in {month} \
                     to the parent company",
                    branch.code, branch.name
                ),
                due_on,
                Recipient::Role(Role::Archivist),
            );
            reminder.details = serde_json::json!({
                "department": branch.code, "month": month.to_string(),
                "first_filed": branch.first_filed, "records": branch.records,
                "export": link,
            });
            raised += usize::from(db::reminders::raise(conn, &reminder).await?.is_some());
        }
        Ok(raised)
    }

    /// The deadlines of the rules (`deadline_rules`) for each party, from the rule's
    /// trigger (an event of the party or its folder being made), due within the lead time.
    async fn deadlines(
        &self,
        conn: &mut db::PgConnection,
        today: NaiveDate,
    ) -> ServiceResult<usize> {
        let until = today
            .checked_add_days(Days::new(u64::from(self.settings.deadline_lead_days)))
            .unwrap_or(today);
        let since = today
            .checked_sub_days(Days::new(DEADLINE_LOOKBACK_DAYS))
            .unwrap_or(today);
        let mut raised = 0;
        for deadline in db::deadlines::deadlines(conn, since, until, self.timezone.name()).await? {
            let Some(kind) = ReminderKind::parse(&deadline.kind) else {
                continue;
            };
            let recipient = Role::parse(&deadline.recipient_role).unwrap_or(Role::Archivist);
            let mut reminder = NewReminder::new(
                kind,
                format!(
                    "deadline:{}:{}:{}",
                    deadline.rule, deadline.party_id, deadline.due_on
                ),
                format!(
                    "{}: {} {}",
                    deadline.subject, deadline.party_identifier, deadline.party_name
                ),
                deadline.due_on,
                Recipient::Role(recipient),
            );
            reminder.party_id = Some(deadline.party_id);
            reminder.details = serde_json::json!({
                "rule": deadline.rule, "trigger": deadline.trigger,
                "trigger_on": deadline.trigger_on,
            });
            raised += usize::from(db::reminders::raise(conn, &reminder).await?.is_some());
        }
        Ok(raised)
    }
}
