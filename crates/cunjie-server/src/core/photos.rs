//! Photos on the server (sync.md §5.7): signed attestations pushed with the records, uploads
//! of the bytes, what the server checks when the bytes arrive, and which facts still wait for
//! their photos.
//!
//! A photo row is inserted once, by its SHA-256, from an attestation the device signed with
//! the key it registered at enrollment. The bytes follow by tus upload (`crate::api::uploads`),
//! only from the device that attested them; when the whole file is there and hashes to the
//! attested SHA-256, it goes into the blob store and, in one transaction, the photo is marked
//! stored and its verification recorded.

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{
    CleanerRound, GeoFix, Inspection, PhotoAttestation, PhotoHash, RectificationOrder, Subject,
};
use cunjie_domain::geo::{FixProblem, GeoPolicy, assess_fix, distance_m, distance_to_zone_m};
use cunjie_domain::ids::{VillageId, ZoneId};
use cunjie_domain::person::Role;
use cunjie_domain::place::{
    AdminVillage, Business, Facility, GeoPoint, Household, VillageGroup, Zone, ZoneGeometry,
};
use cunjie_protocol::v1::codes;
use serde::Serialize;
use uuid::Uuid;

use super::auth::device_public_key;
use super::push::{Applied, Reject, reject};
use super::registry::{assignments_of, covered_at, record};
use super::{DeviceCtx, ts};
use crate::store::{StorageError, Tx, Value, int, opt_text, text, vals};

/// The largest photo the server takes (`Tus-Max-Size`).
pub(crate) const MAX_PHOTO_BYTES: u64 = 32 * 1024 * 1024;

/// How long an unfinished upload is kept (`Upload-Expires`).
pub(crate) fn upload_lifetime() -> Duration {
    Duration::days(7)
}

/// EXIF time within this many seconds of the attested time is consistent.
pub(crate) const EXIF_TOLERANCE_S: i64 = 10 * 60;

/// A photo taken this many seconds "after" the server received its attestation is still fine:
/// the same allowance the HLC clamp gives a phone clock (`clamp_incoming`).
pub(crate) const RECEIPT_TOLERANCE_S: i64 = 60;

/// A fix farther than this from the subject, beyond its stated accuracy, is `far`.
pub(crate) const FAR_M: f64 = 100.0;

/// China Standard Time: EXIF DateTimeOriginal has no zone, and phones here write local time.
fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

// ---------------------------------------------------------------------------------------------
// Where a subject is.

/// A subject's shape on the ground.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Location {
    /// A point (household, business, facility, village centre).
    Point(GeoPoint),
    /// A zone's polygon or line.
    Zone(ZoneGeometry),
    /// Not known.
    Unknown,
}

/// Where a subject belongs and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Place {
    pub(crate) township: String,
    pub(crate) village: Option<VillageId>,
    pub(crate) zone: Option<ZoneId>,
    pub(crate) location: Location,
}

fn point(p: Option<GeoPoint>) -> Location {
    p.map_or(Location::Unknown, Location::Point)
}

/// The registry's view of a subject, or `None` if the server does not know it.
pub(crate) fn subject_place(
    tx: &mut dyn Tx,
    subject: &Subject,
    device_township: &str,
) -> Result<Option<Place>, StorageError> {
    let id = subject.id.to_string();
    let entity = match subject.kind {
        SubjectKind::Household => "household",
        SubjectKind::Business => "business",
        SubjectKind::Zone => "zone",
        SubjectKind::Facility => "facility",
        SubjectKind::AdminVillage => "village",
        SubjectKind::VillageGroup => "group",
        SubjectKind::Township => {
            return Ok((id == device_township).then(|| Place {
                township: id.clone(),
                village: None,
                zone: None,
                location: Location::Unknown,
            }));
        }
        // The town seat has no registry record yet: it is the device's own township.
        SubjectKind::TownSeat => {
            return Ok(Some(Place {
                township: device_township.to_owned(),
                village: None,
                zone: None,
                location: Location::Unknown,
            }));
        }
    };
    let Some((row, _, _, township)) = record(tx, entity, &id)? else {
        return Ok(None);
    };
    let place = |village, zone, location| Place {
        township: township.clone(),
        village: Some(village),
        zone,
        location,
    };
    Ok(Some(match subject.kind {
        SubjectKind::Household => {
            let h: Household = serde_json::from_value(row)?;
            place(h.village, None, point(h.location))
        }
        SubjectKind::Business => {
            let b: Business = serde_json::from_value(row)?;
            place(b.village, None, point(b.location))
        }
        SubjectKind::Zone => {
            let z: Zone = serde_json::from_value(row)?;
            place(z.village, Some(z.id), Location::Zone(z.geometry))
        }
        SubjectKind::Facility => {
            let f: Facility = serde_json::from_value(row)?;
            place(f.village, f.zone, Location::Point(f.location))
        }
        SubjectKind::AdminVillage => {
            let v: AdminVillage = serde_json::from_value(row)?;
            place(v.id, None, point(v.centroid))
        }
        _ => {
            let g: VillageGroup = serde_json::from_value(row)?;
            place(g.village, None, Location::Unknown)
        }
    }))
}

