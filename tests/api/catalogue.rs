//! The catalogue's set-up data: the enterprise preset, CRUD of fonds, departments,
//! retention policies and categories, and who may change them.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem, login};

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|item| item["code"].as_str().expect("code").to_owned())
        .collect()
}

#[sqlx::test]
async fn a_new_installation_gets_the_enterprise_preset(pool: PgPool) {
    let app = TestApp::spawn(pool).await;

    let categories = app.get_json("/api/v1/categories").await;
    let category_codes = codes(&categories);
    for code in [
        "WS", "RS", "PX", "KU", "KUPZ", "KUNB", "KUGZ", "HT", "KH", "ZP", "SW",
    ] {
        assert!(
            category_codes.contains(&code.to_owned()),
            "{code} missing from {category_codes:?}"
        );
    }
    let find = |code: &str| {
        categories
            .as_array()
            .expect("array")
            .iter()
            .find(|category| category["code"] == code)
            .cloned()
            .expect("category present")
    };
    let vouchers = find("KUPZ");
    assert_eq!(vouchers["parent"], "KU");
    assert_eq!(vouchers["retention"], "D30");
    assert_eq!(find("KUNB")["retention"], "Y");
    assert_eq!(find("KUYB")["retention"], "D10");
    assert_eq!(find("KUGZ")["retention"], "GZ5");
    assert_eq!(find("KU")["names"]["zh-Hant"], "會計");
    let personnel = find("RS");
    assert_eq!(personnel["folder_kind"], "employee");
    assert_eq!(personnel["retention"], "LZ2");
    let checklist: Vec<&str> = personnel["checklist"]
        .as_array()
        .expect("checklist")
        .iter()
        .map(|item| item["code"].as_str().expect("code"))
        .collect();
    for item in [
        "resume",
        "application_form",
        "id_card",
        "diploma",
        "labour_contract",
        "nda",
        "resignation",
    ] {
        assert!(
            checklist.contains(&item),
            "{item} missing from the personnel checklist"
        );
    }
    assert!(
        !checklist.iter().any(|item| item.contains("train")),
        "training records are not in the folder"
    );

    let policies = app.get_json("/api/v1/retention-policies").await;
    let leaving = policies
        .as_array()
        .expect("array")
        .iter()
        .find(|policy| policy["code"] == "LZ2")
        .expect("LZ2");
    assert_eq!(leaving["years"], 2);
    assert_eq!(leaving["trigger"], "employment_ended");
    let permanent = policies
        .as_array()
        .expect("array")
        .iter()
        .find(|policy| policy["code"] == "Y")
        .expect("Y");
    assert_eq!(permanent["permanent"], true);

    let fonds = app.get_json("/api/v1/fonds").await;
    assert_eq!(fonds[0]["default"], true);
    assert!(codes(&app.get_json("/api/v1/departments").await).contains(&"BGS".to_owned()));
}

#[sqlx::test]
async fn loading_the_preset_again_adds_nothing_and_keeps_edits(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app
        .client
        .patch(app.url("/api/v1/categories/WS"))
        .bearer_auth(&app.token)
        .json(&json!({ "name": { "zh-Hans": "文书档案", "zh-Hant": "文書檔案", "en": "Records" } }))
        .send()
        .await
        .expect("patch");
    assert_eq!(response.status(), 200);

    let summary: Value = app
        .post("/api/v1/catalogue/presets")
        .json(&json!({ "preset": "enterprise" }))
        .send()
        .await
        .expect("preset")
        .json()
        .await
        .expect("json");
    assert_eq!(
        summary,
        json!({ "fonds": 0, "departments": 0, "retention_policies": 0, "categories": 0,
                "deadline_rules": 0 })
    );
    assert_eq!(
        app.get_json("/api/v1/categories/WS").await["name"],
        "文书档案"
    );
}

