//! What the UI sees: the values every [`crate::Device`] operation returns, serialised to the
//! UI as JSON (camelCase) by the Tauri shell. `ui/src/lib/ipc.ts` mirrors these types; change
//! both together.

use serde::{Deserialize, Serialize};

/// Who holds the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoleView {
    /// 检查员
    Inspector,
    /// 保洁员
    Cleaner,
}

/// The sync badge, always on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncBadge {
    /// Records waiting to go.
    pub pending_records: u64,
    /// Photos waiting to go.
    pub pending_photos: u64,
    /// Bytes of photos still to send.
    pub photo_bytes_remaining: u64,
    /// When the last sync finished without error (RFC 3339, device time).
    pub last_success: Option<String>,
    /// The last sync's problem, in Chinese, or `None`.
    pub last_error_zh: Option<String>,
    /// A sync is running.
    pub syncing: bool,
    /// The phone must be enrolled again (nothing was deleted).
    pub needs_reenroll: bool,
    /// The photo being uploaded now: `(sha256, bytes confirmed, size)`.
    pub upload: Option<UploadProgress>,
}

/// How far the photo being sent got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadProgress {
    /// Which photo.
    pub sha256: String,
    /// Bytes the server confirmed.
    pub confirmed: u64,
    /// The photo's size.
    pub size: u64,
}

/// The phone's state at start-up: enrolled or not, as whom, and the badge.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    /// The phone is enrolled with a township server.
    pub enrolled: bool,
    /// The person's name.
    pub person_name: Option<String>,
    /// Their role.
    pub role: Option<RoleView>,
    /// The township's name.
    pub township_name: Option<String>,
    /// The server's address.
    pub server_url: Option<String>,
    /// The badge.
    pub sync: SyncBadge,
    /// Settings.
    pub settings: Settings,
}

/// A position, as the UI got it (Tauri geolocation on phones; a set position on desktop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    /// Latitude (WGS-84).
    pub lat: f64,
    /// Longitude (WGS-84).
    pub lon: f64,
    /// Accuracy in metres.
    pub accuracy_m: f64,
}

/// What the person can change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// `zh-CN` (default) or `en`.
    pub language: String,
    /// Long edge of uploaded photos in pixels (1600 by default; 1024 saves data).
    pub photo_long_edge: u32,
    /// Desktop only: a fixed position used when the device has no GPS (demos and tests).
    /// Clearly labelled in the UI; `None` means "no fix".
    pub fixed_position: Option<Position>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            language: "zh-CN".into(),
            photo_long_edge: 1600,
            fixed_position: None,
        }
    }
}

/// A household or a business (经营户 / 单位) in the inspector's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HouseholdItem {
    /// Id.
    pub id: String,
    /// `household` or `business`.
    pub kind: String,
    /// A business's type (沿街门市, 餐馆/夜宵摊 …); `None` for a household.
    pub business_type_zh: Option<String>,
    /// A business's type in English.
    pub business_type_en: Option<String>,
    /// 门牌号
    pub door_plate: String,
    /// 户主 (a business: its trading name and owner).
    pub head_name: String,
    /// Village name.
    pub village_name: String,
    /// Group name (村民组); 经营户 for a business.
    pub group_name: String,
    /// Distance from the given position, metres.
    pub distance_m: Option<f64>,
    /// Inspected this month on this phone.
    pub inspected_this_month: bool,
    /// In this month's random sample (only sampled inspections count toward the rank).
    pub sampled_this_month: bool,
}

/// An inspection a reviewer sent back, to correct.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewTask {
    /// Review id.
    pub id: String,
    /// The inspection sent back.
    pub inspection_id: String,
    /// Door plate and head of household, or the village.
    pub subject: String,
    /// What the reviewer wrote.
    pub comment: String,
    /// The photo it is about, if any.
    pub photo: Option<String>,
    /// When it was marked (RFC 3339).
    pub at: String,
    /// The correction in progress, if started.
    pub correction_id: Option<String>,
}

/// One item of a checklist being filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChecklistItem {
    /// Catalog item code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Section label in Chinese (e.g. 三归), from the template.
    pub section: String,
    /// Section label in English.
    pub section_en: String,
    /// Deduction per unit, e.g. "10.00".
    pub deduction: String,
    /// `pass`, `fail`, `not_applicable`, or `None` while unanswered.
    pub outcome: Option<String>,
    /// Units counted on failure.
    pub count: u32,
    /// The rule counts units (per occurrence, per household …): ask for a count.
    pub per_unit: bool,
    /// N/A is allowed.
    pub na_allowed: bool,
    /// A failure needs a photo.
    pub photo_on_fail: bool,
    /// A failure needs a note.
    pub note_on_fail: bool,
    /// Note.
    pub note: Option<String>,
    /// Photo hashes.
    pub photos: Vec<String>,
}