/// Whether the person behind `dev` could photograph `subject` at `at`: assigned to its village
/// (a role that inspects) or its zone (a role that cleans), the assignee of a rectification
/// order about it, or township staff for a township-level subject.
fn may_photograph(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    subject: &Subject,
    place: &Place,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let assignments = assignments_of(tx, &dev.person.to_string())?;
    let (villages, zones) = covered_at(&assignments, at);
    if dev.role.inspects() && place.village.is_some_and(|v| villages.contains(&v)) {
        return Ok(true);
    }
    if dev.role.cleans() && place.zone.is_some_and(|z| zones.contains(&z)) {
        return Ok(true);
    }
    if place.village.is_none() && matches!(dev.role, Role::TownshipAssessor | Role::TownshipAdmin) {
        return Ok(true);
    }
    // The assignee of a rectification photographs the fix, wherever they are assigned.
    for r in tx.query(
        "SELECT row_json FROM rectification WHERE assignee_id = $1",
        vals![dev.person.to_string()],
    )? {
        let order: RectificationOrder = serde_json::from_str(&text(&r, 0, "row_json")?)?;
        if order.subject == *subject {
            return Ok(true);
        }
    }
    Ok(false)
}

// ---------------------------------------------------------------------------------------------
// Attestations (in the push transaction).

/// Applies an `AttestPhoto` mutation: checks the signature against the device's registered key
/// and the subject against the device's township and assignments, then records the photo once.
pub(crate) fn attest(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    a: &PhotoAttestation,
    signature: &str,
    now: DateTime<Utc>,
) -> Result<Applied, StorageError> {
    if a.device_id != dev.id {
        return Ok(reject(
            codes::DEVICE_MISMATCH,
            "照片声明属于另一台手机 (the attestation names another device)",
        ));
    }
    let Some(key) = device_public_key(tx, dev.id)? else {
        return Ok(reject(
            codes::SIGNATURE_INVALID,
            "本机登记时没有签名密钥，请重新登记 (no device key registered; enroll this phone again)",
        ));
    };
    if cunjie_media::verify_attestation(&key, a, signature).is_err() {
        return Ok(reject(
            codes::SIGNATURE_INVALID,
            "照片签名无效 (the photo's signature does not verify with this device's key)",
        ));
    }
    let sha = a.sha256.as_str();
    let existing = tx.query(
        "SELECT device_id, attestation FROM photo WHERE sha256 = $1",
        vals![sha],
    )?;
    if let Some(r) = existing.first() {
        let same_device = text(r, 0, "device_id")? == dev.id.to_string();
        let stored: PhotoAttestation = serde_json::from_str(&text(r, 1, "attestation")?)?;
        return Ok(
            if same_device && stored.signing_bytes() == a.signing_bytes() {
                Ok(1)
            } else {
                Err(Reject(
                    codes::DUPLICATE_ID,
                    format!("照片 {sha} 已登记过不同的说明 (photo already attested differently)"),
                ))
            },
        );
    }
    if a.size == 0 || a.size > MAX_PHOTO_BYTES {
        return Ok(reject(
            codes::INVALID,
            format!(
                "照片大小 {} 字节不在允许范围内 (photo size must be 1 to {MAX_PHOTO_BYTES} bytes)",
                a.size
            ),
        ));
    }
    let township = dev.township.to_string();
    let Some(place) = subject_place(tx, &a.subject, &township)? else {
        return Ok(reject(
            codes::UNKNOWN_REFERENCE,
            format!(
                "照片对象不存在 (unknown {} {})",
                a.subject.kind.as_str(),
                a.subject.id
            ),
        ));
    };
    if place.township != township {
        return Ok(reject(
            codes::FORBIDDEN,
            "照片对象不属于本镇 (subject of another township)",
        ));
    }
    if !may_photograph(tx, dev, &a.subject, &place, a.taken_at)? {
        return Ok(reject(
            codes::NOT_ASSIGNED,
            "拍照时您未被分配到该对象 (not assigned to this subject when the photo was taken)",
        ));
    }
    let flags = if may_photograph(tx, dev, &a.subject, &place, now)? {
        ""
    } else {
        "assignment_changed"
    };
    tx.exec(
        "INSERT INTO photo (sha256, township_id, device_id, person_id, subject_kind, subject_id, size, taken_at, attestation, signature, received_at, flags, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending')",
        vals![
            sha,
            township,
            dev.id.to_string(),
            dev.person.to_string(),
            a.subject.kind.as_str(),
            a.subject.id.to_string(),
            a.size,
            ts(a.taken_at),
            serde_json::to_string(a)?,
            signature,
            ts(now),
            flags
        ],
    )?;
    Ok(Ok(1))
}

