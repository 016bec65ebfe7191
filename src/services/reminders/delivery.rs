//! Delivery of reminders that fell due beyond the in-app list: a webhook receives each one
//! as JSON, and the users it is addressed to (those with an e-mail address) get an e-mail.
//! A delivery is claimed in the database before it is sent, so a reminder goes out at most
//! once per channel even when several workers sweep at once or one dies mid-send. A send
//! that certainly did not go out (nobody to mail yet, the server said "later", the webhook
//! was unreachable) is tried again by a later sweep; one that may have gone out is not.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use reqwest::StatusCode;

use super::{ReminderService, ReminderView, reminder_view};
use crate::config::ReminderSettings;
use crate::db;
use crate::domain::catalogue::SecurityLevel;
use crate::domain::reminder::DeliveryChannel;
use crate::services::ServiceResult;

/// Reminders claimed per round trip.
const CLAIM_BATCH: i64 = 100;
/// How long one send may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// When a send that certainly did not go out is tried again (the sweep runs every 15 min).
const RETRY_IN: Duration = Duration::from_secs(15 * 60);

/// How one send went.
enum Sent {
    Yes,
    /// Failed where it may have reached the other side: never sent again.
    Failed(String),
    /// Certainly did not go out: tried again after `RETRY_IN`.
    Later(String),
}

/// The SMTP transport and sender of e-mailed reminders.
#[derive(Clone)]
pub(super) struct Mailer {
    transport: Arc<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer of the settings; `None` when no SMTP server is configured or its URL is
    /// unusable (logged: reminders then stay in the app).
    pub(super) fn from_settings(settings: &ReminderSettings) -> Option<Self> {
        let url = settings.smtp_url.as_ref()?;
        let built = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
            .map(|builder| builder.timeout(Some(SEND_TIMEOUT)).build());
        let from = settings.email_from.parse::<Mailbox>();
        match (built, from) {
            (Ok(transport), Ok(from)) => Some(Self {
                transport: Arc::new(transport),
                from,
            }),
            (Err(error), _) => {
                tracing::error!(%error, "reminders.smtp_url is unusable; reminders are not e-mailed");
                None
            }
            (_, Err(error)) => {
                tracing::error!(%error, "reminders.email_from is unusable; reminders are not e-mailed");
                None
            }
        }
    }
}

impl ReminderService {
    /// Sends the open reminders due by `today` that a configured channel has not carried
    /// yet; returns how many sends succeeded. A failed send is recorded on its delivery;
    /// it is repeated by a later sweep only when it certainly did not go out.
    pub async fn deliver(&self, today: NaiveDate) -> ServiceResult<usize> {
        let mut sent = 0;
        if self.settings.webhook_url.is_some() {
            sent += self.deliver_on(DeliveryChannel::Webhook, today).await?;
        }
        if self.mailer.is_some() {
            sent += self.deliver_on(DeliveryChannel::Email, today).await?;
        }
        Ok(sent)
    }

    async fn deliver_on(&self, channel: DeliveryChannel, today: NaiveDate) -> ServiceResult<usize> {
        let mut sent = 0;
        loop {
            let claimed = {
                let mut conn = db::acquire(&self.pool).await?;
                db::reminders::claim_deliveries(&mut conn, channel.as_str(), today, CLAIM_BATCH)
                    .await?
            };
            if claimed.is_empty() {
                return Ok(sent);
            }
            for row in claimed {
                let mut reminder = reminder_view(row, today);
                self.redact_above_internal(&mut reminder).await?;
                let outcome = match channel {
                    DeliveryChannel::Webhook => self.post_webhook(&reminder).await,
                    DeliveryChannel::Email => self.send_email(&reminder).await,
                };
                let mut conn = db::acquire(&self.pool).await?;
                let (id, channel) = (reminder.id, channel.as_str());
                match outcome {
                    Sent::Yes => {
                        sent += 1;
                        db::reminders::finish_delivery(&mut conn, id, channel, None).await?;
                    }
                    Sent::Failed(error) => {
                        tracing::warn!(reminder.id = %id, channel, %error, "reminder delivery failed");
                        db::reminders::finish_delivery(&mut conn, id, channel, Some(&error))
                            .await?;
                    }
                    Sent::Later(error) => {
                        tracing::info!(reminder.id = %id, channel, %error, "reminder not sent; will try again");
                        db::reminders::retry_delivery_later(
                            &mut conn, id, channel, &error, RETRY_IN,
                        )
                        .await?;
                    }
                }
            }
        }
    }

