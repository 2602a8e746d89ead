//! Evidence capture: camera bytes → derivative with 水印, thumbnail, hash and signature
//! (`cunjie-media`) → files and rows (`cunjie-store`), in that order.

use chrono::FixedOffset;
use cunjie_domain::fact::{GeoFix, PhotoAttestation, PhotoHash, Subject};
use cunjie_media::{DeviceKey, Limits, Policy, Watermark};
use cunjie_store::{NewPhoto, Store};

use crate::DeviceError;

/// China Standard Time, in which watermarks show the time.
const CST_SECONDS: i32 = 8 * 3600;

/// What a photo is evidence of, as the person taking it sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureContext {
    /// The household, zone or facility the photo is about.
    pub subject: Subject,
    /// The position fix at capture, if there is one.
    pub fix: Option<GeoFix>,
    /// The place as the watermark shows it, e.g. `太平村 · 3组 · 18号 李建国`.
    pub place: String,
    /// Who takes it, e.g. `检查员 王芳`.
    pub person: String,
}

/// The phone's signing key, made (and kept in the store) the first time it is needed. It must
/// exist before enrollment, which registers its public half with the server.
pub fn device_key(store: &mut Store) -> Result<DeviceKey, DeviceError> {
    if let Some((seed, _)) = store.device_key()? {
        return Ok(DeviceKey::from_seed(seed));
    }
    let fresh = DeviceKey::generate()?;
    let (seed, _) = store.ensure_device_key(|| (fresh.seed(), fresh.public_key_b64()))?;
    Ok(DeviceKey::from_seed(seed))
}

/// After an upgrade from an app that kept photos before signed evidence (store schema 5 and
/// earlier): signs an attestation for each such photo whose file still hashes to its name, as
/// taken when the phone kept it, without a position fix (none was recorded), of the subject of
/// the fact that refers to it, and queues it. A photo whose file is gone or changed, or that no
/// fact refers to, is left as it is (logged). Answers how many were attested.
pub fn attest_unattested_photos(store: &mut Store) -> Result<usize, DeviceError> {
    let photos = store.unattested_photos()?;
    if photos.is_empty() {
        return Ok(0);
    }
    let key = device_key(store)?;
    let mut attested = 0;
    for p in photos {
        let Some(subject) = p.subject else {
            tracing::warn!(sha = %p.sha256, "a photo from before signed evidence that no fact refers to");
            continue;
        };
        let intact = std::fs::read(&p.path).is_ok_and(|b| {
            b.len() as u64 == p.size && cunjie_protocol::v1::photo_hash(&b) == p.sha256
        });
        if !intact {
            tracing::warn!(sha = %p.sha256, "a photo from before signed evidence whose file is gone or changed");
            continue;
        }
        let attestation = PhotoAttestation {
            sha256: p.sha256,
            size: p.size,
            taken_at: p.created_at,
            fix: None,
            subject,
            device_id: store.device_id(),
        };
        let signature = key.sign(&attestation);
        if store.attest_unattested_photo(&attestation, &signature)? {
            attested += 1;
        }
    }
    Ok(attested)
}