// ---------------------------------------------------------------------------------------------
// Uploads.

/// An upload's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadState {
    /// Taking bytes.
    Open,
    /// Finished: the blob is stored.
    Done,
    /// Expired, terminated or discarded (hash mismatch).
    Gone,
}

impl UploadState {
    fn parse(s: &str) -> Result<Self, StorageError> {
        match s {
            "open" => Ok(Self::Open),
            "done" => Ok(Self::Done),
            "gone" => Ok(Self::Gone),
            _ => Err(StorageError::Column("state")),
        }
    }
}

/// One tus upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Upload {
    pub(crate) id: Uuid,
    pub(crate) sha256: PhotoHash,
    pub(crate) device_id: String,
    pub(crate) length: u64,
    pub(crate) offset: u64,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) state: UploadState,
}

impl Upload {
    /// Whether the upload can take bytes at `now`.
    pub(crate) fn live(&self, now: DateTime<Utc>) -> bool {
        self.state != UploadState::Gone && now < self.expires_at
    }
}

fn parse_ts(s: &str, column: &'static str) -> Result<DateTime<Utc>, StorageError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StorageError::Column(column))
}

fn u64_of(row: &[Value], i: usize, name: &'static str) -> Result<u64, StorageError> {
    u64::try_from(int(row, i, name)?).map_err(|_| StorageError::Column(name))
}

/// Why an upload cannot be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// This device did not attest the photo.
    NotReferenced,
    /// `Upload-Length` differs from the attested size.
    SizeDiffers {
        /// The attested size.
        attested: u64,
    },
}

/// Creates an upload for a photo this device attested.
#[allow(clippy::too_many_arguments, reason = "an upload's parts")]
pub(crate) fn create_upload(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    id: Uuid,
    sha256: &PhotoHash,
    length: u64,
    metadata: &str,
    now: DateTime<Utc>,
) -> Result<Result<Upload, Refusal>, StorageError> {
    let rows = tx.query(
        "SELECT size FROM photo WHERE sha256 = $1 AND device_id = $2",
        vals![sha256.as_str(), dev.id.to_string()],
    )?;
    let Some(row) = rows.first() else {
        return Ok(Err(Refusal::NotReferenced));
    };
    let attested = u64_of(row, 0, "size")?;
    if attested != length {
        return Ok(Err(Refusal::SizeDiffers { attested }));
    }
    let expires_at = now + upload_lifetime();
    tx.exec(
        "INSERT INTO upload (id, sha256, device_id, township_id, length, upload_offset, metadata, created_at, expires_at, state)
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, 'open')",
        vals![
            id.to_string(),
            sha256.as_str(),
            dev.id.to_string(),
            dev.township.to_string(),
            length,
            metadata,
            ts(now),
            ts(expires_at)
        ],
    )?;
    Ok(Ok(Upload {
        id,
        sha256: sha256.clone(),
        device_id: dev.id.to_string(),
        length,
        offset: 0,
        expires_at,
        state: UploadState::Open,
    }))
}

