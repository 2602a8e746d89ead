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

/// A route that is not JSON in and out (tus, blobs): request headers and body type, the
/// success status with its response headers, and a binary response type if any.
struct RawRoute {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: Option<&'static str>,
    headers: &'static [(&'static str, bool)],
    body: Option<&'static str>,
    ok: (&'static str, &'static str),
    ok_headers: &'static [&'static str],
    ok_body: Option<(&'static str, Value)>,
    errors: &'static [u16],
}

/// Tus headers on every tus request and response.
const TUS: (&str, bool) = ("Tus-Resumable", true);

fn raw_routes(evidence: Value) -> Vec<RawRoute> {
    let binary = json!({"type": "string", "format": "binary"});
    vec![
        RawRoute {
            method: "options",
            path: "/api/v1/uploads",
            summary: "tus discovery: Tus-Version 1.0.0, extensions creation, checksum, expiration, termination; checksums sha1, sha256; Tus-Max-Size 32 MiB",
            auth: None,
            headers: &[],
            body: None,
            ok: ("204", "What the server supports"),
            ok_headers: &[
                "Tus-Resumable",
                "Tus-Version",
                "Tus-Extension",
                "Tus-Checksum-Algorithm",
                "Tus-Max-Size",
            ],
            ok_body: None,
            errors: &[],
        },
        RawRoute {
            method: "post",
            path: "/api/v1/uploads",
            summary: "tus creation: an upload for a photo this device attested (Upload-Metadata: sha256 <base64 of the hex SHA-256>[, filename …, filetype …])",
            auth: Some("device"),
            headers: &[TUS, ("Upload-Length", true), ("Upload-Metadata", true)],
            body: None,
            ok: ("201", "Created; Location names the upload"),
            ok_headers: &["Tus-Resumable", "Location", "Upload-Expires"],
            ok_body: None,
            errors: &[400, 401, 403, 412, 413],
        },
        RawRoute {
            method: "head",
            path: "/api/v1/uploads/{id}",
            summary: "tus: the upload's offset (the server's offset is the truth; continue from it)",
            auth: Some("device"),
            headers: &[TUS],
            body: None,
            ok: ("200", "Where the upload stands"),
            ok_headers: &[
                "Tus-Resumable",
                "Upload-Offset",
                "Upload-Length",
                "Upload-Expires",
                "Cache-Control",
            ],
            ok_body: None,
            errors: &[401, 404, 410, 412],
        },
        RawRoute {
            method: "patch",
            path: "/api/v1/uploads/{id}",
            summary: "tus: append bytes at Upload-Offset (optional Upload-Checksum: sha256|sha1 <base64 digest of this body>; 460 on mismatch, nothing kept). The last byte stores the photo: 422 if the file does not hash to the attested SHA-256",
            auth: Some("device"),
            headers: &[TUS, ("Upload-Offset", true), ("Upload-Checksum", false)],
            body: Some("application/offset+octet-stream"),
            ok: ("204", "Taken; Upload-Offset is the new offset"),
            ok_headers: &["Tus-Resumable", "Upload-Offset", "Upload-Expires"],
            ok_body: None,
            errors: &[400, 401, 404, 409, 410, 412, 413, 415, 422, 460],
        },
        RawRoute {
            method: "delete",
            path: "/api/v1/uploads/{id}",
            summary: "tus termination: the upload and its partial file are removed",
            auth: Some("device"),
            headers: &[TUS],
            body: None,
            ok: ("204", "Terminated"),
            ok_headers: &["Tus-Resumable"],
            ok_body: None,
            errors: &[401, 404, 410, 412],
        },
        RawRoute {
            method: "head",
            path: "/api/v1/blobs/{sha256}",
            summary: "Whether the server already stores this photo (200) or not (404): skip the upload",
            auth: Some("device"),
            headers: &[],
            body: None,
            ok: ("200", "Stored"),
            ok_headers: &[],
            ok_body: None,
            errors: &[400, 401, 404],
        },
        RawRoute {
            method: "get",
            path: "/api/v1/admin/blobs/{sha256}",
            summary: "A stored photo of the staff's township (the evidence bytes)",
            auth: Some("staff"),
            headers: &[],
            body: None,
            ok: ("200", "The photo"),
            ok_headers: &[],
            ok_body: Some(("image/jpeg", binary)),
            errors: &[400, 401, 404],
        },
        RawRoute {
            method: "get",
            path: "/api/v1/admin/facts/{id}/evidence",
            summary: "A fact's photos (inspection, round or rectification): pending or stored, with the server's verification, and how many are pending",
            auth: Some("staff"),
            headers: &[],
            body: None,
            ok: ("200", "The fact's evidence"),
            ok_headers: &[],
            ok_body: Some(("application/json", evidence)),
            errors: &[400, 401, 404],
        },
    ]
}

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = if name == "sha256" {
                json!({"type": "string", "pattern": "^[0-9a-f]{64}$"})
            } else {
                json!({"type": "string", "format": "uuid"})
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
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
    let verification = json!({"type": ["object", "null"], "properties": {
        "hash_ok": {"type": "boolean"}, "signature_ok": {"type": "boolean"},
        "time_check": {"type": "string", "enum": ["ok", "exif_mismatch", "after_receipt", "no_exif"]},
        "exif_taken_at": {"type": ["string", "null"], "format": "date-time"},
        "exif_minus_taken_s": {"type": ["integer", "null"]}, "received_minus_taken_s": {"type": "integer"},
        "place_check": {"type": "string", "enum": ["ok", "far", "no_fix", "no_place"]},
        "distance_m": {"type": ["integer", "null"]}, "accuracy_m": {"type": ["integer", "null"]},
        "beyond_accuracy_m": {"type": ["integer", "null"]}, "exif_gps": {"type": ["string", "null"]}}});
    let evidence = json!({"type": "object", "required": ["fact_id", "kind", "photos", "photos_pending"], "properties": {
        "fact_id": {"type": "string", "format": "uuid"},
        "kind": {"type": "string", "enum": ["inspection", "round", "rectification"]},
        "photos": {"type": "array", "items": {"type": "object", "properties": {
            "sha256": {"type": "string"}, "state": {"type": "string", "enum": ["pending", "stored"]},
            "attested": {"type": "boolean"}, "verification": verification}}},
        "photos_pending": {"type": "integer"}}});
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
        if r.path.contains('{') {
            let mut params = op["parameters"].as_array().cloned().unwrap_or_default();
            params.extend(path_params(r.path));
            op["parameters"] = Value::Array(params);
        }
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    for r in raw_routes(evidence) {
        let mut params: Vec<Value> = r
            .headers
            .iter()
            .map(|(name, required)| json!({"name": name, "in": "header", "required": required, "schema": {"type": "string"}}))
            .collect();
        params.extend(path_params(r.path));
        let mut ok = json!({"description": r.ok.1});
        if !r.ok_headers.is_empty() {
            ok["headers"] = r
                .ok_headers
                .iter()
                .map(|h| ((*h).to_owned(), json!({"schema": {"type": "string"}})))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        if let Some((ty, schema)) = r.ok_body {
            ok["content"] = json!({ ty: {"schema": schema} });
        }
        let mut op = json!({"summary": r.summary, "responses": {r.ok.0: ok}});
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if let Some(ty) = r.body {
            op["requestBody"] = json!({"required": true, "content": {ty: {"schema": {"type": "string", "format": "binary"}}}});
        }
        for status in r.errors {
            op["responses"][status.to_string()] = json!({"description": "Error with a stable code (HEAD responses carry no body)", "content": {"application/json": {"schema": error.clone()}}});
        }
        if let Some(kind) = r.auth {
            op["security"] = json!([{ kind: [] }]);
        }
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "村洁 Cunjie township server API", "version": "1", "description": "Phones enroll, push their outbox (photo attestations included) and pull their scopes; photo bytes follow by tus 1.0.0 uploads. Every error is an ErrorBody with a stable code."},
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
