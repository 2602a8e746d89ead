//! Photos: signed attestations in push, tus uploads over real HTTP, what the server checks when
//! the bytes arrive, and a fact's evidence. These are storage scenarios: `conformance::scenarios!`
//! runs them on SQLite and on PostgreSQL.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Utc};
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{GeoFix, ItemResult, PhotoAttestation, PhotoHash, Subject};
use cunjie_domain::person::Role;
use cunjie_domain::place::GeoPoint;
use cunjie_media::DeviceKey;
use cunjie_protocol::v1::{MutationStatus, Op, PushResponse, codes};
use cunjie_server::Db;
use cunjie_server::store::Value;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Harness, Phone, Served};

// ---------------------------------------------------------------------------------------------
// Real JPEGs with EXIF.

type Entry = (u16, u16, u32, Vec<u8>);

/// One TIFF IFD (little-endian) placed at `start`, its out-of-line values right after it.
fn ifd(start: u32, entries: &[Entry]) -> Vec<u8> {
    let data_start = start + 2 + 12 * entries.len() as u32 + 4;
    let (mut head, mut data) = (Vec::new(), Vec::new());
    head.extend((entries.len() as u16).to_le_bytes());
    for (tag, ty, count, bytes) in entries {
        head.extend(tag.to_le_bytes());
        head.extend(ty.to_le_bytes());
        head.extend(count.to_le_bytes());
        if bytes.len() <= 4 {
            let mut inline = bytes.clone();
            inline.resize(4, 0);
            head.extend(inline);
        } else {
            head.extend((data_start + data.len() as u32).to_le_bytes());
            data.extend(bytes);
            if data.len() % 2 == 1 {
                data.push(0);
            }
        }
    }
    head.extend(0u32.to_le_bytes());
    head.extend(data);
    head
}

/// Degrees as three EXIF rationals (degrees, minutes, seconds in 1/10000).
fn dms(v: f64) -> Vec<u8> {
    let deg = v.trunc();
    let min = ((v - deg) * 60.0).trunc();
    let sec = ((v - deg - min / 60.0) * 3600.0 * 10_000.0).round();
    [(deg as u32, 1u32), (min as u32, 1), (sec as u32, 10_000)]
        .iter()
        .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
        .collect()
}

/// The TIFF body of an EXIF APP1 segment: DateTimeOriginal (local time, no zone) and
/// optionally a GPS position (north and east).
pub(crate) fn exif(taken_local: NaiveDateTime, gps: Option<(f64, f64)>) -> Vec<u8> {
    let when = format!("{}\0", taken_local.format("%Y:%m:%d %H:%M:%S")).into_bytes();
    let ifd0_len = 2 + 12 * if gps.is_some() { 2 } else { 1 } + 4;
    let exif_start = 8 + ifd0_len;
    let exif_ifd = ifd(exif_start, &[(0x9003, 2, when.len() as u32, when)]);
    let gps_start = exif_start + exif_ifd.len() as u32;
    let gps_ifd = gps.map(|(lat, lon)| {
        ifd(
            gps_start,
            &[
                (0x0000, 1, 4, vec![2, 2, 0, 0]),
                (0x0001, 2, 2, b"N\0".to_vec()),
                (0x0002, 5, 3, dms(lat)),
                (0x0003, 2, 2, b"E\0".to_vec()),
                (0x0004, 5, 3, dms(lon)),
            ],
        )
    });
    let mut ifd0: Vec<Entry> = vec![(0x8769, 4, 1, exif_start.to_le_bytes().to_vec())];
    if gps_ifd.is_some() {
        ifd0.push((0x8825, 4, 1, gps_start.to_le_bytes().to_vec()));
    }
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(ifd(8, &ifd0));
    tiff.extend(exif_ifd);
    tiff.extend(gps_ifd.unwrap_or_default());
    tiff
}

/// A real JPEG (noise, so it does not compress to nothing), with the EXIF given.
pub(crate) fn jpeg(seed: u32, exif: Option<Vec<u8>>) -> Vec<u8> {
    let (w, hgt) = (320u32, 240u32);
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(0x9E37_79B9);
    let mut px = Vec::with_capacity((w * hgt * 3) as usize);
    for y in 0..hgt {
        for x in 0..w {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let n = (s & 0x3f) as u8;
            px.extend([(x / 2) as u8 + n, (y / 2) as u8 + n, 100u8.wrapping_add(n)]);
        }
    }
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    if let Some(e) = exif {
        image::ImageEncoder::set_exif_metadata(&mut enc, e).expect("the JPEG encoder takes EXIF");
    }
    image::ImageEncoder::write_image(enc, &px, w, hgt, image::ExtendedColorType::Rgb8)
        .expect("JPEG encodes");
    out
}

/// Local China time of an instant, as EXIF writes it.
pub(crate) fn china_time(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("+08:00"))
        .naive_local()
}

// ---------------------------------------------------------------------------------------------
// Attestations.

/// A photo as the phone has it: bytes, the signed attestation.
#[derive(Clone)]
pub(crate) struct Shot {
    pub(crate) bytes: Vec<u8>,
    pub(crate) attestation: PhotoAttestation,
    pub(crate) signature: String,
}

impl Shot {
    pub(crate) fn sha(&self) -> &PhotoHash {
        &self.attestation.sha256
    }

    pub(crate) fn op(&self) -> (Op, Option<u64>) {
        (
            Op::AttestPhoto {
                attestation: Box::new(self.attestation.clone()),
                signature: self.signature.clone(),
            },
            None,
        )
    }
}