/// An upload by id.
pub(crate) fn upload(tx: &mut dyn Tx, id: Uuid) -> Result<Option<Upload>, StorageError> {
    let rows = tx.query(
        "SELECT sha256, device_id, length, upload_offset, expires_at, state FROM upload WHERE id = $1",
        vals![id.to_string()],
    )?;
    let Some(r) = rows.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some(Upload {
        id,
        sha256: text(&r, 0, "sha256")?
            .parse()
            .map_err(|_| StorageError::Column("sha256"))?,
        device_id: text(&r, 1, "device_id")?,
        length: u64_of(&r, 2, "length")?,
        offset: u64_of(&r, 3, "upload_offset")?,
        expires_at: parse_ts(&text(&r, 4, "expires_at")?, "expires_at")?,
        state: UploadState::parse(&text(&r, 5, "state")?)?,
    }))
}

/// Records the bytes an open upload now durably holds.
pub(crate) fn set_offset(tx: &mut dyn Tx, id: Uuid, offset: u64) -> Result<(), StorageError> {
    tx.exec(
        "UPDATE upload SET upload_offset = $1 WHERE id = $2 AND state = 'open'",
        vals![offset, id.to_string()],
    )?;
    Ok(())
}

/// Marks an upload gone (`expired`, `terminated`, `hash_mismatch`).
pub(crate) fn mark_gone(
    tx: &mut dyn Tx,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    tx.exec(
        "UPDATE upload SET state = 'gone', gone_reason = $1, finished_at = $2 WHERE id = $3 AND state = 'open'",
        vals![reason, ts(now), id.to_string()],
    )?;
    Ok(())
}

/// Terminates an upload (tus termination): open or finished, it is gone from now on.
pub(crate) fn terminate_upload(
    tx: &mut dyn Tx,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    tx.exec(
        "UPDATE upload SET state = 'gone', gone_reason = 'terminated', finished_at = $1 WHERE id = $2 AND state <> 'gone'",
        vals![ts(now), id.to_string()],
    )?;
    Ok(())
}

/// Whether an upload is open (its partial file must be kept).
pub(crate) fn upload_is_open(tx: &mut dyn Tx, id: Uuid) -> Result<bool, StorageError> {
    Ok(!tx
        .query(
            "SELECT 1 FROM upload WHERE id = $1 AND state = 'open'",
            vals![id.to_string()],
        )?
        .is_empty())
}

/// What finalising an upload needs to know about its photo.
#[derive(Debug, Clone)]
pub(crate) struct PhotoRecord {
    pub(crate) attestation: PhotoAttestation,
    pub(crate) signature: String,
    pub(crate) public_key: Option<String>,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) stored: bool,
    pub(crate) place: Option<Place>,
}

/// A photo's attestation, signature, device key and subject place.
pub(crate) fn photo_record(
    tx: &mut dyn Tx,
    sha256: &PhotoHash,
) -> Result<Option<PhotoRecord>, StorageError> {
    let rows = tx.query(
        "SELECT p.attestation, p.signature, d.public_key, p.received_at, p.state, p.township_id
         FROM photo p JOIN device d ON d.id = p.device_id WHERE p.sha256 = $1",
        vals![sha256.as_str()],
    )?;
    let Some(r) = rows.into_iter().next() else {
        return Ok(None);
    };
    let attestation: PhotoAttestation = serde_json::from_str(&text(&r, 0, "attestation")?)?;
    let township = text(&r, 5, "township_id")?;
    let place = subject_place(tx, &attestation.subject, &township)?;
    Ok(Some(PhotoRecord {
        attestation,
        signature: text(&r, 1, "signature")?,
        public_key: opt_text(&r, 2),
        received_at: parse_ts(&text(&r, 3, "received_at")?, "received_at")?,
        stored: text(&r, 4, "state")? == "stored",
        place,
    }))
}

