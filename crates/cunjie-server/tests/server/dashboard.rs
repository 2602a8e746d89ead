//! The township dashboard, driven in process over the demo township with facts pushed by an
//! inspector's and a cleaner's phones: login, sessions, CSRF, every page and its test ids,
//! English, bad parameters, township isolation and the exports.

use axum::http::{StatusCode, header};
use chrono::{Duration, NaiveDate};
use cunjie_domain::fact::{
    CheckpointState, CheckpointVisit, CleanerRound, FactStatus, OrderTerms, RectificationOrder,
    TracePoint,
};
use cunjie_domain::person::Role;
use cunjie_domain::place::ZoneGeometry;
use cunjie_protocol::v1::Op;

use crate::conformance::inspection;
use crate::harness::Harness;
use crate::web::{Resp, csrf_of, enc, login, send};

async fn get(h: &Harness, uri: &str, cookie: &str) -> Resp {
    send(h, "GET", uri, cookie, None).await
}

/// The demo township with an inspection that failed an item (and its rectification, overdue),
/// a passed-except-one inspection of another household, and a cleaner's round of zone 0.
async fn seeded() -> (tempfile::TempDir, Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = cunjie_server::Db::open(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .expect("db");
    (dir, seeded_on(db).await)
}

/// [`seeded`] on any database.
async fn seeded_on(db: cunjie_server::Db) -> Harness {
    let h = Harness::new(db);
    let inspector = h.demo.inspector(0).clone();
    let mut phone = h.enroll(inspector.id, Role::Inspector).await;
    let a = inspection(&h, &phone, 0, h.now() - Duration::hours(2));
    let b = inspection(&h, &phone, 2, h.now() - Duration::hours(1));
    let order = RectificationOrder::from_failed_item(
        &a,
        "HH_WHITE_LITTER",
        OrderTerms {
            id: h.new_id(),
            issued_by: inspector.id,
            assignee: inspector.id,
            issued_at: h.now() - Duration::hours(2),
            due: NaiveDate::from_ymd_opt(2026, 11, 15).expect("date"),
        },
    )
    .expect("order from a failed item");
    let req = h.mutations(
        &mut phone,
        vec![
            (
                Op::SubmitInspection {
                    inspection: Box::new(a),
                },
                None,
            ),
            (
                Op::SubmitInspection {
                    inspection: Box::new(b),
                },
                None,
            ),
            (
                Op::IssueRectification {
                    order: Box::new(order),
                },
                None,
            ),
        ],
    );
    let (s, body) = h.push(&phone, &req).await;
    assert_eq!(s, StatusCode::OK, "inspections pushed: {body}");
    assert!(
        !body.to_string().contains("rejected"),
        "every mutation applied: {body}"
    );

    let zone = h.demo.zones[0].clone();
    let cleaner = h.demo.cleaner(zone.id).clone();
    let mut cphone = h.enroll(cleaner.id, Role::Cleaner).await;
    let ZoneGeometry::Line(points) = &zone.geometry else {
        panic!("demo zones are roads")
    };
    let start = h.now() - Duration::hours(3);
    let trace: Vec<TracePoint> = points
        .windows(2)
        .flat_map(|w| {
            (0..=10).map(move |i| {
                let f = f64::from(i) / 10.0;
                cunjie_domain::place::GeoPoint::new(
                    w[0].lat + (w[1].lat - w[0].lat) * f,
                    w[0].lon + (w[1].lon - w[0].lon) * f,
                )
            })
        })
        .enumerate()
        .map(|(i, point)| TracePoint {
            point,
            accuracy_m: 6.0,
            at: start + Duration::seconds(i as i64 * 15),
        })
        .collect();
    let visits = h
        .demo
        .facilities
        .iter()
        .filter(|f| f.zone == Some(zone.id))
        .map(|f| CheckpointVisit {
            facility: f.id,
            number: f.number.clone(),
            state: CheckpointState::Cleared,
            at: start + Duration::minutes(5),
            fix: None,
            photos: vec![],
            note: None,
        })
        .collect();
    let round = CleanerRound {
        id: h.new_id(),
        zone: zone.id,
        cleaner: cleaner.id,
        device: cphone.id,
        pass_no: 1,
        started_at: start,
        ended_at: Some(start + Duration::minutes(40)),
        server_received_at: None,
        trace,
        visits,
        problems: vec![],
        status: FactStatus::Submitted,
    };
    let req = h.mutations(
        &mut cphone,
        vec![(
            Op::SubmitRound {
                round: Box::new(round),
            },
            None,
        )],
    );
    let (s, body) = h.push(&cphone, &req).await;
    assert_eq!(s, StatusCode::OK, "round pushed: {body}");
    assert!(
        !body.to_string().contains("rejected"),
        "the round is applied: {body}"
    );
    h
}

#[tokio::test]
async fn login_sessions_and_logout() {
    let (_d, h) = seeded().await;
    let r = get(&h, "/dashboard/", "").await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/dashboard/login"),
        "no session: off to the login"
    );
    let r = get(
        &h,
        "/dashboard/ranking?period=2026-11",
        "cunjie_session=forged",
    )
    .await;
    assert_eq!(
        r.location(),
        "/dashboard/login",
        "a made-up session is no session"
    );
    let r = get(&h, "/dashboard/login", "").await;
    assert_eq!(r.status, StatusCode::OK, "the login form");
    assert!(
        r.text().contains("data-testid=\"login-form\"") && r.text().contains("用户名"),
        "a Chinese login form"
    );
    let r = send(
        &h,
        "POST",
        "/dashboard/login",
        "",
        Some("username=admin&password=wrong"),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a wrong password is refused"
    );
    assert!(
        r.text().contains("用户名或密码错误") && r.text().contains("bad_login"),
        "the form comes back with a Chinese error and its code: {}",
        r.text()
    );
    assert!(r.cookies().is_empty(), "and no session");
    let r = send(&h, "POST", "/dashboard/login", "", Some("username=admin")).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a missing password is a bad request"
    );
    let r = send(
        &h,
        "POST",
        "/dashboard/login",
        "",
        Some("username=admin&password=correct+horse+battery"),
    )
    .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/dashboard/"),
        "the right password goes to the overview"
    );
    let set = r
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("cunjie_session="))
        .expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "the session cookie is HttpOnly and SameSite=Strict: {set}"
    );
    let cookie = set.split(';').next().expect("pair").to_owned();
    let r = get(&h, "/dashboard/", &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "signed in: {}", r.text());
    let html = r.text();
    assert!(html.contains("data-testid=\"overview\""), "the overview");
    let r = get(&h, "/dashboard/login", &cookie).await;
    assert_eq!(
        r.location(),
        "/dashboard/",
        "the login page sends a signed-in user on to the overview"
    );
    let r = send(&h, "POST", "/dashboard/logout", &cookie, Some("")).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "logout without a token is refused"
    );
    assert!(r.text().contains("csrf"), "with the code csrf");
    let token = csrf_of(&html);
    let r = send(
        &h,
        "POST",
        "/dashboard/logout",
        &cookie,
        Some(&format!("csrf={token}")),
    )
    .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/dashboard/login"),
        "logged out"
    );
    let r = get(&h, "/dashboard/", &cookie).await;
    assert_eq!(r.location(), "/dashboard/login", "the old session is gone");
}

