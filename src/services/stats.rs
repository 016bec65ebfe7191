//! Archive statistics (R9): how many active records, files, bytes and pages the archive
//! holds, broken down by category, year, retention, department and carrier; how many folders;
//! and the composition of the customers by grade, region and industry.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Actor, ServiceResult};
use crate::db::stats::{PartyCount, RecordTotal};
use crate::db::{self, DbError, Pool};
use crate::domain::permissions::Capability;
use crate::services::require;

/// Totals of the active (not destroyed) records of one value of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatsBucket {
    /// The code (category, retention, department), year or carrier; `null` for records
    /// that have none.
    pub key: Option<String>,
    /// Records.
    pub count: i64,
    /// Files of those records: a content filed with two records counts twice.
    pub files: i64,
    /// Bytes of those files, counted the same way.
    pub bytes: i64,
    /// Pages, as catalogued.
    pub pages: i64,
}

/// Parties with one value of a characteristic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CountBucket {
    /// The value; `null` for parties that have none.
    pub key: Option<String>,
    pub count: i64,
}

/// The composition of the customers (all of them, former ones included).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct CustomerComposition {
    pub by_grade: Vec<CountBucket>,
    pub by_region: Vec<CountBucket>,
    pub by_industry: Vec<CountBucket>,
}

/// `GET /api/v1/stats`. Only active records count. `files` and `bytes` count per record
/// file, so the same content filed with two records counts twice; the object store keeps it
/// once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatsView {
    pub records: i64,
    pub files: i64,
    pub bytes: i64,
    pub pages: i64,
    /// Party folders (案卷), one per employee or customer, whatever their status.
    pub folders: i64,
    /// Folders by kind of party: `employee`, `customer`.
    pub folders_by_kind: Vec<CountBucket>,
    pub by_category: Vec<StatsBucket>,
    pub by_year: Vec<StatsBucket>,
    pub by_retention: Vec<StatsBucket>,
    pub by_department: Vec<StatsBucket>,
    /// By carrier: `electronic`, `paper`, `photo`, `object`, `media`.
    pub by_carrier: Vec<StatsBucket>,
    pub customers: CustomerComposition,
}

/// Archive statistics.
#[derive(Clone)]
pub struct StatsService {
    pool: Pool,
}

impl StatsService {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// The statistics of the records and folders the caller may see, for those who may
    /// export the catalogue.
    #[tracing::instrument(skip_all)]
    pub async fn overview(&self, actor: &Actor) -> ServiceResult<StatsView> {
        require(actor, Capability::ExportCatalogue)?;
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        let visibility = super::access::standing_visibility(&mut conn, actor).await?;
        let totals = db::stats::record_totals(&mut conn, &visibility).await?;
        let parties = db::stats::party_counts(&mut conn, &visibility).await?;
        let mut view = StatsView::default();
        for total in totals {
            add_total(&mut view, total);
        }
        for count in parties {
            add_party_count(&mut view, count);
        }
        view.folders = view.folders_by_kind.iter().map(|bucket| bucket.count).sum();
        for breakdown in [
            &mut view.by_category,
            &mut view.by_year,
            &mut view.by_retention,
            &mut view.by_department,
            &mut view.by_carrier,
        ] {
            breakdown.sort_by(|a, b| key_order(a.key.as_deref(), b.key.as_deref()));
        }
        let customers = &mut view.customers;
        for list in [
            &mut view.folders_by_kind,
            &mut customers.by_grade,
            &mut customers.by_region,
            &mut customers.by_industry,
        ] {
            list.sort_by(|a, b| key_order(a.key.as_deref(), b.key.as_deref()));
        }
        Ok(view)
    }
}

/// Keys in code-point order whatever the database's collation; records without one last.
fn key_order(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

fn add_total(view: &mut StatsView, total: RecordTotal) {
    let bucket = StatsBucket {
        key: total.key,
        count: total.records,
        files: total.files,
        bytes: total.bytes,
        pages: total.pages,
    };
    let breakdown = match total.dimension.as_str() {
        "category" => &mut view.by_category,
        "year" => &mut view.by_year,
        "retention" => &mut view.by_retention,
        "department" => &mut view.by_department,
        "carrier" => &mut view.by_carrier,
        "total" => {
            view.records = bucket.count;
            view.files = bucket.files;
            view.bytes = bucket.bytes;
            view.pages = bucket.pages;
            return;
        }
        _ => return,
    };
    breakdown.push(bucket);
}

fn add_party_count(view: &mut StatsView, count: PartyCount) {
    let bucket = CountBucket {
        key: count.key,
        count: count.count,
    };
    match count.dimension.as_str() {
        "kind" => view.folders_by_kind.push(bucket),
        "grade" => view.customers.by_grade.push(bucket),
        "region" => view.customers.by_region.push(bucket),
        "industry" => view.customers.by_industry.push(bucket),
        _ => {}
    }
}