pub(crate) fn shot(
    phone: &Phone,
    bytes: Vec<u8>,
    subject: Subject,
    taken_at: DateTime<Utc>,
    fix: Option<GeoFix>,
) -> Shot {
    let attestation = PhotoAttestation {
        sha256: cunjie_media::sha256_hex(&bytes),
        size: bytes.len() as u64,
        taken_at,
        fix,
        subject,
        device_id: phone.id,
    };
    let signature = phone.key.sign(&attestation);
    Shot {
        bytes,
        attestation,
        signature,
    }
}

fn household(h: &Harness, n: usize) -> (Subject, GeoPoint) {
    let hh = &h.demo.households[n];
    (
        Subject {
            kind: SubjectKind::Household,
            id: *hh.id.as_uuid(),
        },
        hh.location.expect("demo households are located"),
    )
}

/// A photo of household `n`, taken five minutes ago, with its fix `north_deg` north of the
/// house (accuracy 8 m) and EXIF time `exif_shift` from the attested time (GPS of the house).
pub(crate) fn household_shot(
    h: &Harness,
    phone: &Phone,
    n: usize,
    seed: u32,
    north_deg: f64,
    exif_shift: Option<Duration>,
) -> Shot {
    let (subject, at) = household(h, n);
    let taken_at = h.now() - Duration::minutes(5);
    let exif = exif_shift.map(|d| exif(china_time(taken_at + d), Some((at.lat, at.lon))));
    let fix = GeoFix {
        point: GeoPoint::new(at.lat + north_deg, at.lon),
        accuracy_m: 8.0,
        fix_time: Some(taken_at),
        mock: false,
    };
    shot(phone, jpeg(seed, exif), subject, taken_at, Some(fix))
}

fn statuses(body: &Json) -> Vec<String> {
    let r: PushResponse = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("a push response: {e}: {body}"));
    r.results
        .into_iter()
        .map(|r| match r.status {
            MutationStatus::Applied { .. } => "applied".to_owned(),
            MutationStatus::Rejected { code, .. } => code,
        })
        .collect()
}

fn count(h: &Harness, sql: &str, params: &[Value]) -> i64 {
    let rows = h
        .state
        .db
        .tx(|tx| tx.query(sql, params))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.first()
        .and_then(|r| r.first())
        .and_then(Value::int)
        .unwrap_or_else(|| panic!("{sql} counts: {rows:?}"))
}

async fn attest(h: &Harness, phone: &mut Phone, shots: &[&Shot]) -> Vec<String> {
    let req = h.mutations(phone, shots.iter().map(|s| s.op()).collect());
    let (s, body) = h.push(phone, &req).await;
    assert_eq!(s, StatusCode::OK, "push answered: {body}");
    statuses(&body)
}

/// Pushes one attestation and checks it was applied.
pub(crate) async fn attest_one(h: &Harness, phone: &mut Phone, shot: &Shot) {
    assert_eq!(attest(h, phone, &[shot]).await, ["applied"], "attested");
}

async fn staff_token(h: &Harness) -> String {
    let (s, body) = h
        .call(
            "POST",
            "/api/v1/admin/login",
            None,
            Some(json!({"username": "admin", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "staff log in: {body}");
    body["token"].as_str().expect("token").to_owned()
}

// ---------------------------------------------------------------------------------------------
// A tus client on reqwest, speaking the protocol by hand.

pub(crate) struct Tus {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

pub(crate) fn b64_sha256(bytes: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(bytes))
}

impl Tus {
    pub(crate) fn new(served: &Served, phone: &Phone) -> Self {
        Self {
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            base: served.url.clone(),
            token: phone.token.clone(),
        }
    }

    pub(crate) fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("tus-resumable", "1.0.0")
            .bearer_auth(&self.token)
    }

    pub(crate) fn metadata(sha: &PhotoHash) -> String {
        format!(
            "sha256 {},filename {},filetype {}",
            STANDARD.encode(sha.as_str()),
            STANDARD.encode("照片.jpg"),
            STANDARD.encode("image/jpeg")
        )
    }

    pub(crate) async fn create(&self, sha: &PhotoHash, length: u64) -> reqwest::Response {
        self.req(reqwest::Method::POST, "/api/v1/uploads")
            .header("upload-length", length.to_string())
            .header("upload-metadata", Self::metadata(sha))
            .send()
            .await
            .expect("POST answers")
    }

    /// Creates an upload and returns its path.
    pub(crate) async fn location(&self, shot: &Shot) -> String {
        let r = self.create(shot.sha(), shot.bytes.len() as u64).await;
        assert_eq!(r.status(), StatusCode::CREATED, "upload created");
        r.headers()["location"].to_str().expect("ascii").to_owned()
    }

    pub(crate) async fn patch(
        &self,
        location: &str,
        offset: u64,
        body: Vec<u8>,
        checksum: Option<String>,
    ) -> reqwest::Response {
        let mut r = self
            .req(reqwest::Method::PATCH, location)
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset.to_string());
        if let Some(c) = checksum {
            r = r.header("upload-checksum", c);
        }
        r.body(body).send().await.expect("PATCH answers")
    }

    pub(crate) async fn head(&self, location: &str) -> reqwest::Response {
        self.req(reqwest::Method::HEAD, location)
            .send()
            .await
            .expect("HEAD answers")
    }

    pub(crate) async fn blob(&self, sha: &str) -> StatusCode {
        self.req(reqwest::Method::HEAD, &format!("/api/v1/blobs/{sha}"))
            .send()
            .await
            .expect("HEAD answers")
            .status()
    }

    /// Uploads a whole file in one PATCH.
    pub(crate) async fn upload_whole(&self, shot: &Shot) -> reqwest::Response {
        let loc = self.location(shot).await;
        self.patch(&loc, 0, shot.bytes.clone(), None).await
    }
}

pub(crate) fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{name} in {:?}", r.headers()))
        .to_owned()
}

