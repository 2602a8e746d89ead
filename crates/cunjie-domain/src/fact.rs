//! Facts: what inspectors and cleaners record in the field.
//!
//! An inspection or a round is a draft while it is being filled in on the phone; once submitted
//! it is immutable, and a correction is a new inspection that names the one it `supersedes`.
//! Every fact keeps three clocks apart: the device's time, the GPS fix's time, and (once synced)
//! the server's receive time.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::SubjectKind;
use crate::ids::{
    DeviceId, FacilityId, InspectionId, PersonId, ProblemId, RectificationId, RoundId, VillageId,
    ZoneId,
};
use crate::place::GeoPoint;
use crate::template::TemplateRef;

/// The SHA-256 of a photo's upload derivative, as 64 lower-case hex digits. Rows name photos
/// by this, never by path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(try_from = "String", into = "String")]
pub struct PhotoHash(String);

/// Not a SHA-256 in lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a SHA-256 photo hash (64 lower-case hex digits)")]
pub struct PhotoHashError(String);

impl PhotoHash {
    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PhotoHash {
    type Err = PhotoHashError;
    fn from_str(s: &str) -> Result<Self, PhotoHashError> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(PhotoHashError(s.chars().take(80).collect()))
        }
    }
}

impl TryFrom<String> for PhotoHash {
    type Error = PhotoHashError;
    fn try_from(s: String) -> Result<Self, PhotoHashError> {
        s.parse()
    }
}

impl From<PhotoHash> for String {
    fn from(h: PhotoHash) -> String {
        h.0
    }
}

impl fmt::Display for PhotoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A position fix as the phone reported it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GeoFix {
    /// Where.
    pub point: GeoPoint,
    /// Horizontal accuracy in metres (68 %), as the OS reports it.
    pub accuracy_m: f64,
    /// The fix's own UTC time (from the GNSS), independent of the phone's clock.
    pub fix_time: Option<DateTime<Utc>>,
    /// The OS says the position came from a mock provider.
    pub mock: bool,
}

/// What a phone claims about one photo, signed with its device key (Ed25519) at capture:
/// the derivative's hash and size, when and where it was taken, of what, by which device.
///
/// It travels in the outbox before the photo's bytes (records first, photos at their own pace),
/// so the server knows what it will receive, and a photo that arrives days later cannot be
/// swapped or backdated: its bytes must hash to `sha256` and the signature must verify over
/// [`PhotoAttestation::signing_bytes`] with the key the device registered at enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PhotoAttestation {
    /// SHA-256 of the upload derivative (watermark included).
    pub sha256: PhotoHash,
    /// Size of the derivative in bytes.
    pub size: u64,
    /// The phone's clock when the photo was taken.
    pub taken_at: DateTime<Utc>,
    /// The position fix at capture, if there was one.
    pub fix: Option<GeoFix>,
    /// What the photo is evidence about (the household, zone or facility).
    pub subject: Subject,
    /// The device that took it and signed this.
    pub device_id: DeviceId,
}

impl PhotoAttestation {
    /// Version tag at the start of the signed statement.
    pub const SIGNING_TAG: &'static str = "cunjie-photo-attestation-v1";

    /// The exact bytes the device signs and the server verifies: one field per line, times as
    /// Unix milliseconds, coordinates with 7 decimals and accuracy with 1, `-` for no fix.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let fix = match &self.fix {
            Some(f) => format!(
                "{:.7},{:.7},{:.1},{}",
                f.point.lat,
                f.point.lon,
                f.accuracy_m,
                f.fix_time
                    .map_or_else(|| "-".to_owned(), |t| t.timestamp_millis().to_string())
            ),
            None => "-".to_owned(),
        };
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}:{}\n{}\n",
            Self::SIGNING_TAG,
            self.sha256,
            self.size,
            self.taken_at.timestamp_millis(),
            fix,
            self.subject.kind.as_str(),
            self.subject.id,
            self.device_id,
        )
        .into_bytes()
    }
}

/// What is inspected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Subject {
    /// Kind of subject.
    pub kind: SubjectKind,
    /// Its id (a household, business, village, zone or facility id).
    pub id: Uuid,
}

