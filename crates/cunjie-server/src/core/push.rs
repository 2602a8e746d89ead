//! Applying a push batch in one transaction (sync.md §5.4, §5.6).
//!
//! `seq ≤ last_seq` is answered from the stored receipt; a gap refuses the whole batch; a
//! mutation that fails validation or authorisation is recorded as rejected and still advances
//! `last_seq`, so one bad record never blocks a phone's queue. Facts are inserted once; household
//! fields merge per field against the phone's base version, and a real conflict is resolved by
//! the clamped HLC and kept for a person to review.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cunjie_domain::catalog::{Catalog, SubjectKind};
use cunjie_domain::fact::{CleanerRound, FactStatus, Inspection, RectificationOrder};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::hlc::{Clamped, Hlc, clamp_incoming};
use cunjie_domain::ids::{PersonId, RectificationId, VillageId, ZoneId};
use cunjie_domain::place::{HOUSEHOLD_EDITABLE_FIELDS, Household};
use cunjie_domain::validate::{Severity, validate_inspection, validate_round};
use cunjie_protocol::SCHEMA_VERSION;
use cunjie_protocol::v1::{
    EntityKind, Mutation, MutationResult, MutationStatus, Op, PushRequest, PushResponse, codes,
};
use uuid::Uuid;

use super::registry::{FieldVersion, assignments_of, covered_at, record, scopes_of, template};
use super::{DeviceCtx, append_change, random_hex, scope, ts};
use crate::store::{Dialect, StorageError, Tx, int, opt_text, text, vals};

/// A batch the server refuses as a whole (nothing applied).
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The batch skips seqs.
    #[error("seq gap: expected {expected}, got {got}; push from expected {expected}")]
    SeqGap {
        /// The next seq the server expects.
        expected: u64,
        /// The first new seq in the batch.
        got: u64,
    },
    /// A mutation names another device.
    #[error("mutation seq {0} names another device; a phone pushes only its own outbox")]
    DeviceMismatch(u64),
}

/// Applies a batch for an authenticated device.
pub(crate) fn push(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    req: &PushRequest,
    now: DateTime<Utc>,
) -> Result<PushResponse, PushError> {
    if let Some(m) = req.mutations.iter().find(|m| m.device_id != dev.id) {
        return Err(PushError::DeviceMismatch(m.seq));
    }
    let lock = match tx.dialect() {
        Dialect::Postgres => "SELECT last_seq FROM device WHERE id = $1 FOR UPDATE",
        Dialect::Sqlite => "SELECT last_seq FROM device WHERE id = $1",
    };
    let rows = tx.query(lock, vals![dev.id.to_string()])?;
    let mut last_seq = rows
        .first()
        .map(|r| int(r, 0, "last_seq"))
        .transpose()?
        .unwrap_or(0) as u64;
    let mut batch: Vec<&Mutation> = req.mutations.iter().collect();
    batch.sort_by_key(|m| m.seq);
    // A proxy or a confused client may repeat a mutation inside one batch: once is enough.
    batch.dedup_by_key(|m| m.seq);
    for (expected, m) in (last_seq + 1..).zip(batch.iter().filter(|m| m.seq > last_seq)) {
        if m.seq != expected {
            return Err(PushError::SeqGap {
                expected,
                got: m.seq,
            });
        }
    }
    let sent_skew_ms = req
        .sent_at
        .map(|t| t.timestamp_millis().saturating_sub(now.timestamp_millis()));
    let mut results = Vec::with_capacity(batch.len());
    for m in batch {
        let status = if m.seq <= last_seq {
            stored_receipt(tx, dev, m.seq)?
        } else {
            let status = apply(tx, dev, m, sent_skew_ms, now)?;
            save_receipt(tx, dev, m, &status, now)?;
            failpoint!("server::push_mid_tx");
            last_seq = m.seq;
            status
        };
        results.push(MutationResult { seq: m.seq, status });
    }
    tx.exec(
        "UPDATE device SET last_seq = $1 WHERE id = $2",
        vals![last_seq, dev.id.to_string()],
    )?;
    Ok(PushResponse {
        acked_through: last_seq,
        results,
        server_time_ms: now.timestamp_millis(),
    })
}