pub(crate) fn offset_of(r: &reqwest::Response) -> u64 {
    header(r, "upload-offset").parse().expect("a number")
}

async fn error_code(r: reqwest::Response) -> String {
    let body: Json = r.json().await.unwrap_or(Json::Null);
    body["code"].as_str().unwrap_or_default().to_owned()
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

pub(crate) async fn photo_attestations_apply_once_and_bad_ones_are_rejected(db: Db) {
    let h = Harness::new(db);
    let inspector = h.demo.inspector(0).id;
    let mut phone = h.enroll(inspector, Role::Inspector).await;
    let good = household_shot(&h, &phone, 0, 1, 0.0001, Some(Duration::zero()));
    let req = h.mutations(&mut phone, vec![good.op()]);
    let (_, first) = h.push(&phone, &req).await;
    assert_eq!(
        statuses(&first),
        ["applied"],
        "a signed attestation is applied: {first}"
    );
    let (_, again) = h.push(&phone, &req).await;
    assert_eq!(
        first["results"], again["results"],
        "a retry answers from the receipt"
    );
    assert_eq!(
        attest(&h, &mut phone, &[&good]).await,
        ["applied"],
        "the same attestation in a new mutation is applied again, without a second effect"
    );
    let photos = "SELECT count(*) FROM photo WHERE sha256 = $1";
    assert_eq!(
        count(&h, photos, &[Value::from(good.sha().as_str())]),
        1,
        "one photo row"
    );
    let state = h
        .state
        .db
        .tx(|tx| {
            tx.query(
                "SELECT state, device_id, subject_id, size, signature FROM photo WHERE sha256 = $1",
                &[Value::from(good.sha().as_str())],
            )
        })
        .expect("photo row");
    assert_eq!(
        state[0],
        vec![
            Value::from("pending"),
            Value::from(phone.id.to_string()),
            Value::from(good.attestation.subject.id.to_string()),
            Value::Int(good.bytes.len() as i64),
            Value::from(good.signature.clone()),
        ],
        "pending until the bytes arrive, with its device, subject, size and signature"
    );

    // Signed by another key.
    let mut forged = household_shot(&h, &phone, 0, 2, 0.0001, None);
    forged.signature = DeviceKey::from_seed([99; 32]).sign(&forged.attestation);
    // The same photo attested differently (another subject) by the same phone.
    let mut moved = good.clone();
    moved.attestation.subject = household(&h, 2).0;
    moved.signature = phone.key.sign(&moved.attestation);
    // Another phone's attestation, pushed by this one.
    let other = h.enroll(inspector, Role::Inspector).await;
    let theirs = household_shot(&h, &other, 0, 3, 0.0001, None);
    // An unknown household, and a household of a village this inspector is not assigned to.
    let mut unknown = household_shot(&h, &phone, 0, 4, 0.0, None);
    unknown.attestation.subject.id = uuid::Uuid::from_u128(42);
    unknown.signature = phone.key.sign(&unknown.attestation);
    let elsewhere = h
        .demo
        .households
        .iter()
        .position(|x| x.village == h.demo.villages[1].id)
        .expect("village 1 has households");
    let not_mine = household_shot(&h, &phone, elsewhere, 5, 0.0, None);
    assert_eq!(
        attest(
            &h,
            &mut phone,
            &[&forged, &moved, &theirs, &unknown, &not_mine]
        )
        .await,
        [
            codes::SIGNATURE_INVALID,
            codes::DUPLICATE_ID,
            codes::DEVICE_MISMATCH,
            codes::UNKNOWN_REFERENCE,
            codes::NOT_ASSIGNED
        ],
        "each bad attestation is rejected with its code"
    );
    // A phone enrolled without a key cannot attest.
    let mut keyless = h
        .enroll_with(
            inspector,
            Role::Inspector,
            DeviceKey::from_seed([7; 32]),
            false,
        )
        .await;
    let unsigned = household_shot(&h, &keyless, 0, 6, 0.0, None);
    assert_eq!(
        attest(&h, &mut keyless, &[&unsigned]).await,
        [codes::SIGNATURE_INVALID],
        "no registered key, no photos"
    );
    assert_eq!(
        count(&h, "SELECT count(*) FROM photo", &[]),
        1,
        "only the good photo is recorded"
    );
    // A key that is not 32 bytes of base64 is refused at enrollment.
    let code = h
        .office
        .enrollment_code(inspector, Role::Inspector, 7)
        .expect("code");
    let (s, body) = h
        .call(
            "POST",
            "/api/v1/enroll",
            None,
            Some(json!({"code": code, "device_id": uuid::Uuid::from_u128(77), "device_name": "x", "public_key": STANDARD.encode([1u8; 31])})),
        )
        .await;
    assert_eq!(
        (s, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some(codes::BAD_REQUEST)),
        "a 31-byte key is refused: {body}"
    );
}

pub(crate) async fn uploads_need_an_attestation_from_this_device(db: Db) {
    let h = Harness::new(db);
    let inspector = h.demo.inspector(0).id;
    let mut phone = h.enroll(inspector, Role::Inspector).await;
    let mut other = h.enroll(inspector, Role::Inspector).await;
    let mine = household_shot(&h, &phone, 0, 1, 0.0, None);
    let theirs = household_shot(&h, &other, 0, 2, 0.0, None);
    assert_eq!(
        attest(&h, &mut phone, &[&mine]).await,
        ["applied"],
        "attested"
    );
    assert_eq!(
        attest(&h, &mut other, &[&theirs]).await,
        ["applied"],
        "attested"
    );
    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);

    let r = tus
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/uploads", tus.base),
        )
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "discovery");
    assert_eq!(
        (
            header(&r, "tus-version"),
            header(&r, "tus-extension"),
            header(&r, "tus-checksum-algorithm"),
            header(&r, "tus-max-size"),
            header(&r, "tus-resumable")
        ),
        (
            "1.0.0".to_owned(),
            "creation,checksum,expiration,termination".to_owned(),
            "sha1,sha256".to_owned(),
            (32 * 1024 * 1024).to_string(),
            "1.0.0".to_owned()
        ),
        "what the server supports"
    );
    let r = tus
        .client
        .post(format!("{}/api/v1/uploads", tus.base))
        .bearer_auth(&phone.token)
        .header("upload-length", mine.bytes.len().to_string())
        .header("upload-metadata", Tus::metadata(mine.sha()))
        .send()
        .await
        .expect("POST");
    assert_eq!(
        (
            r.status(),
            header(&r, "tus-version"),
            header(&r, "tus-resumable")
        ),
        (
            StatusCode::PRECONDITION_FAILED,
            "1.0.0".to_owned(),
            "1.0.0".to_owned()
        ),
        "no Tus-Resumable: 412 naming the version"
    );
    assert_eq!(error_code(r).await, codes::TUS_VERSION, "its code");

    let r = tus.create(theirs.sha(), theirs.bytes.len() as u64).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "another phone's photo");
    assert_eq!(error_code(r).await, codes::NOT_REFERENCED, "its code");
    let unattested: PhotoHash = "ab".repeat(32).parse().expect("hex");
    let r = tus.create(&unattested, 1000).await;
    assert_eq!(
        (r.status(), error_code(r).await),
        (StatusCode::FORBIDDEN, codes::NOT_REFERENCED.to_owned()),
        "a photo nobody attested"
    );
    let r = tus.create(mine.sha(), mine.bytes.len() as u64 + 1).await;
    assert_eq!(
        (r.status(), error_code(r).await),
        (StatusCode::BAD_REQUEST, codes::BAD_REQUEST.to_owned()),
        "a length other than the attested size"
    );
    let r = tus.create(mine.sha(), 32 * 1024 * 1024 + 1).await;
    assert_eq!(
        (r.status(), error_code(r).await),
        (StatusCode::PAYLOAD_TOO_LARGE, codes::TOO_LARGE.to_owned()),
        "over Tus-Max-Size"
    );
    let r = tus
        .req(reqwest::Method::POST, "/api/v1/uploads")
        .header("upload-length", "10")
        .header("upload-metadata", "filename cGhvdG8uanBn")
        .send()
        .await
        .expect("POST");
    assert_eq!(
        (r.status(), error_code(r).await),
        (StatusCode::BAD_REQUEST, codes::BAD_REQUEST.to_owned()),
        "metadata without sha256"
    );
    let r = tus
        .req(reqwest::Method::POST, "/api/v1/uploads")
        .header("upload-length", "-1")
        .header("upload-metadata", Tus::metadata(mine.sha()))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a negative length");
    let r = tus
        .client
        .post(format!("{}/api/v1/uploads", tus.base))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", mine.bytes.len().to_string())
        .header("upload-metadata", Tus::metadata(mine.sha()))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "no device token");
    let r = tus.create(mine.sha(), mine.bytes.len() as u64).await;
    assert_eq!(r.status(), StatusCode::CREATED, "its own attested photo");
    let other_tus = Tus::new(&served, &other);
    let loc = header(&r, "location");
    assert_eq!(
        other_tus.head(&loc).await.status(),
        StatusCode::NOT_FOUND,
        "another phone cannot see the upload"
    );
    assert_eq!(
        tus.head("/api/v1/uploads/not-a-uuid").await.status(),
        StatusCode::NOT_FOUND,
        "a made-up id"
    );
}

