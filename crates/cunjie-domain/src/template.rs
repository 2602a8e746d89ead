//! Checklist templates: which catalog items an inspector checks for one kind of subject, and how
//! each item scores.
//!
//! A template is versioned: publishing a change makes a new version with the same
//! [`TemplateId`], and every inspection names the exact version it was filled against.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::amount::Amount;
use crate::catalog::{Catalog, SubjectKind};
use crate::ids::TemplateId;

/// What a template's scores are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScoreUnit {
    /// 百分制 points: start from the full score and deduct.
    Points,
    /// Yuan deducted from a subsidy (Scheme T).
    Yuan,
}

/// What one count of a failed item is (E12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CountUnit {
    /// 每发现一次
    PerOccurrence,
    /// 每发现一户
    PerHousehold,
    /// 少一户 (a shortfall)
    PerMissing,
    /// 每次
    PerTime,
    /// Once per failed item, no count asked.
    PerItem,
}

impl CountUnit {
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::PerOccurrence => "每发现一次",
            Self::PerHousehold => "每发现一户",
            Self::PerMissing => "每少一户",
            Self::PerTime => "每次",
            Self::PerItem => "每项",
        }
    }

    /// Whether the inspector enters a count for a failure.
    pub fn asks_count(self) -> bool {
        !matches!(self, Self::PerItem)
    }
}

/// One-vote veto (一票否决): a failed critical item zeroes its section or the whole inspection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Critical {
    /// Not critical.
    #[default]
    No,
    /// Failing zeroes the item's section.
    Section,
    /// Failing zeroes the whole inspection.
    Whole,
}

/// A section of a template (e.g. 包卫生), optionally capped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Section {
    /// Code, unique in the template.
    pub code: String,
    /// Chinese name.
    pub label_zh: String,
    /// English name.
    pub label_en: String,
    /// Points the section is worth (its deductions are capped here); `None` for yuan templates.
    pub max_points: Option<Amount>,
}

/// How one catalog item is scored in a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TemplateItem {
    /// The catalog item.
    pub item_code: String,
    /// The section it is listed under.
    pub section: String,
    /// Deduction per counted unit (positive).
    pub deduction: Amount,
    /// What one count is.
    pub count_unit: CountUnit,
    /// Counts above this are scored as this many.
    pub max_count: Option<u32>,
    /// Weight in percent (100 = as written).
    pub weight_pct: u32,
    /// Whether "not applicable" is allowed.
    pub na_allowed: bool,
    /// One-vote veto.
    pub critical: Critical,
    /// A failure must carry at least one photo.
    pub photo_on_fail: bool,
    /// A failure must carry a note.
    pub note_on_fail: bool,
}

/// A checklist template, one version of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Template {
    /// The same across versions.
    pub id: TemplateId,
    /// Short code, e.g. `HH_SANBAO_MONTHLY`.
    pub code: String,
    /// Version, from 1.
    pub version: u32,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// What it inspects.
    pub subject: SubjectKind,
    /// Points or yuan.
    pub unit: ScoreUnit,
    /// Full score for points templates (usually 100); zero for yuan templates.
    pub full_score: Amount,
    /// Sections in display order.
    pub sections: Vec<Section>,
    /// Items in display order.
    pub items: Vec<TemplateItem>,
}

/// A reference to one version of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TemplateRef {
    /// Template id.
    pub id: TemplateId,
    /// Version.
    pub version: u32,
}

/// A template that cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// An item code is not in the catalog.
    #[error("item {0} is not in the standards catalog; pick an item the catalog has")]
    UnknownItem(String),
    /// An item does not apply to the template's subject kind.
    #[error(
        "item {item} does not apply to {subject:?}; choose a template for the right subject or another item"
    )]
    WrongSubject {
        /// Item code.
        item: String,
        /// The template's subject.
        subject: SubjectKind,
    },
    /// The same item is listed twice.
    #[error("item {0} is listed twice; list each item once and use its count")]
    DuplicateItem(String),
    /// An item names a section the template does not have.
    #[error("item {item} names section {section}, which the template does not define")]
    UnknownSection {
        /// Item code.
        item: String,
        /// Section code.
        section: String,
    },
    /// A points template whose full score does not match its sections.
    #[error("sections add up to {sections} points but the full score is {full}; make them equal")]
    FullScoreMismatch {
        /// Sum of section maxima.
        sections: Amount,
        /// Full score.
        full: Amount,
    },
    /// An empty template.
    #[error("a template needs at least one item")]
    Empty,
}

impl Template {
    /// The reference inspections store.
    pub fn reference(&self) -> TemplateRef {
        TemplateRef {
            id: self.id,
            version: self.version,
        }
    }

    /// An item of this template by code.
    pub fn item(&self, code: &str) -> Option<&TemplateItem> {
        self.items.iter().find(|i| i.item_code == code)
    }

