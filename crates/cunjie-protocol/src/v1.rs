//! Version 1 of the wire messages (sync.md §5.4–5.5).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cunjie_domain::fact::{
    CleanerRound, Inspection, PhotoAttestation, PhotoHash, RectificationOrder,
};
use cunjie_domain::ids::{
    DeviceId, HouseholdId, InspectionId, MutationId, RectificationId, VillageId,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use uuid::Uuid;

/// The kind of entity a mutation or change touches. Stable strings on the wire and in storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A township.
    Township,
    /// An administrative village.
    Village,
    /// A village group.
    Group,
    /// A household.
    Household,
    /// A business.
    Business,
    /// A responsibility zone.
    Zone,
    /// A facility.
    Facility,
    /// A person.
    Person,
    /// An assignment.
    Assignment,
    /// A checklist template version.
    Template,
    /// An inspection.
    Inspection,
    /// A cleaner's round.
    Round,
    /// A rectification order.
    Rectification,
    /// A photo, by its attestation (its id on the wire is [`photo_entity_id`] of the hash).
    Photo,
    /// A village's random household sample for a month ([`SampleRow`]). Sent only to phones
    /// that ask for it (`with=sample`, see [`OPTIONAL_ENTITIES`]).
    Sample,
    /// A reviewer's 有问题 on an inspection, a task for its author ([`ReviewRow`]). Sent only
    /// to phones that ask for it (`with=review`).
    Review,
}

/// Entity kinds added after the first phones shipped. The server sends them only to a phone
/// that lists them in the pull's `with` parameter, so an older phone never meets a kind it
/// cannot read.
pub const OPTIONAL_ENTITIES: [EntityKind; 2] = [EntityKind::Sample, EntityKind::Review];

/// The `with` value a phone that reads every optional kind sends.
pub fn optional_entities_param() -> String {
    OPTIONAL_ENTITIES
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A village's monthly sample: only inspections of these households count toward the rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SampleRow {
    /// The village.
    pub village: VillageId,
    /// The month, e.g. `2026-11` (China time).
    pub month: String,
    /// The sampled households, sorted.
    pub households: Vec<HouseholdId>,
}

/// A reviewer marked an inspection (or one of its photos) as 有问题: its author corrects it by
/// submitting a new inspection that `supersedes` it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReviewRow {
    /// The review.
    pub id: Uuid,
    /// The inspection sent back.
    pub inspection: InspectionId,
    /// The photo the remark is about, if any.
    pub photo: Option<PhotoHash>,
    /// What is wrong, in the reviewer's words.
    pub comment: String,
    /// When it was marked.
    pub at: DateTime<Utc>,
}

/// The entity id of a village's sample for a month (stable, so a redraw replaces it).
pub fn sample_entity_id(village: VillageId, month: &str) -> Uuid {
    let digest = sha2::Sha256::digest(format!("cunjie-sample-v1/{village}/{month}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(b)
}

impl EntityKind {
    /// The stable name used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Township => "township",
            Self::Village => "village",
            Self::Group => "group",
            Self::Household => "household",
            Self::Business => "business",
            Self::Zone => "zone",
            Self::Facility => "facility",
            Self::Person => "person",
            Self::Assignment => "assignment",
            Self::Template => "template",
            Self::Inspection => "inspection",
            Self::Round => "round",
            Self::Rectification => "rectification",
            Self::Photo => "photo",
            Self::Sample => "sample",
            Self::Review => "review",
        }
    }
}

