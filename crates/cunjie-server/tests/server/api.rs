//! The HTTP surface: the OpenAPI document, error bodies and headers. Backend independent, so
//! it runs once, on SQLite.

use axum::http::StatusCode;
use serde_json::Value;

use crate::harness::Harness;

fn harness() -> (tempfile::TempDir, Harness) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = cunjie_server::Db::open(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .expect("db");
    (dir, Harness::new(db))
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn openapi_document_lists_every_route_and_resolves_every_ref() {
    let (_d, h) = harness();
    let (s, doc) = h.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK, "served");
    assert_eq!(doc["openapi"], "3.1.0", "OpenAPI 3.1");
    for path in [
        "/api/v1/enroll",
        "/api/v1/sync/push",
        "/api/v1/sync/pull",
        "/api/v1/sync/scopes",
        "/api/v1/admin/login",
        "/api/v1/admin/enrollments",
        "/api/v1/admin/devices/{id}/revoke",
        "/api/v1/uploads",
        "/api/v1/uploads/{id}",
        "/api/v1/blobs/{sha256}",
        "/api/v1/admin/blobs/{sha256}",
        "/api/v1/admin/facts/{id}/evidence",
    ] {
        assert!(doc["paths"][path].is_object(), "documents {path}");
    }
    for (path, method) in [
        ("/api/v1/uploads", "options"),
        ("/api/v1/uploads", "post"),
        ("/api/v1/uploads/{id}", "head"),
        ("/api/v1/uploads/{id}", "patch"),
        ("/api/v1/uploads/{id}", "delete"),
        ("/api/v1/blobs/{sha256}", "head"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "documents {method} {path}"
        );
    }
    let patch = &doc["paths"]["/api/v1/uploads/{id}"]["patch"];
    assert!(
        patch["responses"]["460"].is_object()
            && patch["requestBody"]["content"]["application/offset+octet-stream"].is_object(),
        "the PATCH documents its body type and the checksum mismatch: {patch}"
    );
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(
        all.len() > 10,
        "schemas are referenced, not inlined: {}",
        all.len()
    );
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("ref {r} points into components"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "ref {r} resolves"
        );
    }
    let op = &doc["components"]["schemas"]["Op"];
    assert!(
        op.to_string().contains("submit_inspection"),
        "the mutation ops are described from the Rust enum: {op}"
    );
}

#[tokio::test]
async fn errors_have_stable_codes_and_responses_carry_security_headers() {
    let (_d, h) = harness();
    let big = Value::String("x".repeat(9 * 1024 * 1024));
    let (s, body) = h.call("POST", "/api/v1/enroll", None, Some(big)).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")),
        "oversized bodies are refused: {body}"
    );
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/enroll")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(nested))
        .expect("request");
    let resp = tower::ServiceExt::oneshot(h.router.clone(), req)
        .await
        .expect("answers");
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "deeply nested JSON is a bad request, not a crash"
    );
    let headers = resp.headers();
    assert_eq!(
        headers.get("x-content-type-options").map(|v| v.as_bytes()),
        Some(&b"nosniff"[..]),
        "nosniff"
    );
    assert_eq!(
        headers.get("x-frame-options").map(|v| v.as_bytes()),
        Some(&b"DENY"[..]),
        "no framing"
    );
    let (s, body) = h.call("GET", "/api/v1/nowhere", None, None).await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "unknown paths get a JSON error: {body}"
    );
    let (s, body) = h
        .call(
            "POST",
            "/api/v1/admin/login",
            None,
            Some(serde_json::json!({"username": "admin", "password": "wrong"})),
        )
        .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorised")),
        "a wrong password is 401: {body}"
    );
    let (s, body) = h
        .call(
            "POST",
            "/api/v1/admin/login",
            None,
            Some(serde_json::json!({"username": "admin", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "the right password logs in: {body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let person = h.demo.inspector(0).id;
    let (s, body) = h
        .call(
            "POST",
            "/api/v1/admin/enrollments",
            Some(&token),
            Some(serde_json::json!({"person_id": person, "role": "INSPECTOR"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "staff issue enrollment codes: {body}");
    assert_eq!(
        body["code"].as_str().map(str::len),
        Some(11),
        "shown as XXXXX-XXXXX"
    );
    let (s, _) = h
        .call(
            "POST",
            "/api/v1/admin/enrollments",
            Some("not-a-session"),
            Some(serde_json::json!({"person_id": person, "role": "INSPECTOR"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "no session, no codes");
}