    /// A reminder about a secret or confidential record leaves dangan without its subject
    /// and details (which name the record): the recipient reads them in the app.
    async fn redact_above_internal(&self, reminder: &mut ReminderView) -> ServiceResult<()> {
        let Some(record_id) = reminder.record_id else {
            return Ok(());
        };
        let mut conn = db::acquire(&self.pool).await?;
        let level = db::access::record_facts(&mut conn, record_id)
            .await?
            .map_or(SecurityLevel::Confidential, |facts| facts.security_level);
        if matches!(level, SecurityLevel::Public | SecurityLevel::Internal) {
            return Ok(());
        }
        reminder.subject = format!(
            "{} reminder about a {} record: open dangan to read it (提醒涉及涉密檔案，請登錄系統查看)",
            reminder.kind,
            level.as_str()
        );
        reminder.details = serde_json::json!({});
        Ok(())
    }

    async fn post_webhook(&self, reminder: &ReminderView) -> Sent {
        let Some(url) = &self.settings.webhook_url else {
            return Sent::Later("no webhook configured".into());
        };
        let body = match serde_json::to_vec(reminder) {
            Ok(body) => body,
            Err(error) => return Sent::Failed(error.to_string()),
        };
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        match response {
            Ok(response) if response.status().is_success() => Sent::Yes,
            // the receiver says it did not take the reminder and asks for it later
            Ok(response)
                if matches!(
                    response.status(),
                    StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                ) =>
            {
                Sent::Later(format!("the webhook answered {}", response.status()))
            }
            Ok(response) => Sent::Failed(format!("the webhook answered {}", response.status())),
            Err(error) if error.is_connect() => Sent::Later(error.to_string()),
            Err(error) => Sent::Failed(error.to_string()),
        }
    }

    async fn send_email(&self, reminder: &ReminderView) -> Sent {
        let Some(mailer) = &self.mailer else {
            return Sent::Later("no SMTP server configured".into());
        };
        let addresses = match self.recipient_emails(reminder).await {
            Ok(addresses) => addresses,
            Err(error) => return Sent::Later(error.to_string()),
        };
        let mut message = Message::builder()
            .from(mailer.from.clone())
            .subject(format!("[dangan] {}", reminder.subject))
            .header(ContentType::TEXT_PLAIN);
        let mut recipients = 0;
        for address in &addresses {
            match address.parse::<Mailbox>() {
                Ok(mailbox) => {
                    message = message.to(mailbox);
                    recipients += 1;
                }
                Err(error) => {
                    tracing::warn!(%address, %error, "skipping an unusable e-mail address")
                }
            }
        }
        if recipients == 0 {
            return Sent::Later("no recipient of the reminder has an e-mail address yet".into());
        }
        let overdue = if reminder.overdue {
            " (overdue 已逾期)"
        } else {
            ""
        };
        let body = format!(
            "{}\n\n類別 kind: {}\n到期 due on: {}{overdue}\n\ndangan reminder {}\n",
            reminder.subject, reminder.kind, reminder.due_on, reminder.id
        );
        let message = match message.body(body) {
            Ok(message) => message,
            Err(error) => return Sent::Failed(error.to_string()),
        };
        match mailer.transport.send(message).await {
            Ok(_) => Sent::Yes,
            // a 4xx reply: the server did not take the message and asks for it later
            Err(error) if error.is_transient() => Sent::Later(error.to_string()),
            Err(error) => Sent::Failed(error.to_string()),
        }
    }

    async fn recipient_emails(&self, reminder: &ReminderView) -> ServiceResult<Vec<String>> {
        let mut conn = db::acquire(&self.pool).await?;
        Ok(db::reminders::recipient_emails(
            &mut conn,
            reminder.recipient_role.as_deref(),
            reminder.recipient_user,
        )
        .await?)
    }
}