/// What a phone asks the server to do. Facts are inserted once; registry edits are per field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// A submitted inspection (immutable once submitted).
    SubmitInspection {
        /// The inspection.
        inspection: Box<Inspection>,
    },
    /// A finished cleaner's round (immutable once submitted).
    SubmitRound {
        /// The round.
        round: Box<CleanerRound>,
    },
    /// A new rectification order.
    IssueRectification {
        /// The order.
        order: Box<RectificationOrder>,
    },
    /// The assignee submits a fix with "after" photos.
    SubmitRectificationFix {
        /// Which order.
        id: RectificationId,
        /// After photos.
        after_photos: Vec<PhotoHash>,
        /// Note.
        note: Option<String>,
    },
    /// The re-inspector verifies or sends back a fix.
    ReviewRectification {
        /// Which order.
        id: RectificationId,
        /// Accepted (销号) or sent back.
        accepted: bool,
        /// Note.
        note: Option<String>,
    },
    /// Changes some fields of a registry record (door plate, facility status …), merged per
    /// field against `base_version` on the server.
    UpdateFields {
        /// Which kind of record.
        entity: EntityKind,
        /// Which record.
        id: Uuid,
        /// New values by field name.
        fields: BTreeMap<String, serde_json::Value>,
    },
    /// The phone took a photo: its signed attestation, pushed before (and independently of)
    /// the photo's bytes, which follow by resumable upload (`/api/v1/uploads`).
    AttestPhoto {
        /// What the phone claims about the photo.
        attestation: Box<PhotoAttestation>,
        /// Ed25519 signature over [`PhotoAttestation::signing_bytes`] by the device key
        /// registered at enrollment, standard base64 (64 bytes).
        signature: String,
    },
}

/// The content address of a photo's bytes (the SHA-256 every record and upload names it by).
pub fn photo_hash(bytes: &[u8]) -> PhotoHash {
    use sha2::Digest;
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    PhotoHash::try_from(hex).unwrap_or_else(|_| unreachable!("64 lower-case hex digits"))
}

/// The id a photo's mutations and receipts use: the first 16 bytes of its SHA-256.
pub fn photo_entity_id(sha256: &PhotoHash) -> Uuid {
    let hex = sha256.as_str();
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    Uuid::from_bytes(bytes)
}

impl Op {
    /// The entity kind and id this operation touches.
    pub fn target(&self) -> (EntityKind, Uuid) {
        match self {
            Self::SubmitInspection { inspection } => {
                (EntityKind::Inspection, *inspection.id.as_uuid())
            }
            Self::SubmitRound { round } => (EntityKind::Round, *round.id.as_uuid()),
            Self::IssueRectification { order } => (EntityKind::Rectification, *order.id.as_uuid()),
            Self::SubmitRectificationFix { id, .. } | Self::ReviewRectification { id, .. } => {
                (EntityKind::Rectification, *id.as_uuid())
            }
            Self::UpdateFields { entity, id, .. } => (*entity, *id),
            Self::AttestPhoto { attestation, .. } => {
                (EntityKind::Photo, photo_entity_id(&attestation.sha256))
            }
        }
    }

    /// The stable operation name (the `op` tag).
    pub fn name(&self) -> &'static str {
        match self {
            Self::SubmitInspection { .. } => "submit_inspection",
            Self::SubmitRound { .. } => "submit_round",
            Self::IssueRectification { .. } => "issue_rectification",
            Self::SubmitRectificationFix { .. } => "submit_rectification_fix",
            Self::ReviewRectification { .. } => "review_rectification",
            Self::UpdateFields { .. } => "update_fields",
            Self::AttestPhoto { .. } => "attest_photo",
        }
    }
}

/// One mutation as pushed: `(device_id, seq)` is its identity, dense per device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Mutation {
    /// The device that made it.
    pub device_id: DeviceId,
    /// Dense per-device sequence number, from 1.
    pub seq: u64,
    /// Globally unique id.
    pub mutation_id: MutationId,
    /// The server version the edit was based on (registry edits); `None` for new facts.
    pub base_version: Option<u64>,
    /// Packed hybrid logical clock (ms << 16 | counter).
    pub hlc: u64,
    /// Mutation schema version.
    pub schema_version: u32,
    /// The phone's own clock when it made the mutation, as it read it (not corrected by the
    /// offset learned from the server, unlike the HLC): the difference between the two is how
    /// far the phone's clock is off, which the server flags when it exceeds ten minutes
    /// (sync.md §5.2). Absent from older phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_time: Option<chrono::DateTime<chrono::Utc>>,
    /// What to do.
    pub payload: Op,
}

/// A batch of mutations in `seq` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PushRequest {
    /// The mutations.
    pub mutations: Vec<Mutation>,
    /// The phone's own clock when it made this request, as it read it: against the server's
    /// clock it shows how far the phone's clock is off now (sync.md §5.2). Absent from older
    /// phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What became of one mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MutationStatus {
    /// Applied now.
    Applied {
        /// The record's server version after applying.
        server_version: u64,
    },
    /// Rejected for good (validation or authorisation); `last_seq` still advanced.
    Rejected {
        /// Stable code.
        code: String,
        /// Why, in words for a person.
        reason: String,
    },
}

