//! [`Device`]: the phone as one typed API over its store, the photo pipeline and the sync
//! engine. Every operation the UI offers is one method here; each write is saved at once (a
//! tap is never lost), and everything works without a network except [`Device::enroll`] and
//! [`Device::sync_now`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use cunjie_domain::catalog::{Catalog, SubjectKind};
use cunjie_domain::clock::Clock;
use cunjie_domain::fact::{
    CheckpointState, CheckpointVisit, CleanerRound, FactStatus, GeoFix, Inspection, InspectionType,
    ItemResult, Outcome, PhotoHash, ProblemReport, RectificationOrder, RectificationState, Subject,
    TracePoint,
};
use cunjie_domain::geo::{GeoPolicy, coverage};
use cunjie_domain::ids::{
    FacilityId, HouseholdId, InspectionId, PersonId, RectificationId, RoundId, VillageId, ZoneId,
};
use cunjie_domain::person::Role;
use cunjie_domain::place::{
    AdminVillage, Business, Facility, GeoPoint, Household, VillageGroup, Zone,
};
use cunjie_domain::scoring::score_inspection;
use cunjie_domain::template::{CountUnit, ScoreUnit, Template};
use cunjie_domain::validate::{Severity, validate_inspection};
use cunjie_media::Policy;
use cunjie_protocol::v1::{EntityKind, ReviewRow, SampleRow};
use cunjie_store::{Enrollment, Store, StoreError, StoreOptions, SyncState};
use cunjie_sync::{HttpTransport, SyncConfig, SyncEngine, SyncStatus};
use uuid::Uuid;

use crate::DeviceError;
use crate::api::{
    AppStatus, ChecklistItem, CheckpointView, DeductionView, HistoryItem, HouseholdItem,
    InspectionView, IssueView, Position, ProblemKind, ProblemView, RectificationItem, ReviewTask,
    RoleView, RoundView, Settings, SyncBadge, UploadProgress, ZoneItem,
};
use crate::photo::{CaptureContext, capture_photo, device_key};

/// The household list's marks for this month.
struct Marks {
    inspected: BTreeSet<String>,
    sampled: BTreeSet<HouseholdId>,
}

/// A catalog item's Chinese and English labels (its code for both if it is unknown).
fn item_labels(code: &str) -> (String, String) {
    Catalog::builtin()
        .item(code)
        .map(|(_, i)| (i.label_zh.clone(), i.label_en.clone()))
        .unwrap_or_else(|| (code.to_owned(), code.to_owned()))
}

/// The household checklist an inspector fills in (门前三包, monthly).
pub const HOUSEHOLD_TEMPLATE: &str = "HH_SANBAO_MONTHLY";
/// The checklist for street-front businesses and units (门前三包).
pub const BUSINESS_TEMPLATE: &str = "BIZ_SANBAO";
/// Where businesses sit in the list's group filter.
const BUSINESS_GROUP: &str = "经营户";
/// The catalog sets a cleaner reports problems from (六无, village and town-seat lists).
const PROBLEM_SETS: [&str; 2] = ["LIUWU_VILLAGE", "LIUWU_TOWN"];

/// How to open a device.
#[derive(Debug, Clone)]
pub struct DeviceOptions {
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// Sync tuning (tests use a fast backoff).
    pub sync: SyncConfig,
}

impl Default for DeviceOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(cunjie_domain::clock::SystemClock),
            sync: SyncConfig::default(),
        }
    }
}

/// The phone.
#[derive(Debug)]
pub struct Device {
    dir: PathBuf,
    store: Arc<Mutex<Store>>,
    engine: Mutex<Option<Arc<SyncEngine<HttpTransport>>>>,
    settings: Mutex<Settings>,
    sync_config: SyncConfig,
    geo: GeoPolicy,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn fix_of(p: Option<Position>, at: DateTime<Utc>) -> Option<GeoFix> {
    p.filter(|p| {
        // The desktop geolocation plugin answers 0, 0 with accuracy 0: no fix.
        // Anything not a real place on Earth is no fix either (the server refuses it, and a
        // refused batch must never hold the phone's queue).
        !(p.lat == 0.0 && p.lon == 0.0)
            && p.accuracy_m > 0.0
            && p.accuracy_m.is_finite()
            && (-90.0..=90.0).contains(&p.lat)
            && (-180.0..=180.0).contains(&p.lon)
    })
    .map(|p| GeoFix {
        point: GeoPoint::new(p.lat, p.lon),
        accuracy_m: p.accuracy_m,
        fix_time: Some(at),
        mock: false,
    })
}

fn parse_id(s: &str, what: &'static str) -> Result<Uuid, DeviceError> {
    Uuid::parse_str(s.trim()).map_err(|_| DeviceError::NotFound(what))
}

fn outcome_str(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::NotApplicable => "not_applicable",
    }
}

fn checkpoint_str(s: CheckpointState) -> &'static str {
    match s {
        CheckpointState::Cleared => "cleared",
        CheckpointState::Overflowing => "overflowing",
        CheckpointState::Damaged => "damaged",
    }
}

fn code_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn hashes(p: &[PhotoHash]) -> Vec<String> {
    p.iter().map(ToString::to_string).collect()
}

