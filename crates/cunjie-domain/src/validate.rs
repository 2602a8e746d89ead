//! Validation that returns issues instead of failing.
//!
//! A half-filled inspection is normal offline, so validation never refuses to build a value: it
//! lists what is missing or doubtful. A fact can be submitted when no issue is
//! [`Severity::Blocking`]; warnings (a poor GPS fix, say) travel with it and are flagged for a
//! person.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::fact::{CleanerRound, GeoFix, Inspection, Outcome};
use crate::geo::{FixProblem, GeoPolicy, assess_fix};
use crate::template::Template;

/// How serious an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Submission is refused until it is fixed.
    Blocking,
    /// Recorded and shown, submission allowed.
    Warning,
}

/// What is wrong. The code is stable and goes over the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    /// The inspection was filled against another template or version.
    TemplateMismatch,
    /// An item of the template has no answer.
    Unanswered,
    /// An answer names an item the template does not have.
    UnknownItem,
    /// The same item is answered twice.
    DuplicateAnswer,
    /// N/A where the template does not allow it.
    NotApplicableNotAllowed,
    /// A failure with no photo where the template demands one.
    PhotoRequired,
    /// A failure with no note where the template demands one.
    NoteRequired,
    /// A per-unit failure with a count of zero.
    CountRequired,
    /// No GPS fix at all.
    NoLocation,
    /// A fix that cannot be trusted (poor accuracy, desktop stub, mock, out of range).
    UntrustedLocation,
    /// A round with no trace point.
    EmptyTrace,
    /// A round not yet finished.
    RoundNotFinished,
    /// A problem report naming an item that is not in the catalog.
    UnknownProblemType,
    /// A problem report or checkpoint visit with no photo.
    ProblemPhotoMissing,
}

/// One thing validation found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Issue {
    /// What.
    pub code: IssueCode,
    /// How serious.
    pub severity: Severity,
    /// The item concerned, if any.
    pub item_code: Option<String>,
}

impl Issue {
    fn blocking(code: IssueCode, item: Option<&str>) -> Self {
        Self {
            code,
            severity: Severity::Blocking,
            item_code: item.map(str::to_owned),
        }
    }

    fn warning(code: IssueCode, item: Option<&str>) -> Self {
        Self {
            code,
            severity: Severity::Warning,
            item_code: item.map(str::to_owned),
        }
    }

    /// What to tell the person, in Chinese.
    pub fn message_zh(&self) -> String {
        let item = self.item_code.as_deref().unwrap_or("");
        match self.code {
            IssueCode::TemplateMismatch => "检查表版本不符，请按当前检查表重新填写".into(),
            IssueCode::Unanswered => format!("{item} 尚未检查，请选择合格、不合格或不适用"),
            IssueCode::UnknownItem => format!("{item} 不在本检查表中"),
            IssueCode::DuplicateAnswer => format!("{item} 填写了两次"),
            IssueCode::NotApplicableNotAllowed => format!("{item} 不能选“不适用”"),
            IssueCode::PhotoRequired => format!("{item} 不合格，需要拍照留证"),
            IssueCode::NoteRequired => format!("{item} 不合格，需要填写说明"),
            IssueCode::CountRequired => format!("{item} 不合格，请填写数量"),
            IssueCode::NoLocation => "没有定位，记录将标记为无位置".into(),
            IssueCode::UntrustedLocation => "定位不可靠（精度差或模拟位置），记录将被标记".into(),
            IssueCode::EmptyTrace => "本次巡回没有轨迹点".into(),
            IssueCode::RoundNotFinished => "巡回尚未结束，请点“结束巡回”".into(),
            IssueCode::UnknownProblemType => format!("问题类型 {item} 无效"),
            IssueCode::ProblemPhotoMissing => "上报问题需要拍照".into(),
        }
    }

    /// What to tell the person, in English.
    pub fn message_en(&self) -> String {
        let item = self.item_code.as_deref().unwrap_or("");
        match self.code {
            IssueCode::TemplateMismatch => {
                "Filled against another checklist version; fill it in again".into()
            }
            IssueCode::Unanswered => format!("{item} not checked yet: pass, fail or N/A"),
            IssueCode::UnknownItem => format!("{item} is not on this checklist"),
            IssueCode::DuplicateAnswer => format!("{item} answered twice"),
            IssueCode::NotApplicableNotAllowed => format!("{item} cannot be N/A"),
            IssueCode::PhotoRequired => format!("{item} failed: take a photo"),
            IssueCode::NoteRequired => format!("{item} failed: add a note"),
            IssueCode::CountRequired => format!("{item} failed: enter how many"),
            IssueCode::NoLocation => "No GPS fix; the record will be flagged".into(),
            IssueCode::UntrustedLocation => {
                "GPS fix not trusted (poor accuracy or mock); flagged".into()
            }
            IssueCode::EmptyTrace => "This round has no trace".into(),
            IssueCode::RoundNotFinished => "Round not finished yet".into(),
            IssueCode::UnknownProblemType => format!("Problem type {item} is not valid"),
            IssueCode::ProblemPhotoMissing => "A reported problem needs a photo".into(),
        }
    }
}