    /// Checks a template against the catalog before it is published.
    pub fn check(&self, catalog: &Catalog) -> Result<(), TemplateError> {
        if self.items.is_empty() {
            return Err(TemplateError::Empty);
        }
        let sections: HashSet<&str> = self.sections.iter().map(|s| s.code.as_str()).collect();
        let mut seen = HashSet::new();
        for item in &self.items {
            let (_, std_item) = catalog
                .item(&item.item_code)
                .ok_or_else(|| TemplateError::UnknownItem(item.item_code.clone()))?;
            if !std_item.applies_to.contains(&self.subject) {
                return Err(TemplateError::WrongSubject {
                    item: item.item_code.clone(),
                    subject: self.subject,
                });
            }
            if !seen.insert(item.item_code.as_str()) {
                return Err(TemplateError::DuplicateItem(item.item_code.clone()));
            }
            if !sections.contains(item.section.as_str()) {
                return Err(TemplateError::UnknownSection {
                    item: item.item_code.clone(),
                    section: item.section.clone(),
                });
            }
        }
        if self.unit == ScoreUnit::Points {
            let sum: Amount = self.sections.iter().filter_map(|s| s.max_points).sum();
            if sum != self.full_score {
                return Err(TemplateError::FullScoreMismatch {
                    sections: sum,
                    full: self.full_score,
                });
            }
        }
        Ok(())
    }

    /// The next version of this template, for editing: same id, version + 1.
    pub fn next_version(&self) -> Template {
        Template {
            version: self.version + 1,
            ..self.clone()
        }
    }
}

/// Templates shipped as presets; a township may publish its own.
pub mod presets {
    use super::*;

