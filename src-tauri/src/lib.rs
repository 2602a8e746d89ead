//! 村洁 Cunjie, the phone app: the Tauri 2 shell. It opens the phone's [`Device`] in the app's
//! data folder, offers the UI's commands ([`commands`]), and syncs in the background while the
//! app is open. All behaviour lives in `cunjie-device`; this crate only wires it to the webview.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cunjie_device::{Device, DeviceOptions};
use tauri::{Manager, Runtime};

pub mod commands;

pub use commands::CommandError;

/// How often the app syncs in the background while it is open.
pub const BACKGROUND_SYNC_EVERY: Duration = Duration::from_secs(60);

/// Adds every UI command to `builder` (the app and the shell tests use the same list).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::app_status,
        commands::enroll,
        commands::sync_now,
        commands::save_settings,
        commands::sign_out,
        commands::households,
        commands::household_by_plate,
        commands::scan_qr,
        commands::start_inspection,
        commands::answer_item,
        commands::attach_item_photo,
        commands::submit_inspection,
        commands::issue_rectification,
        commands::review_tasks,
        commands::start_correction,
        commands::my_zones,
        commands::problem_kinds,
        commands::open_rounds,
        commands::open_inspections,
        commands::start_round,
        commands::record_position,
        commands::record_checkpoint,
        commands::report_problem,
        commands::finish_round,
        commands::my_rectifications,
        commands::close_rectification,
        commands::history,
        commands::photo_thumbnail,
    ])
}

/// Opens the phone's data in `dir`.
pub fn open_device(dir: &std::path::Path) -> Result<Arc<Device>, cunjie_device::DeviceError> {
    // reqwest is built without a TLS provider of its own (aws-lc-rs does not build for
    // Android): install ring before anything can make an HTTP client.
    cunjie_sync::ensure_crypto_provider();
    Ok(Arc::new(Device::open(dir, DeviceOptions::default())?))
}

/// Where the phone's data lives: the app's data folder, or on desktop `--data-dir DIR` on the
/// command line or `CUNJIE_DATA_DIR` (the end-to-end tests give each app session its folder).
fn data_dir<R: Runtime>(app: &tauri::App<R>) -> tauri::Result<PathBuf> {
    #[cfg(desktop)]
    {
        let mut args = std::env::args_os().skip(1);
        while let Some(a) = args.next() {
            if a == "--data-dir"
                && let Some(dir) = args.next().filter(|d| !d.is_empty())
            {
                return Ok(PathBuf::from(dir));
            }
        }
        if let Some(dir) = std::env::var_os("CUNJIE_DATA_DIR").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
    }
    app.path().app_data_dir()
}

/// Syncs every [`BACKGROUND_SYNC_EVERY`] while the app runs, when the phone is enrolled.
/// Failures are only logged: the sync badge shows them to the person.
pub fn spawn_background_sync(device: Arc<Device>) {
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(BACKGROUND_SYNC_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match device.status() {
                Ok(s) if s.enrolled => {
                    if let Err(e) = device.sync_now().await {
                        tracing::info!(code = e.code(), "background sync: {e}");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(code = e.code(), "background sync: {e}"),
            }
        }
    });
}

/// The app: desktop `main` and the Android / iOS entry point.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();

    let builder = tauri::Builder::default();
    #[cfg(mobile)]
    let builder = builder
        .plugin(tauri_plugin_geolocation::init())
        .plugin(tauri_plugin_barcode_scanner::init());

    let result = with_commands(builder)
        .setup(|app| {
            let dir = data_dir(app)?;
            let device = open_device(&dir)?;
            tracing::info!(dir = %dir.display(), "phone data opened");
            spawn_background_sync(device.clone());
            app.manage(device);
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("村洁 could not start: {e}");
        std::process::exit(1);
    }
}