/// `(path, test ids it must carry, a Chinese phrase of its title)`.
fn pages(household: &str, fact: &str) -> Vec<(String, Vec<&'static str>, &'static str)> {
    vec![
        (
            "/dashboard/".into(),
            vec![
                "overview",
                "tile-rounds",
                "tile-rect-overdue",
                "nav",
                "lang-switch",
                "logout",
            ],
            "概览",
        ),
        (
            "/dashboard/ranking?period=2026-11".into(),
            vec![
                "ranking-table",
                "ranking-row",
                "red-list",
                "black-list",
                "recompute",
                "export-xlsx",
                "export-csv",
                "period-quarter",
                "period-half",
            ],
            "村庄排名",
        ),
        (
            "/dashboard/plates?village=TP".into(),
            vec!["plates", "plates-village", "plate-card", "print"],
            "门牌二维码",
        ),
        (
            "/dashboard/ranking?period=2026-Q4".into(),
            vec!["ranking-table", "ranking-row"],
            "村庄排名",
        ),
        (
            "/dashboard/ranking?period=2026-H2".into(),
            vec!["ranking-table", "ranking-row"],
            "村庄排名",
        ),
        (
            "/dashboard/notice?period=2026-11".into(),
            vec![
                "notice",
                "notice-title",
                "signatures",
                "red-list",
                "black-list",
                "ranking-table",
            ],
            "通报",
        ),
        (
            "/dashboard/cleaners?month=2026-11".into(),
            vec![
                "cleaners-table",
                "cleaner-row",
                "cleaner-coefficient",
                "pay-rule",
            ],
            "保洁员考核",
        ),
        (
            "/dashboard/households?q=".into(),
            vec!["household-search", "household-row"],
            "农户查询",
        ),
        (
            format!("/dashboard/households/{household}"),
            vec![
                "household-detail",
                "household-inspection",
                "failed-item",
                "rectifications-table",
            ],
            "农户档案",
        ),
        (
            "/dashboard/rectifications?state=overdue".into(),
            vec!["rectifications-table", "rectification-row", "tab-open"],
            "整改跟踪",
        ),
        (
            "/dashboard/map".into(),
            vec![
                "map",
                "map-zone",
                "map-household",
                "map-finding",
                "export-geojson",
            ],
            "一张图",
        ),
        (
            "/dashboard/map?basemap=gcj02".into(),
            vec!["map", "map-zone"],
            "一张图",
        ),
        (
            format!("/dashboard/facts/{fact}/evidence"),
            vec!["evidence"],
            "证据照片",
        ),
        (
            "/dashboard/charts?month=2026-11".into(),
            vec![
                "charts",
                "chart-trend",
                "chart-items",
                "chart-coverage",
                "trend-line",
            ],
            "图表",
        ),
        (
            "/dashboard/audit".into(),
            vec!["audit", "audit-chain", "audit-table"],
            "审计日志",
        ),
    ]
}