    /// Id of [`household_sanbao`].
    pub const HOUSEHOLD_SANBAO_ID: TemplateId =
        TemplateId::from_uuid(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001));
    /// Id of [`village_recheck`].
    pub const VILLAGE_RECHECK_ID: TemplateId =
        TemplateId::from_uuid(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0002));
    /// Id of [`business_sanbao`].
    pub const BUSINESS_SANBAO_ID: TemplateId =
        TemplateId::from_uuid(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0003));

    fn item(code: &str, section: &str, points: i64, unit: CountUnit) -> TemplateItem {
        TemplateItem {
            item_code: code.to_owned(),
            section: section.to_owned(),
            deduction: Amount::whole(points),
            count_unit: unit,
            max_count: None,
            weight_pct: 100,
            na_allowed: false,
            critical: Critical::No,
            photo_on_fail: true,
            note_on_fail: false,
        }
    }

    fn section(code: &str, zh: &str, en: &str, max: Option<i64>) -> Section {
        Section {
            code: code.to_owned(),
            label_zh: zh.to_owned(),
            label_en: en.to_owned(),
            max_points: max.map(Amount::whole),
        }
    }

    /// 农户门前三包月度检查: the monthly household check by the village committees
    /// (001:91), 100 points over 12 items of the household standards (§1.12), grouped under
    /// the 上栗 三包 definitions 包卫生 / 包整洁 (001:55) and 三归 (003:56).
    pub fn household_sanbao() -> Template {
        use CountUnit::PerItem;
        let mut items = vec![
            item("HH_WHITE_LITTER", "WEISHENG", 10, PerItem),
            item("HH_SEWAGE", "WEISHENG", 10, PerItem),
            item("HH_TOILET", "WEISHENG", 10, PerItem),
            item("HH_NOT_SORTING", "WEISHENG", 8, PerItem),
            item("HH_NO_TEMP_SPOT", "WEISHENG", 6, PerItem),
            item("HH_CLUTTER", "ZHENGJIE", 8, PerItem),
            item("HH_UTENSILS", "ZHENGJIE", 8, PerItem),
            item("HH_YARD_UNTIDY", "ZHENGJIE", 8, PerItem),
            item("HH_FIREWOOD", "ZHENGJIE", 8, PerItem),
            item("HH_MANURE", "ZHENGJIE", 8, PerItem),
            item("HH_WEEDS", "ZHENGJIE", 6, PerItem),
            item("HH_LIVESTOCK", "SANGUI", 10, PerItem),
        ];
        // A household without a toilet of its own is common in old villages.
        items[2].na_allowed = true;
        Template {
            id: HOUSEHOLD_SANBAO_ID,
            code: "HH_SANBAO_MONTHLY".to_owned(),
            version: 1,
            name_zh: "农户门前三包月度检查".to_owned(),
            name_en: "Household three-responsibilities monthly check".to_owned(),
            subject: SubjectKind::Household,
            unit: ScoreUnit::Points,
            full_score: Amount::whole(100),
            sections: vec![
                section("WEISHENG", "包卫生", "Hygiene", Some(44)),
                section("ZHENGJIE", "包整洁", "Tidiness", Some(46)),
                section("SANGUI", "三归", "Things in their place", Some(10)),
            ],
            items,
        }
    }

    /// 沿街经营户门前三包检查: street-front shops and units against 包卫生、包秩序、包维护
    /// (000:657) and 无占道经营 (000:755), 100 points. The seeds give the duties and the
    /// expected result (摊位整齐清洁、环境卫生秩序良好、无积存垃圾) but no points: the weights
    /// here are ours [inference], for the township to edit as a new version.
    pub fn business_sanbao() -> Template {
        use CountUnit::PerItem;
        Template {
            id: BUSINESS_SANBAO_ID,
            code: "BIZ_SANBAO".to_owned(),
            version: 1,
            name_zh: "经营户门前三包检查".to_owned(),
            name_en: "Business three-responsibilities check".to_owned(),
            subject: SubjectKind::Business,
            unit: ScoreUnit::Points,
            full_score: Amount::whole(100),
            sections: vec![
                section("WEISHENG", "包卫生", "Hygiene", Some(40)),
                section("ZHIXU", "包秩序", "Order", Some(40)),
                section("WEIHU", "包维护", "Maintenance", Some(20)),
            ],
            items: vec![
                item("SB-WXW-HYGIENE", "WEISHENG", 40, PerItem),
                item("SB-WXW-ORDER", "ZHIXU", 20, PerItem),
                item("LWB6", "ZHIXU", 20, PerItem),
                item("SB-WXW-MAINTENANCE", "WEIHU", 20, PerItem),
            ],
        }
    }

    /// 镇对村月度复查: the township's re-check of a village (000:151-169), in yuan, with the
    /// per-finding deductions of Scheme T.
    pub fn village_recheck() -> Template {
        let mut office = item("OFFICE_UNCLEAN", "JICHU", 10, CountUnit::PerTime);
        office.photo_on_fail = true;
        let mut shortfall = item("DEMO_HH_SHORTFALL", "JICHU", 5, CountUnit::PerMissing);
        // Derived from the register, not photographed (domain.md §6.3 item 1).
        shortfall.photo_on_fail = false;
        shortfall.na_allowed = true;
        Template {
            id: VILLAGE_RECHECK_ID,
            code: "VILLAGE_RECHECK_T".to_owned(),
            version: 1,
            name_zh: "镇对村月度复查".to_owned(),
            name_en: "Township monthly re-check of a village".to_owned(),
            subject: SubjectKind::AdminVillage,
            unit: ScoreUnit::Yuan,
            full_score: Amount::ZERO,
            sections: vec![
                section("CUNRONG", "村容村貌", "Village appearance", None),
                section("JICHU", "基础工作", "Basic work", None),
            ],
            items: vec![
                item("ROAD_PATROL_LAPSE", "CUNRONG", 10, CountUnit::PerOccurrence),
                item("POOL_OVERFLOW", "CUNRONG", 10, CountUnit::PerOccurrence),
                office,
                shortfall,
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_pass_their_own_checks() {
        let catalog = Catalog::builtin();
        presets::household_sanbao()
            .check(catalog)
            .expect("household preset is valid");
        presets::village_recheck()
            .check(catalog)
            .expect("village preset is valid");
        presets::business_sanbao()
            .check(catalog)
            .expect("business preset is valid");
        assert_eq!(
            presets::household_sanbao().items.len(),
            12,
            "the benchmark's 12-item check"
        );
    }

    #[test]
    fn checks_refuse_bad_templates() {
        let catalog = Catalog::builtin();
        let mut t = presets::household_sanbao();
        t.items[0].item_code = "NO_SUCH_ITEM".into();
        assert_eq!(
            t.check(catalog),
            Err(TemplateError::UnknownItem("NO_SUCH_ITEM".into())),
            "unknown item"
        );

        let mut t = presets::household_sanbao();
        t.items[1].item_code = t.items[0].item_code.clone();
        assert!(
            matches!(t.check(catalog), Err(TemplateError::DuplicateItem(_))),
            "duplicate item"
        );

        let mut t = presets::household_sanbao();
        t.items.push(presets::village_recheck().items[0].clone());
        assert!(
            matches!(t.check(catalog), Err(TemplateError::WrongSubject { .. })),
            "village item on a household"
        );

        let mut t = presets::household_sanbao();
        t.sections[0].max_points = Some(Amount::whole(50));
        assert!(
            matches!(
                t.check(catalog),
                Err(TemplateError::FullScoreMismatch { .. })
            ),
            "sections must add up"
        );

        let t = presets::household_sanbao().next_version();
        assert_eq!(
            (t.id, t.version),
            (presets::HOUSEHOLD_SANBAO_ID, 2),
            "editing makes version 2 of the same template"
        );
    }
}