/// Whether any issue blocks submission.
pub fn has_blocking(issues: &[Issue]) -> bool {
    issues.iter().any(|i| i.severity == Severity::Blocking)
}

fn fix_issues(fix: Option<&GeoFix>, policy: &GeoPolicy, out: &mut Vec<Issue>) {
    match fix {
        None => out.push(Issue::warning(IssueCode::NoLocation, None)),
        Some(f) => match assess_fix(f, policy) {
            Ok(()) => {}
            Err(problems) if problems == [FixProblem::NoFix] => {
                out.push(Issue::warning(IssueCode::NoLocation, None));
            }
            Err(_) => out.push(Issue::warning(IssueCode::UntrustedLocation, None)),
        },
    }
}

/// Validates an inspection against the template version it names.
pub fn validate_inspection(
    insp: &Inspection,
    template: &Template,
    policy: &GeoPolicy,
) -> Vec<Issue> {
    let mut out = Vec::new();
    if insp.template != template.reference() {
        out.push(Issue::blocking(IssueCode::TemplateMismatch, None));
        return out;
    }
    let mut seen = HashSet::new();
    for r in &insp.results {
        let code = Some(r.item_code.as_str());
        if !seen.insert(r.item_code.as_str()) {
            out.push(Issue::blocking(IssueCode::DuplicateAnswer, code));
            continue;
        }
        let Some(rule) = template.item(&r.item_code) else {
            out.push(Issue::blocking(IssueCode::UnknownItem, code));
            continue;
        };
        match r.outcome {
            Outcome::Pass => {}
            Outcome::NotApplicable if !rule.na_allowed => {
                out.push(Issue::blocking(IssueCode::NotApplicableNotAllowed, code));
            }
            Outcome::NotApplicable => {}
            Outcome::Fail => {
                if rule.photo_on_fail && r.photos.is_empty() {
                    out.push(Issue::blocking(IssueCode::PhotoRequired, code));
                }
                if rule.note_on_fail && r.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
                    out.push(Issue::blocking(IssueCode::NoteRequired, code));
                }
                if rule.count_unit.asks_count() && r.count == 0 {
                    out.push(Issue::blocking(IssueCode::CountRequired, code));
                }
            }
        }
    }
    for item in &template.items {
        if !seen.contains(item.item_code.as_str()) {
            out.push(Issue::blocking(
                IssueCode::Unanswered,
                Some(&item.item_code),
            ));
        }
    }
    fix_issues(insp.fix.as_ref(), policy, &mut out);
    out
}

