//! `/`: what waits for the user: reminders due, loans to decide, and the archive's size.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use uuid::Uuid;

use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, error_page, render};
use crate::app::App;
use crate::domain::disposition::BatchStatus;
use crate::domain::loan::LoanStatus;
use crate::domain::permissions::Capability;
use crate::domain::proposal::ProposalStatus;
use crate::services::corrections::{WithdrawalFilter, WithdrawalView};
use crate::services::loans::LoanFilter;
use crate::services::releases::ReleaseFilter;
use crate::services::reminders::ReminderFilter;

struct Reminder {
    subject: String,
    due_on: String,
    overdue: bool,
    record: Option<Uuid>,
}

struct Loan {
    record_id: Uuid,
    title: String,
    borrower: String,
    days: String,
}

struct Counts {
    records: i64,
    files: i64,
    folders: i64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    t: Texts,
    chrome: Chrome,
    reminders: Vec<Reminder>,
    loans: Vec<Loan>,
    /// Destruction batches awaiting an approval or shredding: created, status.
    batches: Vec<(String, &'static str)>,
    /// Release reviews awaiting a decision: reason, number of records.
    releases: Vec<(String, usize)>,
    /// Withdrawals awaiting the caller's decision.
    withdrawals: Vec<WithdrawalView>,
    counts: Option<Counts>,
}

pub async fn dashboard(State(app): State<App>, user: WebUser) -> Response {
    let texts = user.texts;
    let filter = ReminderFilter {
        limit: Some(20),
        ..ReminderFilter::default()
    };
    let reminders = match app.reminders.list(&user.actor, filter).await {
        Ok(page) => page.items,
        Err(error) => return error_page(&user, &error),
    };
    let loans = if user.actor.role.may(Capability::KeepLoans) {
        let filter = LoanFilter {
            status: Some(LoanStatus::Requested),
            limit: Some(20),
            ..LoanFilter::default()
        };
        match app.loans.list(&user.actor, filter).await {
            Ok(page) => page.items,
            Err(error) => return error_page(&user, &error),
        }
    } else {
        Vec::new()
    };
    let mut batches = Vec::new();
    if user.actor.role.may(Capability::Dispose) {
        for status in [
            BatchStatus::AwaitingApproval,
            BatchStatus::AwaitingShredding,
        ] {
            let waiting = app
                .destruction
                .list_batches(&user.actor, Some(status.as_str()))
                .await
                .unwrap_or_default();
            batches.extend(waiting.into_iter().map(|batch| {
                (
                    batch.created_at.format("%Y-%m-%d %H:%M").to_string(),
                    texts.get(&format!("disposition.{status}")),
                )
            }));
        }
    }
    let releases = if user.actor.role.may(Capability::ReviewRelease) {
        let filter = ReleaseFilter {
            status: Some(ProposalStatus::Proposed),
            limit: Some(20),
        };
        app.releases
            .list(&user.actor, filter)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|release| (release.reason, release.items.len()))
            .collect()
    } else {
        Vec::new()
    };
    let withdrawals = if user.actor.role.may(Capability::ApproveWithdrawal) {
        let filter = WithdrawalFilter {
            status: Some(ProposalStatus::Proposed),
            limit: Some(20),
            ..WithdrawalFilter::default()
        };
        app.corrections
            .withdrawals(&user.actor, filter)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let counts = if user.actor.role.may(Capability::ExportCatalogue) {
        app.stats
            .overview(&user.actor)
            .await
            .ok()
            .map(|stats| Counts {
                records: stats.records,
                files: stats.files,
                folders: stats.folders,
            })
    } else {
        None
    };
    render(&Dashboard {
        t: texts,
        chrome: Chrome::of(&user),
        reminders: reminders
            .into_iter()
            .map(|reminder| Reminder {
                due_on: texts.date(&reminder.due_on),
                overdue: reminder.overdue,
                record: reminder.record_id,
                subject: reminder.subject,
            })
            .collect(),
        loans: loans
            .into_iter()
            .map(|loan| Loan {
                record_id: loan.record_id,
                title: loan.title,
                borrower: loan.borrower,
                days: loan.days.to_string(),
            })
            .collect(),
        batches,
        releases,
        withdrawals,
        counts,
    })
}
