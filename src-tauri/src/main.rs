//! The desktop entry point; mobile builds enter through `cunjie_app_lib::run` directly.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    cunjie_app_lib::run();
}
