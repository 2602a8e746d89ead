//! Every label of the dashboard, in Chinese and English. Templates read them as `L.key`; a
//! key missing here renders empty, so the unit test checks every `L.` a template uses.

use std::collections::BTreeMap;

/// The page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// 中文 (the default).
    Zh,
    /// English.
    En,
}

impl Lang {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "zh" | "zh-CN" | "zh-cn" => Some(Self::Zh),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::En => "en",
        }
    }

    /// Picks the string for this language.
    pub(crate) fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Self::Zh => zh,
            Self::En => en,
        }
    }
}

/// `(key, 中文, English)`.
pub(crate) const LABELS: &[(&str, &str, &str)] = &[
    ("app", "村洁 · 镇整治办", "Cunjie · Township office"),
    ("login_title", "登录", "Sign in"),
    ("username", "用户名", "User name"),
    ("password", "密码", "Password"),
    ("login_button", "登录", "Sign in"),
    ("logout", "退出", "Sign out"),
    ("nav_overview", "概览", "Overview"),
    ("nav_ranking", "排名", "Ranking"),
    ("nav_notice", "通报", "Circular"),
    ("nav_cleaners", "保洁员", "Cleaners"),
    ("nav_households", "农户", "Households"),
    ("nav_rectifications", "整改", "Rectifications"),
    ("nav_map", "地图", "Map"),
    ("nav_charts", "图表", "Charts"),
    ("nav_audit", "审计", "Audit"),
    ("nav_appeals", "申诉", "Appeals"),
    ("nav_inputs", "交办与满意度", "Tasks & satisfaction"),
    ("nav_schemes", "考核方案", "Schemes"),
    ("township", "乡镇", "Township"),
    ("switch", "切换", "Switch"),
    ("other_lang", "English", "中文"),
    ("error_title", "出错了", "Something went wrong"),
    ("error_code", "错误代码", "Error code"),
    ("back_home", "返回概览", "Back to the overview"),
    ("overview_title", "概览", "Overview"),
    (
        "rounds_today",
        "今日巡回（完成/应完成）",
        "Rounds today (done / expected)",
    ),
    ("inspections_week", "本周检查", "Inspections this week"),
    ("rect_open", "待整改", "Open rectifications"),
    (
        "rect_submitted",
        "待复查整改",
        "Rectifications awaiting re-check",
    ),
    ("rect_overdue", "已逾期整改", "Overdue rectifications"),
    (
        "devices_silent",
        "3天未同步的手机",
        "Phones not synced for 3 days",
    ),
    ("photos_pending", "待上传照片", "Photos pending"),
    ("device", "手机", "Phone"),
    ("person", "人员", "Person"),
    ("last_seen", "最后同步", "Last sync"),
    ("never", "从未", "never"),
    ("none", "无", "none"),
    ("ranking_title", "村庄排名", "Village ranking"),
    ("period", "考核期", "Period"),
    ("month", "月", "Month"),
    ("quarter", "季度", "Quarter"),
    ("half_year", "半年", "Half-year"),
    ("scheme", "考核方案", "Scheme"),
    ("show", "查看", "Show"),
    ("rank", "名次", "Rank"),
    ("village", "村", "Village"),
    ("score", "得分", "Score"),
    ("change", "较上期", "Change"),
    ("self_eval", "自评", "Self-evaluation"),
    ("recheck", "复查", "Re-check"),
    ("difference", "差额", "Difference"),
    ("counted", "计分检查", "Counted inspections"),
    ("ad_hoc", "另计检查（未抽样）", "Not counted (not sampled)"),
    ("deductions", "扣分/扣款明细", "Deductions by item"),
    ("recompute", "重新计算", "Recompute"),
    ("recomputed", "已重新计算", "Recomputed"),
    (
        "ranking_stale",
        "发布后又有检查记录同步到达：此处仍显示已发布的结果，重新计算后更新",
        "Inspections arrived after publication: the published result is shown until you recompute",
    ),
    ("red_list", "红榜", "Red list (praise)"),
    ("black_list", "黑榜", "Black list (criticism)"),
    ("households_col", "农户", "Households"),
    ("villages_col", "村", "Villages"),
    ("unit_yuan", "元", "yuan"),
    ("unit_points", "分", "points"),
    ("no_data", "本期没有数据", "No data for this period"),
    (
        "scoring_unavailable",
        "评分服务暂不可用",
        "Scoring is not available yet",
    ),
    ("export", "导出", "Export"),
    ("export_xlsx", "导出 Excel", "Export Excel"),
    ("export_csv", "导出 CSV", "Export CSV"),
    ("export_geojson", "导出 GeoJSON", "Export GeoJSON"),
    ("print", "打印", "Print"),
    (
        "notice_title",
        "农村环境卫生整治月度考核通报",
        "Monthly circular on village sanitation",
    ),
    (
        "notice_intro",
        "现将本月各村环境卫生考核结果通报如下：",
        "The results of this month's sanitation assessment are circulated as follows:",
    ),
    ("reviewer", "审核人", "Reviewed by"),
    ("issuer", "签发人", "Issued by"),
    ("date", "日期", "Date"),
    ("cleaners_title", "保洁员考核", "Cleaners' assessment"),
    ("cleaner", "保洁员", "Cleaner"),
    ("zones", "责任区", "Zones"),
    ("attendance", "出勤（天）", "Attendance (days)"),
    ("coverage", "覆盖率", "Coverage"),
    ("on_time", "日产日清", "Cleared on time"),
    ("problems", "检查发现问题", "Problems found by inspectors"),
    ("pay_coefficient", "绩效系数", "Pay coefficient"),
    (
        "pay_rule",
        "考核结果与工资挂钩规则",
        "How results set the pay coefficient",
    ),
    ("households_title", "农户查询", "Households"),
    ("plates_title", "门牌二维码", "Door-plate QR codes"),
    ("plates_link", "打印门牌二维码", "Print door-plate QR codes"),
    (
        "plates_intro",
        "每户、每个经营户一张：贴在门牌旁，检查员用手机拍二维码即可打开这一户。",
        "One per household and business: stick it beside the door plate; an inspector photographs it with the phone to open that household.",
    ),
    ("business", "经营户", "Business"),
    ("search", "搜索", "Search"),
    (
        "search_hint",
        "户主姓名或门牌号",
        "Head of household or door plate",
    ),
    ("found", "共找到", "Found"),
    ("showing_first", "显示前", "showing the first"),
    ("head", "户主", "Head of household"),
    ("door_plate", "门牌号", "Door plate"),
    ("group", "村民组", "Group"),
    ("last_score", "最近得分", "Last score"),
    ("household_title", "农户档案", "Household record"),
    ("inspections", "门前三包检查记录", "门前三包 inspections"),
    ("inspector", "检查员", "Inspector"),
    ("time", "时间", "Time"),
    ("failed_items", "不合格项", "Failed items"),
    ("evidence", "证据", "Evidence"),
    ("photos", "照片", "Photos"),
    ("rectifications_title", "整改跟踪", "Rectifications"),
    ("state", "状态", "State"),
    ("item", "项目", "Item"),
    ("due", "限期", "Due"),
    ("ageing", "已过天数", "Age (days)"),
    ("overdue_by", "逾期天数", "days overdue"),
    ("before", "整改前", "Before"),
    ("after", "整改后", "After"),
    ("assignee", "责任人", "Assignee"),
    ("subject", "对象", "Subject"),
    ("state_open", "待整改", "Open"),
    ("state_submitted", "待复查", "Awaiting re-check"),
    ("state_verified", "已销号", "Verified"),
    ("state_overdue", "已逾期", "Overdue"),
    ("all", "全部", "All"),
    ("map_title", "一张图", "Map"),
    ("legend", "图例", "Legend"),
    ("legend_zone", "责任区", "Zone"),
    (
        "legend_hh_ok",
        "农户（最近检查合格）",
        "Household (last inspection passed)",
    ),
    (
        "legend_hh_fail",
        "农户（最近检查不合格）",
        "Household (last inspection failed)",
    ),
    (
        "legend_hh_none",
        "农户（未检查）",
        "Household (not inspected)",
    ),
    (
        "legend_finding",
        "整改点（颜色为状态）",
        "Finding (colour is its state)",
    ),
    (
        "basemap_note",
        "坐标为 WGS-84；选择 GCJ-02 时按国测局加偏显示（仅显示用）。",
        "Coordinates are WGS-84; with GCJ-02 they are shifted for display only.",
    ),
    ("evidence_title", "证据照片", "Photo evidence"),
    ("hash", "哈希（SHA-256）", "Hash (SHA-256)"),
    ("signature", "签名", "Signature"),
    ("place", "地点", "Place"),
    ("taken_at", "拍摄时间", "Taken at"),
    ("pending", "待上传", "pending"),
    ("stored", "已存储", "stored"),
    ("ok", "通过", "ok"),
    ("failed", "不通过", "failed"),
    ("charts_title", "图表", "Charts"),
    ("trend", "各村排名走势", "Ranking trend per village"),
    ("deductions_by_item", "按项目扣分", "Deductions by item"),
    ("coverage_by_cleaner", "保洁员覆盖率", "Coverage by cleaner"),
    ("audit_title", "审计日志", "Audit log"),
    (
        "chain_ok",
        "审计链完整，校验通过",
        "The audit chain verifies",
    ),
    (
        "chain_broken",
        "审计链校验失败",
        "The audit chain does not verify",
    ),
    ("action", "操作", "Action"),
    ("by", "操作人", "By"),
    ("detail", "详情", "Detail"),
];

/// The labels of one language, for the templates.
pub(crate) fn labels(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    LABELS
        .iter()
        .map(|(k, zh, en)| (*k, lang.pick(zh, en)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_both_languages_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (k, zh, en) in LABELS {
            assert!(seen.insert(*k), "label {k} is defined once");
            assert!(!zh.is_empty() && !en.is_empty(), "label {k} has zh and en");
        }
    }

    #[test]
    fn every_label_a_template_uses_exists() {
        let keys: std::collections::BTreeSet<&str> = LABELS.iter().map(|(k, ..)| *k).collect();
        for (name, src) in super::super::render::TEMPLATES {
            let mut rest = *src;
            while let Some(i) = rest.find("L.") {
                rest = &rest[i + 2..];
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    keys.contains(key.as_str()),
                    "template {name} uses L.{key}, which has no label"
                );
            }
        }
    }
}
