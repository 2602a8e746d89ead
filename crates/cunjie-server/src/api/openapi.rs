//! The OpenAPI 3.1 document of the v1 API, generated from the code: every request and
//! response schema comes from the Rust types (schemars derives honour their serde attributes),
//! and the paths come from the route table below, which `routes.rs` mirrors.

use cunjie_protocol::v1::{
    EnrollRequest, EnrollResponse, ErrorBody, PullPage, PushRequest, PushResponse, ScopeList,
};
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

/// One route: method, path, summary, auth, request and response schemas, error statuses.
struct Route {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: Option<&'static str>,
    request: Option<Value>,
    response: Option<Value>,
    errors: &'static [u16],
    query: &'static [(&'static str, &'static str, bool)],
}

/// The document.
pub(crate) fn document() -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let schema = |s: schemars::Schema| serde_json::to_value(s).unwrap_or(Value::Null);
    let enroll_req = schema(generator.subschema_for::<EnrollRequest>());
    let enroll_resp = schema(generator.subschema_for::<EnrollResponse>());
    let push_req = schema(generator.subschema_for::<PushRequest>());
    let push_resp = schema(generator.subschema_for::<PushResponse>());
    let scopes = schema(generator.subschema_for::<ScopeList>());
    let page = schema(generator.subschema_for::<PullPage>());
    let error = schema(generator.subschema_for::<ErrorBody>());
    let login_req = json!({"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string"}}});
    let login_resp = json!({"type": "object", "properties": {"token": {"type": "string"}, "township_id": {"type": "string", "format": "uuid"}}});
    let new_enrollment = json!({"type": "object", "required": ["person_id", "role"], "properties": {"person_id": {"type": "string", "format": "uuid"}, "role": {"type": "string"}}});
    let code = json!({"type": "object", "properties": {"code": {"type": "string", "example": "7KNCG-B0BE2"}}});
    let routes = [
        Route {
            method: "post",
            path: "/api/v1/enroll",
            summary: "Redeem a one-time enrollment code for a device token",
            auth: None,
            request: Some(enroll_req),
            response: Some(enroll_resp),
            errors: &[400, 409],
            query: &[],
        },
        Route {
            method: "post",
            path: "/api/v1/sync/push",
            summary: "Push a batch of outbox mutations (applied once; retries answer from receipts)",
            auth: Some("device"),
            request: Some(push_req),
            response: Some(push_resp),
            errors: &[400, 401, 409, 413],
            query: &[],
        },
        Route {
            method: "get",
            path: "/api/v1/sync/scopes",
            summary: "The calling device's scopes, epochs and heads",
            auth: Some("device"),
            request: None,
            response: Some(scopes),
            errors: &[401],
            query: &[],
        },
        Route {
            method: "get",
            path: "/api/v1/sync/pull",
            summary: "One page of a scope's change log after a cursor",
            auth: Some("device"),
            request: None,
            response: Some(page),
            errors: &[400, 401, 403],
            query: &[
                ("scope", "string", true),
                ("after", "integer", false),
                ("epoch", "integer", false),
                ("limit", "integer", false),
            ],
        },
        Route {
            method: "post",
            path: "/api/v1/admin/login",
            summary: "Township staff login (argon2); returns a session token",
            auth: None,
            request: Some(login_req),
            response: Some(login_resp),
            errors: &[400, 401],
            query: &[],
        },
        Route {
            method: "post",
            path: "/api/v1/admin/enrollments",
            summary: "Issue a one-time enrollment code for a person and role",
            auth: Some("staff"),
            request: Some(new_enrollment),
            response: Some(code),
            errors: &[400, 401, 403, 404],
            query: &[],
        },
        Route {
            method: "post",
            path: "/api/v1/admin/devices/{id}/revoke",
            summary: "Revoke a device (401 on its next request; it keeps its data)",
            auth: Some("staff"),
            request: None,
            response: None,
            errors: &[401, 404],
            query: &[],
        },
        Route {
            method: "get",
            path: "/api/v1/openapi.json",
            summary: "This document",
            auth: None,
            request: None,
            response: Some(json!({"type": "object"})),
            errors: &[],
            query: &[],
        },
    ];
    let mut paths = serde_json::Map::new();
    for r in routes {
        let mut op = json!({"summary": r.summary, "responses": {}});
        if let Some(body) = r.request {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body}}});
        }
        let (status, ok) = match r.response {
            Some(s) => (
                "200",
                json!({"description": "OK", "content": {"application/json": {"schema": s}}}),
            ),
            None => ("204", json!({"description": "Done"})),
        };
        op["responses"][status] = ok;
        for status in r.errors {
            op["responses"][status.to_string()] = json!({"description": "Error with a stable code", "content": {"application/json": {"schema": error.clone()}}});
        }
        if let Some(kind) = r.auth {
            op["security"] = json!([{ kind: [] }]);
        }
        if !r.query.is_empty() {
            op["parameters"] = Value::Array(r.query.iter().map(|(name, ty, required)| json!({"name": name, "in": "query", "required": required, "schema": {"type": ty}})).collect());
        }
        if r.path.contains("{id}") {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut params = params;
            params.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}));
            op["parameters"] = Value::Array(params);
        }
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "村洁 Cunjie township server API", "version": "1", "description": "Phones enroll, push their outbox and pull their scopes. Every error is an ErrorBody with a stable code."},
        "paths": paths,
        "components": {
            "schemas": generator.take_definitions(true),
            "securitySchemes": {
                "device": {"type": "http", "scheme": "bearer", "description": "Device token from enrollment"},
                "staff": {"type": "http", "scheme": "bearer", "description": "Staff session token from /api/v1/admin/login"}
            }
        }
    })
}
