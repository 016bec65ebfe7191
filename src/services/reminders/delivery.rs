//! Delivery of reminders that fell due beyond the in-app list: a webhook receives each one
//! as JSON. A delivery is claimed in the database before it is sent, so a reminder goes out
//! at most once per channel even when several workers sweep at once or one dies mid-send.

use chrono::NaiveDate;

use super::{ReminderService, reminder_view};
use crate::db;
use crate::domain::reminder::DeliveryChannel;
use crate::services::{ServiceError, ServiceResult};

/// Reminders claimed per round trip.
const CLAIM_BATCH: i64 = 100;

impl ReminderService {
    /// Sends the open reminders due by `today` that no channel carried yet; returns how
    /// many were sent. A failed send is recorded on the delivery and not retried.
    pub async fn deliver(&self, today: NaiveDate) -> ServiceResult<usize> {
        let Some(url) = self.settings.webhook_url.clone() else {
            return Ok(0);
        };
        let channel = DeliveryChannel::Webhook.as_str();
        let mut sent = 0;
        loop {
            let claimed = {
                let mut conn = db::acquire(&self.pool).await?;
                db::reminders::claim_deliveries(&mut conn, channel, today, CLAIM_BATCH).await?
            };
            if claimed.is_empty() {
                return Ok(sent);
            }
            for row in claimed {
                let id = row.id;
                let body = serde_json::to_vec(&reminder_view(row, today))
                    .map_err(|error| ServiceError::Internal(error.to_string()))?;
                let outcome = self
                    .http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status);
                let error = outcome.err().map(|error| error.to_string());
                match &error {
                    None => sent += 1,
                    Some(error) => {
                        tracing::warn!(reminder.id = %id, %error, "webhook delivery failed")
                    }
                }
                let mut conn = db::acquire(&self.pool).await?;
                db::reminders::finish_delivery(&mut conn, id, channel, error.as_deref()).await?;
            }
        }
    }
}