/// Finishes an upload whose blob is durably stored: the upload is done, the photo stored, and
/// its verification recorded (the first time only). One transaction.
pub(crate) fn finish_upload(
    tx: &mut dyn Tx,
    up: &Upload,
    verification: &Verification,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    tx.exec(
        "UPDATE upload SET state = 'done', upload_offset = length, finished_at = $1 WHERE id = $2",
        vals![ts(now), up.id.to_string()],
    )?;
    let sha = up.sha256.as_str();
    let newly = tx.exec(
        "UPDATE photo SET state = 'stored', stored_at = $1 WHERE sha256 = $2 AND state = 'pending'",
        vals![ts(now), sha],
    )?;
    if newly == 1 {
        let v = verification;
        tx.exec(
            "INSERT INTO photo_verification (sha256, verified_at, hash_ok, signature_ok, time_check, exif_taken_at, exif_minus_taken_s, received_minus_taken_s, place_check, distance_m, accuracy_m, beyond_accuracy_m, exif_gps)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            vals![
                sha,
                ts(now),
                v.hash_ok,
                v.signature_ok,
                &v.time_check,
                v.exif_taken_at.clone(),
                v.exif_minus_taken_s,
                v.received_minus_taken_s,
                &v.place_check,
                v.distance_m,
                v.accuracy_m,
                v.beyond_accuracy_m,
                v.exif_gps.clone()
            ],
        )?;
    }
    Ok(())
}

/// A photo's state in a township: `Some("pending" | "stored")`, `None` if not attested there.
pub(crate) fn photo_state(
    tx: &mut dyn Tx,
    sha256: &PhotoHash,
    township: &str,
) -> Result<Option<String>, StorageError> {
    let rows = tx.query(
        "SELECT state FROM photo WHERE sha256 = $1 AND township_id = $2",
        vals![sha256.as_str(), township],
    )?;
    Ok(rows.first().and_then(|r| opt_text(r, 0)))
}

// ---------------------------------------------------------------------------------------------
// Verification.

/// What the server checked when a photo's bytes arrived; the columns of `photo_verification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct Verification {
    /// The bytes hash to the attested SHA-256.
    pub(crate) hash_ok: bool,
    /// The attestation's signature verifies with the device's key.
    pub(crate) signature_ok: bool,
    /// `ok`, `exif_mismatch`, `after_receipt` or `no_exif`.
    pub(crate) time_check: String,
    /// EXIF DateTimeOriginal read as China time (+08:00), in UTC.
    pub(crate) exif_taken_at: Option<String>,
    /// EXIF time minus attested time, seconds.
    pub(crate) exif_minus_taken_s: Option<i64>,
    /// Server receipt of the attestation minus attested time, seconds (negative: "taken"
    /// after the server already had it).
    pub(crate) received_minus_taken_s: i64,
    /// `ok`, `far`, `no_fix` or `no_place`.
    pub(crate) place_check: String,
    /// Distance from the fix to the subject, metres (0 inside a polygon zone).
    pub(crate) distance_m: Option<i64>,
    /// The fix's stated accuracy, metres.
    pub(crate) accuracy_m: Option<i64>,
    /// Distance minus accuracy, metres; over 100 is `far`.
    pub(crate) beyond_accuracy_m: Option<i64>,
    /// GPS position in the EXIF, `lat,lon`, if any.
    pub(crate) exif_gps: Option<String>,
}

/// What EXIF said, as the checks need it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Exif {
    pub(crate) taken_at: Option<NaiveDateTime>,
    pub(crate) gps: Option<(f64, f64)>,
}

fn round_m(x: f64) -> i64 {
    x.round() as i64
}