pub(crate) async fn a_photo_uploads_in_checksummed_chunks_over_http(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let photo = household_shot(&h, &phone, 0, 11, 0.0002, Some(Duration::seconds(20)));
    // The inspection that names the photo, pushed with its attestation.
    let mut insp = crate::conformance::inspection(&h, &phone, 0, h.now());
    insp.answer(ItemResult::fail(
        "HH_WHITE_LITTER",
        1,
        vec![photo.sha().clone()],
    ));
    let req = h.mutations(
        &mut phone,
        vec![
            photo.op(),
            (
                Op::SubmitInspection {
                    inspection: Box::new(insp.clone()),
                },
                None,
            ),
        ],
    );
    let (_, body) = h.push(&phone, &req).await;
    assert_eq!(statuses(&body), ["applied", "applied"], "{body}");
    let staff = staff_token(&h).await;
    let evidence_uri = format!("/api/v1/admin/facts/{}/evidence", insp.id);
    let (s, ev) = h.call("GET", &evidence_uri, Some(&staff), None).await;
    assert_eq!(s, StatusCode::OK, "evidence: {ev}");
    assert_eq!(
        (
            ev["photos_pending"].as_u64(),
            ev["photos"][0]["state"].as_str(),
            ev["photos"][0]["sha256"].as_str(),
            ev["photos"][0]["verification"].is_null()
        ),
        (Some(1), Some("pending"), Some(photo.sha().as_str()), true),
        "photos pending until the bytes arrive: {ev}"
    );

    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);
    assert_eq!(
        tus.blob(photo.sha().as_str()).await,
        StatusCode::NOT_FOUND,
        "not stored yet"
    );
    let r = tus.create(photo.sha(), photo.bytes.len() as u64).await;
    assert_eq!(r.status(), StatusCode::CREATED, "created");
    let loc = header(&r, "location");
    assert!(
        loc.starts_with("/api/v1/uploads/") && uuid::Uuid::parse_str(&loc[16..]).is_ok(),
        "Location names a UUID: {loc}"
    );
    assert_eq!(
        header(&r, "upload-expires"),
        cunjie_server_http_date(h.now() + Duration::days(7)),
        "expires in 7 days"
    );
    let r = tus.head(&loc).await;
    assert_eq!(
        (
            r.status(),
            offset_of(&r),
            header(&r, "upload-length"),
            header(&r, "cache-control"),
            header(&r, "tus-resumable")
        ),
        (
            StatusCode::OK,
            0,
            photo.bytes.len().to_string(),
            "no-store".to_owned(),
            "1.0.0".to_owned()
        ),
        "a fresh upload is at 0"
    );

    let chunks: Vec<&[u8]> = photo.bytes.chunks(16 * 1024).collect();
    assert!(
        chunks.len() >= 3,
        "the photo takes several chunks: {}",
        chunks.len()
    );
    let mut offset = 0u64;
    for (i, chunk) in chunks.iter().enumerate() {
        if i == 1 {
            // A chunk corrupted on the way: its checksum does not match; nothing is kept.
            let mut bad = chunk.to_vec();
            bad[100] ^= 0xff;
            let r = tus
                .patch(
                    &loc,
                    offset,
                    bad,
                    Some(format!("sha256 {}", b64_sha256(chunk))),
                )
                .await;
            assert_eq!(r.status().as_u16(), 460, "checksum mismatch");
            assert_eq!(error_code(r).await, codes::CHECKSUM_MISMATCH, "its code");
            assert_eq!(offset_of(&tus.head(&loc).await), offset, "offset unchanged");
            let r = tus.patch(&loc, 0, chunk.to_vec(), None).await;
            assert_eq!(
                (r.status(), error_code(r).await),
                (StatusCode::CONFLICT, codes::OFFSET_MISMATCH.to_owned()),
                "a PATCH at the wrong offset"
            );
            let r = tus
                .req(reqwest::Method::PATCH, &loc)
                .header("content-type", "application/octet-stream")
                .header("upload-offset", offset.to_string())
                .body(chunk.to_vec())
                .send()
                .await
                .expect("PATCH");
            assert_eq!(
                (r.status(), error_code(r).await),
                (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    codes::UNSUPPORTED_MEDIA_TYPE.to_owned()
                ),
                "the wrong content type"
            );
            let r = tus
                .patch(
                    &loc,
                    offset,
                    chunk.to_vec(),
                    Some("md5 AAAAAAAAAAAAAAAAAAAAAA==".into()),
                )
                .await;
            assert_eq!(
                r.status(),
                StatusCode::BAD_REQUEST,
                "an unknown checksum algorithm"
            );
        }
        let r = tus
            .patch(
                &loc,
                offset,
                chunk.to_vec(),
                Some(format!("sha256 {}", b64_sha256(chunk))),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "chunk {i} accepted");
        offset += chunk.len() as u64;
        assert_eq!(offset_of(&r), offset, "the new offset");
    }
    assert_eq!(offset_of(&tus.head(&loc).await), offset, "complete");
    assert_eq!(
        tus.blob(photo.sha().as_str()).await,
        StatusCode::OK,
        "stored"
    );
    assert_eq!(tus.blob("zz").await, StatusCode::BAD_REQUEST, "not a hash");
    assert_eq!(
        tus.blob(&"AB".repeat(32)).await,
        StatusCode::BAD_REQUEST,
        "upper-case hex is not a photo hash"
    );
    assert_eq!(
        tus.blob("..%2F..%2Fcunjie-server.db").await,
        StatusCode::BAD_REQUEST,
        "no path traversal"
    );
    let path = h
        .state
        .blobs
        .local_path(photo.sha())
        .expect("a local store");
    let sha = photo.sha().as_str();
    assert!(
        path.ends_with(format!("{}/{}/{sha}", &sha[0..2], &sha[2..4])),
        "content-addressed as ab/cd/<sha256>: {}",
        path.display()
    );
    assert_eq!(
        std::fs::read(&path).expect("the blob file"),
        photo.bytes,
        "byte-identical in the blob folder"
    );
    let parts: Vec<_> = std::fs::read_dir(h.state.blobs.uploads_dir())
        .expect("uploads dir")
        .collect();
    assert!(parts.is_empty(), "the partial file is gone: {parts:?}");

    let (s, ev) = h.call("GET", &evidence_uri, Some(&staff), None).await;
    assert_eq!(s, StatusCode::OK, "evidence");
    let v = &ev["photos"][0]["verification"];
    assert_eq!(
        (
            ev["photos_pending"].as_u64(),
            ev["photos"][0]["state"].as_str(),
            v["hash_ok"].as_bool(),
            v["signature_ok"].as_bool(),
            v["time_check"].as_str(),
            v["exif_minus_taken_s"].as_i64(),
            v["place_check"].as_str(),
            v["distance_m"].as_i64(),
        ),
        (
            Some(0),
            Some("stored"),
            Some(true),
            Some(true),
            Some("ok"),
            Some(20),
            Some("ok"),
            Some(22)
        ),
        "stored and verified: {ev}"
    );
    let r = tus
        .client
        .get(format!("{}/api/v1/admin/blobs/{sha}", tus.base))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("GET blob");
    assert_eq!(
        (r.status(), header(&r, "content-type")),
        (StatusCode::OK, "image/jpeg".to_owned()),
        "staff see the photo"
    );
    assert_eq!(
        r.bytes().await.expect("bytes").to_vec(),
        photo.bytes,
        "the same bytes"
    );
    let r = tus
        .client
        .get(format!("{}/api/v1/admin/blobs/{sha}", tus.base))
        .bearer_auth(&phone.token)
        .send()
        .await
        .expect("GET blob");
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a device token is not a staff session"
    );

    let r = tus.patch(&loc, offset, Vec::new(), None).await;
    assert_eq!(
        (r.status(), offset_of(&r)),
        (StatusCode::NO_CONTENT, offset),
        "an empty PATCH at the end of a finished upload: complete, nothing redone"
    );
    assert_eq!(
        tus.blob(photo.sha().as_str()).await,
        StatusCode::OK,
        "still stored"
    );
    // The phone lost the last answer and uploads again: it simply finishes.
    let r = tus.upload_whole(&photo).await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "a second upload just finishes"
    );
    assert_eq!(
        count(&h, "SELECT count(*) FROM photo_verification", &[]),
        1,
        "verified once"
    );
    let r = tus
        .req(reqwest::Method::DELETE, &loc)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "a finished upload can be terminated"
    );
    assert_eq!(
        tus.head(&loc).await.status(),
        StatusCode::GONE,
        "then it is gone"
    );
    assert_eq!(tus.blob(sha).await, StatusCode::OK, "the blob stays");
}