fn read_settings(dir: &Path) -> Settings {
    std::fs::read(dir.join("settings.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_settings(dir: &Path, s: &Settings) -> Result<(), DeviceError> {
    let tmp = dir.join(".settings.json.tmp");
    let bytes = serde_json::to_vec_pretty(s).map_err(|e| DeviceError::BadInput(e.to_string()))?;
    let io = DeviceError::Settings;
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, dir.join("settings.json")).map_err(io)?;
    Ok(())
}

impl Device {
    /// Opens the phone's data in `dir` (created if needed): the database, the photo folder
    /// and the settings. Makes the device key if there is none, and sweeps photo files that a
    /// crash left without a row. Photos kept by an app from before signed evidence are attested
    /// (see [`crate::attest_unattested_photos`]).
    pub fn open(dir: &Path, opts: DeviceOptions) -> Result<Self, DeviceError> {
        std::fs::create_dir_all(dir).map_err(DeviceError::Settings)?;
        let mut store = Store::open(
            &dir.join("cunjie.db"),
            StoreOptions {
                clock: opts.clock,
                id_seed: None,
            },
        )?;
        device_key(&mut store)?;
        let upgraded = crate::photo::attest_unattested_photos(&mut store)?;
        if upgraded > 0 {
            tracing::info!(upgraded, "photos from before signed evidence attested");
        }
        let sweep = store.sweep_photos()?;
        if !sweep.dangling.is_empty() {
            tracing::warn!(
                dangling = sweep.dangling.len(),
                "photo rows without their file"
            );
        }
        let enrollment = store.enrollment()?;
        let store = Arc::new(Mutex::new(store));
        let device = Self {
            dir: dir.to_path_buf(),
            store,
            engine: Mutex::new(None),
            settings: Mutex::new(read_settings(dir)),
            sync_config: opts.sync,
            geo: GeoPolicy::default(),
        };
        if let Some(e) = enrollment {
            device.connect(&e.server_url)?;
        }
        Ok(device)
    }

    fn connect(&self, url: &str) -> Result<Arc<SyncEngine<HttpTransport>>, DeviceError> {
        let transport = HttpTransport::new(url)
            .map_err(|e| DeviceError::Sync(cunjie_sync::SyncError::Transport(e)))?;
        let engine = Arc::new(
            SyncEngine::with_config(self.store.clone(), transport, self.sync_config)
                .map_err(DeviceError::Sync)?,
        );
        *self.engine.lock().unwrap_or_else(PoisonError::into_inner) = Some(engine.clone());
        Ok(engine)
    }

    fn engine(&self) -> Option<Arc<SyncEngine<HttpTransport>>> {
        self.engine
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The store, locked (for the e2e harness and the shell's tests).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn enrollment(&self) -> Result<Enrollment, DeviceError> {
        self.store().enrollment()?.ok_or(DeviceError::NotEnrolled)
    }

    fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn policy(&self) -> Policy {
        Policy {
            long_edge: self.settings().photo_long_edge.clamp(640, 4096),
            ..Policy::default()
        }
    }

    fn person_label(&self, e: &Enrollment) -> String {
        format!("{} {}", e.role.label_zh(), e.person_name)
    }

    // ----------------------------------------------------------------------------------------
    // Status, enrollment, sync, settings

    /// The badge, from the store and the engine.
    pub fn badge(&self) -> Result<SyncBadge, DeviceError> {
        let (counts, photos, needs) = {
            let s = self.store();
            (
                s.pending_counts()?,
                s.photo_totals()?,
                s.enrollment()?.is_some_and(|e| e.needs_reenroll),
            )
        };
        let st: SyncStatus = self
            .engine()
            .map(|e| e.current_status())
            .unwrap_or_default();
        Ok(SyncBadge {
            pending_records: counts.records,
            pending_photos: photos.pending,
            photo_bytes_remaining: photos.bytes_remaining,
            last_success: st.last_success.map(rfc3339).or(counts.last_ack),
            last_error_zh: st.last_error_zh,
            syncing: st.syncing,
            needs_reenroll: needs || st.needs_reenroll,
            upload: st.upload.map(|u| UploadProgress {
                sha256: u.sha256.to_string(),
                confirmed: u.confirmed,
                size: u.size,
            }),
        })
    }

    /// Who and where the phone is, with the badge and settings.
    pub fn status(&self) -> Result<AppStatus, DeviceError> {
        let e = self.store().enrollment()?;
        Ok(AppStatus {
            enrolled: e.is_some(),
            person_name: e.as_ref().map(|e| e.person_name.clone()),
            role: e.as_ref().map(|e| match e.role {
                Role::Cleaner | Role::Collector => RoleView::Cleaner,
                _ => RoleView::Inspector,
            }),
            township_name: e.as_ref().map(|e| e.township_name.clone()),
            server_url: e.as_ref().map(|e| e.server_url.clone()),
            sync: self.badge()?,
            settings: self.settings(),
        })
    }

    /// Enrolls the phone with a one-time code, then pulls its registry once (if the link
    /// allows; the phone works offline from then on).
    pub async fn enroll(
        &self,
        server_url: &str,
        code: &str,
        device_name: &str,
    ) -> Result<AppStatus, DeviceError> {
        let url = server_url.trim();
        if url.is_empty() || code.trim().is_empty() {
            return Err(DeviceError::BadInput(
                "请填写服务器地址和登记码 (server address and code are required)".into(),
            ));
        }
        let previous = self.engine();
        let engine = self.connect(url)?;
        if let Err(e) = engine.enroll(url, code, device_name).await {
            // A refused enrollment leaves the phone as it was.
            *self.engine.lock().unwrap_or_else(PoisonError::into_inner) = previous;
            return Err(DeviceError::Sync(e));
        }
        if let Err(e) = engine.sync_once().await {
            tracing::warn!(error = %e, "first sync after enrollment did not finish");
        }
        self.status()
    }

    /// Syncs now: records, then the registry, then photos. A failed sync is not an error:
    /// the badge says why, and everything stays on the phone.
    pub async fn sync_now(&self) -> Result<SyncBadge, DeviceError> {
        let engine = self.engine().ok_or(DeviceError::NotEnrolled)?;
        if let Err(e) = engine.sync_once().await {
            tracing::info!(error = %e, "sync did not finish");
        }
        self.badge()
    }

    /// Saves the settings.
    pub fn save_settings(&self, s: Settings) -> Result<AppStatus, DeviceError> {
        if !matches!(s.language.as_str(), "zh-CN" | "en") {
            return Err(DeviceError::BadInput(format!(
                "不支持的语言 {:?} (unsupported language)",
                s.language
            )));
        }
        if !(640..=4096).contains(&s.photo_long_edge) {
            return Err(DeviceError::BadInput(
                "照片尺寸应在 640 到 4096 像素之间 (photo size 640–4096 px)".into(),
            ));
        }
        if let Some(p) = s.fixed_position
            && !(GeoPoint::new(p.lat, p.lon).is_valid() && p.accuracy_m.is_finite())
        {
            return Err(DeviceError::BadInput(
                "固定位置的经纬度不对 (invalid fixed position)".into(),
            ));
        }
        write_settings(&self.dir, &s)?;
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = s;
        self.status()
    }

    /// Signs out, only when everything has reached the server.
    pub fn sign_out(&self) -> Result<AppStatus, DeviceError> {
        self.store().sign_out()?;
        *self.engine.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.status()
    }

    // ----------------------------------------------------------------------------------------
    // Inspector

    fn household_item(
        &self,
        s: &Store,
        h: &Household,
        distance_m: Option<f64>,
        marks: &Marks,
    ) -> HouseholdItem {
        let village = s
            .record::<AdminVillage>(EntityKind::Village, *h.village.as_uuid())
            .map(|v| v.name)
            .unwrap_or_default();
        let group = s
            .record::<VillageGroup>(EntityKind::Group, *h.group.as_uuid())
            .map(|g| g.name)
            .unwrap_or_default();
        HouseholdItem {
            id: h.id.to_string(),
            kind: "household".to_owned(),
            business_type_zh: None,
            business_type_en: None,
            door_plate: h.door_plate.clone(),
            head_name: h.head_name.clone(),
            village_name: village,
            group_name: group,
            distance_m: distance_m.map(|d| d.round()),
            inspected_this_month: marks.inspected.contains(&h.id.to_string()),
            sampled_this_month: marks.sampled.contains(&h.id),
        }
    }

    fn business_item(&self, s: &Store, b: &Business, marks: &Marks) -> HouseholdItem {
        let village = s
            .record::<AdminVillage>(EntityKind::Village, *b.village.as_uuid())
            .map(|v| v.name)
            .unwrap_or_default();
        HouseholdItem {
            id: b.id.to_string(),
            kind: "business".to_owned(),
            business_type_zh: Some(b.kind.label_zh().to_owned()),
            business_type_en: Some(b.kind.label_en().to_owned()),
            door_plate: b.door_plate.clone(),
            head_name: if b.owner.is_empty() {
                b.name.clone()
            } else {
                format!("{}（{}）", b.name, b.owner)
            },
            village_name: village,
            group_name: BUSINESS_GROUP.to_owned(),
            distance_m: None,
            inspected_this_month: marks.inspected.contains(&b.id.to_string()),
            sampled_this_month: false,
        }
    }

    /// What the household list marks: inspected by me this month, and in this month's sample
    /// (China time; the sample comes from the server with the village's pull).
    fn marks(&self, s: &Store) -> Result<Marks, DeviceError> {
        let now = s.clock().now();
        let month_start = now
            .date_naive()
            .with_day(1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(now, |t| t.and_utc());
        let china = now.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"));
        let month = format!("{}-{:02}", china.year(), china.month());
        let sampled = s
            .records::<SampleRow>(EntityKind::Sample, None)?
            .into_iter()
            .filter(|r| r.month == month)
            .flat_map(|r| r.households)
            .collect();
        Ok(Marks {
            inspected: s.inspected_since(month_start)?.into_iter().collect(),
            sampled,
        })
    }

    /// Households and businesses (经营户 / 单位) of my villages: matching `query` (name, owner
    /// or door plate), nearest first when there is a position, else households in door-plate
    /// order followed by the businesses.
    pub fn households(
        &self,
        query: Option<&str>,
        near: Option<Position>,
        limit: u32,
    ) -> Result<Vec<HouseholdItem>, DeviceError> {
        let limit = limit.clamp(1, 500);
        let s = self.store();
        let marks = self.marks(&s)?;
        let now = s.clock().now();
        let fix = fix_of(near, now);
        let query = query.map(str::trim).filter(|q| !q.is_empty());
        let households: Vec<Household> = match query {
            Some(q) => s
                .search_households(q, limit)?
                .into_iter()
                .map(|r| r.household)
                .collect(),
            None => {
                let mut all = Vec::new();
                for v in s.records::<AdminVillage>(EntityKind::Village, None)? {
                    all.extend(
                        s.households_in(v.id, None, limit, 0)?
                            .into_iter()
                            .map(|r| r.household),
                    );
                }
                all.truncate(limit as usize);
                all
            }
        };
        let businesses: Vec<Business> = s
            .records::<Business>(EntityKind::Business, None)?
            .into_iter()
            .filter(|b| {
                query.is_none_or(|q| {
                    b.name.contains(q) || b.owner.contains(q) || b.door_plate.contains(q)
                })
            })
            .take(limit as usize)
            .collect();
        let mut rows: Vec<(HouseholdItem, Option<GeoPoint>)> = households
            .iter()
            .map(|h| (self.household_item(&s, h, None, &marks), h.location))
            .chain(
                businesses
                    .iter()
                    .map(|b| (self.business_item(&s, b, &marks), b.location)),
            )
            .collect();
        if let Some(f) = fix {
            for (item, at) in &mut rows {
                item.distance_m = at.map(|p| cunjie_domain::geo::distance_m(f.point, p).round());
            }
            rows.sort_by(|a, b| {
                let d = |r: &(HouseholdItem, _)| r.0.distance_m.unwrap_or(f64::MAX);
                d(a).total_cmp(&d(b))
            });
            rows.truncate(limit as usize);
        }
        Ok(rows.into_iter().map(|(item, _)| item).collect())
    }

    /// The text of the QR code in a camera photo: a door plate's (for
    /// [`Device::household_by_plate`]) or the township's enrollment code. Works offline and
    /// before enrollment; nothing is saved.
    pub fn scan_qr(&self, photo: &[u8]) -> Result<String, DeviceError> {
        Ok(cunjie_media::read_qr(
            photo,
            &cunjie_media::Limits::default(),
        )?)
    }

    /// The household (or business) a door-plate QR (or a typed plate number) names.
    pub fn household_by_plate(&self, text: &str) -> Result<HouseholdItem, DeviceError> {
        let t = text.trim();
        let t = t
            .rsplit_once("household=")
            .or_else(|| t.rsplit_once("business="))
            .map_or(t, |(_, id)| id)
            .trim_start_matches("cunjie://household/")
            .trim_start_matches("cunjie://business/");
        let s = self.store();
        let marks = self.marks(&s)?;
        if let Ok(id) = Uuid::parse_str(t) {
            if let Ok(r) = s.household(HouseholdId::from_uuid(id)) {
                return Ok(self.household_item(&s, &r.household, None, &marks));
            }
            if let Ok(b) = s.record::<Business>(EntityKind::Business, id) {
                return Ok(self.business_item(&s, &b, &marks));
            }
        }
        if t.is_empty() {
            return Err(DeviceError::NotFound("household"));
        }
        let found = s.search_households(t, 2)?;
        if let Some(r) = found.iter().find(|r| r.household.door_plate == t) {
            return Ok(self.household_item(&s, &r.household, None, &marks));
        }
        let businesses = s.records::<Business>(EntityKind::Business, None)?;
        if let Some(b) = businesses.iter().find(|b| b.door_plate == t) {
            return Ok(self.business_item(&s, b, &marks));
        }
        match found.first() {
            Some(r) => Ok(self.household_item(&s, &r.household, None, &marks)),
            None => Err(DeviceError::NotFound("household")),
        }
    }

    fn inspection_view(
        &self,
        s: &Store,
        insp: &Inspection,
        submitted: bool,
    ) -> Result<InspectionView, DeviceError> {
        let t = s.template(insp.template)?;
        let items = t
            .items
            .iter()
            .map(|rule| {
                let (label_zh, label_en) = item_labels(&rule.item_code);
                let r = insp.result(&rule.item_code);
                let section = t.sections.iter().find(|sec| sec.code == rule.section);
                ChecklistItem {
                    code: rule.item_code.clone(),
                    label_zh,
                    label_en,
                    section: section.map_or_else(|| rule.section.clone(), |s| s.label_zh.clone()),
                    section_en: section
                        .map_or_else(|| rule.section.clone(), |s| s.label_en.clone()),
                    deduction: rule.deduction.to_string(),
                    outcome: r.map(|r| outcome_str(r.outcome).to_owned()),
                    count: r.map_or(1, |r| r.count),
                    per_unit: rule.count_unit != CountUnit::PerItem,
                    na_allowed: rule.na_allowed,
                    photo_on_fail: rule.photo_on_fail,
                    note_on_fail: rule.note_on_fail,
                    note: r.and_then(|r| r.note.clone()),
                    photos: r.map(|r| hashes(&r.photos)).unwrap_or_default(),
                }
            })
            .collect();
        let score = score_inspection(&t, insp);
        let deductions = score
            .deductions
            .iter()
            .map(|d| {
                let (label_zh, label_en) = item_labels(&d.item_code);
                DeductionView {
                    code: d.item_code.clone(),
                    label_zh,
                    label_en,
                    units: d.count,
                    amount: d.amount.to_string(),
                }
            })
            .collect();
        let issues = if submitted {
            vec![]
        } else {
            validate_inspection(insp, &t, &self.geo)
                .into_iter()
                .map(|i| IssueView {
                    code: code_of(&i.code),
                    item_code: i.item_code.clone(),
                    message_zh: i.message_zh(),
                    message_en: i.message_en(),
                    blocking: i.severity == Severity::Blocking,
                })
                .collect()
        };
        Ok(InspectionView {
            id: insp.id.to_string(),
            subject_label: self.subject_label(s, insp.subject),
            subject_id: insp.subject.id.to_string(),
            template_name: t.name_zh.clone(),
            template_name_en: t.name_en.clone(),
            unit: match t.unit {
                ScoreUnit::Yuan => "yuan",
                ScoreUnit::Points => "points",
            }
            .to_owned(),
            items,
            score: score.score.to_string(),
            full: score.full.to_string(),
            deductions,
            issues,
            submitted,
        })
    }

    fn subject_label(&self, s: &Store, subject: Subject) -> String {
        match subject.kind {
            SubjectKind::Household => s
                .household(HouseholdId::from_uuid(subject.id))
                .map(|r| format!("{} {}", r.household.door_plate, r.household.head_name))
                .unwrap_or_else(|_| subject.id.to_string()),
            SubjectKind::Business => s
                .record::<Business>(EntityKind::Business, subject.id)
                .map(|b| format!("{} {}", b.door_plate, b.name))
                .unwrap_or_else(|_| subject.id.to_string()),
            SubjectKind::Zone => s
                .record::<Zone>(EntityKind::Zone, subject.id)
                .map(|z| z.name)
                .unwrap_or_else(|_| subject.id.to_string()),
            SubjectKind::Facility => s
                .record::<Facility>(EntityKind::Facility, subject.id)
                .map(|f| format!("{} {}", f.kind.label_zh(), f.number))
                .unwrap_or_else(|_| subject.id.to_string()),
            SubjectKind::AdminVillage => s
                .record::<AdminVillage>(EntityKind::Village, subject.id)
                .map(|v| v.name)
                .unwrap_or_else(|_| subject.id.to_string()),
            _ => subject.id.to_string(),
        }
    }

    fn draft(&self, s: &Store, id: &str) -> Result<Inspection, DeviceError> {
        let id = InspectionId::from_uuid(parse_id(id, "inspection")?);
        Ok(s.inspection_draft(id)?)
    }

    /// Starts (or resumes) the inspection of a household or a business with the checklist in
    /// force for it.
    pub fn start_inspection(
        &self,
        household_id: &str,
        position: Option<Position>,
    ) -> Result<InspectionView, DeviceError> {
        let e = self.enrollment()?;
        let id = parse_id(household_id, "household")?;
        let mut s = self.store();
        let (kind, village, template_code) = match s.household(HouseholdId::from_uuid(id)) {
            Ok(r) => (
                SubjectKind::Household,
                r.household.village,
                HOUSEHOLD_TEMPLATE,
            ),
            Err(StoreError::NotFound { .. }) => {
                let b: Business = s.record(EntityKind::Business, id)?;
                (SubjectKind::Business, b.village, BUSINESS_TEMPLATE)
            }
            Err(err) => return Err(err.into()),
        };
        if let Some(open) = s
            .inspection_drafts()?
            .into_iter()
            .find(|d| d.subject.id == id && d.supersedes.is_none())
        {
            // A correction in progress is resumed from its task, not as a new visit.
            return self.inspection_view(&s, &open, false);
        }
        let t: Template = match s.template_by_code(template_code) {
            Err(StoreError::NotFound { .. }) => {
                return Err(DeviceError::NoTemplate(template_code));
            }
            other => other?,
        };
        let now = s.clock().now();
        let mut insp = Inspection::start(
            s.new_id(),
            t.reference(),
            Subject { kind, id },
            village,
            e.person_id,
            s.device_id(),
            now,
        );
        if kind == SubjectKind::Business {
            // Street-front shops are patrolled weekly (000:657), not in the monthly sample.
            insp.kind = InspectionType::Weekly;
        }
        insp.fix = fix_of(position, now);
        s.save_inspection_draft(&insp)?;
        self.inspection_view(&s, &insp, false)
    }

    /// Inspections in progress (drafts survive the app being killed), newest first.
    pub fn open_inspections(&self) -> Result<Vec<InspectionView>, DeviceError> {
        let s = self.store();
        let mut drafts = s.inspection_drafts()?;
        drafts.sort_by_key(|d| std::cmp::Reverse(d.started_at));
        drafts
            .iter()
            .map(|d| self.inspection_view(&s, d, false))
            .collect()
    }

    /// Inspections a reviewer sent back (有问题) that I have not corrected yet, newest first.
    pub fn review_tasks(&self) -> Result<Vec<ReviewTask>, DeviceError> {
        let s = self.store();
        let corrected = s.superseded_ids()?;
        let drafts: BTreeMap<String, String> = s
            .inspection_drafts()?
            .into_iter()
            .filter_map(|d| d.supersedes.map(|o| (o.to_string(), d.id.to_string())))
            .collect();
        let mut out = Vec::new();
        for r in s.records::<ReviewRow>(EntityKind::Review, None)? {
            let original = r.inspection.to_string();
            if corrected.contains(&original) {
                continue;
            }
            let Ok(insp) = s.inspection(r.inspection) else {
                // Not this phone's inspection (or not here any more): nothing to correct.
                continue;
            };
            let subject = match insp.subject.kind {
                SubjectKind::Household => s
                    .household(HouseholdId::from_uuid(insp.subject.id))
                    .map(|h| format!("{} {}", h.household.door_plate, h.household.head_name))
                    .unwrap_or_default(),
                _ => s
                    .record::<AdminVillage>(EntityKind::Village, insp.subject.id)
                    .map(|v| v.name)
                    .unwrap_or_default(),
            };
            out.push(ReviewTask {
                id: r.id.to_string(),
                inspection_id: original.clone(),
                subject,
                comment: r.comment,
                photo: r.photo.map(|p| p.to_string()),
                at: r.at.to_rfc3339(),
                correction_id: drafts.get(&original).cloned(),
            });
        }
        out.sort_by(|a, b| b.at.cmp(&a.at));
        Ok(out)
    }

    /// Starts (or resumes) the correction of an inspection a reviewer sent back: a new draft
    /// with the same subject and answers that `supersedes` it. Submitted, it replaces the
    /// original in the township's scores.
    pub fn start_correction(&self, inspection_id: &str) -> Result<InspectionView, DeviceError> {
        let e = self.enrollment()?;
        let id = InspectionId::from_uuid(parse_id(inspection_id, "inspection")?);
        let mut s = self.store();
        if let Some(open) = s
            .inspection_drafts()?
            .into_iter()
            .find(|d| d.supersedes == Some(id))
        {
            return self.inspection_view(&s, &open, false);
        }
        let original = s.inspection(id)?;
        if original.inspector != e.person_id {
            return Err(DeviceError::NotFound("inspection"));
        }
        let now = s.clock().now();
        let mut insp = Inspection::start(
            s.new_id(),
            original.template,
            original.subject,
            original.village,
            e.person_id,
            s.device_id(),
            now,
        );
        insp.kind = original.kind;
        insp.fix = original.fix;
        insp.results = original.results.clone();
        insp.note = original.note.clone();
        insp.supersedes = Some(id);
        s.save_inspection_draft(&insp)?;
        self.inspection_view(&s, &insp, false)
    }

    /// Answers one item (saved at once).
    pub fn answer_item(
        &self,
        inspection_id: &str,
        item_code: &str,
        outcome: &str,
        count: u32,
        note: Option<String>,
    ) -> Result<InspectionView, DeviceError> {
        let outcome = match outcome {
            "pass" => Outcome::Pass,
            "fail" => Outcome::Fail,
            "not_applicable" => Outcome::NotApplicable,
            other => {
                return Err(DeviceError::BadInput(format!(
                    "不认识的检查结果 {other:?} (unknown outcome)"
                )));
            }
        };
        let mut s = self.store();
        let mut insp = self.draft(&s, inspection_id)?;
        let t = s.template(insp.template)?;
        if t.item(item_code).is_none() {
            return Err(DeviceError::NotFound("checklist item"));
        }
        let photos = insp
            .result(item_code)
            .map(|r| r.photos.clone())
            .unwrap_or_default();
        insp.answer(ItemResult {
            item_code: item_code.to_owned(),
            outcome,
            count: if outcome == Outcome::Fail {
                count.clamp(1, 999)
            } else {
                1
            },
            note: note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            photos: if outcome == Outcome::Fail {
                photos
            } else {
                vec![]
            },
        });
        s.save_inspection_draft(&insp)?;
        self.inspection_view(&s, &insp, false)
    }

    /// Takes an evidence photo for one item (a failure); the item becomes a failure if it was
    /// not answered yet.
    pub fn attach_item_photo(
        &self,
        inspection_id: &str,
        item_code: &str,
        camera: &[u8],
        position: Option<Position>,
    ) -> Result<InspectionView, DeviceError> {
        let mut s = self.store();
        let mut insp = self.draft(&s, inspection_id)?;
        if s.template(insp.template)?.item(item_code).is_none() {
            return Err(DeviceError::NotFound("checklist item"));
        }
        let (sha, fix) = self.capture_for(&mut s, insp.subject, camera, position, insp.fix)?;
        let mut r = insp
            .result(item_code)
            .cloned()
            .filter(|r| r.outcome == Outcome::Fail)
            .unwrap_or_else(|| ItemResult::fail(item_code, 1, vec![]));
        if !r.photos.contains(&sha) {
            r.photos.push(sha);
        }
        insp.answer(r);
        if insp.fix.is_none() {
            insp.fix = fix;
        }
        s.save_inspection_draft(&insp)?;
        self.inspection_view(&s, &insp, false)
    }

    /// Submits the inspection: validated, then stored immutably with its outbox row.
    pub fn submit_inspection(&self, inspection_id: &str) -> Result<InspectionView, DeviceError> {
        let mut s = self.store();
        let insp = self.draft(&s, inspection_id)?;
        s.submit_inspection(insp.id, &self.geo)?;
        let done = s.inspection(insp.id)?;
        self.inspection_view(&s, &done, true)
    }

    /// Issues a rectification order (限期整改) from a failed item of a submitted inspection,
    /// assigned to the inspector, with the failure's photos as "before" photos.
    pub fn issue_rectification(
        &self,
        inspection_id: &str,
        item_code: &str,
        due: NaiveDate,
    ) -> Result<RectificationItem, DeviceError> {
        let e = self.enrollment()?;
        let mut s = self.store();
        let id = InspectionId::from_uuid(parse_id(inspection_id, "inspection")?);
        let insp = s.inspection(id)?;
        let now = s.clock().now();
        if due < now.date_naive() {
            return Err(DeviceError::BadInput(
                "整改期限不能早于今天 (the due date is in the past)".into(),
            ));
        }
        let order = RectificationOrder::from_failed_item(
            &insp,
            item_code,
            cunjie_domain::fact::OrderTerms {
                id: s.new_id(),
                issued_by: e.person_id,
                assignee: e.person_id,
                issued_at: now,
                due,
            },
        )
        .map_err(|err| DeviceError::BadInput(err.to_string()))?;
        s.issue_rectification(&order)?;
        let order = s.rectification(order.id, now.date_naive())?;
        Ok(self.rectification_item(&s, &order))
    }

    // ----------------------------------------------------------------------------------------
    // Cleaner

    fn checkpoints(&self, s: &Store, zone: ZoneId) -> Result<Vec<Facility>, DeviceError> {
        let mut f: Vec<Facility> = s
            .records::<Facility>(EntityKind::Facility, None)?
            .into_iter()
            .filter(|f| f.zone == Some(zone))
            .collect();
        f.sort_by(|a, b| a.number.cmp(&b.number));
        Ok(f)
    }

    /// The zones on this phone (a cleaner's phone holds only its own), with checkpoints.
    pub fn my_zones(&self) -> Result<Vec<ZoneItem>, DeviceError> {
        let s = self.store();
        let mut zones: Vec<Zone> = s.records(EntityKind::Zone, None)?;
        zones.sort_by(|a, b| a.name.cmp(&b.name));
        zones
            .into_iter()
            .map(|z| {
                Ok(ZoneItem {
                    id: z.id.to_string(),
                    name: z.name.clone(),
                    checkpoints: self
                        .checkpoints(&s, z.id)?
                        .into_iter()
                        .map(|f| CheckpointView {
                            facility_id: f.id.to_string(),
                            number: f.number.clone(),
                            kind_zh: f.kind.label_zh().to_owned(),
                            kind_en: f.kind.label_en().to_owned(),
                            state: None,
                            photos: vec![],
                        })
                        .collect(),
                })
            })
            .collect()
    }

    /// The problem types a cleaner can report (the 六无 lists).
    pub fn problem_kinds(&self) -> Vec<ProblemKind> {
        let catalog = Catalog::builtin();
        PROBLEM_SETS
            .iter()
            .filter_map(|code| catalog.set(code))
            .flat_map(|set| set.items.iter())
            .map(|i| ProblemKind {
                code: i.code.clone(),
                label_zh: i.label_zh.clone(),
                label_en: i.label_en.clone(),
            })
            .collect()
    }

    fn round_view(
        &self,
        s: &Store,
        r: &CleanerRound,
        submitted: bool,
    ) -> Result<RoundView, DeviceError> {
        let zone: Zone = s.record(EntityKind::Zone, *r.zone.as_uuid())?;
        let checkpoints = self
            .checkpoints(s, r.zone)?
            .into_iter()
            .map(|f| {
                let v = r.visits.iter().find(|v| v.facility == f.id);
                CheckpointView {
                    facility_id: f.id.to_string(),
                    number: f.number.clone(),
                    kind_zh: f.kind.label_zh().to_owned(),
                    kind_en: f.kind.label_en().to_owned(),
                    state: v.map(|v| checkpoint_str(v.state).to_owned()),
                    photos: v.map(|v| hashes(&v.photos)).unwrap_or_default(),
                }
            })
            .collect();
        Ok(RoundView {
            id: r.id.to_string(),
            zone_id: r.zone.to_string(),
            zone_name: zone.name.clone(),
            started_at: rfc3339(r.started_at),
            checkpoints,
            problems: r
                .problems
                .iter()
                .map(|p| {
                    let (label_zh, label_en) = item_labels(&p.item_code);
                    ProblemView {
                        code: p.item_code.clone(),
                        label_zh,
                        label_en,
                        note: p.note.clone(),
                        photos: hashes(&p.photos),
                    }
                })
                .collect(),
            trace_points: r.trace.len() as u32,
            coverage_pct: (coverage(&zone.geometry, &r.trace, &self.geo) * 100.0).round() as u32,
            submitted,
        })
    }

    fn round_draft(&self, s: &Store, id: &str) -> Result<CleanerRound, DeviceError> {
        Ok(s.round_draft(RoundId::from_uuid(parse_id(id, "round")?))?)
    }

    /// Rounds in progress (a round survives the app being killed).
    pub fn open_rounds(&self) -> Result<Vec<RoundView>, DeviceError> {
        let s = self.store();
        s.round_drafts()?
            .iter()
            .map(|r| self.round_view(&s, r, false))
            .collect()
    }

    /// Starts a round of `zone_id`, or resumes its open one. "Same as yesterday" fills each
    /// checkpoint with the state of the zone's last round (photos are always new).
    pub fn start_round(
        &self,
        zone_id: &str,
        same_as_yesterday: bool,
    ) -> Result<RoundView, DeviceError> {
        let e = self.enrollment()?;
        let zone = ZoneId::from_uuid(parse_id(zone_id, "zone")?);
        let mut s = self.store();
        let _: Zone = s.record(EntityKind::Zone, *zone.as_uuid())?;
        if let Some(open) = s.round_drafts()?.into_iter().find(|r| r.zone == zone) {
            return self.round_view(&s, &open, false);
        }
        let now = s.clock().now();
        let today = now.date_naive();
        // A zone has a few passes a day: the last 20 rounds hold today's and yesterday's.
        let mine = s.rounds_of_zone(zone, 20)?;
        let pass_no = mine
            .iter()
            .filter(|r| r.started_at.date_naive() == today)
            .count() as u8
            + 1;
        let visits = if same_as_yesterday {
            mine.first()
                .map(|last| {
                    last.visits
                        .iter()
                        .map(|v| CheckpointVisit {
                            at: now,
                            fix: None,
                            photos: vec![],
                            note: None,
                            ..v.clone()
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            vec![]
        };
        let round = CleanerRound {
            id: s.new_id(),
            zone,
            cleaner: e.person_id,
            device: s.device_id(),
            pass_no,
            started_at: now,
            ended_at: None,
            server_received_at: None,
            trace: vec![],
            visits,
            problems: vec![],
            status: FactStatus::Draft,
        };
        s.save_round_draft(&round)?;
        self.round_view(&s, &round, false)
    }

    /// Adds a point to the round's trace.
    pub fn record_position(&self, round_id: &str, p: Position) -> Result<RoundView, DeviceError> {
        let mut s = self.store();
        let mut r = self.round_draft(&s, round_id)?;
        let now = s.clock().now();
        if let Some(f) = fix_of(Some(p), now) {
            r.trace.push(TracePoint {
                point: f.point,
                accuracy_m: f.accuracy_m,
                at: now,
            });
            s.save_round_draft(&r)?;
        }
        self.round_view(&s, &r, false)
    }

    fn capture_for(
        &self,
        s: &mut Store,
        subject: Subject,
        camera: &[u8],
        position: Option<Position>,
        fallback: Option<GeoFix>,
    ) -> Result<(PhotoHash, Option<GeoFix>), DeviceError> {
        let e = s.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let now = s.clock().now();
        let fix = fix_of(position, now).or(fallback);
        let ctx = CaptureContext {
            subject,
            fix,
            place: self.subject_label(s, subject),
            person: self.person_label(&e),
        };
        Ok((capture_photo(s, camera, &ctx, &self.policy())?, fix))
    }

    /// Records a checkpoint's state, with a photo if one was taken.
    pub fn record_checkpoint(
        &self,
        round_id: &str,
        facility_id: &str,
        state: &str,
        camera: Option<&[u8]>,
        position: Option<Position>,
    ) -> Result<RoundView, DeviceError> {
        let state = match state {
            "cleared" => CheckpointState::Cleared,
            "overflowing" => CheckpointState::Overflowing,
            "damaged" => CheckpointState::Damaged,
            other => {
                return Err(DeviceError::BadInput(format!(
                    "不认识的清运状态 {other:?} (unknown checkpoint state)"
                )));
            }
        };
        let facility = FacilityId::from_uuid(parse_id(facility_id, "facility")?);
        let mut s = self.store();
        let mut r = self.round_draft(&s, round_id)?;
        let f: Facility = s.record(EntityKind::Facility, *facility.as_uuid())?;
        if f.zone != Some(r.zone) {
            return Err(DeviceError::NotFound("checkpoint of this zone"));
        }
        let now = s.clock().now();
        let mut photos = r
            .visits
            .iter()
            .find(|v| v.facility == facility)
            .map(|v| v.photos.clone())
            .unwrap_or_default();
        let mut fix = fix_of(position, now);
        if let Some(bytes) = camera {
            let subject = Subject {
                kind: SubjectKind::Facility,
                id: *facility.as_uuid(),
            };
            let (sha, f) = self.capture_for(&mut s, subject, bytes, position, None)?;
            fix = fix.or(f);
            if !photos.contains(&sha) {
                photos.push(sha);
            }
        }
        let visit = CheckpointVisit {
            facility,
            number: f.number.clone(),
            state,
            at: now,
            fix,
            photos,
            note: None,
        };
        match r.visits.iter_mut().find(|v| v.facility == facility) {
            Some(v) => *v = visit,
            None => r.visits.push(visit),
        }
        s.save_round_draft(&r)?;
        self.round_view(&s, &r, false)
    }

    /// Reports a problem in the zone (type from the 六无 lists, photo required).
    pub fn report_problem(
        &self,
        round_id: &str,
        code: &str,
        note: Option<String>,
        camera: &[u8],
        position: Option<Position>,
    ) -> Result<RoundView, DeviceError> {
        if !self.problem_kinds().iter().any(|k| k.code == code) {
            return Err(DeviceError::NotFound("problem type"));
        }
        let mut s = self.store();
        let mut r = self.round_draft(&s, round_id)?;
        let subject = Subject {
            kind: SubjectKind::Zone,
            id: *r.zone.as_uuid(),
        };
        let (sha, fix) = self.capture_for(&mut s, subject, camera, position, None)?;
        let now = s.clock().now();
        r.problems.push(ProblemReport {
            id: s.new_id(),
            item_code: code.to_owned(),
            note: note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            at: now,
            fix,
            photos: vec![sha],
        });
        s.save_round_draft(&r)?;
        self.round_view(&s, &r, false)
    }

    /// Finishes and submits the round.
    pub fn finish_round(&self, round_id: &str) -> Result<RoundView, DeviceError> {
        let mut s = self.store();
        let mut r = self.round_draft(&s, round_id)?;
        r.ended_at = Some(s.clock().now());
        s.save_round_draft(&r)?;
        s.submit_round(r.id, Catalog::builtin(), &self.geo)?;
        let done = s.round(r.id)?;
        self.round_view(&s, &done, true)
    }

    // ----------------------------------------------------------------------------------------
    // Rectifications, history, photos

    fn rectification_item(&self, s: &Store, o: &RectificationOrder) -> RectificationItem {
        let (item_label_zh, item_label_en) = item_labels(&o.item_code);
        RectificationItem {
            id: o.id.to_string(),
            subject_label: self.subject_label(s, o.subject),
            item_label_zh,
            item_label_en,
            due: o.due.to_string(),
            state: code_of(&o.state),
            overdue: o.state == RectificationState::Overdue,
            before_photos: hashes(&o.before_photos),
            after_photos: hashes(&o.after_photos),
        }
    }

    /// Orders assigned to me that are not verified yet, earliest due first.
    pub fn my_rectifications(&self) -> Result<Vec<RectificationItem>, DeviceError> {
        let e = self.enrollment()?;
        let s = self.store();
        let today = s.clock().now().date_naive();
        Ok(s.rectifications_for(e.person_id, today)?
            .iter()
            .map(|o| self.rectification_item(&s, o))
            .collect())
    }

    /// Closes an order with an "after" photo taken at the place.
    pub fn close_rectification(
        &self,
        id: &str,
        camera: &[u8],
        note: Option<String>,
        position: Option<Position>,
    ) -> Result<RectificationItem, DeviceError> {
        let rid = RectificationId::from_uuid(parse_id(id, "rectification")?);
        let mut s = self.store();
        let today = s.clock().now().date_naive();
        let order = s.rectification(rid, today)?;
        if !matches!(
            order.state,
            RectificationState::Open | RectificationState::Overdue
        ) {
            return Err(DeviceError::BadInput(
                "这项整改已经提交过了 (already submitted)".into(),
            ));
        }
        let (sha, _) = self.capture_for(&mut s, order.subject, camera, position, None)?;
        s.submit_rectification_fix(
            rid,
            vec![sha],
            note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
        )?;
        let order = s.rectification(rid, today)?;
        Ok(self.rectification_item(&s, &order))
    }

    /// What I submitted, newest first, with its sync state.
    pub fn history(&self) -> Result<Vec<HistoryItem>, DeviceError> {
        let s = self.store();
        Ok(s.history(200)?
            .into_iter()
            .map(|h| {
                let subject = Uuid::parse_str(&h.subject_id).ok();
                let label = match (h.kind.as_str(), subject) {
                    ("inspection", Some(id)) => {
                        let kind = if s.household(HouseholdId::from_uuid(id)).is_ok() {
                            SubjectKind::Household
                        } else {
                            SubjectKind::AdminVillage
                        };
                        self.subject_label(&s, Subject { kind, id })
                    }
                    ("round", Some(id)) => self.subject_label(
                        &s,
                        Subject {
                            kind: SubjectKind::Zone,
                            id,
                        },
                    ),
                    _ => h.subject_id.clone(),
                };
                let (state, reason) = match &h.state {
                    SyncState::Pending => ("pending", None),
                    SyncState::Synced => ("synced", None),
                    SyncState::Rejected { reason, .. } => ("rejected", Some(reason.clone())),
                };
                HistoryItem {
                    id: h.id.clone(),
                    kind: h.kind.clone(),
                    label,
                    submitted_at: h.submitted_at.clone(),
                    state: state.to_owned(),
                    state_zh: h.state.label_zh().to_owned(),
                    reason,
                }
            })
            .collect())
    }

    /// A photo's thumbnail as a `data:` URL for the screen.
    pub fn photo_thumbnail(&self, sha256: &str) -> Result<String, DeviceError> {
        let h: PhotoHash = sha256.parse().map_err(|_| DeviceError::NotFound("photo"))?;
        let s = self.store();
        let row = s.photo(&h)?;
        let name = format!("{h}.thumb.jpg");
        let path = s.photo_file(&name);
        let bytes = std::fs::read(&path)
            .or_else(|_| std::fs::read(s.photo_file(&row.local_path)))
            .map_err(|e| DeviceError::Store(StoreError::PhotoFile(e)))?;
        Ok(format!("data:image/jpeg;base64,{}", B64.encode(bytes)))
    }

    /// Person and village ids the phone works for (used by tests and the demo).
    pub fn person(&self) -> Result<PersonId, DeviceError> {
        Ok(self.enrollment()?.person_id)
    }

    /// The villages on this phone.
    pub fn villages(&self) -> Result<Vec<VillageId>, DeviceError> {
        Ok(self
            .store()
            .records::<AdminVillage>(EntityKind::Village, None)?
            .into_iter()
            .map(|v| v.id)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64, accuracy_m: f64) -> Option<GeoFix> {
        fix_of(
            Some(Position {
                lat,
                lon,
                accuracy_m,
            }),
            DateTime::<Utc>::UNIX_EPOCH,
        )
    }

    #[test]
    fn only_a_real_place_is_a_fix() {
        assert!(at(27.74, 113.82, 8.0).is_some(), "a village in 萍乡");
        assert!(at(0.0, 0.0, 0.0).is_none(), "the desktop plugin's 0, 0");
        for (lat, lon, acc) in [
            (f64::NAN, 113.8, 8.0),
            (27.7, f64::INFINITY, 8.0),
            (27.7, 113.8, f64::INFINITY),
            (27.7, 113.8, f64::NAN),
            (27.7, 113.8, -1.0),
            (91.0, 113.8, 8.0),
            (27.7, 181.0, 8.0),
        ] {
            assert!(
                at(lat, lon, acc).is_none(),
                "({lat}, {lon}) ±{acc} is no fix"
            );
        }
    }
}