/// A validation message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueView {
    /// Stable code.
    pub code: String,
    /// Item it concerns, if any.
    pub item_code: Option<String>,
    /// Chinese message.
    pub message_zh: String,
    /// English message.
    pub message_en: String,
    /// Stops submission.
    pub blocking: bool,
}

/// A deduction on the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeductionView {
    /// Item code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Units.
    pub units: u32,
    /// Amount, e.g. "10.00".
    pub amount: String,
}

/// An inspection in progress (or just submitted).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectionView {
    /// Id.
    pub id: String,
    /// What is inspected, in words (door plate and head).
    pub subject_label: String,
    /// Subject id.
    pub subject_id: String,
    /// Template name.
    pub template_name: String,
    /// Template name in English.
    pub template_name_en: String,
    /// What the score and deductions count: `points` (分) or `yuan` (元, Scheme T).
    pub unit: String,
    /// Items.
    pub items: Vec<ChecklistItem>,
    /// Running score, e.g. "82.00".
    pub score: String,
    /// Full marks, e.g. "100.00".
    pub full: String,
    /// Deductions so far.
    pub deductions: Vec<DeductionView>,
    /// What is missing or doubtful.
    pub issues: Vec<IssueView>,
    /// Submitted (immutable now).
    pub submitted: bool,
}

/// A checkpoint of the cleaner's zone (垃圾池 / 垃圾桶 by 统一编号).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointView {
    /// Facility id.
    pub facility_id: String,
    /// 统一编号
    pub number: String,
    /// Kind in Chinese (垃圾池, 垃圾桶 …).
    pub kind_zh: String,
    /// Kind in English.
    pub kind_en: String,
    /// `cleared`, `overflowing`, `damaged`, or `None` while not yet visited this round.
    pub state: Option<String>,
    /// Photo hashes.
    pub photos: Vec<String>,
}

/// A zone the cleaner is responsible for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneItem {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its checkpoints.
    pub checkpoints: Vec<CheckpointView>,
}

/// A problem type a cleaner can report (from the 六无 lists).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProblemKind {
    /// Catalog item code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
}

/// A round in progress (or just finished).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundView {
    /// Id.
    pub id: String,
    /// Zone id.
    pub zone_id: String,
    /// Zone name.
    pub zone_name: String,
    /// Started (RFC 3339).
    pub started_at: String,
    /// Checkpoints, in 统一编号 order.
    pub checkpoints: Vec<CheckpointView>,
    /// Problems reported.
    pub problems: Vec<ProblemView>,
    /// Trace points recorded.
    pub trace_points: u32,
    /// Share of the zone covered by the trace, percent.
    pub coverage_pct: u32,
    /// Finished and submitted.
    pub submitted: bool,
}

/// A problem reported on a round.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProblemView {
    /// Catalog item code.
    pub code: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Note.
    pub note: Option<String>,
    /// Photo hashes.
    pub photos: Vec<String>,
}

/// A rectification order (限期整改).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RectificationItem {
    /// Id.
    pub id: String,
    /// The household or place, in words.
    pub subject_label: String,
    /// The failed item, in Chinese.
    pub item_label_zh: String,
    /// The failed item, in English.
    pub item_label_en: String,
    /// Due date (YYYY-MM-DD).
    pub due: String,
    /// `open`, `submitted`, `verified`, `rejected`.
    pub state: String,
    /// Past its due date and not closed.
    pub overdue: bool,
    /// "Before" photo hashes.
    pub before_photos: Vec<String>,
    /// "After" photo hashes.
    pub after_photos: Vec<String>,
}

/// One line of the history screen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItem {
    /// Id.
    pub id: String,
    /// `inspection` or `round`.
    pub kind: String,
    /// In words.
    pub label: String,
    /// Submitted (RFC 3339).
    pub submitted_at: String,
    /// `pending`, `synced`, `rejected`.
    pub state: String,
    /// Chinese label of the state (待同步 / 已同步 / 被退回).
    pub state_zh: String,
    /// A reviewer's or the server's reason when sent back.
    pub reason: Option<String>,
}
