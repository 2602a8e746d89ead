//! The shell's commands through Tauri's IPC on the mock runtime: the same handler as the app
//! (`cunjie_app_lib::with_commands`) over a `Device` in a fresh temporary folder. For each
//! command one success and one error, with the `{code, message}` shape and Chinese words the UI
//! shows. A phone is "enrolled" by writing what enrollment and a pull would have written
//! (there is no server here; its address is a closed port, so sync fails as offline).

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use cunjie_device::Device;
use cunjie_domain::ids::{GroupId, HouseholdId, PersonId, TownshipId, VillageId};
use cunjie_domain::person::Role;
use cunjie_domain::place::{AdminVillage, GeoPoint, Household, Township, VillageGroup};
use cunjie_domain::template::{Template, presets};
use cunjie_protocol::v1::{Change, EnrollResponse, EntityKind, PullPage};
use serde_json::{Value, json};
use tauri::WebviewWindow;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;
use uuid::Uuid;

/// Nothing listens here: an enrolled test phone is offline.
const OFFLINE_SERVER: &str = "http://127.0.0.1:9";
const PLATE: &str = "太平村3组12号";
const HOUSEHOLD: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0005);
const NOT_AN_ID: &str = "01900000-0000-7000-8000-00000000ffff";
const BAD_PHOTO_ZH: &str = "照片数据不完整，请重新拍照";

struct Shell {
    _app: tauri::App<MockRuntime>,
    webview: WebviewWindow<MockRuntime>,
    device: Arc<Device>,
    _dir: tempfile::TempDir,
}

impl Shell {
    fn new(enrolled: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if enrolled {
            seed_inspector(dir.path());
        }
        let device = cunjie_app_lib::open_device(dir.path()).unwrap();
        let app = cunjie_app_lib::with_commands(mock_builder())
            .manage(device.clone())
            .build(mock_context(noop_assets()))
            .unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        Self {
            _app: app,
            webview,
            device,
            _dir: dir,
        }
    }

    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        match self.invoke(cmd, args) {
            Ok(v) => v,
            Err(e) => panic!("{cmd} failed: {e}"),
        }
    }

    /// The command's error, checked to be `{code, message}` with a Chinese message.
    fn err(&self, cmd: &str, args: Value) -> (String, String) {
        let e = match self.invoke(cmd, args) {
            Ok(v) => panic!("{cmd} succeeded but should fail: {v}"),
            Err(e) => e,
        };
        let obj = e
            .as_object()
            .unwrap_or_else(|| panic!("{cmd}: not {{code, message}}: {e}"));
        assert_eq!(obj.len(), 2, "{cmd}: exactly code and message: {e}");
        let code = obj["code"].as_str().unwrap().to_owned();
        let message = obj["message"].as_str().unwrap().to_owned();
        assert!(
            message
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{cmd}: message is not Chinese: {message}"
        );
        (code, message)
    }

    fn err_code(&self, cmd: &str, args: Value) -> String {
        self.err(cmd, args).0
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// What enrollment and the first pull would leave on an inspector's phone: one village, one
/// group, one household and the household checklist.
fn seed_inspector(dir: &Path) {
    let device = cunjie_app_lib::open_device(dir).unwrap();
    let mut store = device.store();
    let township = Township {
        id: TownshipId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001)),
        code: "TM".into(),
        name: "桐木镇".into(),
    };
    let village = AdminVillage {
        id: VillageId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002)),
        township: township.id,
        code: "TP".into(),
        name: "太平村".into(),
        population: 800,
        along_county_road: false,
        centroid: Some(GeoPoint::new(28.2, 112.9)),
    };
    let group = VillageGroup {
        id: GroupId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0003)),
        village: village.id,
        name: "3组".into(),
        is_remote: false,
    };
    let household = Household {
        id: HouseholdId::from_uuid(HOUSEHOLD),
        group: group.id,
        village: village.id,
        head_name: "张三".into(),
        door_plate: PLATE.into(),
        members: 4,
        roadside: true,
        is_demo_household: false,
        location: Some(GeoPoint::new(28.2001, 112.9001)),
    };
    let rows = [
        (
            EntityKind::Township,
            *township.id.as_uuid(),
            to_json(&township),
        ),
        (
            EntityKind::Village,
            *village.id.as_uuid(),
            to_json(&village),
        ),
        (EntityKind::Group, *group.id.as_uuid(), to_json(&group)),
        {
            let t: Template = presets::household_sanbao();
            (EntityKind::Template, *t.id.as_uuid(), to_json(&t))
        },
        (EntityKind::Household, HOUSEHOLD, to_json(&household)),
    ];
    let changes: Vec<Change> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (entity, id, row))| Change {
            seq: i as u64 + 1,
            entity,
            id,
            server_version: i as u64 + 1,
            row: Some(row),
        })
        .collect();
    let device_id = store.device_id();
    store
        .save_enrollment(
            OFFLINE_SERVER,
            &EnrollResponse {
                device_id,
                token: "test-token".into(),
                person_id: PersonId::from_uuid(Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0004,
                )),
                person_name: "李检查".into(),
                role: Role::Inspector,
                township_id: township.id,
                township_name: township.name.clone(),
                server_time_ms: 1_780_000_000_000,
            },
        )
        .unwrap();
    store
        .apply_pull_page(&PullPage {
            scope: "village:taiping".into(),
            epoch: 1,
            next_after: changes.len() as u64,
            changes,
            up_to_date: true,
        })
        .unwrap();
}