/// The server's `Upload-Expires` format.
fn cunjie_server_http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

pub(crate) async fn a_tampered_file_is_discarded_and_nothing_stored(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let photo = household_shot(&h, &phone, 0, 21, 0.0, Some(Duration::zero()));
    assert_eq!(
        attest(&h, &mut phone, &[&photo]).await,
        ["applied"],
        "attested"
    );
    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);
    let loc = tus.location(&photo).await;
    let mut tampered = photo.bytes.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x01;
    let r = tus.patch(&loc, 0, tampered, None).await;
    assert_eq!(
        (r.status(), error_code(r).await),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::HASH_MISMATCH.to_owned()
        ),
        "same length, other bytes"
    );
    let r = tus.head(&loc).await;
    assert_eq!(
        (r.status(), r.headers().get("tus-resumable").is_some()),
        (StatusCode::GONE, true),
        "the upload was discarded"
    );
    assert_eq!(error_code(r).await, "", "HEAD has no body");
    assert_eq!(
        tus.blob(photo.sha().as_str()).await,
        StatusCode::NOT_FOUND,
        "not stored"
    );
    let path = h.state.blobs.local_path(photo.sha()).expect("local");
    assert!(!path.exists(), "no blob file");
    assert_eq!(
        count(
            &h,
            "SELECT count(*) FROM photo WHERE state = 'pending'",
            &[]
        ),
        1,
        "the photo still waits"
    );
    let r = tus.patch(&loc, 0, photo.bytes.clone(), None).await;
    assert_eq!(
        r.status(),
        StatusCode::GONE,
        "a discarded upload takes no more bytes"
    );
    let r = tus.upload_whole(&photo).await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "a new upload of the right bytes is stored"
    );
    assert!(path.exists(), "now the blob is there");
}