#[sqlx::test]
async fn set_up_data_is_created_changed_and_deleted_through_the_api(pool: PgPool) {
    let app = TestApp::spawn(pool).await;

    let fonds = app
        .post("/api/v1/fonds")
        .json(&json!({ "code": "Z109", "name": "某某科技有限公司", "default": true }))
        .send()
        .await
        .expect("create fonds");
    assert_eq!(fonds.status(), 201);
    let listed = app.get_json("/api/v1/fonds").await;
    let defaults: Vec<&Value> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter(|f| f["default"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["code"], "Z109");

    let department = app
        .post("/api/v1/departments")
        .json(&json!({ "code": "人事部", "name": "人事部" }))
        .send()
        .await
        .expect("create department");
    assert_eq!(department.status(), 201, "department codes may be Chinese");

    let policy = app
        .post("/api/v1/retention-policies")
        .json(&json!({ "code": "D15", "name": "15年", "years": 15 }))
        .send()
        .await
        .expect("create policy");
    assert_eq!(policy.status(), 201);
    let policy: Value = policy.json().await.expect("json");
    assert_eq!(policy["trigger"], "formation_year");

    let category = app
        .post("/api/v1/categories")
        .json(&json!({
            "code": "SB",
            "name": { "zh-Hans": "设备", "zh-Hant": "設備", "en": "Equipment" },
            "retention": "D15",
            "fields": [
                { "name": "model", "label": "型号", "type": "text", "required": true },
                { "name": "state", "type": "enum", "values": ["在用", "报废"] },
            ],
            "checklist": [{ "code": "manual", "name": "说明书" }],
        }))
        .send()
        .await
        .expect("create category");
    assert_eq!(category.status(), 201);
    let category: Value = category.json().await.expect("json");
    assert_eq!(category["names"]["zh-Hant"], "設備");
    assert_eq!(category["fields"][1]["values"], json!(["在用", "报废"]));

    let renamed = app
        .client
        .patch(app.url("/api/v1/departments/人事部"))
        .bearer_auth(&app.token)
        .json(&json!({ "name": "人力资源部" }))
        .send()
        .await
        .expect("rename");
    assert_eq!(renamed.status(), 200);
    assert_eq!(
        renamed.json::<Value>().await.expect("json")["name"],
        "人力资源部"
    );

    // in use by a category: cannot go
    let in_use = app
        .client
        .delete(app.url("/api/v1/retention-policies/D15"))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("delete");
    assert_problem(in_use, 409, "conflict").await;
    let gone = app
        .client
        .delete(app.url("/api/v1/categories/SB"))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("delete");
    assert_eq!(gone.status(), 204);
    let missing = app.get("/api/v1/categories/SB").send().await.expect("get");
    assert_problem(missing, 404, "not_found").await;
}

#[sqlx::test]
async fn bad_set_up_data_is_400_and_duplicates_409(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (path, body) in [
        ("/api/v1/fonds", json!({ "code": "Z-1", "name": "x" })),
        (
            "/api/v1/retention-policies",
            json!({ "code": "D0", "name": "x", "years": 0 }),
        ),
        (
            "/api/v1/retention-policies",
            json!({ "code": "E1", "name": "x", "years": 1, "trigger": "When He Leaves" }),
        ),
        (
            "/api/v1/categories",
            json!({ "code": "X1", "name": "x", "parent": "NOPE" }),
        ),
        (
            "/api/v1/categories",
            json!({ "code": "X2", "name": "x", "retention": "NOPE" }),
        ),
        (
            "/api/v1/categories",
            json!({ "code": "X3", "name": "x", "fields": [{ "name": "k", "type": "enum" }] }),
        ),
        ("/api/v1/categories", json!({ "code": "X4", "name": "  " })),
    ] {
        let response = app.post(path).json(&body).send().await.expect("post");
        assert_problem(response, 400, "validation").await;
    }
    let duplicate = app
        .post("/api/v1/categories")
        .json(&json!({ "code": "WS", "name": "again" }))
        .send()
        .await
        .expect("post");
    assert_problem(duplicate, 409, "conflict").await;
    let second_folder_kind = app
        .post("/api/v1/categories")
        .json(&json!({ "code": "RS2", "name": "人事二", "folder_kind": "employee" }))
        .send()
        .await
        .expect("post");
    assert_problem(second_folder_kind, 409, "conflict").await;
    let cycle = app
        .client
        .patch(app.url("/api/v1/categories/KU"))
        .bearer_auth(&app.token)
        .json(&json!({ "parent": "KUPZ" }))
        .send()
        .await
        .expect("patch");
    assert_problem(cycle, 400, "validation").await;
}

#[sqlx::test]
async fn only_admins_change_set_up_data_but_everyone_reads_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.post("/api/v1/users")
        .json(&json!({ "username": "staff1", "password": "staff-password", "role": "staff" }))
        .send()
        .await
        .expect("create user");
    let token = login(&app.client, &app.address, "staff1", "staff-password").await;
    let response = app
        .client
        .post(app.url("/api/v1/fonds"))
        .bearer_auth(&token)
        .json(&json!({ "code": "Z2", "name": "x" }))
        .send()
        .await
        .expect("post");
    assert_problem(response, 403, "forbidden").await;
    let read = app
        .client
        .get(app.url("/api/v1/categories"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(read.status(), 200);
}

#[sqlx::test]
async fn dangan_init_loads_the_preset_once(pool: PgPool) {
    let database = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_owned();
    let mut url =
        url::Url::parse(&std::env::var("DATABASE_URL").expect("DATABASE_URL")).expect("url");
    url.set_path(&database);
    let dir = tempfile::tempdir().expect("temp dir");
    let init = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dangan"))
            .args(["init", "--preset", "enterprise"])
            .env("DANGAN_DATABASE_URL", url.as_str())
            .env("DANGAN_DATA_DIR", dir.path())
            .output()
            .expect("run dangan init")
    };

    let first = init();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        stdout.contains("added 1 fonds") && stdout.contains("5 retention policies"),
        "{stdout}"
    );
    let categories: i64 = sqlx::query_scalar("select count(*) from categories")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(
        categories, 18,
        "every category of config/presets/enterprise.toml"
    );

    let again = init();
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout)
            .contains("added 0 fonds, 0 departments, 0 retention policies, 0 categories")
    );
}