fn stored_receipt(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    seq: u64,
) -> Result<MutationStatus, StorageError> {
    let rows = tx.query("SELECT status, server_version, code, reason FROM receipt WHERE device_id = $1 AND seq = $2", vals![dev.id.to_string(), seq])?;
    let r = rows
        .into_iter()
        .next()
        .ok_or(StorageError::Column("receipt"))?;
    Ok(if text(&r, 0, "status")? == "applied" {
        MutationStatus::Applied {
            server_version: int(&r, 1, "server_version")? as u64,
        }
    } else {
        MutationStatus::Rejected {
            code: opt_text(&r, 2).unwrap_or_default(),
            reason: opt_text(&r, 3).unwrap_or_default(),
        }
    })
}

fn save_receipt(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    m: &Mutation,
    status: &MutationStatus,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let (st, version, code, reason) = match status {
        MutationStatus::Applied { server_version } => {
            ("applied", Some(*server_version), None, None)
        }
        MutationStatus::Rejected { code, reason } => {
            ("rejected", None, Some(code.clone()), Some(reason.clone()))
        }
    };
    tx.exec(
        "INSERT INTO receipt (device_id, seq, mutation_id, status, server_version, code, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vals![dev.id.to_string(), m.seq, m.mutation_id.to_string(), st, version, code, reason, ts(now)],
    )?;
    Ok(())
}

