//! The composition root: opens the stores named by the settings and builds the services
//! that the HTTP layer, the CLI and the worker share.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::blobs::BlobStore;
use crate::config::Settings;
use crate::db::{self, Database, PoolSettings};
use crate::extract::{ExtractOptions, Sandbox};
use crate::metrics::Metrics;
use crate::priority::Background;
use crate::services::audit::AuditService;
use crate::services::auth::AuthService;
use crate::services::catalogue::CatalogueService;
use crate::services::corrections::CorrectionService;
use crate::services::destruction::DestructionService;
use crate::services::disposition::DispositionService;
use crate::services::export::ExportService;
use crate::services::extraction::ExtractionService;
use crate::services::health::HealthService;
use crate::services::holds::HoldService;
use crate::services::import::ImportService;
use crate::services::ingest::IngestService;
use crate::services::integrity::IntegrityService;
use crate::services::jobs::{JobService, RetryPolicy};
use crate::services::ledger::LedgerService;
use crate::services::loans::LoanService;
use crate::services::parties::PartyService;
use crate::services::records::RecordService;
use crate::services::releases::ReleaseService;
use crate::services::reminders::ReminderService;
use crate::services::reports::ReportService;
use crate::services::rooms::RoomService;
use crate::services::search::SearchService;
use crate::services::stats::StatsService;

/// Limits the HTTP layer enforces before a service sees the request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_upload_bytes: u64,
}

/// The services of one dangan process; cheap to clone.
#[derive(Clone)]
pub struct App {
    pub audit: AuditService,
    pub auth: AuthService,
    pub catalogue: CatalogueService,
    pub parties: PartyService,
    pub ingest: IngestService,
    pub import: ImportService,
    pub records: RecordService,
    pub corrections: CorrectionService,
    pub jobs: JobService,
    pub extraction: ExtractionService,
    pub search: SearchService,
    pub destruction: DestructionService,
    pub disposition: DispositionService,
    pub holds: HoldService,
    pub loans: LoanService,
    pub releases: ReleaseService,
    pub rooms: RoomService,
    pub integrity: IntegrityService,
    pub reminders: ReminderService,
    pub health: HealthService,
    pub export: ExportService,
    pub stats: StatsService,
    pub ledger: LedgerService,
    pub reports: ReportService,
    pub limits: Limits,
    pub metrics: Arc<Metrics>,
    /// The zone of schedules, due dates and times typed into forms.
    pub timezone: chrono_tz::Tz,
    /// Where uploads run: at background priority in a serving process.
    pub background: Background,
}

impl App {
    /// Builds the services over open stores. Bulk work (filing, extraction, jobs, indexing)
    /// takes the background pool; everything else the pool of requests.
    pub fn new(
        settings: &Settings,
        pools: impl Into<db::Pools>,
        blobs: BlobStore,
        index_dir: PathBuf,
    ) -> Self {
        let db::Pools {
            requests: pool,
            background,
        } = pools.into();
        let metrics = Arc::new(Metrics::new());
        let sandbox = Arc::new(Sandbox::new(
            settings
                .extract
                .sandbox_program
                .as_deref()
                .map_or_else(Sandbox::default_program, PathBuf::from),
            settings.extract.sandbox_memory,
            settings.extract.sandbox_cpu,
            index_dir.with_file_name("scratch"),
        ));
        let ingest = IngestService::new(
            background.clone(),
            blobs.clone(),
            settings.time.timezone,
            metrics.clone(),
        );
        let records = RecordService::new(
            pool.clone(),
            blobs.clone(),
            settings.time.timezone,
            sandbox.clone(),
        );
        Self {
            corrections: CorrectionService::new(
                pool.clone(),
                ingest.clone(),
                records.clone(),
                settings.time.timezone,
            ),
            auth: AuthService::new(pool.clone(), settings.auth.token_ttl),
            catalogue: CatalogueService::new(pool.clone()),
            parties: PartyService::new(pool.clone(), settings.time.timezone),
            import: ImportService::new(background.clone(), ingest.clone()),
            ingest,
            records,
            jobs: JobService::new(
                background.clone(),
                RetryPolicy {
                    base: settings.worker.retry_base,
                    max: settings.worker.retry_max,
                    max_crashes: settings.worker.max_crashes,
                },
            ),
            extraction: ExtractionService::new(
                background.clone(),
                blobs.clone(),
                ExtractOptions {
                    max_ocr_pages: settings.extract.max_ocr_pages,
                    ocr_languages: settings.extract.ocr_languages.clone(),
                    timeout: settings.extract.tool_timeout,
                    max_text_bytes: settings.extract.max_text_bytes,
                    ocr_dpi: settings.extract.ocr_dpi,
                },
                sandbox.clone(),
            ),
            search: SearchService::new(
                db::Pools {
                    requests: pool.clone(),
                    background,
                },
                index_dir.clone(),
                settings.search.writer_memory,
                settings.time.timezone,
            ),
            export: ExportService::new(pool.clone(), settings.time.timezone),
            stats: StatsService::new(pool.clone()),
            ledger: LedgerService::new(pool.clone(), settings.time.timezone),
            reports: ReportService::new(pool.clone(), settings.time.timezone),
            audit: AuditService::new(pool.clone(), blobs.clone()),
            destruction: DestructionService::new(
                pool.clone(),
                blobs.clone(),
                settings.worker.destruction_chunk,
                settings.time.timezone,
            ),
            disposition: DispositionService::new(pool.clone(), settings.time.timezone),
            holds: HoldService::new(pool.clone()),
            loans: LoanService::new(pool.clone(), settings.time.timezone),
            releases: ReleaseService::new(
                pool.clone(),
                settings.time.timezone,
                settings.catalogue.review_after_years,
            ),
            rooms: RoomService::new(pool.clone(), settings.time.timezone),
            integrity: IntegrityService::new(
                pool.clone(),
                blobs.clone(),
                settings.integrity.fixity_rate,
                settings.integrity.max_inspect_bytes,
                sandbox,
            ),
            reminders: ReminderService::new(
                pool.clone(),
                settings.time.timezone,
                settings.reminders.clone(),
            ),
            health: HealthService::new(pool, blobs, index_dir),
            limits: Limits {
                max_upload_bytes: settings.server.max_upload_bytes,
            },
            metrics,
            timezone: settings.time.timezone,
            background: Background::default(),
        }
    }

