//! The dashboard's office forms, driven in process over the demo township with two inspections
//! pushed by an inspector's phone: 有问题 on the evidence page, appeals (file, 维持 / 采纳 and the
//! recomputation), publishing a ranking, Scheme C's inputs and a new version of the yuan scheme.
//! Each form: the success path, a refusal without the CSRF token (403 `csrf`, nothing stored),
//! a refusal of bad input (a Chinese error with its stable code, nothing stored), and the audit
//! entry.

use axum::http::StatusCode;
use chrono::Duration;
use cunjie_domain::Amount;
use cunjie_domain::fact::Inspection;
use cunjie_domain::person::Role;
use cunjie_domain::scoring::{Effect, SchemeKind};
use cunjie_protocol::v1::Op;

use crate::conformance::inspection;
use crate::harness::{Harness, Phone};
use crate::web::{Resp, csrf_of, enc, send};

trait Refused {
    fn refused(&self, status: StatusCode, code: &str, zh: &str);
}

impl Refused for Resp {
    /// Asserts an error page with this status and code, in Chinese, containing `zh`.
    fn refused(&self, status: StatusCode, code: &str, zh: &str) {
        let html = self.text();
        assert_eq!(self.status, status, "refused with {status}: {html}");
        assert!(
            html.contains(&format!("data-code=\"{code}\"")),
            "the stable code {code}: {html}"
        );
        assert!(html.contains(zh), "the Chinese message {zh:?}: {html}");
    }
}

async fn get(h: &Harness, uri: &str, cookie: &str) -> Resp {
    let r = send(h, "GET", uri, cookie, None).await;
    assert_eq!(r.status, StatusCode::OK, "GET {uri}: {}", r.text());
    r
}

async fn post(h: &Harness, uri: &str, cookie: &str, form: &str) -> Resp {
    send(h, "POST", uri, cookie, Some(form)).await
}

/// Follows a POST's redirect (303 See Other) and returns the page.
async fn follow(h: &Harness, r: &Resp, cookie: &str) -> Resp {
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "the form redirects: {}",
        r.text()
    );
    get(h, r.location(), cookie).await
}

/// Logs in as the demo admin and returns the cookie pair and the CSRF token.
async fn login(h: &Harness) -> (String, String) {
    let cookie = crate::web::login(h, "admin", "correct horse battery").await;
    let csrf = csrf_of(&get(h, "/dashboard/", &cookie).await.text());
    (cookie, csrf)
}

fn count(html: &str, testid: &str) -> usize {
    html.matches(&format!("data-testid=\"{testid}\"")).count()
}

fn audited(h: &Harness, action: &str) -> usize {
    h.office
        .audit_log(500)
        .expect("audit log")
        .iter()
        .filter(|e| e.action == action)
        .count()
}