/// A per-mutation rejection, in words for the person who made the record.
pub(crate) struct Reject(pub(crate) &'static str, pub(crate) String);

/// A mutation's effect: the server version it produced, or why it was rejected.
pub(crate) type Applied = Result<u64, Reject>;

pub(crate) fn reject(code: &'static str, reason: impl Into<String>) -> Applied {
    Err(Reject(code, reason.into()))
}

fn apply(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    m: &Mutation,
    sent_skew_ms: Option<i64>,
    now: DateTime<Utc>,
) -> Result<MutationStatus, StorageError> {
    let incoming = Hlc::from_packed(m.hlc, dev.id);
    let clamped = clamp_incoming(incoming, now.timestamp_millis()).with_device_clock(
        incoming,
        m.device_time.map(|t| t.timestamp_millis()),
        sent_skew_ms,
    );
    let outcome = if m.schema_version == 0 || m.schema_version > SCHEMA_VERSION {
        reject(
            codes::UNSUPPORTED_SCHEMA,
            format!(
                "记录格式版本 {} 不受支持，请更新应用 (unsupported schema)",
                m.schema_version
            ),
        )
    } else if let Some(why) = implausible(&m.payload) {
        reject(codes::INVALID, why)
    } else {
        match &m.payload {
            Op::SubmitInspection { inspection } => {
                submit_inspection(tx, dev, inspection, &clamped, now)?
            }
            Op::SubmitRound { round } => submit_round(tx, dev, round, &clamped, now)?,
            Op::IssueRectification { order } => issue_rectification(tx, dev, order)?,
            Op::SubmitRectificationFix {
                id,
                after_photos,
                note,
            } => rectification_step(tx, dev, *id, now, |o, _| {
                o.submit(after_photos.clone(), note.clone())
                    .map_err(|e| e.to_string())
            })?,
            Op::ReviewRectification { id, accepted, note } => {
                rectification_step(tx, dev, *id, now, |o, today| {
                    if *accepted {
                        o.verify()
                    } else {
                        o.reject(today, note.clone())
                    }
                    .map_err(|e| e.to_string())
                })?
            }
            Op::UpdateFields { entity, id, fields } => {
                update_fields(tx, dev, *entity, *id, fields, m.base_version, &clamped, now)?
            }
            Op::AttestPhoto {
                attestation,
                signature,
            } => super::photos::attest(tx, dev, attestation, signature, now)?,
        }
    };
    Ok(match outcome {
        Ok(server_version) => MutationStatus::Applied { server_version },
        Err(Reject(code, reason)) => MutationStatus::Rejected {
            code: code.to_owned(),
            reason,
        },
    })
}

/// The longest free text the server keeps in one field (notes, names, codes).
pub(crate) const MAX_TEXT_CHARS: usize = 2_000;

/// Device times outside these years cannot come from a working phone (a phone whose clock was
/// reset to 1970 still passes, and is flagged for its skew).
const PLAUSIBLE_YEARS: std::ops::Range<i32> = 1970..2100;

/// Why a mutation cannot be a real record, checked before anything else: a coordinate outside
/// WGS-84 or an accuracy that is negative (a GPS never reports them; a merely poor fix is only
/// flagged), a time outside [`PLAUSIBLE_YEARS`], or a text over [`MAX_TEXT_CHARS`].
fn implausible(op: &Op) -> Option<String> {
    use chrono::Datelike;
    use cunjie_domain::fact::GeoFix;
    use cunjie_domain::place::GeoPoint;
    let mut times: Vec<DateTime<Utc>> = Vec::new();
    let mut places: Vec<(GeoPoint, f64)> = Vec::new();
    let mut fix = |f: Option<&GeoFix>, times: &mut Vec<DateTime<Utc>>| {
        if let Some(f) = f {
            places.push((f.point, f.accuracy_m));
            times.extend(f.fix_time);
        }
    };
    let mut due = None;
    match op {
        Op::SubmitInspection { inspection: i } => {
            times.push(i.started_at);
            times.extend(i.submitted_at);
            fix(i.fix.as_ref(), &mut times);
        }
        Op::SubmitRound { round: r } => {
            times.push(r.started_at);
            times.extend(r.ended_at);
            for v in &r.visits {
                times.push(v.at);
                fix(v.fix.as_ref(), &mut times);
            }
            for p in &r.problems {
                times.push(p.at);
                fix(p.fix.as_ref(), &mut times);
            }
            for t in &r.trace {
                times.push(t.at);
                places.push((t.point, t.accuracy_m));
            }
        }
        Op::IssueRectification { order } => {
            times.push(order.issued_at);
            due = Some(order.due.year());
        }
        Op::AttestPhoto { attestation, .. } => {
            times.push(attestation.taken_at);
            fix(attestation.fix.as_ref(), &mut times);
        }
        _ => {}
    }
    if places
        .iter()
        .any(|(p, acc)| !p.is_valid() || !acc.is_finite() || *acc < 0.0)
    {
        return Some(
            "位置坐标超出范围，记录无效 (a coordinate or accuracy is out of range)".to_owned(),
        );
    }
    if times
        .iter()
        .map(Datelike::year)
        .chain(due)
        .any(|y| !PLAUSIBLE_YEARS.contains(&y))
    {
        return Some(format!(
            "时间不可信（须在 {} 至 {} 年之间）(a time outside the plausible years)",
            PLAUSIBLE_YEARS.start,
            PLAUSIBLE_YEARS.end - 1
        ));
    }
    fn longest(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::String(s) => s.chars().count(),
            serde_json::Value::Array(a) => a.iter().map(longest).max().unwrap_or(0),
            serde_json::Value::Object(o) => o
                .iter()
                .map(|(k, v)| longest(v).max(k.chars().count()))
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }
    let longest = serde_json::to_value(op).map_or(0, |v| longest(&v));
    if longest > MAX_TEXT_CHARS {
        return Some(format!(
            "文字过长（最多 {MAX_TEXT_CHARS} 字）(a text longer than {MAX_TEXT_CHARS} characters)"
        ));
    }
    None
}

pub(crate) fn assigned_village(
    tx: &mut dyn Tx,
    person: PersonId,
    village: VillageId,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let a = assignments_of(tx, &person.to_string())?;
    Ok(covered_at(&a, at).0.contains(&village))
}

pub(crate) fn assigned_zone(
    tx: &mut dyn Tx,
    person: PersonId,
    zone: ZoneId,
    at: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let a = assignments_of(tx, &person.to_string())?;
    Ok(covered_at(&a, at).1.contains(&zone))
}

fn flags(clamped: &Clamped, extra: &[&str]) -> String {
    let mut f: Vec<&str> = extra.to_vec();
    if clamped.skew_flagged {
        f.push("clock_skew");
    }
    if clamped.clamped {
        f.push("hlc_clamped");
    }
    f.join(",")
}

/// A fact about to be stored.
struct NewFact {
    kind: &'static str,
    id: String,
    village: Option<String>,
    zone: Option<String>,
    subject: String,
    device_time: DateTime<Utc>,
    flags: String,
    row: String,
    /// The scope whose change log carries it.
    scope: String,
}

/// Inserts a fact once and appends it to its scope. The very same fact again (a retry that
/// lost its receipt) is accepted without a second effect; an id taken by another device's
/// record is refused.
fn insert_fact(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    f: NewFact,
    clamped: &Clamped,
    now: DateTime<Utc>,
) -> Result<Applied, StorageError> {
    let existing = tx.query("SELECT device_id FROM fact WHERE id = $1", vals![&f.id])?;
    if let Some(r) = existing.first() {
        return Ok(if text(r, 0, "device_id")? == dev.id.to_string() {
            Ok(1)
        } else {
            Err(Reject(
                codes::DUPLICATE_ID,
                format!("编号 {} 已被其他记录使用 (id already used)", f.id),
            ))
        });
    }
    tx.exec(
        "INSERT INTO fact (id, kind, township_id, village_id, zone_id, subject_id, author_id, device_id, device_time, server_received_at, hlc, skew_ms, flags, row_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        vals![
            &f.id,
            f.kind,
            dev.township.to_string(),
            f.village,
            f.zone,
            f.subject,
            dev.person.to_string(),
            dev.id.to_string(),
            ts(f.device_time),
            ts(now),
            clamped.hlc.packed() as i64,
            clamped.skew_ms,
            f.flags,
            &f.row
        ],
    )?;
    append_change(tx, &f.scope, f.kind, &f.id, 1, Some(&f.row))?;
    Ok(Ok(1))
}