/// A camera-like JPEG, as base64 (what the UI sends).
fn photo_base64() -> String {
    use base64::Engine as _;
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) & 0xff) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

/// A photo of a printed QR code carrying `text`, as base64: 6 px modules on a white card,
/// on a grey wall.
fn qr_photo_base64(text: &str) -> String {
    use base64::Engine as _;
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let (n, colors) = (code.width() as u32, code.to_colors());
    let img = image::RgbImage::from_fn(800, 600, |x, y| {
        let (cx, cy) = ((x / 6).wrapping_sub(20), (y / 6).wrapping_sub(16));
        match (cx < n && cy < n, x < 96 || y < 72 || x >= 96 + (n + 8) * 6) {
            (true, _) if colors[(cy * n + cx) as usize] == qrcode::Color::Dark => {
                image::Rgb([20, 20, 20])
            }
            (true, _) => image::Rgb([240, 240, 240]),
            (false, false) if y < 72 + (n + 8) * 6 => image::Rgb([240, 240, 240]),
            _ => image::Rgb([128, 130, 125]),
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    base64::engine::general_purpose::STANDARD.encode(out.into_inner())
}

fn here() -> Value {
    json!({"lat": 28.2001, "lon": 112.9001, "accuracyM": 8.0})
}

#[test]
fn an_unenrolled_phone_answers_what_needs_no_server() {
    let s = Shell::new(false);

    // app_status: not enrolled, nothing pending, default settings.
    let st = s.ok("app_status", json!({}));
    assert_eq!(st["enrolled"], false);
    assert_eq!(st["sync"]["pendingRecords"], 0);
    assert_eq!(st["settings"]["language"], "zh-CN");

    // save_settings: saved, and seen by app_status; a bad language is refused in Chinese.
    let settings = json!({"language": "en", "photoLongEdge": 1024, "fixedPosition": null});
    let st = s.ok("save_settings", json!({"settings": settings}));
    assert_eq!(st["settings"]["photoLongEdge"], 1024);
    assert_eq!(s.ok("app_status", json!({}))["settings"]["language"], "en");
    let bad = json!({"language": "fr", "photoLongEdge": 1024, "fixedPosition": null});
    assert_eq!(
        s.err_code("save_settings", json!({"settings": bad})),
        "bad_input"
    );

    // sync_now needs an enrollment.
    assert_eq!(s.err_code("sync_now", json!({})), "not_enrolled");

    // sign_out: nothing to lose, so it succeeds.
    assert_eq!(s.ok("sign_out", json!({}))["enrolled"], false);

    // enroll: empty fields, then an unreachable server: Chinese errors, still not enrolled.
    let (code, msg) = s.err(
        "enroll",
        json!({"serverUrl": "", "code": "", "deviceName": "测试手机"}),
    );
    assert_eq!(code, "bad_input", "{msg}");
    let (code, msg) = s.err(
        "enroll",
        json!({"serverUrl": OFFLINE_SERVER, "code": "ABCD-EFGH", "deviceName": "测试手机"}),
    );
    assert_eq!(code, "network", "{msg}");
    assert_eq!(s.ok("app_status", json!({}))["enrolled"], false);

    // Lists that are simply empty before the first pull.
    assert_eq!(s.ok("history", json!({})), json!([]));
    assert_eq!(s.ok("open_rounds", json!({})), json!([]));
    assert_eq!(s.ok("open_inspections", json!({})), json!([]));
    assert_eq!(s.ok("my_zones", json!({})), json!([]));
    let kinds = s.ok("problem_kinds", json!({}));
    let kinds = kinds.as_array().unwrap();
    assert!(kinds.len() >= 6, "the 六无 list: {kinds:?}");
    assert!(
        kinds
            .iter()
            .all(|k| k["labelZh"].as_str().is_some_and(|l| !l.is_empty()))
    );

    // Enrolled-only commands say so.
    assert_eq!(s.err_code("my_rectifications", json!({})), "not_enrolled");
    assert_eq!(
        s.err_code(
            "start_inspection",
            json!({"householdId": HOUSEHOLD.to_string(), "position": null})
        ),
        "not_enrolled"
    );
    assert_eq!(
        s.err_code(
            "start_round",
            json!({"zoneId": NOT_AN_ID, "sameAsYesterday": false})
        ),
        "not_enrolled"
    );
}

#[test]
fn an_inspector_inspects_a_household_through_the_ipc() {
    let s = Shell::new(true);
    let st = s.ok("app_status", json!({}));
    assert_eq!(st["enrolled"], true);
    assert_eq!(st["role"], "INSPECTOR");
    assert_eq!(st["personName"], "李检查");

    // households / household_by_plate
    let list = s.ok(
        "households",
        json!({"query": null, "near": here(), "limit": 50}),
    );
    assert_eq!(list[0]["doorPlate"], PLATE);
    assert!(list[0]["distanceM"].as_f64().is_some());
    assert_eq!(
        s.ok(
            "households",
            json!({"query": "无此人", "near": null, "limit": 50})
        ),
        json!([])
    );
    // A malformed argument is refused by the IPC before it reaches the phone.
    assert!(
        s.invoke(
            "households",
            json!({"query": null, "near": null, "limit": "many"})
        )
        .is_err()
    );
    assert_eq!(
        s.ok("household_by_plate", json!({"text": PLATE}))["id"],
        HOUSEHOLD.to_string()
    );
    assert_eq!(
        s.err_code("household_by_plate", json!({"text": "没有这个门牌"})),
        "not_found"
    );
    // scan_qr: the door plate's QR photographed, then opened like a typed plate.
    let text = format!("cunjie://household/{HOUSEHOLD}");
    assert_eq!(
        s.ok("scan_qr", json!({"photoBase64": qr_photo_base64(&text)})),
        json!(text)
    );
    assert_eq!(
        s.ok("household_by_plate", json!({"text": text}))["id"],
        HOUSEHOLD.to_string()
    );
    assert_eq!(
        s.err_code("scan_qr", json!({"photoBase64": photo_base64()})),
        "no_qr_code",
        "a photo without a code"
    );

    // start_inspection
    assert_eq!(
        s.err_code(
            "start_inspection",
            json!({"householdId": NOT_AN_ID, "position": here()})
        ),
        "not_found"
    );
    let insp = s.ok(
        "start_inspection",
        json!({"householdId": HOUSEHOLD.to_string(), "position": here()}),
    );
    let id = insp["id"].as_str().unwrap().to_owned();
    let open = s.ok("open_inspections", json!({}));
    assert_eq!(
        open[0]["id"], insp["id"],
        "the inspection in progress is offered for resuming"
    );
    let items: Vec<String> = insp["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(items.len(), 12);
    let failed = items[0].clone();

    // answer_item
    let (code, msg) = s.err(
        "answer_item",
        json!({"inspectionId": id, "itemCode": failed, "outcome": "maybe", "count": 1, "note": null}),
    );
    assert_eq!(code, "bad_input", "{msg}");
    let v = s.ok(
        "answer_item",
        json!({"inspectionId": id, "itemCode": failed, "outcome": "fail", "count": 1, "note": "门前堆放垃圾"}),
    );
    assert_eq!(v["items"][0]["outcome"], "fail");

    // attach_item_photo
    let (code, msg) = s.err(
        "attach_item_photo",
        json!({"inspectionId": id, "itemCode": failed, "photoBase64": "不是照片!!", "position": here()}),
    );
    assert_eq!((code.as_str(), msg.as_str()), ("bad_input", BAD_PHOTO_ZH));
    let v = s.ok(
        "attach_item_photo",
        json!({"inspectionId": id, "itemCode": failed, "photoBase64": photo_base64(), "position": here()}),
    );
    let sha = v["items"][0]["photos"][0].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 64);

    // photo_thumbnail
    let thumb = s.ok("photo_thumbnail", json!({"sha256": sha}));
    assert!(thumb.as_str().is_some_and(|t| t.len() > 100), "{thumb}");
    assert_eq!(
        s.err_code("photo_thumbnail", json!({"sha256": "00"})),
        "not_found"
    );

    // submit_inspection: refused while items are unanswered, then submitted.
    assert_eq!(
        s.err_code("submit_inspection", json!({"inspectionId": id})),
        "not_submittable"
    );
    for code in &items[1..] {
        s.ok(
            "answer_item",
            json!({"inspectionId": id, "itemCode": code, "outcome": "pass", "count": 1, "note": null}),
        );
    }
    let done = s.ok("submit_inspection", json!({"inspectionId": id}));
    assert_eq!(done["submitted"], true);
    assert_eq!(
        s.err_code("submit_inspection", json!({"inspectionId": NOT_AN_ID})),
        "not_found"
    );

    // issue_rectification: a due date that is not a date, then a real one.
    let (code, msg) = s.err(
        "issue_rectification",
        json!({"inspectionId": id, "itemCode": failed, "due": "下周五"}),
    );
    assert_eq!(code, "bad_input", "{msg}");
    let r = s.ok(
        "issue_rectification",
        json!({"inspectionId": id, "itemCode": failed, "due": "2099-01-31"}),
    );
    assert_eq!(r["due"], "2099-01-31");
    assert_eq!(r["state"], "open");

    // my_rectifications: the inspector's list (issued to the household, not to them).
    assert!(s.ok("my_rectifications", json!({})).is_array());
    // close_rectification
    let rid = r["id"].as_str().unwrap();
    assert_eq!(
        s.err(
            "close_rectification",
            json!({"id": rid, "photoBase64": "", "note": null, "position": here()})
        ),
        ("bad_input".to_owned(), BAD_PHOTO_ZH.to_owned())
    );
    assert_eq!(
        s.err_code(
            "close_rectification",
            json!({"id": NOT_AN_ID, "photoBase64": photo_base64(), "note": null, "position": here()})
        ),
        "not_found"
    );

    // history: the submitted inspection, waiting to sync.
    let h = s.ok("history", json!({}));
    assert_eq!(h.as_array().unwrap().len(), 1);
    assert_eq!(h[0]["kind"], "inspection");
    assert_eq!(h[0]["state"], "pending");

    // sync_now: offline, so the badge says why and everything stays.
    let badge = s.ok("sync_now", json!({}));
    assert!(badge["pendingRecords"].as_u64().unwrap() >= 1, "{badge}");
    assert!(badge["lastErrorZh"].as_str().is_some(), "{badge}");

    // sign_out refuses while data is unsynced, and says so.
    let (code, msg) = s.err("sign_out", json!({}));
    assert_eq!(code, "unsynced_data");
    assert!(msg.contains("没有上传"), "{msg}");
    assert!(s.device.status().unwrap().enrolled);
}

#[test]
fn round_commands_refuse_what_is_not_on_the_phone() {
    let s = Shell::new(true);
    assert_eq!(
        s.err_code(
            "start_round",
            json!({"zoneId": NOT_AN_ID, "sameAsYesterday": true})
        ),
        "not_found"
    );
    assert_eq!(
        s.err_code(
            "record_position",
            json!({"roundId": NOT_AN_ID, "position": here()})
        ),
        "not_found"
    );
    assert_eq!(
        s.err_code(
            "record_checkpoint",
            json!({"roundId": NOT_AN_ID, "facilityId": NOT_AN_ID, "state": "cleared", "photoBase64": null, "position": here()})
        ),
        "not_found"
    );
    assert_eq!(
        s.err(
            "record_checkpoint",
            json!({"roundId": NOT_AN_ID, "facilityId": NOT_AN_ID, "state": "cleared", "photoBase64": "%%%", "position": here()})
        ),
        ("bad_input".to_owned(), BAD_PHOTO_ZH.to_owned())
    );
    assert_eq!(
        s.err(
            "report_problem",
            json!({"roundId": NOT_AN_ID, "code": "x", "note": null, "photoBase64": "", "position": null})
        ),
        ("bad_input".to_owned(), BAD_PHOTO_ZH.to_owned())
    );
    assert_eq!(
        s.err_code("finish_round", json!({"roundId": NOT_AN_ID})),
        "not_found"
    );
    assert_eq!(s.ok("open_rounds", json!({})), json!([]));
    assert_eq!(s.ok("my_zones", json!({})), json!([]));
}

/// What the next pull would bring after a township reviewer marked `inspection` 有问题, and
/// this month's sample (China time) with the test household in it.
fn pull_review_and_sample(s: &Shell, inspection: &str) {
    use cunjie_protocol::v1::{ReviewRow, SampleRow, sample_entity_id};
    let village = VillageId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002));
    // The phone's own clock: the month the household list marks is the phone's month.
    let now = s.device.store().clock().now();
    let china = now.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let month = china.format("%Y-%m").to_string();
    let review = ReviewRow {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0010),
        inspection: cunjie_domain::ids::InspectionId::from_uuid(
            Uuid::parse_str(inspection).unwrap(),
        ),
        photo: None,
        comment: "门前照片看不清，请重拍".into(),
        at: now,
    };
    let sample = SampleRow {
        village,
        month: month.clone(),
        households: vec![HouseholdId::from_uuid(HOUSEHOLD)],
    };
    let changes = vec![
        Change {
            seq: 10,
            entity: EntityKind::Sample,
            id: sample_entity_id(village, &month),
            server_version: 10,
            row: Some(to_json(&sample)),
        },
        Change {
            seq: 11,
            entity: EntityKind::Review,
            id: review.id,
            server_version: 11,
            row: Some(to_json(&review)),
        },
    ];
    s.device
        .store()
        .apply_pull_page(&PullPage {
            scope: "village:taiping".into(),
            epoch: 1,
            next_after: 11,
            changes,
            up_to_date: true,
        })
        .unwrap();
}