    /// Runs uploads on `background`.
    pub fn with_background(self, background: Background) -> Self {
        Self { background, ..self }
    }
}

/// The stores of one installation, opened and migrated.
pub struct Stores {
    pub database: Database,
    pub blobs: BlobStore,
    pub index_dir: PathBuf,
}

impl Stores {
    /// Opens the stores and builds the services over them: what every command starts with.
    pub async fn open_app(settings: &Settings) -> anyhow::Result<(Self, App)> {
        let stores = Self::open(settings).await?;
        let app = App::new(
            settings,
            stores.database.pools(),
            stores.blobs.clone(),
            stores.index_dir.clone(),
        );
        Ok((stores, app))
    }

    /// Creates the data directory, opens (or starts) the database and applies migrations,
    /// opens the object store and the index directory.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let stores = Self::open_unmigrated(settings).await?;
        stores.migrate().await?;
        Ok(stores)
    }

    /// The services of `app` for work at background priority: over the background pool
    /// alone (its backends at background priority), sharing `app`'s search index and
    /// metrics. Work on a background runtime uses these, so that no connection a request
    /// takes is one whose wake-ups wait on a background thread.
    pub fn background_app(&self, settings: &Settings, app: &App) -> App {
        App {
            search: app.search.clone(),
            metrics: app.metrics.clone(),
            background: app.background.clone(),
            ..App::new(
                settings,
                self.database.background.clone(),
                self.blobs.clone(),
                self.index_dir.clone(),
            )
        }
    }

    /// Applies the migrations the database has not seen.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        db::migrate(&self.database.pool)
            .await
            .context("cannot migrate the database")
    }

    /// As [`Stores::open`], leaving the database as it is (a restore fills it first).
    pub async fn open_unmigrated(settings: &Settings) -> anyhow::Result<Self> {
        let data_dir = settings.data_dir();
        std::fs::create_dir_all(&data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}; set DANGAN_DATA_DIR",
                data_dir.display()
            )
        })?;
        let database = Database::open(
            settings.database.url.as_ref().map(|url| url.expose()),
            &data_dir,
            PoolSettings {
                max_connections: settings.database.max_connections,
                acquire_timeout: settings.database.acquire_timeout,
                connect_timeout: settings.database.connect_timeout,
            },
        )
        .await
        .context("cannot open the database")?;
        tracing::info!(database = %database.target.describe(), "database connected");
        let blobs = BlobStore::open(
            settings.storage.object_store_url.as_deref(),
            &data_dir.join("objects"),
        )
        .context("cannot open the object store")?;
        tracing::info!(objects = %blobs.describe(), "object store opened");
        let index_dir = data_dir.join("index");
        std::fs::create_dir_all(&index_dir).with_context(|| {
            format!("cannot create the index directory {}", index_dir.display())
        })?;
        Ok(Self {
            database,
            blobs,
            index_dir,
        })
    }
}
