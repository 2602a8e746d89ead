//! Places: township → administrative village → village group → household / business, plus
//! responsibility zones and facilities (domain.md §3, §9.1).
//!
//! Coordinates are WGS-84 (what GPS gives). A Chinese basemap (GCJ-02) is a display concern and
//! never stored.

use serde::{Deserialize, Serialize};

use crate::ids::{BusinessId, FacilityId, GroupId, HouseholdId, TownshipId, VillageId, ZoneId};

/// A WGS-84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GeoPoint {
    /// Latitude, −90..=90.
    pub lat: f64,
    /// Longitude, −180..=180.
    pub lon: f64,
}

impl GeoPoint {
    /// A point; no range check (see [`GeoPoint::is_valid`]).
    pub const fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }

    /// Whether both parts are finite and in range.
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }
}

/// A township (乡镇), the unit that runs one Cunjie server's registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Township {
    /// Id.
    pub id: TownshipId,
    /// Administrative code, unique in the county (for example `360322105`).
    pub code: String,
    /// Name, e.g. 桐木镇.
    pub name: String,
}

/// An administrative village (行政村): the unit that is assessed and ranked monthly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AdminVillage {
    /// Id.
    pub id: VillageId,
    /// The township it belongs to.
    pub township: TownshipId,
    /// Code, unique in the township.
    pub code: String,
    /// Name, e.g. 太平村.
    pub name: String,
    /// Resident population (sets the cleaner staffing norm of 1 per 300).
    pub population: u32,
    /// Along a county road (县道路沿线): triggers the ≥5 五乱 model-household rule (000:167).
    pub along_county_road: bool,
    /// Centre point, if known.
    pub centroid: Option<GeoPoint>,
}

/// A village group (村民组 / 村民小组).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VillageGroup {
    /// Id.
    pub id: GroupId,
    /// The village it belongs to.
    pub village: VillageId,
    /// Name, e.g. 第三村民组.
    pub name: String,
    /// Remote or scattered group (偏远/不集中): gets its own cleaner.
    pub is_remote: bool,
}

/// A household (农户).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Household {
    /// Id.
    pub id: HouseholdId,
    /// The group it belongs to.
    pub group: GroupId,
    /// The village it belongs to (denormalised: findings are charged to it).
    pub village: VillageId,
    /// Head of household (户主).
    pub head_name: String,
    /// Door-plate number (门牌号), as painted on the door plate.
    pub door_plate: String,
    /// Number of members (for the 12 yuan per person per year fee).
    pub members: u32,
    /// Beside a highway (公路两旁): the D-HH-ROADSIDE deduction applies (000:163).
    pub roadside: bool,
    /// A 五乱 model household (五乱治理示范户).
    pub is_demo_household: bool,
    /// Where the house is.
    pub location: Option<GeoPoint>,
}

/// Household fields a person may edit on the phone; the rest is the township office's.
pub const HOUSEHOLD_EDITABLE_FIELDS: [&str; 5] =
    ["head_name", "door_plate", "members", "roadside", "location"];

/// What kind of business or unit (E25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BusinessType {
    /// 沿街门市
    StreetShop,
    /// 摊点
    Stall,
    /// 市场经营户
    MarketTrader,
    /// 餐馆/夜宵摊
    Eatery,
    /// 单位
    Unit,
    /// 企业
    Enterprise,
}

impl BusinessType {
    /// Chinese label (E25).
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::StreetShop => "沿街门市",
            Self::Stall => "摊点",
            Self::MarketTrader => "市场经营户",
            Self::Eatery => "餐馆/夜宵摊",
            Self::Unit => "单位",
            Self::Enterprise => "企业",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::StreetShop => "Street shop",
            Self::Stall => "Stall",
            Self::MarketTrader => "Market trader",
            Self::Eatery => "Eatery",
            Self::Unit => "Unit",
            Self::Enterprise => "Enterprise",
        }
    }
}