#[test]
fn an_inspector_corrects_an_inspection_sent_back_through_the_ipc() {
    let s = Shell::new(true);
    // Nothing sent back yet, nothing sampled yet.
    assert_eq!(s.ok("review_tasks", json!({})), json!([]));
    let list = s.ok(
        "households",
        json!({"query": null, "near": null, "limit": 50}),
    );
    assert_eq!(list[0]["sampledThisMonth"], false);

    // An inspection submitted: all pass.
    let insp = s.ok(
        "start_inspection",
        json!({"householdId": HOUSEHOLD.to_string(), "position": here()}),
    );
    let original = insp["id"].as_str().unwrap().to_owned();
    for item in insp["items"].as_array().unwrap() {
        s.ok(
            "answer_item",
            json!({"inspectionId": original, "itemCode": item["code"], "outcome": "pass", "count": 1, "note": null}),
        );
    }
    s.ok("submit_inspection", json!({"inspectionId": original}));

    // The pull brings the reviewer's remark and the sample.
    pull_review_and_sample(&s, &original);
    let list = s.ok(
        "households",
        json!({"query": null, "near": null, "limit": 50}),
    );
    assert_eq!(list[0]["sampledThisMonth"], true, "{list}");
    assert_eq!(list[0]["inspectedThisMonth"], true, "{list}");

    // review_tasks: the inspection sent back, with the reviewer's words.
    let tasks = s.ok("review_tasks", json!({}));
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    let task = &tasks[0];
    assert_eq!(task["inspectionId"], original.as_str());
    assert_eq!(task["comment"], "门前照片看不清，请重拍");
    assert!(task["subject"].as_str().unwrap().contains(PLATE), "{task}");
    assert!(task["at"].as_str().is_some());
    assert_eq!(task["correctionId"], Value::Null);

    // start_correction: a bad id and an unknown one are refused in Chinese.
    let (code, msg) = s.err("start_correction", json!({"inspectionId": "不是编号"}));
    assert_eq!(code, "not_found", "{msg}");
    assert_eq!(
        s.err_code("start_correction", json!({"inspectionId": NOT_AN_ID})),
        "not_found"
    );

    // A draft with the same subject and answers, and the task points at it; asked again it
    // resumes the same draft.
    let draft = s.ok("start_correction", json!({"inspectionId": original}));
    let draft_id = draft["id"].as_str().unwrap().to_owned();
    assert_ne!(draft_id, original);
    assert_eq!(draft["subjectId"], HOUSEHOLD.to_string());
    assert_eq!(draft["submitted"], false);
    assert!(
        draft["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["outcome"] == "pass"),
        "{draft}"
    );
    assert_eq!(
        s.ok("review_tasks", json!({}))[0]["correctionId"],
        draft_id.as_str()
    );
    assert_eq!(
        s.ok("start_correction", json!({"inspectionId": original}))["id"],
        draft_id.as_str()
    );

    // Corrected like any draft, then submitted: the task is gone.
    let first = draft["items"][0]["code"].clone();
    s.ok(
        "answer_item",
        json!({"inspectionId": draft_id, "itemCode": first, "outcome": "fail", "count": 1, "note": "门前堆放杂物"}),
    );
    s.ok(
        "attach_item_photo",
        json!({"inspectionId": draft_id, "itemCode": first, "photoBase64": photo_base64(), "position": here()}),
    );
    let done = s.ok("submit_inspection", json!({"inspectionId": draft_id}));
    assert_eq!(done["submitted"], true, "{done}");
    assert_eq!(s.ok("review_tasks", json!({})), json!([]));

    // History still lists both.
    let h = s.ok("history", json!({}));
    assert_eq!(h.as_array().unwrap().len(), 2, "{h}");
}