/// The result of one mutation, keyed by its seq.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MutationResult {
    /// The mutation's seq.
    pub seq: u64,
    /// What happened (a retried seq answers from the stored receipt).
    #[serde(flatten)]
    pub status: MutationStatus,
}

/// The server's answer to a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PushResponse {
    /// Every seq up to this one is settled (applied or rejected).
    pub acked_through: u64,
    /// Per-mutation results.
    pub results: Vec<MutationResult>,
    /// The server's clock, Unix ms, for the phone to learn its offset.
    pub server_time_ms: i64,
}

/// One change in a scope's change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Change {
    /// Dense sequence within the scope.
    pub seq: u64,
    /// Kind of record.
    pub entity: EntityKind,
    /// Which record.
    pub id: Uuid,
    /// The record's server version.
    pub server_version: u64,
    /// The whole record as JSON, or `None` for a tombstone.
    pub row: Option<serde_json::Value>,
}

/// A page of changes after a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PullPage {
    /// The scope, e.g. `village:<uuid>`.
    pub scope: String,
    /// The scope's reset epoch; a change means the phone must wipe the scope's synced rows.
    pub epoch: u64,
    /// Changes in seq order.
    pub changes: Vec<Change>,
    /// The cursor to ask from next.
    pub next_after: u64,
    /// No more changes after this page.
    pub up_to_date: bool,
}

/// A phone redeems a one-time enrollment code (`POST /api/v1/enroll`, no auth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EnrollRequest {
    /// The code as shown or scanned (case and separators are ignored).
    pub code: String,
    /// The id the phone made for itself (UUIDv7); the server never assigns ids.
    pub device_id: DeviceId,
    /// A name for the township office's device list, e.g. the phone model.
    pub device_name: String,
    /// The device's Ed25519 public key (32 bytes, standard base64), made on the phone; its
    /// private half never leaves the phone. Photos are signed with it. Absent from phones
    /// that predate signed photos: their attestations are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// What an enrolled phone learns once. The token is shown only here; the server keeps its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EnrollResponse {
    /// The device id, as registered.
    pub device_id: DeviceId,
    /// The long-lived device token for `Authorization: Bearer`.
    pub token: String,
    /// Who the phone belongs to.
    pub person_id: cunjie_domain::ids::PersonId,
    /// Their name.
    pub person_name: String,
    /// In which role.
    pub role: cunjie_domain::person::Role,
    /// The township.
    pub township_id: cunjie_domain::ids::TownshipId,
    /// Its name.
    pub township_name: String,
    /// The server's clock, Unix ms.
    pub server_time_ms: i64,
}

/// One scope a device may pull, with its epoch (`GET /api/v1/sync/scopes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScopeInfo {
    /// Scope name: `township:<id>`, `village:<id>` or `zone:<id>`.
    pub scope: String,
    /// Current epoch; a change means the phone must wipe and re-pull the scope.
    pub epoch: u64,
    /// The newest change sequence in the scope.
    pub head: u64,
}

/// The scopes of the calling device, derived from its enrollment and current assignments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScopeList {
    /// Scopes in a stable order.
    pub scopes: Vec<ScopeInfo>,
    /// The server's clock, Unix ms.
    pub server_time_ms: i64,
}