/// The time and place checks of a photo (hash and signature are the caller's).
pub(crate) fn verify(
    a: &PhotoAttestation,
    received_at: DateTime<Utc>,
    exif: Exif,
    place: Option<&Place>,
    hash_ok: bool,
    signature_ok: bool,
) -> Verification {
    let exif_utc = exif
        .taken_at
        .and_then(|n| china().from_local_datetime(&n).single())
        .map(|t| t.with_timezone(&Utc));
    let exif_minus_taken_s = exif_utc.map(|t| (t - a.taken_at).num_seconds());
    let received_minus_taken_s = (received_at - a.taken_at).num_seconds();
    let time_check = if received_minus_taken_s < -RECEIPT_TOLERANCE_S {
        "after_receipt"
    } else {
        match exif_minus_taken_s {
            None => "no_exif",
            Some(d) if d.abs() > EXIF_TOLERANCE_S => "exif_mismatch",
            Some(_) => "ok",
        }
    };
    // A fix out of range, a desktop 0,0 stub or a mock location proves nothing; a poor
    // accuracy is allowed for by subtracting it.
    let usable_fix = a
        .fix
        .filter(|f| match assess_fix(f, &GeoPolicy::default()) {
            Ok(()) => true,
            Err(problems) => problems.iter().all(|p| *p == FixProblem::PoorAccuracy),
        });
    let distance = |fix: &GeoFix| -> Option<f64> {
        match &place?.location {
            Location::Point(p) => p.is_valid().then(|| distance_m(fix.point, *p)),
            Location::Zone(z) => distance_to_zone_m(fix.point, z),
            Location::Unknown => None,
        }
    };
    let (place_check, distance_m_, accuracy_m, beyond) = match usable_fix {
        None => ("no_fix", None, None, None),
        Some(fix) => match distance(&fix) {
            None => ("no_place", None, Some(round_m(fix.accuracy_m)), None),
            Some(d) => {
                let beyond = d - fix.accuracy_m;
                (
                    if beyond > FAR_M { "far" } else { "ok" },
                    Some(round_m(d)),
                    Some(round_m(fix.accuracy_m)),
                    Some(round_m(beyond)),
                )
            }
        },
    };
    Verification {
        hash_ok,
        signature_ok,
        time_check: time_check.to_owned(),
        exif_taken_at: exif_utc.map(ts),
        exif_minus_taken_s,
        received_minus_taken_s,
        place_check: place_check.to_owned(),
        distance_m: distance_m_,
        accuracy_m,
        beyond_accuracy_m: beyond,
        exif_gps: exif.gps.map(|(lat, lon)| format!("{lat:.6},{lon:.6}")),
    }
}

fn verification_row(r: &[Value]) -> Result<Verification, StorageError> {
    let opt_int = |i: usize| r.get(i).and_then(Value::int);
    Ok(Verification {
        hash_ok: int(r, 0, "hash_ok")? != 0,
        signature_ok: int(r, 1, "signature_ok")? != 0,
        time_check: text(r, 2, "time_check")?,
        exif_taken_at: opt_text(r, 3),
        exif_minus_taken_s: opt_int(4),
        received_minus_taken_s: int(r, 5, "received_minus_taken_s")?,
        place_check: text(r, 6, "place_check")?,
        distance_m: opt_int(7),
        accuracy_m: opt_int(8),
        beyond_accuracy_m: opt_int(9),
        exif_gps: opt_text(r, 10),
    })
}

/// A photo's recorded verification, if its bytes arrived.
pub(crate) fn verification(
    tx: &mut dyn Tx,
    sha256: &str,
) -> Result<Option<Verification>, StorageError> {
    tx.query(
        "SELECT hash_ok, signature_ok, time_check, exif_taken_at, exif_minus_taken_s, received_minus_taken_s, place_check, distance_m, accuracy_m, beyond_accuracy_m, exif_gps
         FROM photo_verification WHERE sha256 = $1",
        vals![sha256],
    )?
    .first()
    .map(|r| verification_row(r))
    .transpose()
}

// ---------------------------------------------------------------------------------------------
// Evidence: which photos a fact names and which are still missing.

