//! The device signature over a photo attestation.

use chrono::{DateTime, Duration, Utc};
use cunjie_domain::catalog::SubjectKind;
use cunjie_domain::fact::{GeoFix, Subject};
use cunjie_domain::ids::DeviceId;
use cunjie_domain::place::GeoPoint;
use cunjie_media::{DeviceKey, PhotoAttestation, sha256_hex, verify_attestation};
use uuid::Uuid;

fn attestation() -> PhotoAttestation {
    PhotoAttestation {
        sha256: sha256_hex(b"derivative bytes"),
        size: 412_345,
        taken_at: DateTime::parse_from_rfc3339("2026-11-29T06:05:09Z")
            .expect("time")
            .with_timezone(&Utc),
        fix: Some(GeoFix {
            point: GeoPoint::new(28.123_456_7, 115.123_456_7),
            accuracy_m: 8.0,
            fix_time: None,
            mock: false,
        }),
        subject: Subject {
            kind: SubjectKind::Household,
            id: Uuid::from_u128(0x0193_5000_0000_7000_8000_0000_0000_0042),
        },
        device_id: DeviceId::from_uuid(Uuid::from_u128(7)),
    }
}

fn key() -> DeviceKey {
    DeviceKey::from_seed([42; 32])
}

#[test]
fn sign_then_verify_round_trips() {
    let a = attestation();
    let sig = key().sign(&a);
    assert_eq!(sig.len(), 88, "64 bytes in padded base64");
    verify_attestation(&key().public_key_b64(), &a, &sig).expect("own signature verifies");
    assert_eq!(key().sign(&a), sig, "Ed25519 signatures are deterministic");
}

#[test]
fn a_changed_field_fails() {
    let a = attestation();
    let sig = key().sign(&a);
    let pk = key().public_key_b64();
    let changes: Vec<(&str, PhotoAttestation)> = vec![
        (
            "sha256",
            PhotoAttestation {
                sha256: sha256_hex(b"another photo"),
                ..a.clone()
            },
        ),
        (
            "size",
            PhotoAttestation {
                size: a.size + 1,
                ..a.clone()
            },
        ),
        (
            "taken_at",
            PhotoAttestation {
                taken_at: a.taken_at - Duration::days(1),
                ..a.clone()
            },
        ),
        (
            "fix",
            PhotoAttestation {
                fix: None,
                ..a.clone()
            },
        ),
        (
            "fix moved",
            PhotoAttestation {
                fix: a.fix.map(|f| GeoFix {
                    point: GeoPoint::new(f.point.lat + 0.001, f.point.lon),
                    ..f
                }),
                ..a.clone()
            },
        ),
        (
            "subject",
            PhotoAttestation {
                subject: Subject {
                    kind: SubjectKind::Zone,
                    ..a.subject
                },
                ..a.clone()
            },
        ),
        (
            "device",
            PhotoAttestation {
                device_id: DeviceId::from_uuid(Uuid::from_u128(8)),
                ..a.clone()
            },
        ),
    ];
    for (what, changed) in changes {
        let err = verify_attestation(&pk, &changed, &sig).expect_err(what);
        assert_eq!(err.code(), "signature_invalid", "changed {what}");
    }
}

#[test]
fn another_devices_key_fails() {
    let a = attestation();
    let sig = key().sign(&a);
    let other = DeviceKey::from_seed([43; 32]).public_key_b64();
    let err = verify_attestation(&other, &a, &sig).expect_err("wrong key");
    assert_eq!(err.code(), "signature_invalid", "signed by another device");
}

#[test]
fn garbage_base64_is_a_clear_error() {
    let a = attestation();
    let sig = key().sign(&a);
    let pk = key().public_key_b64();
    let bad_key = |k: &str| verify_attestation(k, &a, &sig).expect_err(k).code();
    assert_eq!(bad_key("not base64 at all!"), "key_invalid", "garbage key");
    assert_eq!(bad_key("AAAA"), "key_invalid", "3 bytes");
    assert_eq!(bad_key(""), "key_invalid", "empty key");
    let bad_sig = |s: &str| verify_attestation(&pk, &a, s).expect_err(s).code();
    assert_eq!(bad_sig("%%%%"), "signature_malformed", "garbage signature");
    assert_eq!(bad_sig("AAAA"), "signature_malformed", "3-byte signature");
    let zeros = base64_zeros(64);
    assert_eq!(
        bad_sig(&zeros),
        "signature_invalid",
        "well-formed but wrong"
    );
}

fn base64_zeros(n: usize) -> String {
    let mut s = "A".repeat(n / 3 * 4);
    match n % 3 {
        1 => s.push_str("AA=="),
        2 => s.push_str("AAA="),
        _ => {}
    }
    s
}