fn submit_inspection(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    insp: &Inspection,
    clamped: &Clamped,
    now: DateTime<Utc>,
) -> Result<Applied, StorageError> {
    if !dev.role.inspects() {
        return Ok(reject(
            codes::WRONG_ROLE,
            format!(
                "{}不能提交检查记录 (this role cannot submit inspections)",
                dev.role.label_zh()
            ),
        ));
    }
    if insp.inspector != dev.person || insp.device != dev.id {
        return Ok(reject(
            codes::FORBIDDEN,
            "只能提交本人在本机上的检查 (only your own inspections from this phone)",
        ));
    }
    if insp.status != FactStatus::Submitted {
        return Ok(reject(
            codes::INVALID,
            "草稿不能上传 (a draft cannot be pushed)",
        ));
    }
    let Some(template) = template(tx, &insp.template.id.to_string(), insp.template.version)? else {
        return Ok(reject(
            codes::UNKNOWN_REFERENCE,
            format!(
                "检查表 {}@{} 不存在 (unknown template)",
                insp.template.id, insp.template.version
            ),
        ));
    };
    let Some((_, _, _, township)) = record(tx, "village", &insp.village.to_string())? else {
        return Ok(reject(
            codes::UNKNOWN_REFERENCE,
            "村不存在 (unknown village)",
        ));
    };
    if township != dev.township.to_string() {
        return Ok(reject(
            codes::FORBIDDEN,
            "该村不属于本镇 (village of another township)",
        ));
    }
    let place = match insp.subject.kind {
        SubjectKind::Household => Some(("household", "农户", "household")),
        SubjectKind::Business => Some(("business", "经营户", "business")),
        _ => None,
    };
    if let Some((entity, zh, en)) = place {
        match record(tx, entity, &insp.subject.id.to_string())? {
            Some((row, ..))
                if row.get("village").and_then(|v| v.as_str())
                    == Some(&insp.village.to_string()) => {}
            Some(_) => {
                return Ok(reject(
                    codes::INVALID,
                    format!("{zh}不在所填的村 ({en} not in that village)"),
                ));
            }
            None => {
                return Ok(reject(
                    codes::UNKNOWN_REFERENCE,
                    format!("{zh}不存在 (unknown {en})"),
                ));
            }
        }
    }
    let issues = validate_inspection(insp, &template, &GeoPolicy::default());
    let blocking: Vec<String> = issues
        .iter()
        .filter(|i| i.severity == Severity::Blocking)
        .map(|i| i.message_zh())
        .collect();
    if !blocking.is_empty() {
        return Ok(reject(codes::INVALID, blocking.join("；")));
    }
    if !assigned_village(tx, dev.person, insp.village, insp.started_at)? {
        return Ok(reject(
            codes::NOT_ASSIGNED,
            "检查时您未被分配到该村 (not assigned to this village when inspected)",
        ));
    }
    let mut extra = vec![];
    if !assigned_village(tx, dev.person, insp.village, now)? {
        extra.push("assignment_changed");
    }
    if !issues.is_empty() {
        extra.push("location_flagged");
    }
    let mut stored = insp.clone();
    stored.server_received_at = Some(now);
    let row = serde_json::to_string(&stored)?;
    let fact = NewFact {
        kind: "inspection",
        id: insp.id.to_string(),
        village: Some(insp.village.to_string()),
        zone: None,
        subject: insp.subject.id.to_string(),
        device_time: insp.started_at,
        flags: flags(clamped, &extra),
        row,
        scope: scope::village(insp.village),
    };
    insert_fact(tx, dev, fact, clamped, now)
}