pub(crate) async fn expired_uploads_are_gone_and_swept(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let photo = household_shot(&h, &phone, 0, 31, 0.0, None);
    assert_eq!(
        attest(&h, &mut phone, &[&photo]).await,
        ["applied"],
        "attested"
    );
    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);
    let loc = tus.location(&photo).await;
    let half = photo.bytes.len() / 2;
    let r = tus.patch(&loc, 0, photo.bytes[..half].to_vec(), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "half uploaded");
    let part = h
        .state
        .blobs
        .uploads_dir()
        .join(format!("{}.part", &loc["/api/v1/uploads/".len()..]));
    assert_eq!(
        std::fs::metadata(&part).expect("partial file").len(),
        half as u64,
        "the partial file holds the half"
    );
    let orphan = h
        .state
        .blobs
        .uploads_dir()
        .join(format!("{}.part", uuid::Uuid::from_u128(5)));
    std::fs::write(&orphan, b"left by a restored database").expect("orphan");
    assert_eq!(
        cunjie_server::sweep_uploads(&h.state).await.expect("sweep"),
        cunjie_server::SweepReport {
            expired: 0,
            files_removed: 1
        },
        "a fresh upload is kept; a file no upload owns is removed"
    );
    assert!(part.exists() && !orphan.exists(), "only the orphan went");

    h.clock.advance_ms(7 * 86_400_000 + 1_000);
    let r = tus.head(&loc).await;
    assert_eq!(
        (r.status(), r.headers().contains_key("tus-resumable")),
        (StatusCode::GONE, true),
        "expired"
    );
    let r = tus
        .patch(&loc, half as u64, photo.bytes[half..].to_vec(), None)
        .await;
    assert_eq!(
        (r.status(), error_code(r).await),
        (StatusCode::GONE, codes::UPLOAD_GONE.to_owned()),
        "an expired upload takes no more bytes"
    );
    let fresh = tus.location(&photo).await;
    let r = tus
        .patch(&fresh, 0, photo.bytes[..100].to_vec(), None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "a new upload starts");
    assert_eq!(
        cunjie_server::sweep_uploads(&h.state).await.expect("sweep"),
        cunjie_server::SweepReport {
            expired: 1,
            files_removed: 1
        },
        "the expired upload and its file are swept"
    );
    assert!(!part.exists(), "its partial file is gone");
    let state = h
        .state
        .db
        .tx(|tx| {
            tx.query(
                "SELECT state, gone_reason FROM upload ORDER BY created_at",
                &[],
            )
        })
        .expect("uploads");
    assert_eq!(
        state,
        vec![
            vec![Value::from("gone"), Value::from("expired")],
            vec![Value::from("open"), Value::Null]
        ],
        "the new upload is untouched"
    );
    let r = tus
        .patch(&fresh, 100, photo.bytes[100..].to_vec(), None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "and finishes");
}