/// Household 0 and its inspection's fact id.
fn household_and_fact(h: &Harness) -> (String, String) {
    let household = h.demo.households[0].id.to_string();
    let facts = h.office.fact_rows().expect("facts");
    let fact = facts
        .iter()
        .find(|(_, v)| v["subject"]["id"] == household)
        .map(|(id, _)| id.clone())
        .expect("household 0 was inspected");
    (household, fact)
}

#[tokio::test]
async fn every_page_renders_on_postgresql_too() {
    let (_pg, db) = crate::pg_launcher::fresh_pg_db();
    let h = seeded_on(db).await;
    let cookie = login(&h, "admin", "correct horse battery").await;
    let (household, fact) = household_and_fact(&h);
    for (path, ids, _) in pages(&household, &fact) {
        let r = get(&h, &path, &cookie).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{path} renders on PostgreSQL: {}",
            r.text()
        );
        for id in ids {
            assert!(
                r.text().contains(&format!("data-testid=\"{id}\"")),
                "{path} carries data-testid={id} on PostgreSQL"
            );
        }
    }
    for path in [
        "/dashboard/export/ranking.xlsx?period=2026-11",
        "/dashboard/export/ranking.csv?period=2026-11",
        "/dashboard/export/findings.geojson",
    ] {
        assert_eq!(
            get(&h, path, &cookie).await.status,
            StatusCode::OK,
            "{path} on PostgreSQL"
        );
    }
}