/// Why an inspection was made (E9, the ones the app records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InspectionType {
    /// 村两委每月农户检查
    HouseholdMonthly,
    /// 每周检查
    Weekly,
    /// 村月度自评 (before the 16th)
    VillageSelfEval,
    /// 镇月度复查 (16th–19th)
    TownshipRecheck,
    /// 整改复查: re-inspection after a rectification
    RectificationRecheck,
    /// 随机抽查 / ad hoc
    AdHoc,
}

/// The answer to one checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 合格
    Pass,
    /// 不合格
    Fail,
    /// 不适用
    NotApplicable,
}

/// One answered item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ItemResult {
    /// Catalog item code.
    pub item_code: String,
    /// Pass, fail or N/A.
    pub outcome: Outcome,
    /// For a failure scored per unit: how many occurrences, households or missing items.
    pub count: u32,
    /// Inspector's note.
    pub note: Option<String>,
    /// Photos by hash.
    pub photos: Vec<PhotoHash>,
}

impl ItemResult {
    /// A pass.
    pub fn pass(code: &str) -> Self {
        Self {
            item_code: code.to_owned(),
            outcome: Outcome::Pass,
            count: 0,
            note: None,
            photos: vec![],
        }
    }

    /// A failure counted `count` times, with photos.
    pub fn fail(code: &str, count: u32, photos: Vec<PhotoHash>) -> Self {
        Self {
            item_code: code.to_owned(),
            outcome: Outcome::Fail,
            count,
            note: None,
            photos,
        }
    }
}

/// Whether a fact is still being filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FactStatus {
    /// 草稿: on the phone only, editable.
    Draft,
    /// 已提交: immutable, queued for sync.
    Submitted,
}

/// An inspection of one subject against one template version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Inspection {
    /// Id (UUIDv7 from the phone).
    pub id: InspectionId,
    /// Template and version filled in.
    pub template: TemplateRef,
    /// What is inspected.
    pub subject: Subject,
    /// The village findings are charged to (observed-at is the subject; charged-to is this).
    pub village: VillageId,
    /// Why.
    pub kind: InspectionType,
    /// Who.
    pub inspector: PersonId,
    /// On which phone.
    pub device: DeviceId,
    /// Device time when started.
    pub started_at: DateTime<Utc>,
    /// Device time when submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Server time when the server received it; set by the server, never by the phone.
    #[serde(default)]
    pub server_received_at: Option<DateTime<Utc>>,
    /// Where the inspector stood.
    pub fix: Option<GeoFix>,
    /// Answers, in the order given.
    pub results: Vec<ItemResult>,
    /// General note.
    pub note: Option<String>,
    /// The inspection this one corrects.
    pub supersedes: Option<InspectionId>,
    /// Draft or submitted.
    pub status: FactStatus,
}

impl Inspection {
    /// A new draft of one template version for a subject: nothing answered, no fix yet,
    /// a household's monthly check unless the caller says otherwise.
    pub fn start(
        id: InspectionId,
        template: TemplateRef,
        subject: Subject,
        village: VillageId,
        inspector: PersonId,
        device: DeviceId,
        started_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            template,
            subject,
            village,
            kind: InspectionType::HouseholdMonthly,
            inspector,
            device,
            started_at,
            submitted_at: None,
            server_received_at: None,
            fix: None,
            results: vec![],
            note: None,
            supersedes: None,
            status: FactStatus::Draft,
        }
    }

    /// Marks every item of the template not yet answered as passed: the "all fine" tap an
    /// inspector makes before flipping the few failures.
    pub fn pass_remaining(&mut self, template: &crate::template::Template) {
        for item in &template.items {
            if self.result(&item.item_code).is_none() {
                self.results.push(ItemResult::pass(&item.item_code));
            }
        }
    }

    /// The answer for an item, if given.
    pub fn result(&self, code: &str) -> Option<&ItemResult> {
        self.results.iter().find(|r| r.item_code == code)
    }

    /// Sets (or replaces) the answer for an item.
    pub fn answer(&mut self, result: ItemResult) {
        match self
            .results
            .iter_mut()
            .find(|r| r.item_code == result.item_code)
        {
            Some(slot) => *slot = result,
            None => self.results.push(result),
        }
    }

    /// Failed items.
    pub fn failures(&self) -> impl Iterator<Item = &ItemResult> {
        self.results.iter().filter(|r| r.outcome == Outcome::Fail)
    }

    /// Every photo hash referenced, once each.
    pub fn photos(&self) -> Vec<PhotoHash> {
        let mut all: Vec<PhotoHash> = self
            .results
            .iter()
            .flat_map(|r| r.photos.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// One GPS sample of a round's trace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TracePoint {
    /// Where.
    pub point: GeoPoint,
    /// Accuracy in metres.
    pub accuracy_m: f64,
    /// When (fix time if the GNSS gave one, else device time).
    pub at: DateTime<Utc>,
}

/// The state a cleaner found a checkpoint in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckpointState {
    /// 已清运
    Cleared,
    /// 满溢
    Overflowing,
    /// 损坏
    Damaged,
}

