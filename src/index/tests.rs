//! Tests of the index's generations, position and the indexer's priority.

use super::*;

/// Held by the tests that start index writers, here and in the index's other modules: the
/// priority test counts the writer threads of the whole process.
static WRITERS: Mutex<()> = Mutex::new(());

pub(crate) fn writers_alone() -> std::sync::MutexGuard<'static, ()> {
    WRITERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn an_index_written_with_another_schema_is_replaced_by_an_empty_generation() {
    let root = tempfile::tempdir().expect("temp dir");
    let old = root.path().join("gen-1");
    std::fs::create_dir_all(&old).expect("dir");
    let mut builder = tantivy::schema::Schema::builder();
    builder.add_text_field("something_else", tantivy::schema::STRING);
    Index::create_in_dir(&old, builder.build()).expect("old index");
    write_current(root.path(), "gen-1").expect("current");

    let index = SearchIndex::open(root.path(), 20_000_000).expect("opens");
    assert_eq!(index.position().expect("position"), None, "starts over");
    let current = std::fs::read_to_string(root.path().join(CURRENT)).expect("current");
    assert_eq!(current, "gen-2");
}

/// The niceness of each thread of this process whose name starts with `prefix`.
fn niceness_of_threads(prefixes: &[&str]) -> Vec<(String, i64)> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task")
        .expect("tasks")
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let name = comm.trim().to_owned();
        if !prefixes.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // after the name in parentheses: state is field 3, nice field 19
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        if let Some(nice) = fields.get(16).and_then(|nice| nice.parse().ok()) {
            found.push((name, nice));
        }
    }
    found
}

#[test]
fn the_indexer_writes_behind_searches_at_a_lower_priority() {
    let _alone = writers_alone();
    let root = tempfile::tempdir().expect("temp dir");
    let index = SearchIndex::open(root.path(), 20_000_000).expect("opens");
    // thread names as the kernel keeps them: 15 bytes at most
    let tantivy = ["thrd-tantivy-in", "segment_updater", "merge_thread_"];
    // the pools of an earlier test's writer end their threads after it is dropped
    let settled = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !niceness_of_threads(&tantivy).is_empty() && std::time::Instant::now() < settled {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(niceness_of_threads(&tantivy).is_empty(), "no writer yet");
    let position = Position { tx: 7, seq: 1 };
    index
        .apply(vec![Change::Delete(Uuid::nil())], position)
        .expect("applies");
    assert_eq!(index.position().expect("position"), Some(position));

    // the commit starts new indexing threads, which name themselves once they run
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut threads = niceness_of_threads(&tantivy);
    while std::time::Instant::now() < deadline
        && !tantivy
            .iter()
            .all(|prefix| threads.iter().any(|(name, _)| name.starts_with(prefix)))
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
        threads = niceness_of_threads(&tantivy);
    }
    for prefix in tantivy {
        assert!(
            threads.iter().any(|(name, _)| name.starts_with(prefix)),
            "{prefix}: {threads:?}"
        );
    }
    let own = niceness_of_threads(&[""])
        .into_iter()
        .map(|(_, nice)| nice)
        .min()
        .expect("this thread");
    assert!(
        threads
            .iter()
            .all(|(_, nice)| *nice == i64::from(crate::priority::BACKGROUND_NICE).max(own)),
        "{threads:?}, this process at {own}"
    );
}

#[test]
fn a_second_process_on_the_directory_waits_for_the_writers_commit_and_may_write_once_let_go() {
    let _alone = writers_alone();
    let root = tempfile::tempdir().expect("temp dir");
    // two openings of one directory, as `dangan serve` and `dangan worker` on one data dir
    let serve = SearchIndex::open(root.path(), 20_000_000).expect("opens");
    let worker = SearchIndex::open(root.path(), 20_000_000).expect("opens again");
    let first = Position { tx: 7, seq: 1 };
    let second = Position { tx: 8, seq: 1 };
    let change = || vec![Change::Delete(Uuid::nil())];

    serve
        .apply(change(), first)
        .expect("the first writer applies");
    assert!(matches!(
        worker.apply(change(), first),
        Err(IndexError::HeldElsewhere)
    ));
    assert!(
        worker
            .wait_for(first, std::time::Duration::from_secs(5))
            .expect("reads"),
        "the holder's commit is seen"
    );
    assert!(
        !worker
            .wait_for(second, std::time::Duration::from_millis(200))
            .expect("reads"),
        "nobody committed the second position"
    );

    serve.release_writer();
    worker
        .apply(change(), second)
        .expect("writes once the holder let go");
    assert_eq!(serve.position().expect("position"), Some(second));
}

/// One search for `q` by a viewer who sees everything: each hit's record id and snippet.
fn hits_of(index: &SearchIndex, q: &str) -> Vec<(Uuid, String)> {
    let request = SearchRequest {
        query: crate::domain::search_query::SearchQuery::parse(q).expect("query"),
        filters: Filters::default(),
        visibility: crate::domain::permissions::Visibility {
            nothing: false,
            own_party: None,
            loaned: Vec::new(),
            categories: Vec::new(),
            every_category: true,
            managed: None,
        },
        offset: 0,
        limit: 20,
        variants: Default::default(),
        exact: true,
    };
    let results = index.search(&request).expect("searches");
    results
        .hits
        .into_iter()
        .map(|hit| (hit.record_id, hit.snippet))
        .collect()
}

#[test]
fn a_changed_record_shows_its_new_text_though_the_old_one_was_kept_for_snippets() {
    let _alone = writers_alone();
    let root = tempfile::tempdir().expect("temp dir");
    let index = SearchIndex::open(root.path(), 20_000_000).expect("opens");
    let record = |text: &str| {
        Change::Upsert(Box::new(RecordDocument {
            id: Uuid::from_u128(42),
            title: "采购合同".into(),
            texts: vec![text.into()],
            security_level: "internal".into(),
            open_status: "controlled".into(),
            year: 2026,
            ..Default::default()
        }))
    };
    let file = |text: &str, tx: u64| {
        index
            .apply(vec![record(text)], Position { tx, seq: 1 })
            .expect("applies");
    };
    file("第一稿：甲方付款三十日内交货", 1);
    let first = hits_of(&index, "交货");
    assert_eq!(first.len(), 1);
    assert!(first[0].1.contains("第一稿"), "{first:?}");
    // asked again, the kept text answers the same
    assert_eq!(hits_of(&index, "交货"), first);

    file("第二稿：乙方验收后交货", 2);
    let second = hits_of(&index, "交货");
    assert_eq!(second.len(), 1, "one record, one hit: {second:?}");
    assert_eq!(second[0].0, Uuid::from_u128(42));
    assert!(
        second[0].1.contains("第二稿") && !second[0].1.contains("第一稿"),
        "the snippet is of the text now, not of the one kept: {second:?}"
    );
}