/// The demo township with two inspections of village 0's households, each failing an item with
/// a photo, pushed two and one hours ago (17 November 2026, in the re-check window).
async fn seeded() -> (tempfile::TempDir, Harness, Phone, Vec<Inspection>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = cunjie_server::Db::open(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .expect("db");
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let v0 = h.demo.villages[0].id;
    let of_v0: Vec<usize> = (0..h.demo.households.len())
        .filter(|&n| h.demo.households[n].village == v0)
        .take(2)
        .collect();
    assert_eq!(of_v0.len(), 2, "village 0 has two households");
    let insps: Vec<Inspection> = of_v0
        .iter()
        .zip([2, 1])
        .map(|(&n, hours)| inspection(&h, &phone, n, h.now() - Duration::hours(hours)))
        .collect();
    push(&h, &mut phone, &insps).await;
    (dir, h, phone, insps)
}

async fn push(h: &Harness, phone: &mut Phone, insps: &[Inspection]) {
    let ops = insps
        .iter()
        .map(|i| {
            (
                Op::SubmitInspection {
                    inspection: Box::new(i.clone()),
                },
                None,
            )
        })
        .collect();
    let req = h.mutations(phone, ops);
    let (s, body) = h.push(phone, &req).await;
    assert_eq!(s, StatusCode::OK, "pushed: {body}");
    assert!(!body.to_string().contains("rejected"), "applied: {body}");
}

#[tokio::test]
async fn review_form_marks_an_inspection_and_shows_its_correction() {
    let (_d, h, mut phone, insps) = seeded().await;
    let (cookie, csrf) = login(&h).await;
    let a = &insps[0];
    let page = format!("/dashboard/facts/{}/evidence", a.id);
    let action = format!("/dashboard/facts/{}/review", a.id);
    let html = get(&h, &page, &cookie).await.text();
    assert_eq!(count(&html, "review-form"), 1, "the form: {html}");
    assert!(html.contains("标记有问题"), "in Chinese");
    assert_eq!(count(&html, "review-item"), 0, "no review yet");
    let photo = a.photos()[0].to_string();
    assert!(
        html.contains(&format!("value=\"{photo}\"")),
        "its photo can be picked"
    );

    // Refusals: nothing stored.
    post(&h, &action, &cookie, "comment=x").await.refused(
        StatusCode::FORBIDDEN,
        "csrf",
        "安全令牌",
    );
    post(&h, &action, &cookie, &format!("csrf={csrf}&comment=+++"))
        .await
        .refused(StatusCode::BAD_REQUEST, "bad_request", "请写明问题");
    post(
        &h,
        &action,
        &cookie,
        &format!("csrf={csrf}&comment=x&photo={}", "ab".repeat(32)),
    )
    .await
    .refused(StatusCode::NOT_FOUND, "not_found", "该检查中的照片");
    post(
        &h,
        "/dashboard/facts/not-an-id/review",
        &cookie,
        &format!("csrf={csrf}&comment=x"),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "记录编号格式不对");
    assert!(
        h.office.reviews(None).expect("reviews").is_empty(),
        "no refused review is stored"
    );
    assert_eq!(audited(&h, "review_marked"), 0, "nor audited");

    // Marked, about its photo.
    let r = post(
        &h,
        &action,
        &cookie,
        &format!(
            "csrf={csrf}&comment={}&photo={photo}",
            enc("照片看不清门牌")
        ),
    )
    .await;
    let html = follow(&h, &r, &cookie).await.text();
    assert_eq!(count(&html, "review-done"), 1, "marked: {html}");
    assert_eq!(count(&html, "review-item"), 1, "listed");
    assert!(
        html.contains("data-state=\"pending\"") && html.contains("待更正"),
        "awaiting correction: {html}"
    );
    assert!(html.contains("照片看不清门牌"), "with the comment");
    let stored = h.office.reviews(Some(&a.id.to_string())).expect("reviews");
    assert_eq!(stored.len(), 1, "one review stored");
    assert_eq!(
        stored[0].photo.as_deref(),
        Some(photo.as_str()),
        "of the photo"
    );
    assert_eq!(stored[0].by, "staff:admin", "by the signed-in staff");
    assert_eq!(audited(&h, "review_marked"), 1, "audited");
    let audit = get(&h, "/dashboard/audit", &cookie).await.text();
    assert!(audit.contains("review_marked"), "on the audit page");

    // The inspector's correction resolves it.
    let mut fixed = inspection(&h, &phone, 0, h.now() - Duration::minutes(30));
    fixed.subject = a.subject;
    fixed.village = a.village;
    fixed.supersedes = Some(a.id);
    push(&h, &mut phone, std::slice::from_ref(&fixed)).await;
    let html = get(&h, &page, &cookie).await.text();
    assert!(
        html.contains("data-state=\"resolved\"") && html.contains("已更正"),
        "corrected: {html}"
    );
    assert!(
        html.contains(&format!("/dashboard/facts/{}/evidence", fixed.id)),
        "linked to the correction"
    );

    // English.
    let html = get(&h, &format!("{page}?lang=en"), &cookie).await.text();
    assert!(
        html.contains("Mark as questionable") && html.contains("Corrected"),
        "in English"
    );
}

#[tokio::test]
async fn appeals_are_filed_and_decided_and_an_upheld_one_recomputes() {
    let (_d, h, _phone, insps) = seeded().await;
    let (cookie, csrf) = login(&h).await;
    let v0 = h.demo.villages[0].id;
    let html = get(
        &h,
        &format!("/dashboard/appeals?village={v0}&period=2026-11"),
        &cookie,
    )
    .await
    .text();
    assert_eq!(count(&html, "appeal-form"), 1, "the form: {html}");
    assert_eq!(count(&html, "appeal-fact"), 2, "the village's inspections");
    assert!(html.contains("登记申诉"), "in Chinese");
    assert!(
        html.contains("href=\"/dashboard/appeals\""),
        "in the navigation"
    );
    // Another village has none of them.
    let v1 = h.demo.villages[1].id;
    let other = get(
        &h,
        &format!("/dashboard/appeals?village={v1}&period=2026-11"),
        &cookie,
    )
    .await
    .text();
    assert_eq!(count(&other, "appeal-fact"), 0, "not another village's");

    let good = format!(
        "village={v0}&period=2026-11&fact={}&fact={}&reason={}&evidence={}",
        insps[0].id,
        insps[1].id,
        enc("检查时农户正在清理"),
        enc("村委会证明 2026-11-3 号")
    );
    // Refusals: nothing stored.
    post(&h, "/dashboard/appeals", &cookie, &good)
        .await
        .refused(StatusCode::FORBIDDEN, "csrf", "安全令牌");
    post(
        &h,
        "/dashboard/appeals",
        &cookie,
        &format!("csrf={csrf}&village={v0}&period=2026-11&reason=x"),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "申诉须写明理由");
    post(
        &h,
        "/dashboard/appeals",
        &cookie,
        &format!(
            "csrf={csrf}&village=nope&period=2026-11&fact={}&reason=x",
            insps[0].id
        ),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "请选择本镇的一个村");
    post(
        &h,
        "/dashboard/appeals",
        &cookie,
        &format!(
            "csrf={csrf}&village={v0}&period=2026-13&fact={}&reason=x",
            insps[0].id
        ),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "无法识别");
    post(
        &h,
        "/dashboard/appeals",
        &cookie,
        &format!(
            "csrf={csrf}&village={v1}&period=2026-11&fact={}&reason=x",
            insps[0].id
        ),
    )
    .await
    .refused(StatusCode::NOT_FOUND, "not_found", "该村的检查记录");
    assert!(
        h.office.appeals().expect("appeals").is_empty(),
        "no refused appeal is stored"
    );
    assert_eq!(audited(&h, "appeal_filed"), 0, "nor audited");

    // Filed, with both inspections.
    let r = post(
        &h,
        "/dashboard/appeals",
        &cookie,
        &format!("csrf={csrf}&{good}"),
    )
    .await;
    let html = follow(&h, &r, &cookie).await.text();
    assert_eq!(count(&html, "appeal-filed"), 1, "filed: {html}");
    assert_eq!(count(&html, "appeal-row"), 1, "listed");
    assert!(html.contains("data-outcome=\"undecided\"") && html.contains("待处理"));
    let appeals = h.office.appeals().expect("appeals");
    assert_eq!(appeals.len(), 1, "stored");
    assert_eq!(appeals[0].facts.len(), 2, "both checkboxes count");
    assert_eq!(appeals[0].reason, "检查时农户正在清理");
    assert_eq!(audited(&h, "appeal_filed"), 1, "audited");
    let id = appeals[0].id.clone();
    let decide = format!("/dashboard/appeals/{id}/decide");

    // A stored ranking of the period, to be recomputed when the appeal is upheld.
    let before = h
        .office
        .recompute("2026-11", None, "test")
        .expect("stored ranking");
    post(&h, &decide, &cookie, "outcome=upheld").await.refused(
        StatusCode::FORBIDDEN,
        "csrf",
        "安全令牌",
    );
    post(&h, &decide, &cookie, &format!("csrf={csrf}&outcome=maybe"))
        .await
        .refused(StatusCode::BAD_REQUEST, "bad_request", "采纳");
    post(
        &h,
        "/dashboard/appeals/nope/decide",
        &cookie,
        &format!("csrf={csrf}&outcome=upheld"),
    )
    .await
    .refused(StatusCode::NOT_FOUND, "not_found", "申诉");
    assert_eq!(
        h.office.appeals().expect("appeals")[0].outcome,
        None,
        "still undecided"
    );

    let r = post(
        &h,
        &decide,
        &cookie,
        &format!("csrf={csrf}&outcome=upheld&note={}", enc("证明属实")),
    )
    .await;
    let html = follow(&h, &r, &cookie).await.text();
    assert!(
        html.contains("data-testid=\"appeal-decided\" data-outcome=\"upheld\""),
        "decided: {html}"
    );
    assert_eq!(
        count(&html, "appeal-recomputed-item"),
        1,
        "one ranking recomputed"
    );
    assert!(
        html.contains(&format!(
            "2026-11 {} v{}",
            before.scheme_code, before.scheme_version
        )),
        "named with its scheme version: {html}"
    );
    assert!(html.contains("data-outcome=\"upheld\"") && html.contains("证明属实"));
    assert_eq!(count(&html, "appeal-decide-form"), 0, "decided: no buttons");
    let a = &h.office.appeals().expect("appeals")[0];
    assert_eq!(a.outcome.as_deref(), Some("upheld"), "stored");
    assert_eq!(audited(&h, "appeal_decided"), 1, "audited");
    let log = h.office.audit_log(50).expect("log");
    assert!(
        log.iter()
            .any(|e| e.action == "score_recomputed" && e.actor == format!("appeal:{id}")),
        "the recomputation is audited as the appeal's"
    );
    // Decided once only.
    post(
        &h,
        &decide,
        &cookie,
        &format!("csrf={csrf}&outcome=rejected"),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "已有结论");
    assert_eq!(audited(&h, "appeal_decided"), 1, "nothing more");

    // A rejected one recomputes nothing.
    let r = post(
        &h,
        "/dashboard/appeals",
        &cookie,
        &format!(
            "csrf={csrf}&village={v0}&period=2026-11&fact={}&reason=x",
            insps[1].id
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let second = h.office.appeals().expect("appeals");
    let id2 = &second.iter().find(|a| a.id != id).expect("second").id;
    let r = post(
        &h,
        &format!("/dashboard/appeals/{id2}/decide"),
        &cookie,
        &format!("csrf={csrf}&outcome=rejected"),
    )
    .await;
    let html = follow(&h, &r, &cookie).await.text();
    assert!(html.contains("data-testid=\"appeal-decided\" data-outcome=\"rejected\""));
    assert_eq!(count(&html, "appeal-recomputed"), 0, "no recomputation");

    let en = get(&h, "/dashboard/appeals?lang=en", &cookie).await.text();
    assert!(
        en.contains("File an appeal") && en.contains("Upheld"),
        "in English"
    );
}

#[tokio::test]
async fn a_ranking_is_published_from_its_page() {
    let (_d, h, _phone, _insps) = seeded().await;
    let (cookie, csrf) = login(&h).await;
    let html = get(&h, "/dashboard/ranking?period=2026-11", &cookie)
        .await
        .text();
    assert_eq!(count(&html, "publish"), 1, "the button: {html}");
    assert!(html.contains("data-published=\"false\"") && html.contains("未发布"));

    post(&h, "/dashboard/ranking/publish", &cookie, "period=2026-11")
        .await
        .refused(StatusCode::FORBIDDEN, "csrf", "安全令牌");
    post(
        &h,
        "/dashboard/ranking/publish",
        &cookie,
        &format!("csrf={csrf}&period=2026-13"),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "考核期");
    post(
        &h,
        "/dashboard/ranking/publish",
        &cookie,
        &format!("csrf={csrf}&period=2026-11&scheme=NOPE"),
    )
    .await
    .refused(StatusCode::NOT_FOUND, "not_found", "没有考核方案");
    assert_eq!(
        h.office
            .ranking("2026-11", None)
            .expect("ranking")
            .published_at,
        None,
        "not published"
    );
    assert_eq!(audited(&h, "ranking_published"), 0, "nor audited");

    let r = post(
        &h,
        "/dashboard/ranking/publish",
        &cookie,
        &format!("csrf={csrf}&period=2026-11&scheme="),
    )
    .await;
    assert!(
        r.location()
            .starts_with("/dashboard/ranking?period=2026-11")
    );
    let html = follow(&h, &r, &cookie).await.text();
    assert!(
        html.contains("data-published=\"true\"") && html.contains("已发布 2026"),
        "published with its date: {html}"
    );
    let ranking = h.office.ranking("2026-11", None).expect("ranking");
    assert!(ranking.published_at.is_some(), "stored");
    assert!(
        html.contains(&format!("· v{}", ranking.scheme_version)),
        "and its version"
    );
    assert_eq!(audited(&h, "ranking_published"), 1, "audited");
    let en = get(&h, "/dashboard/ranking?period=2026-11&lang=en", &cookie)
        .await
        .text();
    assert!(
        en.contains(">Publish<") && en.contains("Published 2026"),
        "in English"
    );
}

#[tokio::test]
async fn scheme_c_inputs_are_entered_per_village() {
    let (_d, h, _phone, _insps) = seeded().await;
    let (cookie, csrf) = login(&h).await;
    let v0 = h.demo.villages[0].id;
    let html = get(&h, "/dashboard/inputs?period=2026-11", &cookie)
        .await
        .text();
    assert_eq!(
        count(&html, "inputs-row"),
        h.demo.villages.len(),
        "one row per village: {html}"
    );
    assert!(html.contains("群众满意度") && html.contains("交办工作"));
    assert_eq!(
        html.matches("data-entered=\"false\"").count(),
        h.demo.villages.len()
    );

    let at = |t: &str, s: &str| format!("period=2026-11&village={v0}&tasks={t}&satisfaction={s}");
    post(&h, "/dashboard/inputs", &cookie, &at("80", "90"))
        .await
        .refused(StatusCode::FORBIDDEN, "csrf", "安全令牌");
    post(
        &h,
        "/dashboard/inputs",
        &cookie,
        &format!("csrf={csrf}&{}", at("100.01", "90")),
    )
    .await
    .refused(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "交办工作和群众满意度须在0到100之间",
    );
    post(
        &h,
        "/dashboard/inputs",
        &cookie,
        &format!("csrf={csrf}&{}", at("80", "-1")),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "须在0到100之间");
    post(
        &h,
        "/dashboard/inputs",
        &cookie,
        &format!("csrf={csrf}&{}", at("八十", "90")),
    )
    .await
    .refused(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "请输入0到100之间的分数",
    );
    post(
        &h,
        "/dashboard/inputs",
        &cookie,
        &format!("csrf={csrf}&period=2026-11&village=nope&tasks=1&satisfaction=1"),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "请选择本镇的一个村");
    let html = get(&h, "/dashboard/inputs?period=2026-11", &cookie)
        .await
        .text();
    assert_eq!(
        html.matches("data-entered=\"false\"").count(),
        h.demo.villages.len(),
        "nothing stored"
    );
    assert_eq!(audited(&h, "village_input_set"), 0, "nor audited");

    let r = post(
        &h,
        "/dashboard/inputs",
        &cookie,
        &format!("csrf={csrf}&{}", at("85.5", "100")),
    )
    .await;
    let html = follow(&h, &r, &cookie).await.text();
    assert_eq!(count(&html, "inputs-saved"), 1, "saved: {html}");
    assert_eq!(
        html.matches("data-entered=\"true\"").count(),
        1,
        "one village"
    );
    assert!(
        html.contains("value=\"85.50\"") && html.contains("value=\"100.00\""),
        "the stored values, decimals kept: {html}"
    );
    assert_eq!(audited(&h, "village_input_set"), 1, "audited");
    // Another period is its own.
    let html = get(&h, "/dashboard/inputs?period=2026-10", &cookie)
        .await
        .text();
    assert_eq!(
        html.matches("data-entered=\"true\"").count(),
        0,
        "October is empty"
    );
    let bad = send(&h, "GET", "/dashboard/inputs?period=2026-13", &cookie, None).await;
    bad.refused(StatusCode::BAD_REQUEST, "bad_request", "无法识别");
}

#[tokio::test]
async fn the_yuan_scheme_is_edited_into_a_new_version() {
    let (_d, h, _phone, _insps) = seeded().await;
    let (cookie, csrf) = login(&h).await;
    let html = get(&h, "/dashboard/schemes", &cookie).await.text();
    let schemes = h.office.schemes().expect("schemes");
    assert_eq!(
        count(&html, "scheme-row"),
        schemes.len(),
        "every scheme: {html}"
    );
    let yuan = schemes
        .iter()
        .find(|s| matches!(s.kind, SchemeKind::Yuan(_)))
        .expect("a yuan scheme")
        .clone();
    let points = schemes
        .iter()
        .find(|s| matches!(s.kind, SchemeKind::Points(_)))
        .expect("a points scheme");
    assert!(html.contains(&format!(
        "data-testid=\"scheme-row\" data-code=\"{}\" data-version=\"1\"",
        yuan.code
    )));
    assert_eq!(count(&html, "scheme-form"), 1, "one yuan scheme to edit");
    assert!(
        html.contains("已发布的考核期继续使用发布时的版本"),
        "says so"
    );
    let SchemeKind::Yuan(y) = &yuan.kind else {
        unreachable!()
    };
    let per_unit: Vec<(String, Amount)> = y
        .rules
        .iter()
        .filter_map(|r| match r.effect {
            Effect::PerUnit { amount } => Some((r.code.clone(), amount)),
            Effect::ForfeitSubsidy { .. } => None,
        })
        .collect();
    assert_eq!(
        count(&html, "scheme-rule-amount"),
        per_unit.len(),
        "each rule's amount"
    );
    // November is published under version 1.
    h.office
        .publish_ranking("2026-11", None, "test")
        .expect("published");

    let form = |base: &str, changed: &str| {
        let mut f = format!("code={}&base_subsidy={base}", yuan.code);
        for (i, (code, amount)) in per_unit.iter().enumerate() {
            let v = if i == 0 {
                changed.to_owned()
            } else {
                amount.to_string()
            };
            f.push_str(&format!("&rule_{}={}", enc(code), v));
        }
        f
    };
    post(&h, "/dashboard/schemes", &cookie, &form("2000", "-60"))
        .await
        .refused(StatusCode::FORBIDDEN, "csrf", "安全令牌");
    post(
        &h,
        "/dashboard/schemes",
        &cookie,
        &format!("csrf={csrf}&{}", form("两千", "-60")),
    )
    .await
    .refused(
        StatusCode::BAD_REQUEST,
        "bad_request",
        "基本考核补助须是金额",
    );
    post(
        &h,
        "/dashboard/schemes",
        &cookie,
        &format!("csrf={csrf}&{}", form("-1", "-60")),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "不能为负数");
    post(
        &h,
        "/dashboard/schemes",
        &cookie,
        &format!("csrf={csrf}&{}", form("2000", "1.234")),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "须是金额");
    post(
        &h,
        "/dashboard/schemes",
        &cookie,
        &format!("csrf={csrf}&code={}&base_subsidy=1", points.code),
    )
    .await
    .refused(StatusCode::BAD_REQUEST, "bad_request", "只能修改扣款制方案");
    post(
        &h,
        "/dashboard/schemes",
        &cookie,
        &format!("csrf={csrf}&code=NOPE&base_subsidy=1"),
    )
    .await
    .refused(StatusCode::NOT_FOUND, "not_found", "没有考核方案");
    assert_eq!(
        h.office
            .schemes()
            .expect("schemes")
            .iter()
            .map(|s| s.version)
            .max(),
        Some(1),
        "no new version"
    );
    assert_eq!(audited(&h, "scheme_published"), 2, "only the presets");

    let r = post(
        &h,
        "/dashboard/schemes",
        &cookie,
        &format!("csrf={csrf}&{}", form("2000.50", "-60")),
    )
    .await;
    let html = follow(&h, &r, &cookie).await.text();
    assert_eq!(count(&html, "scheme-published"), 1, "published: {html}");
    assert!(html.contains(&format!(
        "data-testid=\"scheme-row\" data-code=\"{}\" data-version=\"2\"",
        yuan.code
    )));
    assert!(html.contains("2000.50"), "the new base subsidy");
    let now = h
        .office
        .schemes()
        .expect("schemes")
        .into_iter()
        .find(|s| s.code == yuan.code)
        .expect("yuan");
    assert_eq!(now.version, 2, "version 2");
    let SchemeKind::Yuan(y2) = &now.kind else {
        unreachable!()
    };
    assert_eq!(y2.base_subsidy, Amount(200_050), "base stored");
    let first = y2
        .rules
        .iter()
        .find(|r| r.code == per_unit[0].0)
        .expect("rule");
    assert_eq!(
        first.effect,
        Effect::PerUnit {
            amount: Amount::whole(-60)
        },
        "the changed rule"
    );
    assert_eq!(audited(&h, "scheme_published"), 3, "audited");
    assert_eq!(
        h.office
            .ranking("2026-11", None)
            .expect("ranking")
            .scheme_version,
        1,
        "the published period keeps its version"
    );
    assert_eq!(
        h.office
            .ranking("2026-12", None)
            .expect("ranking")
            .scheme_version,
        2,
        "a new period takes the new one"
    );
    let en = get(&h, "/dashboard/schemes?lang=en", &cookie).await.text();
    assert!(en.contains("published periods keep theirs"), "in English");
}