impl CheckpointState {
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Cleared => "已清运",
            Self::Overflowing => "满溢",
            Self::Damaged => "损坏",
        }
    }
}

/// A visit to a garbage pool or bin during a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckpointVisit {
    /// The facility.
    pub facility: FacilityId,
    /// Its uniform number, as shown to the cleaner.
    pub number: String,
    /// What was found or done.
    pub state: CheckpointState,
    /// Device time.
    pub at: DateTime<Utc>,
    /// Where the cleaner stood.
    pub fix: Option<GeoFix>,
    /// Photos.
    pub photos: Vec<PhotoHash>,
    /// Note.
    pub note: Option<String>,
}

/// A problem a cleaner reports during a round (a 六无 condition, with a photo).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProblemReport {
    /// Id.
    pub id: ProblemId,
    /// Catalog item, e.g. `LWA1` 无暴露性垃圾.
    pub item_code: String,
    /// Note.
    pub note: Option<String>,
    /// Device time.
    pub at: DateTime<Utc>,
    /// Where.
    pub fix: Option<GeoFix>,
    /// Photos.
    pub photos: Vec<PhotoHash>,
}

/// A cleaner's round of a zone (one pass).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CleanerRound {
    /// Id.
    pub id: RoundId,
    /// The zone walked.
    pub zone: ZoneId,
    /// Who.
    pub cleaner: PersonId,
    /// On which phone.
    pub device: DeviceId,
    /// Pass of the day (1–3).
    pub pass_no: u8,
    /// Device time at start.
    pub started_at: DateTime<Utc>,
    /// Device time at finish.
    pub ended_at: Option<DateTime<Utc>>,
    /// Server time when the server received it; set by the server, never by the phone.
    #[serde(default)]
    pub server_received_at: Option<DateTime<Utc>>,
    /// GPS trace.
    pub trace: Vec<TracePoint>,
    /// Checkpoints serviced.
    pub visits: Vec<CheckpointVisit>,
    /// Problems reported.
    pub problems: Vec<ProblemReport>,
    /// Draft (in progress) or submitted.
    pub status: FactStatus,
}

/// The states of a rectification order (限期整改).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RectificationState {
    /// 待整改
    Open,
    /// 已提交整改 (after photo attached, awaiting re-inspection)
    Submitted,
    /// 已销号 (verified by re-inspection)
    Verified,
    /// 已逾期 (past due without submission)
    Overdue,
}

impl RectificationState {
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Open => "待整改",
            Self::Submitted => "待复查",
            Self::Verified => "已销号",
            Self::Overdue => "已逾期",
        }
    }
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RectificationError {
    /// The transition is not allowed from this state.
    #[error("cannot {action} a rectification that is {from:?}")]
    NotAllowed {
        /// What was tried.
        action: &'static str,
        /// The state it was in.
        from: RectificationState,
    },
    /// An order can only be raised from an item that failed.
    #[error("item {0} did not fail in this inspection; a rectification needs a failed item")]
    ItemNotFailed(String),
    /// Closing needs an after photo.
    #[error("an 'after' photo is required to submit a rectification; take one at the same place")]
    AfterPhotoRequired,
}