/// Validates a cleaner's round before it is submitted.
pub fn validate_round(round: &CleanerRound, catalog: &Catalog, policy: &GeoPolicy) -> Vec<Issue> {
    let mut out = Vec::new();
    if round.ended_at.is_none() {
        out.push(Issue::blocking(IssueCode::RoundNotFinished, None));
    }
    if round.trace.is_empty() {
        out.push(Issue::warning(IssueCode::EmptyTrace, None));
    } else if round
        .trace
        .iter()
        .all(|t| t.accuracy_m > policy.max_accuracy_m || !t.point.is_valid())
    {
        out.push(Issue::warning(IssueCode::UntrustedLocation, None));
    }
    for p in &round.problems {
        if catalog.item(&p.item_code).is_none() {
            out.push(Issue::blocking(
                IssueCode::UnknownProblemType,
                Some(&p.item_code),
            ));
        }
        if p.photos.is_empty() {
            out.push(Issue::blocking(
                IssueCode::ProblemPhotoMissing,
                Some(&p.item_code),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::SubjectKind;
    use crate::fact::{FactStatus, InspectionType, ItemResult, PhotoHash, Subject};
    use crate::ids::*;
    use crate::place::GeoPoint;
    use crate::template::presets;
    use chrono::DateTime;
    use uuid::Uuid;

    fn photo() -> PhotoHash {
        "ab".repeat(32).parse().expect("hex")
    }

    fn draft(t: &Template) -> Inspection {
        let u = Uuid::from_u128;
        Inspection {
            id: InspectionId::from_uuid(u(1)),
            template: t.reference(),
            subject: Subject {
                kind: SubjectKind::Household,
                id: u(2),
            },
            village: VillageId::from_uuid(u(3)),
            kind: InspectionType::HouseholdMonthly,
            inspector: PersonId::from_uuid(u(4)),
            device: DeviceId::from_uuid(u(5)),
            started_at: DateTime::from_timestamp(1_790_000_000, 0).expect("valid"),
            submitted_at: None,
            server_received_at: None,
            fix: Some(GeoFix {
                point: GeoPoint::new(27.6, 113.85),
                accuracy_m: 6.0,
                fix_time: None,
                mock: false,
            }),
            results: vec![],
            note: None,
            supersedes: None,
            status: FactStatus::Draft,
        }
    }

    #[test]
    fn half_filled_is_valid_data_but_not_submittable() {
        let t = presets::household_sanbao();
        let mut insp = draft(&t);
        insp.answer(ItemResult::pass("HH_CLUTTER"));
        let issues = validate_inspection(&insp, &t, &GeoPolicy::default());
        assert_eq!(
            issues
                .iter()
                .filter(|i| i.code == IssueCode::Unanswered)
                .count(),
            11,
            "11 of 12 unanswered"
        );
        assert!(has_blocking(&issues), "cannot submit half an inspection");
    }

    #[test]
    fn complete_with_photos_is_submittable() {
        let t = presets::household_sanbao();
        let mut insp = draft(&t);
        for item in &t.items {
            insp.answer(ItemResult::pass(&item.item_code));
        }
        insp.answer(ItemResult::fail("HH_WHITE_LITTER", 1, vec![photo()]));
        let issues = validate_inspection(&insp, &t, &GeoPolicy::default());
        assert!(issues.is_empty(), "nothing to say: {issues:?}");
    }

    #[test]
    fn fail_without_photo_and_bad_na_block() {
        let t = presets::household_sanbao();
        let mut insp = draft(&t);
        for item in &t.items {
            insp.answer(ItemResult::pass(&item.item_code));
        }
        insp.answer(ItemResult::fail("HH_SEWAGE", 1, vec![]));
        insp.answer(ItemResult {
            outcome: Outcome::NotApplicable,
            ..ItemResult::pass("HH_CLUTTER")
        });
        insp.answer(ItemResult {
            outcome: Outcome::NotApplicable,
            ..ItemResult::pass("HH_TOILET")
        });
        insp.results.push(ItemResult::pass("LWA1"));
        let codes: Vec<_> = validate_inspection(&insp, &t, &GeoPolicy::default())
            .into_iter()
            .map(|i| (i.code, i.item_code))
            .collect();
        assert!(
            codes.contains(&(IssueCode::PhotoRequired, Some("HH_SEWAGE".into()))),
            "photo required: {codes:?}"
        );
        assert!(
            codes.contains(&(
                IssueCode::NotApplicableNotAllowed,
                Some("HH_CLUTTER".into())
            )),
            "N/A refused"
        );
        assert!(
            !codes.iter().any(|c| c.1.as_deref() == Some("HH_TOILET")),
            "N/A allowed for the toilet item"
        );
        assert!(
            codes.contains(&(IssueCode::UnknownItem, Some("LWA1".into()))),
            "foreign item"
        );
    }

    #[test]
    fn count_and_location() {
        let t = presets::village_recheck();
        let mut insp = draft(&t);
        insp.fix = Some(GeoFix {
            point: GeoPoint::new(0.0, 0.0),
            accuracy_m: 0.0,
            fix_time: None,
            mock: false,
        });
        for item in &t.items {
            insp.answer(ItemResult::pass(&item.item_code));
        }
        insp.answer(ItemResult::fail("POOL_OVERFLOW", 0, vec![photo()]));
        let issues = validate_inspection(&insp, &t, &GeoPolicy::default());
        assert!(
            issues.iter().any(|i| i.code == IssueCode::CountRequired),
            "per-occurrence needs a count"
        );
        let loc = issues
            .iter()
            .find(|i| i.code == IssueCode::NoLocation)
            .expect("0,0 is no fix");
        assert_eq!(
            loc.severity,
            Severity::Warning,
            "no fix is flagged, not blocking"
        );
        assert!(loc.message_zh().contains("定位"), "Chinese message");

        let mut other = presets::village_recheck();
        other.version = 2;
        let issues = validate_inspection(&insp, &other, &GeoPolicy::default());
        assert_eq!(
            issues[0].code,
            IssueCode::TemplateMismatch,
            "version must match"
        );
    }
}
