//! Exports: the ranking as a real `.xlsx` (opens in WPS and Excel) and as CSV with a UTF-8 BOM
//! (so Excel does not mangle the Chinese), findings and zones as GeoJSON (WGS-84).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use cunjie_domain::place::ZoneGeometry;
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde_json::{Value, json};

use super::data::{self, cn_date, cn_time};
use super::i18n::Lang;
use super::pages::subject_point;
use super::ranking::{self, Table, item_label};
use super::{Ctx, PageError, blocking, render};
use crate::AppState;

fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

fn table(st: &AppState, ctx: &Ctx) -> Result<Table, PageError> {
    let today = cn_date(st.clock.now());
    let period = ranking::period_param(ctx, today)?;
    let scheme = ranking::scheme_param(ctx);
    let office = ranking::office(st, ctx)?;
    let r = office.ranking(&period.to_string(), scheme.as_deref())?;
    Ok(Table::from_ranking(&r, ctx.lang))
}

/// The header row and the rows as text, shared by the spreadsheet and the CSV.
fn grid(t: &Table, lang: Lang) -> (Vec<String>, Vec<Vec<String>>) {
    let mut head: Vec<String> = [
        lang.pick("名次", "Rank"),
        lang.pick("村", "Village"),
        &format!("{}（{}）", lang.pick("得分", "Score"), t.unit_label),
        lang.pick("较上期", "Change"),
        lang.pick("上期名次", "Previous rank"),
        lang.pick("自评", "Self-evaluation"),
        lang.pick("复查", "Re-check"),
        lang.pick("差额", "Difference"),
        lang.pick("计分检查", "Counted inspections"),
        lang.pick("另计检查（未抽样）", "Not counted (not sampled)"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    head.extend(t.items.iter().map(|i| i.label.clone()));
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.rank.to_string(),
                r.village_name.clone(),
                r.score.clone(),
                r.change_text.clone(),
                r.prev_rank.map(|p| p.to_string()).unwrap_or_default(),
                r.self_eval.clone(),
                r.recheck.clone(),
                r.difference.clone(),
                r.counted.to_string(),
                r.ad_hoc.to_string(),
            ];
            row.extend(r.items.iter().cloned());
            row
        })
        .collect();
    (head, rows)
}

fn xlsx(t: &Table, township: &str, lang: Lang) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let (head, rows) = grid(t, lang);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(lang.pick("村庄排名", "Ranking"))?;
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    ws.write_string_with_format(
        0,
        0,
        format!(
            "{township} {} {}（{} v{}）",
            t.period_label,
            lang.pick("村庄排名", "village ranking"),
            t.scheme_name,
            t.scheme_version
        ),
        &title,
    )?;
    for (c, h) in head.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        ws.write_string_with_format(2, col, h, &bold)?;
        ws.set_column_width(col, if c == 1 { 14 } else { 12 })?;
    }
    for (r, row) in rows.iter().enumerate() {
        let rr = u32::try_from(r + 3).unwrap_or(u32::MAX);
        for (c, v) in row.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            // Numbers are numbers in the spreadsheet (sortable, summable); the rest is text.
            match v.parse::<f64>() {
                Ok(n) if c != 3 => ws.write_number(rr, col, n)?,
                _ => ws.write_string(rr, col, v)?,
            };
        }
    }
    ws.set_freeze_panes(3, 2)?;
    wb.save_to_buffer()
}

/// `GET /dashboard/export/ranking.xlsx?period=…`.
pub(crate) async fn ranking_xlsx(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let t = table(&st, &c)?;
        let bytes = xlsx(&t, &c.township.name, c.lang).map_err(PageError::internal)?;
        Ok((t.period, bytes))
    })
    .await;
    match res {
        Ok((period, bytes)) => download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &format!("ranking-{period}.xlsx"),
        ),
        Err(e) => render::error_page(ctx.lang, &e),
    }
}

fn csv_bytes(t: &Table, lang: Lang) -> Result<Vec<u8>, csv::Error> {
    let (head, rows) = grid(t, lang);
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&head)?;
        for r in &rows {
            w.write_record(r)?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// `GET /dashboard/export/ranking.csv?period=…` (UTF-8 with BOM).
pub(crate) async fn ranking_csv(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let t = table(&st, &c)?;
        let bytes = csv_bytes(&t, c.lang).map_err(PageError::internal)?;
        Ok((t.period, bytes))
    })
    .await;
    match res {
        Ok((period, bytes)) => download(
            bytes,
            "text/csv; charset=utf-8",
            &format!("ranking-{period}.csv"),
        ),
        Err(e) => render::error_page(ctx.lang, &e),
    }
}