#[tokio::test]
async fn every_page_renders_its_test_ids_in_chinese_and_in_english() {
    let (_d, h) = seeded().await;
    let cookie = login(&h, "admin", "correct horse battery").await;
    let (household, fact) = household_and_fact(&h);
    for (path, ids, title) in pages(&household, &fact) {
        let r = get(&h, &path, &cookie).await;
        let html = r.text();
        assert_eq!(r.status, StatusCode::OK, "{path} renders: {html}");
        for id in ids {
            assert!(
                html.contains(&format!("data-testid=\"{id}\"")),
                "{path} carries data-testid={id}"
            );
        }
        assert!(html.contains(title), "{path} has its Chinese title {title}");
        assert!(
            html.contains("lang=\"zh-CN\""),
            "{path} is Chinese by default"
        );
    }
    let r = get(&h, "/dashboard/cleaners?month=2026-11&lang=en", &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "English renders");
    assert!(
        r.text().contains("Cleaners&#x27; assessment") || r.text().contains("Cleaners' assessment"),
        "the English title: {}",
        r.text()
    );
    assert!(
        r.cookies().iter().any(|c| c.starts_with("lang=en")),
        "?lang=en is remembered in a cookie"
    );
    let with_lang = format!("{cookie}; lang=en");
    for (path, ids, _) in pages(&household, &fact) {
        let r = get(&h, &path, &with_lang).await;
        let html = r.text();
        assert_eq!(r.status, StatusCode::OK, "{path} renders in English");
        assert!(
            html.contains("lang=\"en\""),
            "{path} is English with the cookie"
        );
        assert!(
            html.contains(&format!("data-testid=\"{}\"", ids[0])),
            "{path} keeps its test ids in English"
        );
    }
    let r = get(
        &h,
        "/dashboard/households?q=%E5%A4%AA%E5%B9%B3%E6%9D%911%E7%BB%84",
        &cookie,
    )
    .await;
    let rows = r.text().matches("data-testid=\"household-row\"").count();
    assert!(
        rows > 0 && rows < h.demo.households.len(),
        "searching 太平村1组 finds some households, not all: {rows}"
    );
    let head = &h.demo.households[0].head_name;
    let r = get(
        &h,
        &format!("/dashboard/households?q={}", enc(head)),
        &cookie,
    )
    .await;
    assert!(
        r.text().contains(head.as_str()),
        "search by the head's name"
    );
    let r = get(&h, "/dashboard/ranking?period=2026-11", &cookie).await;
    assert!(
        r.text()
            .contains("/dashboard/households?q=%E5%A4%AA%E5%B9%B3%E6%9D%91"),
        "a village in the ranking links to its households"
    );
    let r = get(&h, "/dashboard/rectifications?state=overdue", &cookie).await;
    assert!(
        r.text().contains("data-state=\"overdue\""),
        "the order past its due date shows as overdue"
    );
    assert!(
        r.text()
            .contains("data-testid=\"rectification-overdue-days\">逾期天数 2<"),
        "two days past its due date (the 15th; today is the 17th)"
    );
    let r = get(&h, "/dashboard/", &cookie).await;
    assert!(
        r.text().contains("1 / "),
        "one of today's rounds is done: {}",
        r.text()
    );
}