/// A rectification order raised from a failed item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RectificationOrder {
    /// Id.
    pub id: RectificationId,
    /// The inspection that found the problem.
    pub inspection: InspectionId,
    /// The failed item.
    pub item_code: String,
    /// The subject that must fix it.
    pub subject: Subject,
    /// The village it is charged to.
    pub village: VillageId,
    /// Who issued it.
    pub issued_by: PersonId,
    /// Who must act (a cleaner, the village officer …).
    pub assignee: PersonId,
    /// Device time when issued.
    pub issued_at: DateTime<Utc>,
    /// Due date (限期), inclusive.
    pub due: NaiveDate,
    /// State.
    pub state: RectificationState,
    /// Photos of the problem.
    pub before_photos: Vec<PhotoHash>,
    /// Photos after fixing it.
    pub after_photos: Vec<PhotoHash>,
    /// Note from the assignee or the re-inspector.
    pub note: Option<String>,
}

/// Who, when and by when, for a new order.
#[derive(Debug, Clone, Copy)]
pub struct OrderTerms {
    /// Id of the new order.
    pub id: RectificationId,
    /// Who issues it.
    pub issued_by: PersonId,
    /// Who must act.
    pub assignee: PersonId,
    /// Device time of issue.
    pub issued_at: DateTime<Utc>,
    /// Due date (inclusive).
    pub due: NaiveDate,
}

impl RectificationOrder {
    /// Raises an order from a failed item of an inspection; the item's photos become the
    /// "before" photos.
    pub fn from_failed_item(
        insp: &Inspection,
        item_code: &str,
        terms: OrderTerms,
    ) -> Result<Self, RectificationError> {
        let failed = insp
            .result(item_code)
            .filter(|r| r.outcome == Outcome::Fail)
            .ok_or_else(|| RectificationError::ItemNotFailed(item_code.to_owned()))?;
        Ok(Self {
            id: terms.id,
            inspection: insp.id,
            item_code: item_code.to_owned(),
            subject: insp.subject,
            village: insp.village,
            issued_by: terms.issued_by,
            assignee: terms.assignee,
            issued_at: terms.issued_at,
            due: terms.due,
            state: RectificationState::Open,
            before_photos: failed.photos.clone(),
            after_photos: vec![],
            note: failed.note.clone(),
        })
    }

    /// Marks overdue when `today` is past the due date and nothing was submitted.
    /// Returns whether the state changed.
    pub fn refresh_overdue(&mut self, today: NaiveDate) -> bool {
        if self.state == RectificationState::Open && today > self.due {
            self.state = RectificationState::Overdue;
            return true;
        }
        false
    }

    /// The assignee submits the fix with "after" photos.
    pub fn submit(
        &mut self,
        after: Vec<PhotoHash>,
        note: Option<String>,
    ) -> Result<(), RectificationError> {
        match self.state {
            RectificationState::Open | RectificationState::Overdue => {}
            from => {
                return Err(RectificationError::NotAllowed {
                    action: "submit",
                    from,
                });
            }
        }
        if after.is_empty() {
            return Err(RectificationError::AfterPhotoRequired);
        }
        self.after_photos = after;
        self.note = note;
        self.state = RectificationState::Submitted;
        Ok(())
    }

    /// The re-inspector accepts the fix (销号).
    pub fn verify(&mut self) -> Result<(), RectificationError> {
        match self.state {
            RectificationState::Submitted => {
                self.state = RectificationState::Verified;
                Ok(())
            }
            from => Err(RectificationError::NotAllowed {
                action: "verify",
                from,
            }),
        }
    }

