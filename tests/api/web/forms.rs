//! Bad input to the pages: a forged or missing CSRF token, a lost session, a file over the
//! upload limit, an invalid date: a translated message, the form kept, nothing stored.

use reqwest::multipart::{Form, Part};
use sqlx::PgPool;

use crate::helpers::{ADMIN_PASSWORD, TestApp, TestFile, corpus};

/// A client that keeps cookies, logged in through the form; and its CSRF token.
async fn signed_in(app: &TestApp, lang: &str) -> (reqwest::Client, String) {
    signed_in_as(app, "admin", ADMIN_PASSWORD, lang).await
}

/// [`signed_in`] as `username`.
pub(super) async fn signed_in_as(
    app: &TestApp,
    username: &str,
    password: &str,
    lang: &str,
) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let _ = client
        .get(app.url(&format!("/lang?to={lang}&back=/")))
        .send()
        .await
        .expect("language");
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("next", "/upload"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/upload");
    let page = client
        .get(app.url("/upload"))
        .send()
        .await
        .expect("upload page")
        .text()
        .await
        .expect("html");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a CSRF token")
        .to_owned();
    (client, csrf)
}

fn form(csrf: Option<&str>, title: &str, doc_date: &str, file: Vec<u8>) -> Form {
    let mut form = Form::new();
    if let Some(csrf) = csrf {
        form = form.text("csrf", csrf.to_owned());
    }
    form.text("title", title.to_owned())
        .text("doc_date", doc_date.to_owned())
        .part("file", Part::bytes(file).file_name("note.txt"))
}

#[sqlx::test]
async fn a_forged_or_missing_csrf_token_stores_nothing_and_says_why(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (client, csrf) = signed_in(&app, "zh-CN").await;
    for token in [None, Some("0123456789abcdef0123456789abcdef")] {
        let response = client
            .post(app.url("/upload"))
            .multipart(form(token, "偽造的表單", "2024-01-01", b"x".to_vec()))
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status(), 403);
        let page = response.text().await.expect("html");
        assert!(page.contains("表单已失效"), "{page}");
        assert!(
            page.contains("value=\"偽造的表單\""),
            "the form keeps what was typed"
        );
    }
    assert_eq!(app.count("records").await, 0);
    // with the right token it is filed
    let response = client
        .post(app.url("/upload"))
        .multipart(form(Some(&csrf), "真的表單", "2024-01-01", b"x".to_vec()))
        .send()
        .await
        .expect("upload");
    assert_eq!(
        response.status(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(app.count("records").await, 1);
}

#[sqlx::test]
async fn an_invalid_date_or_an_oversized_file_keeps_the_form_in_the_users_language(pool: PgPool) {
    let app = TestApp::spawn_with(pool, &[("DANGAN_MAX_UPLOAD_BYTES", "20000")]).await;
    let (client, csrf) = signed_in(&app, "en").await;
    let response = client
        .post(app.url("/upload"))
        .multipart(form(Some(&csrf), "Minutes", "2024-13-45", b"x".to_vec()))
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 400);
    let page = response.text().await.expect("html");
    assert!(page.contains("Please check the form"), "{page}");
    assert!(page.contains("value=\"Minutes\"") && page.contains("<html lang=\"en\">"));
    let response = client
        .post(app.url("/upload"))
        .multipart(form(Some(&csrf), "Large", "2024-01-01", vec![b'x'; 50_000]))
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 413);
    let page = response.text().await.expect("html");
    assert!(page.contains("larger than the upload limit"), "{page}");
    assert_eq!(app.count("records").await, 0);
}

#[sqlx::test]
async fn a_lost_session_goes_to_login_and_back_to_the_page_asked_for(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client
        .get(app.url("/search?q=%E6%A1%A3%E6%A1%88"))
        .header("cookie", "dangan_session=dgn_expired")
        .send()
        .await
        .expect("search");
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        location.starts_with("/login?expired=1&next=/search%3Fq%3D"),
        "{location}"
    );
    let login = client
        .get(app.url(&location))
        .header("accept-language", "zh-TW")
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    assert!(login.contains("登入已逾時") && login.contains("<html lang=\"zh-TW\">"));
    // a next that leads elsewhere is not followed
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(response.headers()["location"], "/");
}

/// A client logged in through the form as `username`.
async fn client_of(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 303);
    client
}

#[sqlx::test]
async fn a_page_of_a_hidden_record_or_folder_reads_exactly_as_a_missing_one(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &serde_json::json!({"title": "機密合同", "security_level": "confidential"}),
            vec![TestFile::new(
                "合同.pdf",
                corpus("pdf/maint-guide.zh-cn.pdf"),
            )],
        )
        .await;
    let id = record["id"].as_str().expect("id");
    let file = record["files"][0]["id"].as_str().expect("file id");
    let party: serde_json::Value = app
        .post("/api/v1/parties")
        .json(&serde_json::json!({"kind": "customer", "identifier": "C-77", "name": "客戶", "department": "BGS"}))
        .send()
        .await
        .expect("party")
        .json()
        .await
        .expect("party JSON");
    app.user_token("clerk", "staff", Some("BGS")).await;
    let clerk = client_of(&app, "clerk", "a-long-password").await;
    let missing = uuid::Uuid::now_v7();
    // the admin sees the thumbnail: the clerk's 404 below is the access decision
    let admin = client_of(&app, "admin", ADMIN_PASSWORD).await;
    let admin_thumbnail = admin
        .get(app.url(&format!("/records/{id}/thumbnail/{file}")))
        .send()
        .await
        .expect("thumbnail");
    assert_eq!(admin_thumbnail.status(), 200);
    let png = admin_thumbnail.bytes().await.expect("png");
    assert!(png.starts_with(b"\x89PNG"), "a PNG image");
    for (hidden, absent) in [
        (format!("/records/{id}"), format!("/records/{missing}")),
        (
            format!("/records/{id}/thumbnail/{file}"),
            format!("/records/{missing}/thumbnail/{file}"),
        ),
        (
            format!("/records/{id}/text/{file}"),
            format!("/records/{missing}/text/{file}"),
        ),
        (
            format!("/folders/{}", party["id"].as_str().expect("id")),
            format!("/folders/{missing}"),
        ),
    ] {
        let seen = clerk.get(app.url(&hidden)).send().await.expect("get");
        let unseen = clerk.get(app.url(&absent)).send().await.expect("get");
        assert_eq!(
            (seen.status().as_u16(), unseen.status().as_u16()),
            (404, 404)
        );
        let (seen, unseen) = (
            seen.text().await.expect("html"),
            unseen.text().await.expect("html"),
        );
        let message = |page: &str| {
            page.split("role=\"alert\">")
                .nth(1)
                .map(|rest| rest.split('<').next().unwrap_or_default().to_owned())
        };
        assert_eq!(message(&seen), message(&unseen));
        assert!(!seen.contains("機密合同") && !seen.contains("C-77"));
    }
}

#[sqlx::test]
async fn filing_content_already_archived_says_so(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (client, csrf) = signed_in(&app, "zh-CN").await;
    let mut pages = Vec::new();
    for title in ["第一次", "第二次"] {
        let response = client
            .post(app.url("/upload"))
            .multipart(form(
                Some(&csrf),
                title,
                "2024-01-01",
                b"same content".to_vec(),
            ))
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        pages.push(
            client
                .get(app.url(&location))
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("html"),
        );
    }
    assert!(!pages[0].contains("已在库中"));
    assert!(pages[1].contains("已在库中"), "{}", pages[1]);
}