#[tokio::test]
async fn posts_need_the_csrf_token_and_recompute_is_audited() {
    let (_d, h) = seeded().await;
    let cookie = login(&h, "admin", "correct horse battery").await;
    let r = send(
        &h,
        "POST",
        "/dashboard/ranking/recompute",
        &cookie,
        Some("period=2026-11"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no token, no recompute");
    assert!(
        r.text().contains("data-code=\"csrf\""),
        "the refusal has the code csrf: {}",
        r.text()
    );
    let r = send(
        &h,
        "POST",
        "/dashboard/ranking/recompute",
        &cookie,
        Some(&format!("period=2026-11&csrf={}", "0".repeat(64))),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "a wrong token is refused too"
    );
    let page = get(&h, "/dashboard/ranking?period=2026-11", &cookie)
        .await
        .text();
    let token = csrf_of(&page);
    let r = send(
        &h,
        "POST",
        "/dashboard/ranking/recompute",
        &cookie,
        Some(&format!("csrf={token}&period=2026-11&scheme=")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "recomputed: {}", r.text());
    assert!(
        r.location().starts_with("/dashboard/ranking?") && r.location().contains("done=1"),
        "back to the ranking: {}",
        r.location()
    );
    let r = get(&h, r.location(), &cookie).await;
    assert!(
        r.text().contains("data-testid=\"recompute-done\""),
        "the page says so"
    );
    let r = get(&h, "/dashboard/audit", &cookie).await;
    let html = r.text();
    assert!(
        html.contains("score_recomputed") && html.contains("staff:admin"),
        "the audit log shows who recomputed: {html}"
    );
    assert!(
        html.contains("dashboard_login"),
        "and who signed in to the dashboard"
    );
    assert!(html.contains("data-ok=\"true\""), "and the chain verifies");
}

#[tokio::test]
async fn bad_parameters_are_pages_with_codes_not_panics() {
    let (_d, h) = seeded().await;
    let cookie = login(&h, "admin", "correct horse battery").await;
    for (path, status, code) in [
        (
            "/dashboard/cleaners?month=2026-13",
            StatusCode::BAD_REQUEST,
            "bad_month",
        ),
        (
            "/dashboard/cleaners?month=%FF%FE",
            StatusCode::BAD_REQUEST,
            "bad_month",
        ),
        (
            "/dashboard/charts?month=11-2026",
            StatusCode::BAD_REQUEST,
            "bad_month",
        ),
        (
            "/dashboard/ranking?period=2026-Q5",
            StatusCode::BAD_REQUEST,
            "bad_period",
        ),
        (
            "/dashboard/notice?period=soon",
            StatusCode::BAD_REQUEST,
            "bad_period",
        ),
        (
            "/dashboard/export/ranking.xlsx?period=x",
            StatusCode::BAD_REQUEST,
            "bad_period",
        ),
        (
            "/dashboard/ranking?period=2026-11&scheme=NOPE",
            StatusCode::NOT_FOUND,
            "unknown_scheme",
        ),
        (
            "/dashboard/plates?village=NOPE",
            StatusCode::BAD_REQUEST,
            "unknown_village",
        ),
        (
            "/dashboard/households/not-an-id",
            StatusCode::BAD_REQUEST,
            "bad_id",
        ),
        (
            "/dashboard/households/01935000-0000-7000-8000-00000000ffff",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/dashboard/facts/01935000-0000-7000-8000-00000000ffff/evidence",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/dashboard/facts/../evidence",
            StatusCode::BAD_REQUEST,
            "bad_id",
        ),
        (
            "/dashboard/rectifications?state=lost",
            StatusCode::BAD_REQUEST,
            "bad_state",
        ),
        (
            "/dashboard/map?basemap=bd09",
            StatusCode::BAD_REQUEST,
            "bad_basemap",
        ),
        ("/dashboard/photos/abc", StatusCode::BAD_REQUEST, "bad_hash"),
        (
            "/dashboard/photos/0000000000000000000000000000000000000000000000000000000000000000",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("/dashboard/nowhere", StatusCode::NOT_FOUND, "not_found"),
        (
            "/dashboard/?township=999999999",
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    ] {
        let r = get(&h, path, &cookie).await;
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(
            r.text().contains(&format!("data-code=\"{code}\"")),
            "{path} has the code {code}: {}",
            r.text()
        );
        assert!(r.text().contains("错误代码"), "{path} explains in Chinese");
    }
}

#[tokio::test]
async fn staff_see_only_their_township_and_county_staff_choose() {
    let (_d, h) = seeded().await;
    let other = cunjie_domain::place::Township {
        id: cunjie_domain::ids::TownshipId::from_uuid(uuid::Uuid::from_u128(0xabc)),
        code: "360322106".into(),
        name: "麻山镇".into(),
    };
    cunjie_server::Township::init(
        h.state.db.clone(),
        h.state.clock.clone(),
        &other,
        "mashan",
        "another good password",
    )
    .expect("a second township");
    let cookie = login(&h, "mashan", "another good password").await;
    let household = h.demo.households[0].id.to_string();
    let r = get(&h, &format!("/dashboard/households/{household}"), &cookie).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another township's household is not found"
    );
    let r = get(&h, "/dashboard/?township=360322105", &cookie).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "nor can it be selected");
    // Names are data, never markup.
    let mut evil = h.demo.households[1].clone();
    evil.head_name = "<script>alert(1)</script>".into();
    h.office
        .put_records(&[cunjie_server::RegistryItem::Household(evil)])
        .expect("renamed");
    let admin = login(&h, "admin", "correct horse battery").await;
    let r = get(&h, "/dashboard/households?q=%3Cscript", &admin).await;
    assert!(
        r.text().contains("&lt;script&gt;alert(1)&lt;") && !r.text().contains("<script>alert"),
        "a household name is escaped: {}",
        r.text()
    );
    let r = get(&h, "/dashboard/", &cookie).await;
    assert!(r.text().contains("麻山镇"), "their own township is shown");
    h.state
        .db
        .tx(|tx| {
            tx.exec(
                "UPDATE staff SET role = 'county' WHERE username = 'mashan'",
                &[],
            )
        })
        .expect("made county staff");
    let r = get(&h, "/dashboard/households?township=360322105", &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "county staff pick a township");
    assert!(
        r.text().contains("data-testid=\"township-switch\"")
            && r.text().contains("data-testid=\"household-row\""),
        "with a switcher, and see its households"
    );
    assert!(
        r.text().contains("township=360322105"),
        "links keep the chosen township"
    );
}

#[tokio::test]
async fn exports_open_as_spreadsheet_csv_and_geojson() {
    use calamine::Reader;
    let (_d, h) = seeded().await;
    let cookie = login(&h, "admin", "correct horse battery").await;
    let r = get(&h, "/dashboard/export/ranking.xlsx?period=2026-11", &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "xlsx: {}", r.text());
    assert!(
        r.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("spreadsheetml")),
        "served as a spreadsheet"
    );
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(r.body.clone()))
            .expect("the xlsx opens");
    let range = wb
        .worksheet_range_at(0)
        .expect("a first sheet")
        .expect("it reads");
    let cells: Vec<String> = range.rows().flatten().map(ToString::to_string).collect();
    assert!(
        cells.iter().any(|c| c == "名次"),
        "a Chinese header row: {cells:?}"
    );
    assert!(
        cells.iter().any(|c| c == "太平村"),
        "Chinese village names: {cells:?}"
    );
    assert!(
        cells.iter().any(|c| c.contains("桐木镇")),
        "a title naming the township: {cells:?}"
    );
    let r = get(&h, "/dashboard/export/ranking.csv?period=2026-11", &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "csv");
    assert!(r.body.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 with a BOM");
    let text = String::from_utf8(r.body[3..].to_vec()).expect("UTF-8");
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with("名次,村")),
        "a header row: {text}"
    );
    assert_eq!(
        text.lines().count(),
        1 + h.demo.villages.len(),
        "a line per village"
    );
    let r = get(&h, "/dashboard/export/findings.geojson", &cookie).await;
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("findings parse as JSON");
    assert_eq!(v["type"], "FeatureCollection", "a FeatureCollection");
    let features = v["features"].as_array().expect("features");
    assert!(!features.is_empty(), "the failed inspections are there");
    let lon = features[0]["geometry"]["coordinates"][0]
        .as_f64()
        .expect("lon");
    assert!(
        (113.0..115.0).contains(&lon),
        "longitude first, WGS-84: {lon}"
    );
    let r = get(&h, "/dashboard/export/zones.geojson", &cookie).await;
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("zones parse as JSON");
    assert_eq!(
        v["features"].as_array().map(Vec::len),
        Some(h.demo.zones.len()),
        "every zone"
    );
    assert_eq!(
        v["features"][0]["geometry"]["type"], "LineString",
        "roads are lines"
    );
    let r = get(&h, "/dashboard/export/zones.geojson", "").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "exports need a session too"
    );
}