    /// The re-inspector sends it back; it is open again, or overdue if past due.
    pub fn reject(
        &mut self,
        today: NaiveDate,
        note: Option<String>,
    ) -> Result<(), RectificationError> {
        match self.state {
            RectificationState::Submitted => {
                self.state = RectificationState::Open;
                self.note = note;
                self.refresh_overdue(today);
                Ok(())
            }
            from => Err(RectificationError::NotAllowed {
                action: "reject",
                from,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(c: char) -> PhotoHash {
        c.to_string().repeat(64).parse().expect("valid hex")
    }

    fn order(due: NaiveDate) -> RectificationOrder {
        let u = |n| Uuid::from_u128(n);
        RectificationOrder {
            id: RectificationId::from_uuid(u(1)),
            inspection: InspectionId::from_uuid(u(2)),
            item_code: "HH_WHITE_LITTER".into(),
            subject: Subject {
                kind: SubjectKind::Household,
                id: u(3),
            },
            village: VillageId::from_uuid(u(4)),
            issued_by: PersonId::from_uuid(u(5)),
            assignee: PersonId::from_uuid(u(6)),
            issued_at: DateTime::from_timestamp(1_790_000_000, 0).expect("valid"),
            due,
            state: RectificationState::Open,
            before_photos: vec![hash('a')],
            after_photos: vec![],
            note: None,
        }
    }

    #[test]
    fn photo_hashes_are_strict() {
        assert!(
            "A".repeat(64).parse::<PhotoHash>().is_err(),
            "upper case is refused"
        );
        assert!(
            "a".repeat(63).parse::<PhotoHash>().is_err(),
            "short is refused"
        );
        assert!(
            "../../etc/passwd".parse::<PhotoHash>().is_err(),
            "paths are refused"
        );
        let h: PhotoHash =
            serde_json::from_str(&format!("\"{}\"", "0".repeat(64))).expect("json accepts hex");
        assert_eq!(h.as_str().len(), 64, "round trip");
        assert!(
            serde_json::from_str::<PhotoHash>("\"zz\"").is_err(),
            "json refuses junk"
        );
    }

    #[test]
    fn orders_come_from_failed_items_only() {
        let o = order(NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid"));
        let mut insp = Inspection {
            id: o.inspection,
            template: TemplateRef {
                id: crate::ids::TemplateId::from_uuid(Uuid::from_u128(9)),
                version: 1,
            },
            subject: o.subject,
            village: o.village,
            kind: InspectionType::HouseholdMonthly,
            inspector: o.issued_by,
            device: DeviceId::from_uuid(Uuid::from_u128(8)),
            started_at: o.issued_at,
            submitted_at: None,
            server_received_at: None,
            fix: None,
            results: vec![ItemResult::pass("HH_CLUTTER")],
            note: None,
            supersedes: None,
            status: FactStatus::Submitted,
        };
        insp.answer(ItemResult::fail("HH_WHITE_LITTER", 1, vec![hash('e')]));
        let terms = OrderTerms {
            id: o.id,
            issued_by: o.issued_by,
            assignee: o.assignee,
            issued_at: o.issued_at,
            due: o.due,
        };
        let made = RectificationOrder::from_failed_item(&insp, "HH_WHITE_LITTER", terms)
            .expect("failed item");
        assert_eq!(
            made.before_photos,
            vec![hash('e')],
            "the finding's photos are the before photos"
        );
        assert_eq!(made.state, RectificationState::Open, "new orders are open");
        assert_eq!(
            RectificationOrder::from_failed_item(&insp, "HH_CLUTTER", terms),
            Err(RectificationError::ItemNotFailed("HH_CLUTTER".into())),
            "a passed item cannot be ordered"
        );
        assert!(
            RectificationOrder::from_failed_item(&insp, "NOPE", terms).is_err(),
            "nor an unanswered one"
        );
    }

    #[test]
    fn rectification_state_machine() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).expect("valid");
        let mut o = order(d(20));
        assert!(!o.refresh_overdue(d(20)), "due date itself is not overdue");
        assert_eq!(
            o.verify(),
            Err(RectificationError::NotAllowed {
                action: "verify",
                from: RectificationState::Open
            }),
            "cannot verify before submitting"
        );
        assert_eq!(
            o.submit(vec![], None),
            Err(RectificationError::AfterPhotoRequired),
            "after photo required"
        );
        assert!(o.refresh_overdue(d(21)), "the day after due it is overdue");
        o.submit(vec![hash('b')], Some("已清理".into()))
            .expect("overdue can still be submitted");
        assert_eq!(o.state, RectificationState::Submitted, "submitted");
        o.reject(d(22), None).expect("re-inspector may send back");
        assert_eq!(
            o.state,
            RectificationState::Overdue,
            "sent back after due: overdue again"
        );
        o.submit(vec![hash('c')], None).expect("resubmit");
        o.verify().expect("verify");
        assert_eq!(o.state, RectificationState::Verified, "verified");
        assert!(
            o.submit(vec![hash('d')], None).is_err(),
            "verified is final"
        );
    }
}