pub(crate) async fn photos_are_verified_against_exif_time_and_the_subjects_place(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    // 0.0002° north is 22 m; 0.005° is 556 m.
    let near = household_shot(&h, &phone, 0, 41, 0.0002, Some(Duration::zero()));
    let far = household_shot(&h, &phone, 2, 42, 0.005, Some(Duration::minutes(-30)));
    let (subject, _) = household(&h, 4);
    let bare = shot(
        &phone,
        jpeg(43, None),
        subject,
        h.now() - Duration::minutes(1),
        None,
    );
    assert_eq!(
        attest(&h, &mut phone, &[&near, &far, &bare]).await,
        ["applied", "applied", "applied"],
        "attested"
    );
    h.clock.advance_ms(3_600_000);
    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);
    for s in [&near, &far, &bare] {
        let r = tus.upload_whole(s).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "uploaded in one PATCH");
    }
    let row = |s: &Shot| {
        h.state
            .db
            .tx(|tx| {
                tx.query(
                    "SELECT hash_ok, signature_ok, time_check, exif_minus_taken_s, received_minus_taken_s, place_check, distance_m, accuracy_m, beyond_accuracy_m, exif_gps IS NOT NULL
                     FROM photo_verification WHERE sha256 = $1",
                    &[Value::from(s.sha().as_str())],
                )
            })
            .expect("verification")
            .into_iter()
            .next()
            .expect("one row")
    };
    let i = Value::Int;
    let t = |s: &str| Value::from(s);
    assert_eq!(
        row(&near),
        vec![
            i(1),
            i(1),
            t("ok"),
            i(0),
            i(300),
            t("ok"),
            i(22),
            i(8),
            i(14),
            i(1)
        ],
        "EXIF time as attested, 22 m from the house"
    );
    assert_eq!(
        row(&far),
        vec![
            i(1),
            i(1),
            t("exif_mismatch"),
            i(-1800),
            i(300),
            t("far"),
            i(556),
            i(8),
            i(548),
            i(1)
        ],
        "EXIF 30 minutes off, 556 m away"
    );
    assert_eq!(
        row(&bare),
        vec![
            i(1),
            i(1),
            t("no_exif"),
            Value::Null,
            i(60),
            t("no_fix"),
            Value::Null,
            Value::Null,
            Value::Null,
            i(0)
        ],
        "no EXIF, no fix"
    );
}

pub(crate) async fn a_broken_connection_keeps_or_discards_its_bytes(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let photo = household_shot(&h, &phone, 0, 51, 0.0, None);
    assert_eq!(
        attest(&h, &mut phone, &[&photo]).await,
        ["applied"],
        "attested"
    );
    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);
    let loc = tus.location(&photo).await;
    let chunk = 20_000usize;
    let first = &photo.bytes[..chunk];

    // Half of a checksummed chunk, then the link drops: nothing of it is kept.
    let answer = cut_patch(&served, &phone, &loc, 0, first, Some(b64_sha256(first))).await;
    assert!(
        !answer.starts_with("HTTP/1.1 2"),
        "a cut request does not succeed: {answer}"
    );
    let r = tus
        .patch(
            &loc,
            0,
            first.to_vec(),
            Some(format!("sha256 {}", b64_sha256(first))),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "the offset was still 0: the whole chunk is sent again"
    );
    assert_eq!(offset_of(&r), chunk as u64, "then it is at the chunk's end");

    // Half of a chunk without a checksum: what arrived is kept (standard tus).
    let second = &photo.bytes[chunk..2 * chunk];
    let answer = cut_patch(&served, &phone, &loc, chunk as u64, second, None).await;
    assert!(
        !answer.starts_with("HTTP/1.1 2"),
        "a cut request does not succeed: {answer}"
    );
    let kept = (chunk + chunk / 2) as u64;
    let r = tus
        .patch(&loc, kept, photo.bytes[kept as usize..].to_vec(), None)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "the half that arrived was kept, the rest completes the photo"
    );
    assert_eq!(
        tus.blob(photo.sha().as_str()).await,
        StatusCode::OK,
        "stored"
    );
    assert_eq!(
        std::fs::read(h.state.blobs.local_path(photo.sha()).expect("local")).expect("blob"),
        photo.bytes,
        "byte-identical"
    );
}

