//! The fixity sweep: every live blob re-read and re-hashed, recently ingested first, at most
//! at the configured rate. Each verification is kept (the blob's last outcome and a
//! preservation event); a changed or missing object raises an alert naming its records.
//! Objects that no record references are reported. A sweep resumed after a crash skips the
//! blobs it verified already.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::IntegrityService;
use crate::db;
use crate::domain::Sha256Digest;
use crate::domain::integrity::{CheckKind, CheckStatus};
use crate::domain::reminder::{NewReminder, Recipient, ReminderKind};
use crate::domain::user::Role;
use crate::services::{ServiceError, ServiceResult};

/// Blobs read from the database at a time.
const PAGE: i64 = 256;
/// Objects hashed at once.
const HASHED_AT_ONCE: usize = 2;

/// Where a sweep stands, for progress bars.
#[derive(Debug, Clone, Copy, Default)]
pub struct SweepTick {
    pub checked: u64,
    pub bytes: u64,
    /// Blobs to verify when the sweep (or its resumption) began.
    pub total: u64,
}

/// The running figures of a sweep.
struct Figures {
    checked: i64,
    ok: i64,
    bytes: i64,
    mismatched: Vec<Value>,
    missing: Vec<Value>,
    unreferenced: Vec<Value>,
}

impl IntegrityService {
    /// Creates a fixity sweep without queueing it (`dangan verify` runs it itself).
    pub async fn new_sweep(&self) -> ServiceResult<Uuid> {
        let id = Uuid::now_v7();
        let mut conn = db::acquire(&self.pool).await?;
        db::integrity::insert_check(&mut conn, id, CheckKind::Fixity, None, None, None, None)
            .await?;
        Ok(id)
    }

    /// Runs (or resumes) the sweep `id`; `progress` hears after every page.
    #[tracing::instrument(skip_all, fields(check.id = %id))]
    pub async fn sweep(
        &self,
        id: Uuid,
        progress: &(dyn Fn(SweepTick) + Send + Sync),
    ) -> ServiceResult<()> {
        let (row, total) = {
            let mut conn = db::acquire(&self.pool).await?;
            db::integrity::start_check(&mut conn, id).await?;
            let row = db::integrity::find_check(&mut conn, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound(format!("no integrity check {id}")))?;
            let since = row.started_at.unwrap_or_else(Utc::now);
            (
                row,
                db::integrity::blobs_left_to_verify(&mut conn, since).await?,
            )
        };
        if row.status == CheckStatus::Done {
            return Ok(());
        }
        let since = row.started_at.unwrap_or_else(Utc::now);
        let mut figures = Figures {
            checked: row.checked,
            ok: row.ok,
            bytes: row.bytes,
            mismatched: array(row.mismatched),
            missing: array(row.missing),
            unreferenced: Vec::new(),
        };
        let started = Instant::now();
        let mut read_here = 0u64;
        let mut after: Option<(DateTime<Utc>, Vec<u8>)> = None;
        let mut tick = SweepTick {
            total: u64::try_from(total).unwrap_or_default(),
            ..SweepTick::default()
        };
        loop {
            let page = {
                let mut conn = db::acquire(&self.pool).await?;
                db::integrity::blobs_to_verify(&mut conn, since, after.clone(), PAGE).await?
            };
            let Some(last) = page.last() else { break };
            after = Some((last.created_at, last.sha256.clone()));
            let read = self.verify_page(id, &page, &mut figures).await?;
            read_here += read;
            tick.checked += page.len() as u64;
            tick.bytes = read_here;
            progress(tick);
            self.throttle(started, read_here).await;
            self.save(id, &figures, false).await?;
        }
        figures.unreferenced = self.unreferenced_objects().await?;
        self.save(id, &figures, true).await?;
        tracing::info!(
            checked = figures.checked,
            ok = figures.ok,
            "fixity sweep done"
        );
        Ok(())
    }

    /// Verifies one page of blobs; returns the bytes read.
    async fn verify_page(
        &self,
        id: Uuid,
        page: &[db::integrity::BlobToVerify],
        figures: &mut Figures,
    ) -> ServiceResult<u64> {
        let mut digests = Vec::with_capacity(page.len());
        let mut outcomes = Vec::with_capacity(page.len());
        let mut details = Vec::with_capacity(page.len());
        let mut read = 0u64;
        for group in page.chunks(HASHED_AT_ONCE) {
            let hashes: Vec<_> = group
                .iter()
                .map(|blob| {
                    let digest = Sha256Digest::from_slice(&blob.sha256);
                    async move {
                        match digest {
                            Some(digest) => self.blobs.fixity(digest).await.map(Some),
                            None => Ok(None),
                        }
                    }
                })
                .collect();
            let found = futures::future::try_join_all(hashes).await?;
            let absent: Vec<bool> = found
                .iter()
                .map(|found| !matches!(found, Some(Some(_))))
                .collect();
            let released = self.released_meanwhile(group, &absent).await?;
            for ((blob, found), absent) in group.iter().zip(found).zip(absent) {
                if absent && released.contains(&blob.sha256) {
                    // destroyed while the sweep ran: gone as it should be, not missing
                    continue;
                }
                let expected = Sha256Digest::from_slice(&blob.sha256);
                let (outcome, detail) = match found.flatten() {
                    Some(fixity) => {
                        read += fixity.size;
                        if Some(fixity.sha256) == expected && fixity.size == blob.size as u64 {
                            ("ok", None)
                        } else {
                            let detail = format!(
                                "stored content hashes to {} with {} bytes",
                                fixity.sha256, fixity.size
                            );
                            ("mismatch", Some(detail))
                        }
                    }
                    None => ("missing", Some("the object is not in the store".to_owned())),
                };
                figures.checked += 1;
                if outcome == "ok" {
                    figures.ok += 1;
                } else {
                    let entry = self.raise_damage(blob, outcome, detail.as_deref()).await?;
                    match outcome {
                        "mismatch" => figures.mismatched.push(entry),
                        _ => figures.missing.push(entry),
                    }
                }
                digests.push(blob.sha256.clone());
                outcomes.push(outcome);
                details.push(detail);
            }
        }
        figures.bytes += read as i64;
        let mut conn = db::acquire(&self.pool).await?;
        db::integrity::record_verifications(&mut conn, Some(id), &digests, &outcomes, &details)
            .await?;
        Ok(read)
    }