/// Keeps one evidence photo: makes the derivative (oriented, at most `policy.long_edge`, with
/// the 水印 of `ctx`), its thumbnail and hash; signs the attestation with the device key;
/// writes the files durably, then commits the photo row and its outbox row together. The
/// original is kept until the server confirms the derivative. Returns the hash that findings,
/// checkpoint visits and rectifications refer to.
pub fn capture_photo(
    store: &mut Store,
    camera: &[u8],
    ctx: &CaptureContext,
    policy: &Policy,
) -> Result<PhotoHash, DeviceError> {
    let key = device_key(store)?;
    let taken_at = store.clock().now();
    let cst = FixedOffset::east_opt(CST_SECONDS).expect("UTC+8 is a valid offset");
    let watermark = Watermark {
        taken_at: taken_at.with_timezone(&cst),
        place: ctx.place.clone(),
        person: ctx.person.clone(),
        fix: ctx.fix.map(|f| (f.point.lat, f.point.lon, f.accuracy_m)),
    };
    let processed = cunjie_media::process(camera, policy, &watermark, &Limits::default())?;
    let attestation = PhotoAttestation {
        sha256: processed.sha256.clone(),
        size: processed.derivative.len() as u64,
        taken_at,
        fix: ctx.fix,
        subject: ctx.subject,
        device_id: store.device_id(),
    };
    let signature = key.sign(&attestation);
    Ok(store.save_photo(NewPhoto {
        derivative: &processed.derivative,
        thumbnail: &processed.thumbnail,
        original: Some(camera),
        attestation,
        signature,
    })?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cunjie_domain::catalog::SubjectKind;
    use cunjie_domain::clock::FakeClock;
    use cunjie_domain::place::GeoPoint;
    use cunjie_store::{PhotoState, StoreOptions};
    use image::{Rgb, RgbImage};
    use uuid::Uuid;

    use super::*;

    fn store(dir: &std::path::Path) -> Store {
        Store::open(
            &dir.join("cunjie.db"),
            StoreOptions {
                clock: Arc::new(FakeClock::at(2026, 11, 18, 1, 8, 30)),
                id_seed: Some(7),
            },
        )
        .expect("store opens")
    }

    fn camera_jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| {
            Rgb([
                (x * 255 / w) as u8,
                (y * 255 / h) as u8,
                ((x ^ y) & 0xff) as u8,
            ])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg)
            .expect("encodes");
        out.into_inner()
    }

    fn ctx() -> CaptureContext {
        CaptureContext {
            subject: Subject {
                kind: SubjectKind::Household,
                id: Uuid::from_u128(0x3e9),
            },
            fix: Some(GeoFix {
                point: GeoPoint::new(27.74153, 113.82671),
                accuracy_m: 6.5,
                fix_time: None,
                mock: false,
            }),
            place: "太平村 · 3组 · 18号 李建国".into(),
            person: "检查员 王芳".into(),
        }
    }

    #[test]
    fn a_capture_keeps_files_then_a_signed_attestation_in_the_outbox() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = store(dir.path());
        let camera = camera_jpeg(2000, 1500);
        let sha = capture_photo(&mut s, &camera, &ctx(), &Policy::default()).expect("captured");
        let row = s.photo(&sha).expect("row");
        assert_eq!(row.state, PhotoState::Pending, "waits for upload");
        let derivative = std::fs::read(s.photo_file(&row.local_path)).expect("derivative on disk");
        assert_eq!(
            cunjie_media::sha256_hex(&derivative),
            sha,
            "named by its hash"
        );
        let original = std::fs::read(s.photo_file(&row.original_path.expect("original kept")))
            .expect("original on disk");
        assert_eq!(original, camera, "the original is kept as taken");
        let pending = s.pending_mutations(10).expect("outbox");
        assert_eq!(pending.len(), 1, "one outbox row");
        let cunjie_protocol::v1::Op::AttestPhoto {
            attestation,
            signature,
        } = &pending[0].payload
        else {
            panic!(
                "the attestation travels first, not {}",
                pending[0].payload.name()
            );
        };
        assert_eq!(attestation.sha256, sha, "it attests this photo");
        assert_eq!(attestation.size, derivative.len() as u64, "and its size");
        let (_, public_key) = s.device_key().expect("key").expect("made");
        cunjie_media::verify_attestation(&public_key, attestation, signature)
            .expect("the signature verifies with the registered key");
    }

    #[test]
    fn a_bad_picture_is_refused_and_nothing_is_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = store(dir.path());
        let camera = camera_jpeg(800, 600);
        let err = capture_photo(
            &mut s,
            &camera[..camera.len() / 3],
            &ctx(),
            &Policy::default(),
        )
        .expect_err("truncated");
        assert!(!err.message_zh().is_empty(), "a message in Chinese");
        assert_ne!(err.code(), "store", "a media error: {err:?}");
        assert!(
            s.pending_mutations(10).expect("outbox").is_empty(),
            "no outbox row"
        );
        assert!(
            s.photos_pending().expect("photos").is_empty(),
            "no photo row"
        );
        let files = std::fs::read_dir(dir.path().join("photos")).map_or(0, |d| d.count());
        assert_eq!(files, 0, "no files");
    }

    #[test]
    fn the_device_key_is_made_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = store(dir.path());
        let a = device_key(&mut s).expect("made").public_key_b64();
        let b = device_key(&mut s).expect("kept").public_key_b64();
        assert_eq!(a, b, "the same key every time");
        assert_eq!(s.device_key().expect("row").map(|k| k.1), Some(a), "stored");
    }
}