fn geojson(v: &Value, name: &str) -> Response {
    download(
        serde_json::to_vec_pretty(v).unwrap_or_default(),
        "application/geo+json",
        name,
    )
}

/// `GET /dashboard/export/findings.geojson`: every inspection with a failed item in the last
/// year, at the inspector's fix (or the subject's place), with its items and the states of
/// the rectifications raised from it.
pub(crate) async fn findings_geojson(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let tid = c.township.id.clone();
        let now = st.clock.now();
        let today = cn_date(now);
        let reg = data::registry(&st.db, &tid)?;
        let (insps, rects) = st.db.tx(|tx| {
            Ok::<_, PageError>((
                data::inspections(tx, &tid, now - Duration::days(366), now + Duration::days(1))?,
                data::rectifications(tx, &tid, today)?,
            ))
        })?;
        let features: Vec<Value> = insps
            .iter()
            .filter(|s| s.insp.failures().next().is_some())
            .filter_map(|s| {
                let p = s
                    .insp
                    .fix
                    .map(|f| f.point)
                    .or_else(|| subject_point(&reg, &s.insp.subject.id.to_string()))?;
                let items: Vec<&str> = s.insp.failures().map(|r| r.item_code.as_str()).collect();
                let states: Vec<&str> = rects
                    .iter()
                    .filter(|o| o.inspection == s.insp.id)
                    .map(|o| match o.state {
                        cunjie_domain::fact::RectificationState::Open => "open",
                        cunjie_domain::fact::RectificationState::Submitted => "submitted",
                        cunjie_domain::fact::RectificationState::Verified => "verified",
                        cunjie_domain::fact::RectificationState::Overdue => "overdue",
                    })
                    .collect();
                Some(json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                    "properties": {
                        "fact_id": s.insp.id.to_string(),
                        "time": cn_time(s.insp.started_at),
                        "village": reg.village_name(&s.insp.village.to_string()),
                        "subject": reg.subject_name(&s.insp.subject.id.to_string()),
                        "items": items,
                        "labels_zh": items.iter().map(|i| item_label(i, Lang::Zh)).collect::<Vec<_>>(),
                        "rectifications": states,
                    },
                }))
            })
            .collect();
        Ok(json!({"type": "FeatureCollection", "features": features}))
    })
    .await;
    match res {
        Ok(v) => geojson(&v, "findings.geojson"),
        Err(e) => render::error_page(ctx.lang, &e),
    }
}

/// `GET /dashboard/export/zones.geojson`: zones as LineStrings or Polygons.
pub(crate) async fn zones_geojson(State(st): State<AppState>, ctx: Ctx) -> Response {
    let c = ctx.clone();
    let res = blocking(move || {
        let reg = data::registry(&st.db, &c.township.id)?;
        let features: Vec<Value> = reg
            .zones
            .iter()
            .map(|z| {
                let geometry = match &z.geometry {
                    ZoneGeometry::Line(p) => json!({
                        "type": "LineString",
                        "coordinates": p.iter().map(|q| [q.lon, q.lat]).collect::<Vec<_>>(),
                    }),
                    ZoneGeometry::Polygon(p) => {
                        let mut ring: Vec<[f64; 2]> = p.iter().map(|q| [q.lon, q.lat]).collect();
                        if ring.first() != ring.last()
                            && let Some(first) = ring.first().copied()
                        {
                            ring.push(first);
                        }
                        json!({"type": "Polygon", "coordinates": [ring]})
                    }
                };
                json!({
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": {
                        "id": z.id.to_string(),
                        "name": z.name,
                        "village": reg.village_name(&z.village.to_string()),
                        "kind": z.kind,
                        "passes_per_day": z.passes_per_day,
                    },
                })
            })
            .collect();
        Ok(json!({"type": "FeatureCollection", "features": features}))
    })
    .await;
    match res {
        Ok(v) => geojson(&v, "zones.geojson"),
        Err(e) => render::error_page(ctx.lang, &e),
    }
}