fn submit_round(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    round: &CleanerRound,
    clamped: &Clamped,
    now: DateTime<Utc>,
) -> Result<Applied, StorageError> {
    if !dev.role.cleans() {
        return Ok(reject(
            codes::WRONG_ROLE,
            format!(
                "{}不能提交保洁巡回 (this role cannot submit rounds)",
                dev.role.label_zh()
            ),
        ));
    }
    if round.cleaner != dev.person || round.device != dev.id {
        return Ok(reject(
            codes::FORBIDDEN,
            "只能提交本人在本机上的巡回 (only your own rounds from this phone)",
        ));
    }
    let Some((zone_row, ..)) = record(tx, "zone", &round.zone.to_string())? else {
        return Ok(reject(
            codes::UNKNOWN_REFERENCE,
            "责任区不存在 (unknown zone)",
        ));
    };
    let issues = validate_round(round, Catalog::builtin(), &GeoPolicy::default());
    let blocking: Vec<String> = issues
        .iter()
        .filter(|i| i.severity == Severity::Blocking)
        .map(|i| i.message_zh())
        .collect();
    if !blocking.is_empty() || round.status != FactStatus::Submitted {
        return Ok(reject(
            codes::INVALID,
            if blocking.is_empty() {
                "草稿不能上传 (a draft cannot be pushed)".to_owned()
            } else {
                blocking.join("；")
            },
        ));
    }
    if !assigned_zone(tx, dev.person, round.zone, round.started_at)? {
        return Ok(reject(
            codes::NOT_ASSIGNED,
            "巡回时您未被分配到该责任区 (not assigned to this zone at the time)",
        ));
    }
    let mut extra = vec![];
    if !assigned_zone(tx, dev.person, round.zone, now)? {
        extra.push("assignment_changed");
    }
    let village = zone_row
        .get("village")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let mut stored = round.clone();
    stored.server_received_at = Some(now);
    let row = serde_json::to_string(&stored)?;
    let fact = NewFact {
        kind: "round",
        id: round.id.to_string(),
        village,
        zone: Some(round.zone.to_string()),
        subject: round.zone.to_string(),
        device_time: round.started_at,
        flags: flags(clamped, &extra),
        row,
        scope: scope::zone(round.zone),
    };
    insert_fact(tx, dev, fact, clamped, now)
}