/// The printed door-plate sheet round-trips: each card's QR code, drawn as a camera would see
/// it and read by the phone's own reader (`cunjie_media::read_qr`), names that household or
/// business.
#[tokio::test]
async fn door_plate_qr_codes_print_and_read_back_on_the_phone() {
    let (_d, h) = seeded().await;
    let cookie = login(&h, "admin", "correct horse battery").await;
    let r = get(&h, "/dashboard/plates?village=TP", &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    let village = h.demo.villages.iter().find(|v| v.code == "TP").expect("TP");
    // Door plate → what its code must say.
    let mut expected: std::collections::HashMap<String, String> = h
        .demo
        .households
        .iter()
        .filter(|x| x.village == village.id)
        .map(|x| (x.door_plate.clone(), format!("cunjie://household/{}", x.id)))
        .collect();
    expected.extend(
        h.demo
            .businesses
            .iter()
            .filter(|b| b.village == village.id)
            .map(|b| (b.door_plate.clone(), format!("cunjie://business/{}", b.id))),
    );
    let cards: Vec<(&str, &str)> = html
        .split("data-testid=\"plate-card\"")
        .skip(1)
        .map(|card| {
            let path = card.split("<path d=\"").nth(1).expect("a path");
            let plate = card.split("<strong>").nth(1).expect("a plate");
            (
                path.split('"').next().expect("path"),
                plate.split("</strong>").next().expect("plate"),
            )
        })
        .collect();
    assert_eq!(
        cards.len(),
        expected.len(),
        "one card per household and business"
    );
    let last = cards.len() - 1;
    for (i, (path, plate)) in cards.iter().enumerate() {
        if i % 4 != 0 && i != last {
            continue;
        }
        let text = cunjie_media::read_qr(&photograph(path), &cunjie_media::Limits::default())
            .unwrap_or_else(|e| panic!("card {i} ({plate}) does not read back: {e}"));
        assert_eq!(Some(&text), expected.get(*plate), "card {i} ({plate})");
    }
}

/// Draws the SVG path of `M{x} {y}h1v1h-1z` modules 7 px each on a white card on a grey
/// background, and encodes it as a JPEG.
fn photograph(path: &str) -> Vec<u8> {
    let modules: Vec<(u32, u32)> = path
        .split('M')
        .filter(|m| !m.is_empty())
        .map(|m| {
            let xy = m.split('h').next().expect("x y");
            let (x, y) = xy.split_once(' ').expect("x y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect();
    let side = modules
        .iter()
        .map(|(x, y)| x.max(y) + 5)
        .max()
        .expect("modules");
    let dark: std::collections::HashSet<(u32, u32)> = modules.into_iter().collect();
    let img = image::RgbImage::from_fn(1000, 800, |x, y| {
        let (mx, my) = (x / 7, y / 7);
        if mx >= side || my >= side {
            image::Rgb([110, 115, 105])
        } else if dark.contains(&(mx, my)) {
            image::Rgb([15, 15, 20])
        } else {
            image::Rgb([245, 245, 240])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("jpeg");
    out.into_inner()
}
