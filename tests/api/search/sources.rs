//! The indexer's read of records to index stays a look-up per record whatever the planner
//! believes of the tables: early in a bulk import into a young database, `record_files` may
//! never have been analyzed while `file_texts` was, and the texts of each record were then
//! found by scanning every current file of the table, once per record (about 200 000
//! blocks a catch-up of 120 records, seen with auto_explain during `scripts/bench ingest`).

use sqlx::PgPool;
use uuid::Uuid;

/// Files `count` records of one file each with its text done, tagged `tag`.
async fn fill(pool: &PgPool, count: i32, tag: &str) {
    let statements = [
        "insert into blobs (sha256, size, refcount)
         select sha256(('b' || g || $2)::bytea), 1, 1 from generate_series(1, $1) g",
        "insert into records (id, title, doc_date, year)
         select md5(g || $2)::uuid, 'record ' || g, '2026-01-01', 2026 from generate_series(1, $1) g",
        "insert into record_files (id, record_id, position, sha256, size, media_type, filename)
         select md5('f' || g || $2)::uuid, md5(g || $2)::uuid, 0, sha256(('b' || g || $2)::bytea),
                1, 'application/pdf', 'a.pdf'
         from generate_series(1, $1) g",
        "insert into file_texts (file_id, record_id, status, method, text)
         select md5('f' || g || $2)::uuid, md5(g || $2)::uuid, 'done', 'pdftotext', '文字 ' || g
         from generate_series(1, $1) g",
    ];
    for statement in statements {
        sqlx::query(statement)
            .bind(count)
            .bind(tag)
            .execute(pool)
            .await
            .expect("fill");
    }
}

#[sqlx::test]
async fn a_catch_up_reads_each_records_files_by_key_even_with_stale_statistics(pool: PgPool) {
    // file_texts is written twice a file (queued, then done), so it reaches the analysis's
    // threshold first: analyzed, while record_files never was
    fill(&pool, 600, "grown").await;
    sqlx::query("analyze file_texts")
        .execute(&pool)
        .await
        .expect("analyze");
    let ids: Vec<Uuid> = sqlx::query_scalar("select id from records order by id limit 100")
        .fetch_all(&pool)
        .await
        .expect("ids");

    let mut tx = pool.begin().await.expect("begin");
    let fetched = async |tx: &mut sqlx::PgConnection| -> i64 {
        sqlx::query_scalar("select pg_stat_get_xact_blocks_fetched('record_files'::regclass)")
            .fetch_one(tx)
            .await
            .expect("blocks")
    };
    // past the plan cache's custom plans, as a pooled connection of the indexer is
    for _ in 0..6 {
        dangan::db::search::sources(&mut tx, &ids)
            .await
            .expect("sources");
    }
    let before = fetched(&mut tx).await;
    let sources = dangan::db::search::sources(&mut tx, &ids)
        .await
        .expect("sources");
    let blocks = fetched(&mut tx).await - before;
    assert_eq!(sources.len(), ids.len());
    assert!(
        sources.iter().all(|source| source.texts.len() == 1),
        "each record's text is read"
    );
    assert!(
        blocks < 3 * ids.len() as i64,
        "{blocks} blocks of record_files read for {} records: the files were scanned, not looked up",
        ids.len()
    );
}