/// One photo of a fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct EvidencePhoto {
    pub(crate) sha256: String,
    /// `pending` until the bytes are in the blob store, then `stored`.
    pub(crate) state: &'static str,
    /// Whether the device's signed attestation arrived.
    pub(crate) attested: bool,
    pub(crate) verification: Option<Verification>,
}

/// A fact's photos and how many are still pending ("photos pending" on the dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Evidence {
    pub(crate) fact_id: String,
    /// `inspection`, `round` or `rectification`.
    pub(crate) kind: String,
    pub(crate) photos: Vec<EvidencePhoto>,
    pub(crate) photos_pending: usize,
}

/// The photos a stored fact names, in order, without repeats.
fn photos_of(kind: &str, row: &str) -> Result<Vec<PhotoHash>, StorageError> {
    let mut all: Vec<PhotoHash> = match kind {
        "inspection" => serde_json::from_str::<Inspection>(row)?.photos(),
        "round" => {
            let r: CleanerRound = serde_json::from_str(row)?;
            r.visits
                .iter()
                .flat_map(|v| v.photos.iter().cloned())
                .chain(r.problems.iter().flat_map(|p| p.photos.iter().cloned()))
                .collect()
        }
        _ => {
            let o: RectificationOrder = serde_json::from_str(row)?;
            o.before_photos
                .iter()
                .chain(o.after_photos.iter())
                .cloned()
                .collect()
        }
    };
    let mut seen = std::collections::HashSet::new();
    all.retain(|h| seen.insert(h.clone()));
    Ok(all)
}

