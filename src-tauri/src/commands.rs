//! The UI's commands (`ui/src/lib/ipc.ts`): each one line over [`Device`]. Argument names are
//! the snake_case of the UI's camelCase (`inspectionId` → `inspection_id`); photos arrive as
//! standard base64. Every error reaches the UI as `{code, message}` with a Chinese message.
//!
//! All commands run on the async runtime (`async` or `#[tauri::command(async)]`), never on the
//! UI thread: SQLite's fsync and the photo pipeline must not freeze the window.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDate;
use cunjie_device::api::{
    AppStatus, HistoryItem, HouseholdItem, InspectionView, Position, ProblemKind,
    RectificationItem, ReviewTask, RoundView, Settings, SyncBadge, ZoneItem,
};
use cunjie_device::{Device, DeviceError};
use serde::Serialize;
use tauri::State;

/// The one error shape the UI receives: a stable code and a Chinese message to show as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandError {
    /// A stable code (`not_enrolled`, `not_found`, `bad_input`, `network`, …).
    pub code: String,
    /// What happened and what to do next, in Chinese.
    pub message: String,
}

impl CommandError {
    fn bad_input(message: &str) -> Self {
        Self {
            code: "bad_input".to_owned(),
            message: message.to_owned(),
        }
    }
}

impl From<DeviceError> for CommandError {
    fn from(e: DeviceError) -> Self {
        Self {
            code: e.code().to_owned(),
            message: e.message_zh(),
        }
    }
}

/// What every command returns.
pub type CmdResult<T> = Result<T, CommandError>;

type Dev<'a> = State<'a, Arc<Device>>;

fn photo(b64: &str) -> CmdResult<Vec<u8>> {
    B64.decode(b64.trim())
        .ok()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| CommandError::bad_input("照片数据不完整，请重新拍照"))
}

fn date(due: &str) -> CmdResult<NaiveDate> {
    NaiveDate::parse_from_str(due.trim(), "%Y-%m-%d")
        .map_err(|_| CommandError::bad_input("整改期限不是有效日期，请按 年-月-日 选择日期"))
}

// ------------------------------------------------------------------------------------------------
// Status, enrollment, sync, settings

#[tauri::command(async)]
pub(crate) fn app_status(device: Dev<'_>) -> CmdResult<AppStatus> {
    Ok(device.status()?)
}

#[tauri::command]
pub(crate) async fn enroll(
    device: Dev<'_>,
    server_url: String,
    code: String,
    device_name: String,
) -> CmdResult<AppStatus> {
    Ok(device.enroll(&server_url, &code, &device_name).await?)
}

#[tauri::command]
pub(crate) async fn sync_now(device: Dev<'_>) -> CmdResult<SyncBadge> {
    Ok(device.sync_now().await?)
}

#[tauri::command(async)]
pub(crate) fn save_settings(device: Dev<'_>, settings: Settings) -> CmdResult<AppStatus> {
    Ok(device.save_settings(settings)?)
}

#[tauri::command(async)]
pub(crate) fn sign_out(device: Dev<'_>) -> CmdResult<AppStatus> {
    Ok(device.sign_out()?)
}

// ------------------------------------------------------------------------------------------------
// Inspector

#[tauri::command(async)]
pub(crate) fn households(
    device: Dev<'_>,
    query: Option<String>,
    near: Option<Position>,
    limit: u32,
) -> CmdResult<Vec<HouseholdItem>> {
    Ok(device.households(query.as_deref(), near, limit)?)
}

#[tauri::command(async)]
pub(crate) fn household_by_plate(device: Dev<'_>, text: String) -> CmdResult<HouseholdItem> {
    Ok(device.household_by_plate(&text)?)
}

#[tauri::command(async)]
pub(crate) fn scan_qr(device: Dev<'_>, photo_base64: String) -> CmdResult<String> {
    Ok(device.scan_qr(&photo(&photo_base64)?)?)
}

#[tauri::command(async)]
pub(crate) fn start_inspection(
    device: Dev<'_>,
    household_id: String,
    position: Option<Position>,
) -> CmdResult<InspectionView> {
    Ok(device.start_inspection(&household_id, position)?)
}

#[tauri::command(async)]
pub(crate) fn answer_item(
    device: Dev<'_>,
    inspection_id: String,
    item_code: String,
    outcome: String,
    count: u32,
    note: Option<String>,
) -> CmdResult<InspectionView> {
    Ok(device.answer_item(&inspection_id, &item_code, &outcome, count, note)?)
}

