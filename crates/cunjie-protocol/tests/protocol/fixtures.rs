//! Frozen wire fixtures (`tests/fixtures/wire/v1/` at the repository root), one per v1 message.
//!
//! Each fixture was written once from real values and is never regenerated: a phone in the
//! field keeps sending exactly these shapes. Each test decodes its fixture into the Rust type
//! (an old phone keeps working) and re-encodes it (a renamed, retyped or added field shows up
//! as a difference). Changing a fixture is a protocol change: make a `v2` instead.

use std::collections::BTreeSet;
use std::path::PathBuf;

use cunjie_protocol::v1::{
    EnrollRequest, EnrollResponse, EntityKind, ErrorBody, MutationStatus, OPTIONAL_ENTITIES, Op,
    PullPage, PushRequest, PushResponse, ReviewRow, SampleRow, ScopeList,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

const FIXTURES: [&str; 10] = [
    "enroll_request.json",
    "enroll_request_with_key.json",
    "enroll_response.json",
    "error_body.json",
    "pull_page.json",
    "pull_page_tasks.json",
    "push_request.json",
    "push_request_photo.json",
    "push_response.json",
    "scope_list.json",
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/wire/v1")
}

/// Decodes a fixture into `T`, re-encodes it and checks the JSON is the same value.
fn frozen<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} is readable: {e}", path.display()));
    let expected: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is JSON: {e}"));
    let decoded: T = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{name} no longer decodes as {}: {e}; phones already send this shape",
            std::any::type_name::<T>()
        )
    });
    let again = serde_json::to_value(&decoded).expect("re-encodes");
    assert_eq!(
        again, expected,
        "{name}: re-encoding changed the wire shape (a field was renamed, retyped, added or dropped)"
    );
    decoded
}

/// An exhaustive match: adding an `Op` variant fails to compile here until the push fixture
/// carries one.
fn op_index(op: &Op) -> usize {
    match op {
        Op::SubmitInspection { .. } => 0,
        Op::SubmitRound { .. } => 1,
        Op::IssueRectification { .. } => 2,
        Op::SubmitRectificationFix { .. } => 3,
        Op::ReviewRectification { .. } => 4,
        Op::UpdateFields { .. } => 5,
        Op::AttestPhoto { .. } => 6,
    }
}
const OP_VARIANTS: usize = 7;

#[test]
fn every_fixture_file_is_tested_and_every_tested_file_exists() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir())
        .expect("fixture dir exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = FIXTURES.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        on_disk, listed,
        "the fixture directory holds exactly the fixtures this file tests"
    );
}

#[test]
fn push_request_is_frozen_and_covers_every_op() {
    // `attest_photo` came later (signed photos) in a fixture of its own: the first one is
    // never rewritten.
    let req: PushRequest = frozen("push_request.json");
    let photo: PushRequest = frozen("push_request_photo.json");
    let covered: BTreeSet<usize> = req
        .mutations
        .iter()
        .chain(&photo.mutations)
        .map(|m| op_index(&m.payload))
        .collect();
    assert_eq!(
        covered,
        (0..OP_VARIANTS).collect(),
        "the push fixtures have a mutation of every Op variant"
    );
    assert!(
        req.mutations.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "seqs are dense, as a phone sends them"
    );
}

#[test]
fn a_photo_attestation_signs_the_statement_an_independent_implementation_wrote() {
    let req: PushRequest = frozen("push_request_photo.json");
    let Op::AttestPhoto { attestation, .. } = &req.mutations[0].payload else {
        panic!("the photo fixture holds an attest_photo mutation");
    };
    // Written by Python (`cryptography`) when the fixture was made; the server verifies the
    // signature over exactly these bytes.
    let expected = "cunjie-photo-attestation-v1\n\
        d19caf52ff225379bf21cddc264923e8d58e6e5ce5371b76a2ecc201aaef3948\n\
        183406\n\
        1794964110250\n\
        27.7415300,113.8267100,6.5,1794964108000\n\
        household:01935000-0000-7000-8000-0000000003e9\n\
        0193a7c2-5e10-7a41-8c3e-2f6d9b1e4a07\n";
    assert_eq!(
        String::from_utf8(attestation.signing_bytes()).expect("utf-8"),
        expected,
        "the signed statement is stable"
    );
}

#[test]
fn push_response_is_frozen_with_applied_and_rejected_results() {
    let resp: PushResponse = frozen("push_response.json");
    assert!(
        resp.results
            .iter()
            .any(|r| matches!(r.status, MutationStatus::Applied { .. })),
        "an applied result"
    );
    assert!(
        resp.results
            .iter()
            .any(|r| matches!(r.status, MutationStatus::Rejected { .. })),
        "a rejected result"
    );
}

#[test]
fn pull_page_is_frozen_with_a_household_a_template_and_a_tombstone() {
    let page: PullPage = frozen("pull_page.json");
    let has = |entity: EntityKind, tombstone: bool| {
        page.changes
            .iter()
            .any(|c| c.entity == entity && c.row.is_none() == tombstone)
    };
    assert!(has(EntityKind::Household, false), "a household change");
    assert!(has(EntityKind::Template, false), "a template change");
    assert!(page.changes.iter().any(|c| c.row.is_none()), "a tombstone");
}

#[test]
fn the_optional_sample_and_review_changes_are_frozen() {
    let page: PullPage = frozen("pull_page_tasks.json");
    let row = |kind: EntityKind| {
        page.changes
            .iter()
            .find(|c| c.entity == kind)
            .and_then(|c| c.row.clone())
            .unwrap_or_else(|| panic!("a {kind:?} change with a row"))
    };
    let sample: SampleRow = serde_json::from_value(row(EntityKind::Sample)).expect("a sample row");
    assert_eq!(sample.month, "2026-11", "the month the sample is for");
    assert_eq!(sample.households.len(), 2, "the sampled households");
    let review: ReviewRow = serde_json::from_value(row(EntityKind::Review)).expect("a review row");
    assert!(review.comment.contains("更正"), "the reviewer's words");
    assert_eq!(
        OPTIONAL_ENTITIES.to_vec(),
        vec![EntityKind::Sample, EntityKind::Review],
        "both kinds are opt-in for older phones"
    );
}

#[test]
fn enrollment_messages_are_frozen() {
    let req: EnrollRequest = frozen("enroll_request.json");
    assert_eq!(
        req.public_key, None,
        "an enrollment from before signed photos"
    );
    let keyed: EnrollRequest = frozen("enroll_request_with_key.json");
    assert_eq!(
        keyed.public_key.as_deref().map(str::len),
        Some(44),
        "a 32-byte key in base64"
    );
    let resp: EnrollResponse = frozen("enroll_response.json");
    assert_eq!(
        req.device_id, resp.device_id,
        "the response names the device that asked"
    );
}

#[test]
fn scope_list_and_error_body_are_frozen() {
    let list: ScopeList = frozen("scope_list.json");
    assert!(!list.scopes.is_empty(), "scopes listed");
    let err: ErrorBody = frozen("error_body.json");
    assert_eq!(
        err.code,
        cunjie_protocol::v1::codes::SEQ_GAP,
        "the error fixture is a seq gap"
    );
    assert!(
        err.message.contains("expected 41"),
        "a seq gap's message names the expected seq"
    );
}