fn publish_rectification(
    tx: &mut dyn Tx,
    o: &RectificationOrder,
    version: i64,
) -> Result<(), StorageError> {
    let row = serde_json::to_string(o)?;
    let id = o.id.to_string();
    tx.exec(
        "INSERT INTO rectification (id, township_id, village_id, assignee_id, state, due, server_version, row_json)
         SELECT $1, township_id, $2, $3, $4, $5, $6, $7 FROM record WHERE entity = 'village' AND id = $2
         ON CONFLICT (id) DO UPDATE SET assignee_id = excluded.assignee_id, state = excluded.state, due = excluded.due,
           server_version = excluded.server_version, row_json = excluded.row_json",
        vals![&id, o.village.to_string(), o.assignee.to_string(), serde_json::to_value(o.state)?.as_str().unwrap_or_default(), o.due.to_string(), version, &row],
    )?;
    append_change(
        tx,
        &scope::village(o.village),
        "rectification",
        &id,
        version,
        Some(&row),
    )?;
    append_change(
        tx,
        &scope::person(o.assignee),
        "rectification",
        &id,
        version,
        Some(&row),
    )?;
    Ok(())
}

fn issue_rectification(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    o: &RectificationOrder,
) -> Result<Applied, StorageError> {
    if !dev.role.inspects() {
        return Ok(reject(
            codes::WRONG_ROLE,
            "只有检查员可以下达整改 (only inspectors issue rectifications)",
        ));
    }
    if o.issued_by != dev.person {
        return Ok(reject(
            codes::FORBIDDEN,
            "只能以本人名义下达整改 (issue in your own name)",
        ));
    }
    if record(tx, "village", &o.village.to_string())?.is_none() {
        return Ok(reject(
            codes::UNKNOWN_REFERENCE,
            "村不存在 (unknown village)",
        ));
    }
    if !assigned_village(tx, dev.person, o.village, o.issued_at)? {
        return Ok(reject(
            codes::NOT_ASSIGNED,
            "下达整改时您未被分配到该村 (not assigned to this village)",
        ));
    }
    if !tx
        .query(
            "SELECT 1 FROM rectification WHERE id = $1",
            vals![o.id.to_string()],
        )?
        .is_empty()
    {
        return Ok(Ok(1));
    }
    publish_rectification(tx, o, 1)?;
    Ok(Ok(1))
}

fn rectification_step(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    id: RectificationId,
    now: DateTime<Utc>,
    step: impl FnOnce(&mut RectificationOrder, chrono::NaiveDate) -> Result<(), String>,
) -> Result<Applied, StorageError> {
    let rows = tx.query(
        "SELECT row_json, server_version FROM rectification WHERE id = $1",
        vals![id.to_string()],
    )?;
    let Some(r) = rows.into_iter().next() else {
        return Ok(reject(
            codes::UNKNOWN_REFERENCE,
            "整改单不存在 (unknown rectification)",
        ));
    };
    let mut order: RectificationOrder = serde_json::from_str(&text(&r, 0, "row_json")?)?;
    let version = int(&r, 1, "server_version")?;
    let allowed = order.assignee == dev.person
        || (dev.role.inspects() && assigned_village(tx, dev.person, order.village, now)?);
    if !allowed {
        return Ok(reject(
            codes::FORBIDDEN,
            "这不是您负责的整改单 (not your rectification)",
        ));
    }
    if let Err(e) = step(&mut order, now.date_naive()) {
        return Ok(reject(codes::INVALID, e));
    }
    publish_rectification(tx, &order, version + 1)?;
    Ok(Ok((version + 1) as u64))
}