#[tauri::command(async)]
pub(crate) fn attach_item_photo(
    device: Dev<'_>,
    inspection_id: String,
    item_code: String,
    photo_base64: String,
    position: Option<Position>,
) -> CmdResult<InspectionView> {
    Ok(device.attach_item_photo(&inspection_id, &item_code, &photo(&photo_base64)?, position)?)
}

#[tauri::command(async)]
pub(crate) fn submit_inspection(
    device: Dev<'_>,
    inspection_id: String,
) -> CmdResult<InspectionView> {
    Ok(device.submit_inspection(&inspection_id)?)
}

#[tauri::command(async)]
pub(crate) fn issue_rectification(
    device: Dev<'_>,
    inspection_id: String,
    item_code: String,
    due: String,
) -> CmdResult<RectificationItem> {
    Ok(device.issue_rectification(&inspection_id, &item_code, date(&due)?)?)
}

#[tauri::command(async)]
pub(crate) fn review_tasks(device: Dev<'_>) -> CmdResult<Vec<ReviewTask>> {
    Ok(device.review_tasks()?)
}

#[tauri::command(async)]
pub(crate) fn start_correction(
    device: Dev<'_>,
    inspection_id: String,
) -> CmdResult<InspectionView> {
    Ok(device.start_correction(&inspection_id)?)
}

// ------------------------------------------------------------------------------------------------
// Cleaner

#[tauri::command(async)]
pub(crate) fn my_zones(device: Dev<'_>) -> CmdResult<Vec<ZoneItem>> {
    Ok(device.my_zones()?)
}

#[tauri::command(async)]
pub(crate) fn problem_kinds(device: Dev<'_>) -> CmdResult<Vec<ProblemKind>> {
    Ok(device.problem_kinds())
}

#[tauri::command(async)]
pub(crate) fn open_rounds(device: Dev<'_>) -> CmdResult<Vec<RoundView>> {
    Ok(device.open_rounds()?)
}

#[tauri::command(async)]
pub(crate) fn open_inspections(device: Dev<'_>) -> CmdResult<Vec<InspectionView>> {
    Ok(device.open_inspections()?)
}

#[tauri::command(async)]
pub(crate) fn start_round(
    device: Dev<'_>,
    zone_id: String,
    same_as_yesterday: bool,
) -> CmdResult<RoundView> {
    Ok(device.start_round(&zone_id, same_as_yesterday)?)
}

#[tauri::command(async)]
pub(crate) fn record_position(
    device: Dev<'_>,
    round_id: String,
    position: Position,
) -> CmdResult<RoundView> {
    Ok(device.record_position(&round_id, position)?)
}

#[tauri::command(async)]
pub(crate) fn record_checkpoint(
    device: Dev<'_>,
    round_id: String,
    facility_id: String,
    state: String,
    photo_base64: Option<String>,
    position: Option<Position>,
) -> CmdResult<RoundView> {
    let camera = photo_base64.as_deref().map(photo).transpose()?;
    Ok(device.record_checkpoint(&round_id, &facility_id, &state, camera.as_deref(), position)?)
}

#[tauri::command(async)]
pub(crate) fn report_problem(
    device: Dev<'_>,
    round_id: String,
    code: String,
    note: Option<String>,
    photo_base64: String,
    position: Option<Position>,
) -> CmdResult<RoundView> {
    Ok(device.report_problem(&round_id, &code, note, &photo(&photo_base64)?, position)?)
}

#[tauri::command(async)]
pub(crate) fn finish_round(device: Dev<'_>, round_id: String) -> CmdResult<RoundView> {
    Ok(device.finish_round(&round_id)?)
}

// ------------------------------------------------------------------------------------------------
// Rectifications, history, photos

#[tauri::command(async)]
pub(crate) fn my_rectifications(device: Dev<'_>) -> CmdResult<Vec<RectificationItem>> {
    Ok(device.my_rectifications()?)
}

#[tauri::command(async)]
pub(crate) fn close_rectification(
    device: Dev<'_>,
    id: String,
    photo_base64: String,
    note: Option<String>,
    position: Option<Position>,
) -> CmdResult<RectificationItem> {
    Ok(device.close_rectification(&id, &photo(&photo_base64)?, note, position)?)
}

#[tauri::command(async)]
pub(crate) fn history(device: Dev<'_>) -> CmdResult<Vec<HistoryItem>> {
    Ok(device.history()?)
}

#[tauri::command(async)]
pub(crate) fn photo_thumbnail(device: Dev<'_>, sha256: String) -> CmdResult<String> {
    Ok(device.photo_thumbnail(&sha256)?)
}