/// A business or unit bound by 门前三包.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Business {
    /// Id.
    pub id: BusinessId,
    /// The village it belongs to.
    pub village: VillageId,
    /// Trading name.
    pub name: String,
    /// Kind.
    pub kind: BusinessType,
    /// Owner or contact.
    pub owner: String,
    /// Door-plate number.
    pub door_plate: String,
    /// Where it is.
    pub location: Option<GeoPoint>,
}

/// What a zone covers (E3, the ones the app handles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ZoneType {
    /// 保洁责任区
    CleanerZone,
    /// 组公共区域
    GroupPublicArea,
    /// 路段
    RoadSegment,
    /// 公路沿线可视范围
    RoadCorridor,
    /// 河道段
    RiverSection,
    /// 水塘/坑塘
    Pond,
    /// 公共场所
    PublicPlace,
    /// 农贸市场/集市
    Market,
}

/// A zone's shape: an area, or a line such as a road or a river bank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", content = "coordinates")]
pub enum ZoneGeometry {
    /// A closed ring of points (the last may repeat the first or not).
    Polygon(Vec<GeoPoint>),
    /// A path, e.g. a village road.
    Line(Vec<GeoPoint>),
}

/// A responsibility zone (责任区, 分区包干).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Zone {
    /// Id.
    pub id: ZoneId,
    /// The village it belongs to.
    pub village: VillageId,
    /// Name, e.g. 太平村二组主干道.
    pub name: String,
    /// Kind.
    pub kind: ZoneType,
    /// Shape.
    pub geometry: ZoneGeometry,
    /// Required cleaning passes per day (2 for a group cleaner, 3 for a village cleaner).
    pub passes_per_day: u8,
}

/// Facility types (E4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FacilityType {
    /// 垃圾桶
    Bin,
    /// 户垃圾池(房)
    HouseholdPool,
    /// 垃圾池/收集池
    Pool,
    /// 组分类垃圾池
    GroupSortPool,
    /// 村分类垃圾处理池
    VillageSortPool,
    /// 垃圾房
    GarbageRoom,
    /// 村级垃圾中转站
    VillageTransfer,
    /// 镇垃圾中转站
    TownshipTransfer,
    /// 乡镇垃圾焚烧炉
    Incinerator,
    /// 固定垃圾堆放点
    DumpPoint,
    /// 公共厕所
    PublicToilet,
}

impl FacilityType {
    /// Chinese label for the phone.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Bin => "垃圾桶",
            Self::HouseholdPool => "户垃圾池",
            Self::Pool => "垃圾池",
            Self::GroupSortPool => "组分类垃圾池",
            Self::VillageSortPool => "村分类垃圾处理池",
            Self::GarbageRoom => "垃圾房",
            Self::VillageTransfer => "村级垃圾中转站",
            Self::TownshipTransfer => "镇垃圾中转站",
            Self::Incinerator => "垃圾焚烧炉",
            Self::DumpPoint => "固定垃圾堆放点",
            Self::PublicToilet => "公共厕所",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Bin => "Bin",
            Self::HouseholdPool => "Household pool",
            Self::Pool => "Garbage pool",
            Self::GroupSortPool => "Group sorting pool",
            Self::VillageSortPool => "Village sorting pool",
            Self::GarbageRoom => "Garbage room",
            Self::VillageTransfer => "Village transfer station",
            Self::TownshipTransfer => "Township transfer station",
            Self::Incinerator => "Incinerator",
            Self::DumpPoint => "Fixed dumping point",
            Self::PublicToilet => "Public toilet",
        }
    }
}

/// A facility with its uniform number (统一编号, 000:215).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Facility {
    /// Id.
    pub id: FacilityId,
    /// The village it belongs to.
    pub village: VillageId,
    /// The zone whose cleaner services it, if any.
    pub zone: Option<ZoneId>,
    /// Kind.
    pub kind: FacilityType,
    /// Uniform number painted on it, unique in the village (e.g. `TP-03-017`).
    pub number: String,
    /// Where it is.
    pub location: GeoPoint,
}
