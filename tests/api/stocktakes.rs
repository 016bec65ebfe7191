//! Stock-takes (庫檢, issue 17): a shelf's boxes are walked, each item scanned where it
//! stands; the kept report names what is missing, misplaced and unexpected, prints, and its
//! findings open a reminder to the keepers. A record the keeper may not see is neither
//! expected nor known when scanned: it answers as a code that names nothing.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};
use crate::places::{
    admin_only_record, created, get_as, paper_record, poppler, post_as, store_room,
};

fn finding_of<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["code"] == code)
        .unwrap_or_else(|| panic!("{code} not in {report}"))
}

#[sqlx::test]
async fn a_stock_take_reports_a_missing_a_misplaced_and_an_unexpected_item(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    let (room, places) = store_room(&app, &keeper).await;
    let b1 = json!({ "room": "K1", "shelf": "S1", "box": "B1" });
    let b2 = json!({ "room": "K1", "shelf": "S1", "box": "B2" });
    let mut records = Vec::new();
    for (title, at) in [
        ("劳动合同 张三", &b1),
        ("劳动合同 李四", &b1),
        ("采购合同 甲公司", &b2),
        ("采购合同 乙公司", &b2),
    ] {
        records.push(paper_record(&app, title, "WS", "2024-02-01", at.clone()).await);
    }
    let hidden = admin_only_record(&app, b1.clone()).await;
    let code = |record: &Value| record["archival_code"].as_str().expect("code").to_owned();
    let room_id = room["id"].as_str().expect("id");

    let begun = created(
        post_as(
            &app,
            &keeper,
            "/api/v1/stocktakes",
            json!({ "room": room_id, "place": "S1" }),
        )
        .await,
    )
    .await;
    // the keeper's stock-take expects the four records they may see, none seen yet
    assert_eq!(begun["counts"]["expected"], 4, "{begun}");
    assert_eq!(begun["counts"]["pending"], 4);
    let id = begun["id"].as_str().expect("id");
    let sightings = format!("/api/v1/stocktakes/{id}/sightings");

    // box B1 by the QR code of its label (its id): 张三 where it belongs, 甲公司 misplaced
    let b1_id = places[2]["id"].as_str().expect("id");
    let seen = post_as(
        &app,
        &keeper,
        &sightings,
        json!({ "place": b1_id, "items": [code(&records[0]), records[2]["id"]] }),
    )
    .await;
    assert_eq!(seen.status(), 200);
    // box B2 by its code: 乙公司, a code naming nothing, and the hidden record's code
    let seen = post_as(
        &app,
        &keeper,
        &sightings,
        json!({ "place": "B2", "items": [code(&records[3]), "Z001-WS-2024-D10-9999", code(&hidden)] }),
    )
    .await;
    assert_eq!(seen.status(), 200);
    // the cabinet is not inside the shelf this stock-take covers; another room's box is unknown
    for place in ["C1", "B9"] {
        let outside = post_as(
            &app,
            &keeper,
            &sightings,
            json!({ "place": place, "items": [code(&records[1])] }),
        )
        .await;
        assert_problem(outside, 400, "validation").await;
    }

    let finished = post_as(
        &app,
        &keeper,
        &format!("/api/v1/stocktakes/{id}/finish"),
        json!({}),
    )
    .await;
    assert_eq!(finished.status(), 200);
    let report: Value = finished.json().await.expect("json");
    assert_eq!(
        report["counts"],
        json!({ "expected": 4, "found": 2, "pending": 0, "missing": 1, "misplaced": 1,
                "unexpected": 2 }),
        "{report}"
    );
    assert_eq!(finding_of(&report, &code(&records[0]))["finding"], "found");
    assert_eq!(
        finding_of(&report, &code(&records[1]))["finding"],
        "missing"
    );
    let misplaced = finding_of(&report, &code(&records[2]));
    assert_eq!(misplaced["finding"], "misplaced");
    assert_eq!(misplaced["seen_place"], "B1");
    assert_eq!(misplaced["expected_location"]["box"], "B2");
    // the hidden record is told as nothing more than the code scanned, like the unknown one
    let unknown = finding_of(&report, "Z001-WS-2024-D10-9999");
    let stray = finding_of(&report, &code(&hidden));
    for item in [unknown, stray] {
        assert_eq!(item["finding"], "unexpected");
        assert_eq!(
            (&item["record_id"], &item["title"]),
            (&Value::Null, &Value::Null)
        );
    }

    // the report is kept: closed, it takes no more sightings and reads back the same
    let late = post_as(
        &app,
        &keeper,
        &sightings,
        json!({ "place": "B1", "items": [code(&records[1])] }),
    )
    .await;
    assert_problem(late, 409, "conflict").await;
    let again = post_as(
        &app,
        &keeper,
        &format!("/api/v1/stocktakes/{id}/finish"),
        json!({}),
    )
    .await;
    assert_problem(again, 409, "conflict").await;
    let kept: Value = get_as(&app, &keeper, &format!("/api/v1/stocktakes/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(kept["counts"], report["counts"]);
    let listed: Value = get_as(&app, &keeper, &format!("/api/v1/stocktakes?room={room_id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed["stocktakes"][0]["id"], id);

    // the findings open one reminder to the keepers
    let reminders: Value = get_as(&app, &keeper, "/api/v1/reminders?kind=stocktake")
        .await
        .json()
        .await
        .expect("json");
    let reminders = reminders.as_array().expect("reminders");
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert!(
        reminders[0]["subject"]
            .as_str()
            .is_some_and(|subject| subject.contains("缺失 1")),
        "{reminders:?}"
    );

    // printed, poppler reads the findings back in Chinese
    let pdf = get_as(
        &app,
        &keeper,
        &format!("/api/v1/stocktakes/{id}?format=pdf"),
    )
    .await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.expect("pdf");
    assert!(
        poppler("pdffonts", &pdf).contains("CJK"),
        "the CJK font is embedded"
    );
    let text: String = poppler("pdftotext", &pdf).split_whitespace().collect();
    for expected in ["库检报告K1", "缺失", "错放", "多出", "劳动合同李四"] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
}

#[sqlx::test]
async fn stock_takes_are_for_keepers_and_an_unknown_one_is_missing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    let (room, _) = store_room(&app, &keeper).await;
    let room_id = room["id"].as_str().expect("id");
    let clerk = app.user_token("clerk", "staff", None).await;
    let refused = post_as(
        &app,
        &clerk,
        "/api/v1/stocktakes",
        json!({ "room": room_id }),
    )
    .await;
    assert_problem(refused, 403, "forbidden").await;
    let nowhere = post_as(
        &app,
        &keeper,
        "/api/v1/stocktakes",
        json!({ "room": room_id, "place": "S9" }),
    )
    .await;
    assert_problem(nowhere, 400, "validation").await;
    let unknown = format!("/api/v1/stocktakes/{}", uuid::Uuid::now_v7());
    assert_problem(get_as(&app, &keeper, &unknown).await, 404, "not_found").await;
    let too_many: Vec<String> = (0..1001).map(|n| format!("X-{n}")).collect();
    let begun = created(
        post_as(
            &app,
            &keeper,
            "/api/v1/stocktakes",
            json!({ "room": room_id }),
        )
        .await,
    )
    .await;
    let id = begun["id"].as_str().expect("id");
    let flood = post_as(
        &app,
        &keeper,
        &format!("/api/v1/stocktakes/{id}/sightings"),
        json!({ "place": "B1", "items": too_many }),
    )
    .await;
    assert_problem(flood, 400, "validation").await;
}
