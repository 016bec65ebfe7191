//! Searches go first on a busy machine: a serving node files uploads and runs its jobs and
//! its indexer at background priority, on its own threads and on PostgreSQL's backends
//! alike, while requests run at normal priority (issue 18, item 4).

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::child::{CHILD_ADMIN_PASSWORD, Dangan};
use crate::helpers::{database_url, login};
use dangan::priority::{BACKGROUND_NICE, niceness};

/// The threads of process `pid`: name and niceness.
fn threads(pid: u32) -> Vec<(String, i32)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the server's threads");
    tasks
        .flatten()
        .filter_map(|task| {
            let tid: u32 = task.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?;
            Some((name.trim_end().to_owned(), niceness(tid)?))
        })
        .collect()
}

/// Whether this process may lower another user's process: root, or PostgreSQL's own user.
fn may_lower(pid: u32) -> bool {
    let uid = |path: String| {
        std::fs::read_to_string(path).ok().and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(str::to_owned))
        })
    };
    let mine = uid("/proc/self/status".into());
    mine.as_deref() == Some("0") || mine == uid(format!("/proc/{pid}/status"))
}

#[sqlx::test]
async fn a_node_files_uploads_behind_searches_on_its_threads_and_backends_alike(pool: PgPool) {
    let url = database_url(&pool).await;
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = Dangan::start("serve", &url, data.path(), &[]);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let token = login(&client, &server.address, "admin", CHILD_ADMIN_PASSWORD).await;

    let form = reqwest::multipart::Form::new()
        .part(
            "metadata",
            reqwest::multipart::Part::text(json!({ "title": "优先级 合同" }).to_string()),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes("劳动合同 正文".as_bytes().to_vec())
                .file_name("合同.txt"),
        );
    let filed = client
        .post(format!("{}/api/v1/records", server.address))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(filed.status(), 201, "{}", server.logs());
    let searched = client
        .get(format!("{}/api/v1/search?q=合同", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("search");
    assert_eq!(searched.status(), 200);

    // the node's threads: the background runtime's at background priority, the request
    // runtime's at normal priority
    let pid = server.pid().expect("the server runs");
    let threads = threads(pid);
    let background: Vec<i32> = threads
        .iter()
        .filter(|(name, _)| name.starts_with("dangan-backgrou"))
        .map(|(_, nice)| *nice)
        .collect();
    let requests: Vec<i32> = threads
        .iter()
        .filter(|(name, _)| name == "dangan-requests")
        .map(|(_, nice)| *nice)
        .collect();
    assert!(!background.is_empty(), "no background threads: {threads:?}");
    assert!(!requests.is_empty(), "no request threads: {threads:?}");
    assert!(
        background.iter().all(|nice| *nice == BACKGROUND_NICE),
        "{threads:?}"
    );
    assert!(
        requests.iter().all(|nice| *nice < BACKGROUND_NICE),
        "{threads:?}"
    );

    // the node's backends, told apart by their application name
    let backends: Vec<(i32, String)> = sqlx::query_as(
        "select pid, application_name from pg_stat_activity \
         where datname = current_database() and application_name like 'dangan%'",
    )
    .fetch_all(&pool)
    .await
    .expect("backends");
    let of = |name: &str| -> Vec<u32> {
        backends
            .iter()
            .filter(|(_, application)| application == name)
            .filter_map(|(pid, _)| u32::try_from(*pid).ok())
            .collect()
    };
    let (requests, background) = (of("dangan"), of("dangan background"));
    assert!(!requests.is_empty(), "{backends:?}");
    assert!(!background.is_empty(), "{backends:?}");
    for pid in &requests {
        assert!(niceness(*pid).is_some_and(|nice| nice < BACKGROUND_NICE));
    }
    if may_lower(background[0]) {
        for pid in &background {
            assert_eq!(niceness(*pid), Some(BACKGROUND_NICE), "backend {pid}");
        }
    } else {
        eprintln!("not root nor PostgreSQL's user: backends keep normal priority here");
    }
}
