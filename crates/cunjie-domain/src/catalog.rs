//! The standards catalog: every standard set of domain.md §1 as data.
//!
//! The catalog ships as `data/catalog.toml`, embedded at compile time. Each item has a stable
//! code, Chinese and English labels, the full Chinese wording, what it applies to, and the seed
//! line it comes from. Templates pick items from here by code; nothing else in the code base
//! spells out a standard's wording.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// What a standard, template or inspection is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// 农户
    Household,
    /// 经营户 / 单位
    Business,
    /// 村民组
    VillageGroup,
    /// 行政村
    AdminVillage,
    /// 集镇 / 场镇 / 镇区
    TownSeat,
    /// 乡镇
    Township,
    /// 责任区
    Zone,
    /// 设施
    Facility,
}

impl SubjectKind {
    /// The stable name used on the wire and in signed statements (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Household => "household",
            Self::Business => "business",
            Self::VillageGroup => "village_group",
            Self::AdminVillage => "admin_village",
            Self::TownSeat => "town_seat",
            Self::Township => "township",
            Self::Zone => "zone",
            Self::Facility => "facility",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Household => "农户",
            Self::Business => "经营户",
            Self::VillageGroup => "村民组",
            Self::AdminVillage => "行政村",
            Self::TownSeat => "集镇",
            Self::Township => "乡镇",
            Self::Zone => "责任区",
            Self::Facility => "设施",
        }
    }
}

/// Whether a set can be checked by an inspector or is a classification (garbage categories,
/// disposal chains).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SetKind {
    /// Checkable conditions.
    Standard,
    /// Categories, not pass/fail conditions.
    Classification,
}

/// One item of a standard set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StandardItem {
    /// Stable code, unique across the catalog (e.g. `LWA1`, `HH_WHITE_LITTER`).
    pub code: String,
    /// Short Chinese label for a phone screen.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// The full Chinese wording from the source.
    pub text_zh: String,
    /// What it applies to.
    pub applies_to: Vec<SubjectKind>,
    /// Source citation, `seed-file:line` or `seed-file:first-last`.
    pub citation: String,
}

/// A named set of standards (三有, 六无, a 门前三包 variant …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StandardSet {
    /// Stable code (e.g. `LIUWU_VILLAGE`).
    pub code: String,
    /// Chinese name.
    pub label_zh: String,
    /// English name.
    pub label_en: String,
    /// Checkable standard or classification.
    pub kind: SetKind,
    /// What the set applies to.
    pub applies_to: Vec<SubjectKind>,
    /// Source citation.
    pub citation: String,
    /// Remarks on variants, truncations or open questions.
    #[serde(default)]
    pub note: Option<String>,
    /// The items.
    pub items: Vec<StandardItem>,
}

/// The whole catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Format version of the catalog file.
    pub version: u32,
    /// The sets, in file order.
    pub sets: Vec<StandardSet>,
}

/// The four source documents every citation must name, with their line counts.
pub const SEED_FILES: [(&str, u32); 4] = [
    ("000_6e692a62ab8c159b.txt", 1883),
    ("001_b0426cc5eed7bba0.txt", 207),
    ("002_4aa8faaf0021c51f.txt", 368),
    ("003_de8574de9ff97557.txt", 86),
];

/// A catalog file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The TOML does not parse or has the wrong shape.
    #[error("the standards catalog does not parse: {0}; fix data/catalog.toml")]
    Parse(#[from] toml::de::Error),
    /// Two sets or two items share a code.
    #[error("code {0} appears twice in the catalog; codes must be unique")]
    DuplicateCode(String),
    /// A code has characters outside `A-Z0-9_-`.
    #[error("code '{0}' is malformed; use upper-case letters, digits, '_' and '-'")]
    BadCode(String),
    /// A citation does not name a seed file and a line.
    #[error(
        "citation '{citation}' of {code} does not name a seed file and line (file.txt:N or file.txt:N-M)"
    )]
    BadCitation {
        /// Set or item code.
        code: String,
        /// The citation as written.
        citation: String,
    },
    /// A set or item has no `applies_to`.
    #[error("{0} applies to nothing; give at least one subject kind")]
    NoSubject(String),
}

/// A parsed citation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation<'a> {
    /// Seed file name.
    pub file: &'a str,
    /// First line (1-based).
    pub first: u32,
    /// Last line (inclusive).
    pub last: u32,
}