#[allow(clippy::too_many_arguments, reason = "a mutation's parts")]
fn update_fields(
    tx: &mut dyn Tx,
    dev: &DeviceCtx,
    entity: EntityKind,
    id: Uuid,
    fields: &BTreeMap<String, serde_json::Value>,
    base_version: Option<u64>,
    clamped: &Clamped,
    now: DateTime<Utc>,
) -> Result<Applied, StorageError> {
    if entity != EntityKind::Household {
        return Ok(reject(
            codes::FORBIDDEN,
            "手机上只能修改农户信息 (only households are edited on phones)",
        ));
    }
    if let Some(bad) = fields
        .keys()
        .find(|k| !HOUSEHOLD_EDITABLE_FIELDS.contains(&k.as_str()))
    {
        return Ok(reject(
            codes::FORBIDDEN,
            format!("字段 {bad} 不能在手机上修改 (field not editable)"),
        ));
    }
    let key = id.to_string();
    let Some((mut row, version, mut field_versions, township)) = record(tx, "household", &key)?
    else {
        return Ok(reject(
            codes::UNKNOWN_REFERENCE,
            "农户不存在 (unknown household)",
        ));
    };
    let village: Option<VillageId> = row
        .get("village")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok());
    let Some(village) = village else {
        return Ok(reject(
            codes::UNKNOWN_REFERENCE,
            "农户没有所属村 (household without village)",
        ));
    };
    if !dev.role.inspects() || !assigned_village(tx, dev.person, village, now)? {
        return Ok(reject(
            codes::NOT_ASSIGNED,
            "您没有被分配到该农户所在的村 (not assigned to this village)",
        ));
    }
    let base = base_version.unwrap_or(0) as i64;
    let new_version = version + 1;
    let device_hlc = clamped.hlc.packed() as i64;
    let mut changed = false;
    // Checked before anything is written (a conflict row included): the phone's values must
    // make a valid household, its location inside WGS-84.
    let mut candidate = row.clone();
    if let Some(obj) = candidate.as_object_mut() {
        for (field, value) in fields {
            obj.insert(field.clone(), value.clone());
        }
    }
    match serde_json::from_value::<Household>(candidate) {
        Ok(h) if h.location.is_none_or(|p| p.is_valid()) => {}
        _ => {
            return Ok(reject(
                codes::INVALID,
                "字段的值类型不对或位置超出范围 (a field has the wrong type or the location is out of range)",
            ));
        }
    }
    for (field, device_value) in fields {
        let server_value = row.get(field).cloned().unwrap_or(serde_json::Value::Null);
        let fv = field_versions
            .get(field)
            .copied()
            .unwrap_or(FieldVersion { v: 0, h: 0 });
        if &server_value == device_value {
            continue;
        }
        let device_wins = if fv.v <= base {
            true
        } else {
            // Both changed it since the phone's base: a real conflict. The later clamped HLC
            // wins, and both values are kept for a person to review.
            let wins = device_hlc > fv.h;
            tx.exec(
                "INSERT INTO conflict (id, entity, entity_id, field, base_version, server_value, device_value, winner, device_id, hlc, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                vals![random_hex(16), "household", &key, field, base, server_value.to_string(), device_value.to_string(), if wins { "device" } else { "server" }, dev.id.to_string(), device_hlc, ts(now)],
            )?;
            wins
        };
        if device_wins {
            if let Some(obj) = row.as_object_mut() {
                obj.insert(field.clone(), device_value.clone());
            }
            field_versions.insert(
                field.clone(),
                FieldVersion {
                    v: new_version,
                    h: device_hlc,
                },
            );
            changed = true;
        }
    }
    if serde_json::from_value::<Household>(row.clone()).is_err() {
        return Ok(reject(
            codes::INVALID,
            "字段的值类型不对 (a field has the wrong type)",
        ));
    }
    if !changed {
        return Ok(Ok(version as u64));
    }
    let conflicted: Option<String> = {
        let n = tx.query(
            "SELECT count(*) FROM conflict WHERE entity = 'household' AND entity_id = $1",
            vals![&key],
        )?;
        n.first()
            .and_then(|r| r[0].int())
            .filter(|n| *n > 0)
            .map(|n| format!("{n} conflict(s) to review"))
    };
    let json = row.to_string();
    tx.exec(
        "UPDATE record SET server_version = $1, field_versions = $2, row_json = $3, conflict = $4 WHERE entity = 'household' AND id = $5",
        vals![new_version, serde_json::to_string(&field_versions)?, &json, conflicted, &key],
    )?;
    let township_id = township
        .parse()
        .map_err(|_| StorageError::Column("township_id"))?;
    for s in scopes_of("household", township_id, Some(village), None) {
        append_change(tx, &s, "household", &key, new_version, Some(&json))?;
    }
    Ok(Ok(new_version as u64))
}