/// Stable error codes of the v1 API. A phone branches on these, never on messages.
pub mod codes {
    /// The request body is not valid JSON of the expected shape.
    pub const BAD_REQUEST: &str = "bad_request";
    /// No, unknown, expired or revoked device token: keep all data, ask to re-enroll.
    pub const UNAUTHORISED: &str = "unauthorised";
    /// The device may not do this (wrong role or scope).
    pub const FORBIDDEN: &str = "forbidden";
    /// An enrollment code that is unknown, used or expired.
    pub const ENROLLMENT_INVALID: &str = "enrollment_invalid";
    /// A push batch that skips seqs after the last one the server has.
    pub const SEQ_GAP: &str = "seq_gap";
    /// A push batch naming another device.
    pub const DEVICE_MISMATCH: &str = "device_mismatch";
    /// A request body over the limit.
    pub const TOO_LARGE: &str = "too_large";
    /// Not found.
    pub const NOT_FOUND: &str = "not_found";
    /// The server failed; try again later.
    pub const INTERNAL: &str = "internal";
    /// Per-mutation rejection: the author was not assigned to the subject when it was captured.
    pub const NOT_ASSIGNED: &str = "not_assigned";
    /// Per-mutation rejection: the role may not do this (a cleaner submitting an inspection).
    pub const WRONG_ROLE: &str = "wrong_role";
    /// Per-mutation rejection: the record does not validate (blocking issues).
    pub const INVALID: &str = "invalid";
    /// Per-mutation rejection: the template or record it names is unknown to the server.
    pub const UNKNOWN_REFERENCE: &str = "unknown_reference";
    /// Per-mutation rejection: the id is already used by a different record.
    pub const DUPLICATE_ID: &str = "duplicate_id";
    /// Per-mutation rejection: the mutation's schema version is not supported.
    pub const UNSUPPORTED_SCHEMA: &str = "unsupported_schema";
    /// Per-mutation rejection: a photo attestation whose signature does not verify with the
    /// device's registered key (or the device registered none).
    pub const SIGNATURE_INVALID: &str = "signature_invalid";
    /// Upload: the request lacks `Tus-Resumable: 1.0.0` (HTTP 412).
    pub const TUS_VERSION: &str = "tus_version";
    /// Upload: the photo is not attested by this device, so the server will not take its bytes
    /// (push the records first) (HTTP 403).
    pub const NOT_REFERENCED: &str = "not_referenced";
    /// Upload: `Upload-Offset` differs from the server's; ask with `HEAD` and continue from its
    /// offset (HTTP 409).
    pub const OFFSET_MISMATCH: &str = "offset_mismatch";
    /// Upload: the chunk's `Upload-Checksum` does not match its bytes; the chunk was discarded,
    /// send it again (HTTP 460).
    pub const CHECKSUM_MISMATCH: &str = "checksum_mismatch";
    /// Upload: the finished file does not hash to the claimed SHA-256 (or its size differs
    /// from the attestation); the upload was discarded: re-hash the local file and start over
    /// (HTTP 422).
    pub const HASH_MISMATCH: &str = "hash_mismatch";
    /// Upload: expired (unfinished for 7 days) or terminated: create a new one (HTTP 410).
    pub const UPLOAD_GONE: &str = "upload_gone";
    /// Upload: the request's content type is not `application/offset+octet-stream` (HTTP 415).
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
}

/// A stable error code in every error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    /// Stable, machine-readable code (e.g. `seq_gap`, `unauthorised`).
    pub code: String,
    /// What happened and what to do next, for a person.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_fields_round_trips_and_keeps_its_tag() {
        let m = Mutation {
            device_id: DeviceId::from_uuid(Uuid::from_u128(1)),
            seq: 7,
            mutation_id: MutationId::from_uuid(Uuid::from_u128(2)),
            base_version: Some(3),
            hlc: 42 << 16,
            schema_version: crate::SCHEMA_VERSION,
            device_time: None,
            payload: Op::UpdateFields {
                entity: EntityKind::Household,
                id: Uuid::from_u128(9),
                fields: [("door_plate".to_owned(), serde_json::json!("太平村18号"))].into(),
            },
        };
        let json = serde_json::to_value(&m).expect("serialises");
        assert_eq!(
            json["payload"]["op"], "update_fields",
            "op tag is the stable name"
        );
        assert_eq!(
            json["payload"]["entity"], "household",
            "entity is snake case"
        );
        let back: Mutation = serde_json::from_value(json).expect("parses");
        assert_eq!(back, m, "round trip");
        assert_eq!(
            back.payload.target(),
            (EntityKind::Household, Uuid::from_u128(9)),
            "target"
        );
    }

    #[test]
    fn results_flatten_status() {
        let r = MutationResult {
            seq: 3,
            status: MutationStatus::Rejected {
                code: "not_assigned".into(),
                reason: "不在您的检查范围".into(),
            },
        };
        let json = serde_json::to_string(&r).expect("serialises");
        assert_eq!(
            json,
            r#"{"seq":3,"status":"rejected","code":"not_assigned","reason":"不在您的检查范围"}"#,
            "wire shape"
        );
    }
}