pub(crate) async fn a_photo_over_8_mib_goes_in_one_patch(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    // Not a JPEG, and bigger than any body the JSON routes take (8 MiB).
    let bytes: Vec<u8> = (0..9 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let (subject, _) = household(&h, 0);
    let big = shot(&phone, bytes, subject, h.now(), None);
    attest_one(&h, &mut phone, &big).await;
    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);
    let r = tus.upload_whole(&big).await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "a standard client may send the whole file at once; the body is streamed, not limited"
    );
    assert_eq!(offset_of(&r), big.bytes.len() as u64, "all of it");
    assert_eq!(
        std::fs::read(h.state.blobs.local_path(big.sha()).expect("local")).expect("blob"),
        big.bytes,
        "byte-identical"
    );
    assert_eq!(
        count(
            &h,
            "SELECT count(*) FROM photo_verification WHERE time_check = 'no_exif'",
            &[]
        ),
        1,
        "bytes that are not a JPEG are stored as attested, with no EXIF to check"
    );
}

pub(crate) async fn a_stalled_request_does_not_block_the_next_one(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let photo = household_shot(&h, &phone, 0, 71, 0.0, None);
    attest_one(&h, &mut phone, &photo).await;
    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);
    let loc = tus.location(&photo).await;
    let chunk = &photo.bytes[..20_000];
    // The phone's link died mid-chunk; the server has not noticed (no FIN, no RST).
    let mut stalled = tokio::net::TcpStream::connect(served.addr)
        .await
        .expect("connect");
    let head = format!(
        "PATCH {loc} HTTP/1.1\r\nHost: {}\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer {}\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: {}\r\nUpload-Checksum: sha256 {}\r\n\r\n",
        served.addr,
        phone.token,
        chunk.len(),
        b64_sha256(chunk)
    );
    stalled.write_all(head.as_bytes()).await.expect("headers");
    stalled
        .write_all(&chunk[..1_000])
        .await
        .expect("some bytes");
    // Wait until the server is writing them (it holds the upload's lock by then).
    let part = h
        .state
        .blobs
        .uploads_dir()
        .join(format!("{}.part", &loc["/api/v1/uploads/".len()..]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) < 1_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the server took the first bytes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // The phone reconnects and sends the chunk again: the stalled request gives way.
    let again = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tus.patch(
            &loc,
            0,
            chunk.to_vec(),
            Some(format!("sha256 {}", b64_sha256(chunk))),
        ),
    )
    .await
    .expect("the new request is not blocked by the stalled one");
    assert_eq!(
        again.status(),
        StatusCode::NO_CONTENT,
        "the resent chunk is taken"
    );
    assert_eq!(offset_of(&again), 20_000, "exactly once");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        stalled.read_to_end(&mut answer),
    )
    .await
    .expect("the stalled request was answered and closed");
    let r = tus
        .patch(&loc, 20_000, photo.bytes[20_000..].to_vec(), None)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "the rest completes the photo"
    );
    assert_eq!(
        std::fs::read(h.state.blobs.local_path(photo.sha()).expect("local")).expect("blob"),
        photo.bytes,
        "byte-identical"
    );
}

pub(crate) async fn a_partial_file_longer_than_its_offset_is_cut_back(db: Db) {
    let h = Harness::new(db);
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let photo = household_shot(&h, &phone, 0, 81, 0.0, None);
    attest_one(&h, &mut phone, &photo).await;
    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);
    let loc = tus.location(&photo).await;
    let r = tus
        .patch(&loc, 0, photo.bytes[..10_000].to_vec(), None)
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "10,000 bytes in");
    // A crash after the bytes were written but before the offset moved: the file is longer
    // than the database says, with bytes the phone never saw acknowledged.
    let part = h
        .state
        .blobs
        .uploads_dir()
        .join(format!("{}.part", &loc["/api/v1/uploads/".len()..]));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&part)
        .expect("partial file");
    std::io::Write::write_all(&mut f, &[0xAA; 5_000]).expect("garbage");
    drop(f);
    let r = tus.head(&loc).await;
    assert_eq!(offset_of(&r), 10_000, "the database offset is the truth");
    assert_eq!(
        std::fs::metadata(&part).expect("partial").len(),
        10_000,
        "HEAD cut the file back to it"
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(&part)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &[0xBB; 3_000]))
        .expect("more garbage");
    let r = tus
        .patch(&loc, 10_000, photo.bytes[10_000..].to_vec(), None)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "PATCH cuts back too, then completes"
    );
    assert_eq!(
        std::fs::read(h.state.blobs.local_path(photo.sha()).expect("local")).expect("blob"),
        photo.bytes,
        "byte-identical: no garbage got in"
    );
}

/// Sends a PATCH announcing all of `body` but only half of it on a raw TCP connection, then
/// closes the sending side; returns whatever the server answered before closing.
async fn cut_patch(
    served: &Served,
    phone: &Phone,
    location: &str,
    offset: u64,
    body: &[u8],
    checksum: Option<String>,
) -> String {
    let mut sock = tokio::net::TcpStream::connect(served.addr)
        .await
        .expect("connect");
    let mut head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {}\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer {}\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\nContent-Length: {}\r\n",
        served.addr,
        phone.token,
        body.len()
    );
    if let Some(c) = checksum {
        head.push_str(&format!("Upload-Checksum: sha256 {c}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await.expect("headers");
    sock.write_all(&body[..body.len() / 2])
        .await
        .expect("half the body");
    sock.shutdown().await.expect("close the sending side");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        sock.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the server closes a cut connection");
    String::from_utf8_lossy(&answer).into_owned()
}