    /// Those blobs of `group` found `absent` from the store that no live record holds any
    /// more: a destruction released them after the sweep listed them.
    async fn released_meanwhile(
        &self,
        group: &[db::integrity::BlobToVerify],
        absent: &[bool],
    ) -> ServiceResult<Vec<Vec<u8>>> {
        let absent: Vec<Vec<u8>> = group
            .iter()
            .zip(absent)
            .filter(|(_, absent)| **absent)
            .map(|(blob, _)| blob.sha256.clone())
            .collect();
        if absent.is_empty() {
            return Ok(absent);
        }
        let mut conn = db::acquire(&self.pool).await?;
        Ok(db::integrity::unreferenced_digests(&mut conn, &absent).await?)
    }

    /// Raises the alert of a damaged blob (once per blob and outcome) and describes it.
    async fn raise_damage(
        &self,
        blob: &db::integrity::BlobToVerify,
        outcome: &str,
        detail: Option<&str>,
    ) -> ServiceResult<Value> {
        let hex = hex::encode(&blob.sha256);
        let mut conn = db::acquire(&self.pool).await?;
        let records = db::integrity::records_of_blob(&mut conn, &blob.sha256).await?;
        let what = if outcome == "missing" {
            "缺失 missing"
        } else {
            "內容已變 changed"
        };
        let mut alert = NewReminder::new(
            ReminderKind::Alert,
            format!("fixity:{hex}:{outcome}"),
            format!("存儲內容{what}: {} ({} records)", &hex[..12], records.len()),
            Utc::now().date_naive(),
            Recipient::Role(Role::Archivist),
        );
        alert.record_id = records.first().copied();
        alert.details =
            json!({ "sha256": hex, "outcome": outcome, "detail": detail, "records": records });
        db::reminders::raise(&mut conn, &alert).await?;
        tracing::warn!(sha256 = %hex, outcome, "fixity check found damaged content");
        Ok(json!({ "sha256": hex, "size": blob.size, "records": records, "detail": detail }))
    }

    /// Keys under the content prefix that no live blob stands for.
    async fn unreferenced_objects(&self) -> ServiceResult<Vec<Value>> {
        let (digests, strays) = self.blobs.content_objects().await?;
        let mut unreferenced: Vec<Value> = strays.into_iter().map(Value::String).collect();
        for chunk in digests.chunks(10_000) {
            let bytes: Vec<Vec<u8>> = chunk
                .iter()
                .map(|digest| digest.as_bytes().to_vec())
                .collect();
            let mut conn = db::acquire(&self.pool).await?;
            for orphan in db::integrity::unreferenced_digests(&mut conn, &bytes).await? {
                unreferenced.push(Value::String(hex::encode(orphan)));
            }
        }
        Ok(unreferenced)
    }

    async fn save(&self, id: Uuid, figures: &Figures, finished: bool) -> ServiceResult<()> {
        let mismatched = Value::Array(figures.mismatched.clone());
        let missing = Value::Array(figures.missing.clone());
        let unreferenced = Value::Array(figures.unreferenced.clone());
        let mut conn = db::acquire(&self.pool).await?;
        db::integrity::update_check(
            &mut conn,
            id,
            &db::integrity::CheckFigures {
                checked: figures.checked,
                ok: figures.ok,
                bytes: figures.bytes,
                mismatched: &mismatched,
                missing: &missing,
                unreferenced: &unreferenced,
            },
            finished,
        )
        .await?;
        Ok(())
    }

    /// Sleeps while the sweep is ahead of the configured rate.
    async fn throttle(&self, started: Instant, read: u64) {
        if self.rate == 0 {
            return;
        }
        let due = Duration::from_secs_f64(read as f64 / self.rate as f64);
        if let Some(ahead) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(ahead).await;
        }
    }

    /// Marks a sweep failed (its job gave up).
    pub async fn fail(&self, id: Uuid, error: &str) -> ServiceResult<()> {
        let mut conn = db::acquire(&self.pool).await?;
        db::integrity::fail_check(&mut conn, id, error).await?;
        Ok(())
    }
}

fn array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}