/// Parses `file.txt:N` or `file.txt:N-M`, accepting only the four seed files and lines that
/// exist in them.
pub fn parse_citation(s: &str) -> Option<Citation<'_>> {
    let (file, lines) = s.split_once(':')?;
    let &(_, line_count) = SEED_FILES.iter().find(|(name, _)| *name == file)?;
    let (first, last) = match lines.split_once('-') {
        Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
        None => {
            let n = lines.parse().ok()?;
            (n, n)
        }
    };
    (first >= 1 && last >= first && last <= line_count).then_some(Citation { file, first, last })
}

fn code_ok(code: &str) -> bool {
    let mut chars = code.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

impl Catalog {
    /// Parses and checks a catalog file.
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let catalog: Catalog = toml::from_str(text)?;
        catalog.check()?;
        Ok(catalog)
    }

    /// The catalog shipped in this build.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::parse(include_str!("../data/catalog.toml"))
                .expect("the embedded catalog is checked by the catalog tests")
        })
    }

    fn check(&self) -> Result<(), CatalogError> {
        let mut seen = HashSet::new();
        let entries = self
            .sets
            .iter()
            .map(|s| (&s.code, &s.citation, &s.applies_to))
            .chain(self.sets.iter().flat_map(|s| {
                s.items
                    .iter()
                    .map(|i| (&i.code, &i.citation, &i.applies_to))
            }));
        for (code, citation, applies_to) in entries {
            if !code_ok(code) {
                return Err(CatalogError::BadCode(code.clone()));
            }
            if !seen.insert(code.as_str()) {
                return Err(CatalogError::DuplicateCode(code.clone()));
            }
            if parse_citation(citation).is_none() {
                return Err(CatalogError::BadCitation {
                    code: code.clone(),
                    citation: citation.clone(),
                });
            }
            if applies_to.is_empty() {
                return Err(CatalogError::NoSubject(code.clone()));
            }
        }
        Ok(())
    }

    /// A set by code.
    pub fn set(&self, code: &str) -> Option<&StandardSet> {
        self.sets.iter().find(|s| s.code == code)
    }

    /// An item by code, with the set it belongs to.
    pub fn item(&self, code: &str) -> Option<(&StandardSet, &StandardItem)> {
        self.sets
            .iter()
            .find_map(|s| s.items.iter().find(|i| i.code == code).map(|i| (s, i)))
    }

    /// All items, indexed by code.
    pub fn index(&self) -> BTreeMap<&str, &StandardItem> {
        self.sets
            .iter()
            .flat_map(|s| s.items.iter().map(|i| (i.code.as_str(), i)))
            .collect()
    }

    /// Number of items in all sets.
    pub fn item_count(&self) -> usize {
        self.sets.iter().map(|s| s.items.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every set that issue #2 and domain.md §1 require.
    const REQUIRED_SETS: &[&str] = &[
        "SANYOU",
        "SIFEN",
        "LIUWU_VILLAGE",
        "LIUWU_TOWN",
        "LIU_MEIYOU",
        "WUWU_ROAD",
        "ZHENQU_STD",
        "FRINGE_4WU",
        "JIZHEN_TARGET",
        "SANBAO_ZWL",
        "SANBAO_WLZ",
        "SANBAO_WLX",
        "SANBAO_WXW",
        "SIQING_A",
        "SANJI",
        "ERTONG",
        "YIHUA",
        "SIQING_B",
        "SILUAN",
        "SANLUAN",
        "HH_CHECKLIST",
        "VILLAGE_ASSESS_T",
        "WASTE_4",
        "WASTE_SHANGLI_5",
        "WASTE_ROOM_2",
    ];

    #[test]
    fn builtin_catalog_loads_with_unique_codes_and_seed_citations() {
        let c = Catalog::builtin();
        assert!(
            c.item_count() > 100,
            "the catalog holds every set of domain.md §1"
        );
        for set in &c.sets {
            assert!(!set.items.is_empty(), "set {} has items", set.code);
            for item in &set.items {
                let cit = parse_citation(&item.citation).expect("checked at load");
                assert!(
                    SEED_FILES.iter().any(|(f, _)| *f == cit.file),
                    "{} cites a seed file",
                    item.code
                );
                assert!(
                    !item.text_zh.trim().is_empty(),
                    "{} has its Chinese text",
                    item.code
                );
                assert!(
                    !item.label_zh.trim().is_empty(),
                    "{} has a Chinese label",
                    item.code
                );
                assert!(
                    !item.label_en.trim().is_empty(),
                    "{} has an English label",
                    item.code
                );
            }
        }
    }

    #[test]
    fn builtin_catalog_holds_every_required_set() {
        let c = Catalog::builtin();
        for code in REQUIRED_SETS {
            assert!(c.set(code).is_some(), "catalog must contain set {code}");
        }
        let sizes = [
            ("SANYOU", 3),
            ("SIFEN", 4),
            ("LIUWU_VILLAGE", 6),
            ("LIUWU_TOWN", 6),
            ("LIU_MEIYOU", 6),
            ("WASTE_4", 4),
        ];
        for (code, n) in sizes {
            assert_eq!(
                c.set(code).map(|s| s.items.len()),
                Some(n),
                "{code} has {n} items"
            );
        }
        for code in [
            "HH_WHITE_LITTER",
            "HH_CLUTTER",
            "ROAD_PATROL_LAPSE",
            "POOL_OVERFLOW",
            "OFFICE_UNCLEAN",
        ] {
            assert!(c.item(code).is_some(), "Scheme T needs item {code}");
        }
    }

    /// Every item's Chinese text stands in the seed lines it cites. The seeds live in
    /// `../shared/seeds` beside the repository (override with `CUNJIE_SEEDS_DIR`).
    #[test]
    fn every_item_text_stands_in_its_cited_seed_lines() {
        let dir = std::env::var_os("CUNJIE_SEEDS_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds")
            });
        let mut files = BTreeMap::new();
        for (name, lines) in SEED_FILES {
            let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
                panic!("seed file {name} not found in {} ({e}); set CUNJIE_SEEDS_DIR to the seeds folder", dir.display())
            });
            let v: Vec<String> = text.lines().map(str::to_owned).collect();
            assert_eq!(
                v.len() as u32,
                lines,
                "{name} has the line count SEED_FILES records"
            );
            files.insert(name, v);
        }
        let mut checked = 0;
        for set in &Catalog::builtin().sets {
            for item in &set.items {
                let c = parse_citation(&item.citation).expect("checked at load");
                let cited = files[c.file][(c.first - 1) as usize..c.last as usize].join("\n");
                assert!(
                    cited.contains(&item.text_zh),
                    "{}: its text_zh is not in {}",
                    item.code,
                    item.citation
                );
                checked += 1;
            }
        }
        assert_eq!(
            checked,
            Catalog::builtin().item_count(),
            "every item checked"
        );
    }

    #[test]
    fn duplicate_codes_are_refused() {
        let text = r#"
version = 1
[[sets]]
code = "A"
label_zh = "甲"
label_en = "A"
kind = "standard"
applies_to = ["household"]
citation = "000_6e692a62ab8c159b.txt:1"
[[sets.items]]
code = "X1"
label_zh = "一"
label_en = "one"
text_zh = "一"
applies_to = ["household"]
citation = "000_6e692a62ab8c159b.txt:2"
[[sets.items]]
code = "X1"
label_zh = "二"
label_en = "two"
text_zh = "二"
applies_to = ["household"]
citation = "000_6e692a62ab8c159b.txt:3"
"#;
        let err = Catalog::parse(text).expect_err("duplicate item code must be refused");
        assert!(
            matches!(err, CatalogError::DuplicateCode(ref c) if c == "X1"),
            "got {err}"
        );
    }

    #[test]
    fn citations_must_name_a_seed_file() {
        assert!(
            parse_citation("000_6e692a62ab8c159b.txt:35").is_some(),
            "single line"
        );
        assert!(
            parse_citation("001_b0426cc5eed7bba0.txt:113-117").is_some(),
            "range"
        );
        assert!(parse_citation("domain.md:35").is_none(), "not a seed file");
        assert!(
            parse_citation("000_6e692a62ab8c159b.txt:9-3").is_none(),
            "backwards range"
        );
        assert!(
            parse_citation("000_6e692a62ab8c159b.txt:0").is_none(),
            "lines are 1-based"
        );
        assert!(
            parse_citation("000_6e692a62ab8c159b.txt").is_none(),
            "no line"
        );
        assert!(
            parse_citation("003_de8574de9ff97557.txt:87").is_none(),
            "past the end of the file"
        );
    }
}