/// The evidence of a fact (inspection, round or rectification) of `township`.
pub(crate) fn evidence(
    tx: &mut dyn Tx,
    township: &str,
    fact_id: &str,
) -> Result<Option<Evidence>, StorageError> {
    let mut rows = tx.query(
        "SELECT kind, row_json FROM fact WHERE id = $1 AND township_id = $2",
        vals![fact_id, township],
    )?;
    if rows.is_empty() {
        rows = tx.query(
            "SELECT 'rectification', row_json FROM rectification WHERE id = $1 AND township_id = $2",
            vals![fact_id, township],
        )?;
    }
    let Some(r) = rows.into_iter().next() else {
        return Ok(None);
    };
    let kind = text(&r, 0, "kind")?;
    let mut photos = Vec::new();
    for h in photos_of(&kind, &text(&r, 1, "row_json")?)? {
        let state = photo_state(tx, &h, township)?;
        let verification = if state.as_deref() == Some("stored") {
            verification(tx, h.as_str())?
        } else {
            None
        };
        photos.push(EvidencePhoto {
            sha256: h.to_string(),
            state: if state.as_deref() == Some("stored") {
                "stored"
            } else {
                "pending"
            },
            attested: state.is_some(),
            verification,
        });
    }
    let photos_pending = photos.iter().filter(|p| p.state == "pending").count();
    Ok(Some(Evidence {
        fact_id: fact_id.to_owned(),
        kind,
        photos,
        photos_pending,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cunjie_domain::ids::DeviceId;

    fn attestation(taken_at: DateTime<Utc>, fix: Option<GeoFix>) -> PhotoAttestation {
        PhotoAttestation {
            sha256: "ab".repeat(32).parse().expect("hex"),
            size: 10,
            taken_at,
            fix,
            subject: Subject {
                kind: SubjectKind::Household,
                id: Uuid::nil(),
            },
            device_id: DeviceId::from_uuid(Uuid::nil()),
        }
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 17, h, m, s)
            .single()
            .expect("a time")
    }

    fn fix(lat: f64, lon: f64, accuracy_m: f64) -> GeoFix {
        GeoFix {
            point: GeoPoint::new(lat, lon),
            accuracy_m,
            fix_time: None,
            mock: false,
        }
    }

    fn place_at(p: GeoPoint) -> Place {
        Place {
            township: String::new(),
            village: None,
            zone: None,
            location: Location::Point(p),
        }
    }

    #[test]
    fn exif_time_is_china_time_and_compared_with_the_attested_time() {
        let taken = at(1, 0, 0); // 09:00 in China
        let a = attestation(taken, None);
        let exif = |h, m| Exif {
            taken_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 17)
                .and_then(|d| d.and_hms_opt(h, m, 0)),
            gps: None,
        };
        let v = verify(&a, at(2, 0, 0), exif(9, 3), None, true, true);
        assert_eq!(
            (v.time_check.as_str(), v.exif_minus_taken_s),
            ("ok", Some(180)),
            "09:03 +08:00 is three minutes after 01:00 UTC"
        );
        assert_eq!(v.received_minus_taken_s, 3600, "received an hour later");
        let v = verify(&a, at(2, 0, 0), exif(9, 11), None, true, true);
        assert_eq!(
            (v.time_check.as_str(), v.exif_minus_taken_s),
            ("exif_mismatch", Some(660)),
            "eleven minutes apart is a mismatch"
        );
        let v = verify(&a, at(2, 0, 0), Exif::default(), None, true, true);
        assert_eq!(v.time_check, "no_exif", "no EXIF time");
        let v = verify(&a, at(0, 58, 0), exif(9, 0), None, true, true);
        assert_eq!(
            (v.time_check.as_str(), v.received_minus_taken_s),
            ("after_receipt", -120),
            "taken two minutes after the server had the attestation"
        );
        let v = verify(&a, at(0, 59, 30), exif(9, 0), None, true, true);
        assert_eq!(v.time_check, "ok", "30 s of clock difference is allowed");
    }

    #[test]
    fn place_is_the_fix_against_the_subject_with_its_accuracy() {
        let house = GeoPoint::new(27.7, 113.8);
        // 0.001° of latitude is about 111 m.
        let near = attestation(at(1, 0, 0), Some(fix(27.7005, 113.8, 10.0)));
        let v = verify(
            &near,
            at(2, 0, 0),
            Exif::default(),
            Some(&place_at(house)),
            true,
            true,
        );
        assert_eq!(v.place_check, "ok", "56 m away: {v:?}");
        assert_eq!(v.distance_m, Some(56), "metres to the house");
        let far = attestation(at(1, 0, 0), Some(fix(27.703, 113.8, 20.0)));
        let v = verify(
            &far,
            at(2, 0, 0),
            Exif::default(),
            Some(&place_at(house)),
            true,
            true,
        );
        assert_eq!(
            (v.place_check.as_str(), v.distance_m, v.beyond_accuracy_m),
            ("far", Some(334), Some(314)),
            "334 m with 20 m accuracy is far"
        );
        let blurry = attestation(at(1, 0, 0), Some(fix(27.703, 113.8, 300.0)));
        let v = verify(
            &blurry,
            at(2, 0, 0),
            Exif::default(),
            Some(&place_at(house)),
            true,
            true,
        );
        assert_eq!(v.place_check, "ok", "a 300 m accuracy covers 334 m: {v:?}");
        let v = verify(
            &attestation(at(1, 0, 0), None),
            at(2, 0, 0),
            Exif::default(),
            Some(&place_at(house)),
            true,
            true,
        );
        assert_eq!(v.place_check, "no_fix", "no fix");
        let stub = attestation(at(1, 0, 0), Some(fix(0.0, 0.0, 0.0)));
        let v = verify(
            &stub,
            at(2, 0, 0),
            Exif::default(),
            Some(&place_at(house)),
            true,
            true,
        );
        assert_eq!(v.place_check, "no_fix", "a desktop 0,0 stub is no fix");
        let v = verify(&near, at(2, 0, 0), Exif::default(), None, true, true);
        assert_eq!(v.place_check, "no_place", "subject without a location");
        let zone = Place {
            location: Location::Zone(ZoneGeometry::Polygon(vec![
                GeoPoint::new(27.69, 113.79),
                GeoPoint::new(27.69, 113.81),
                GeoPoint::new(27.71, 113.81),
                GeoPoint::new(27.71, 113.79),
            ])),
            ..place_at(house)
        };
        let v = verify(&near, at(2, 0, 0), Exif::default(), Some(&zone), true, true);
        assert_eq!(
            (v.place_check.as_str(), v.distance_m),
            ("ok", Some(0)),
            "inside the zone's polygon"
        );
    }
}
