//! Enrollment and authentication: one-time codes, device tokens (stored hashed), revocation,
//! and township staff passwords (argon2).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use cunjie_domain::ids::{DeviceId, PersonId, TownshipId};
use cunjie_domain::person::{Person, Role};
use cunjie_protocol::v1::{EnrollRequest, EnrollResponse};
use uuid::Uuid;

use super::{DeviceCtx, random_hex, sha256_hex, ts};
use crate::store::{StorageError, Tx, opt_text, text, vals};

/// What can go wrong when enrolling or authenticating.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The code is unknown, already used or expired.
    #[error(
        "this enrollment code is not valid (unknown, already used or expired); ask the township office for a new one"
    )]
    CodeInvalid,
    /// The person does not hold the role.
    #[error("{person} does not hold the role {role:?}; register the role first")]
    RoleNotHeld {
        /// Person.
        person: String,
        /// Role.
        role: Role,
    },
    /// Unknown person.
    #[error("person {0} is not registered")]
    UnknownPerson(String),
    /// The device id is already enrolled.
    #[error("device {0} is enrolled to another person or with another key; use a new device id")]
    DeviceExists(String),
    /// Missing, unknown or revoked token.
    #[error("the device is not enrolled or was revoked; keep your data and enroll again")]
    Unauthorised,
    /// Wrong user name or password.
    #[error("wrong user name or password")]
    BadLogin,
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The device's public key is not 32 bytes of standard base64.
    #[error(
        "the device public key must be an Ed25519 public key: 32 bytes in standard base64 (44 characters)"
    )]
    BadPublicKey,
}

/// Checks a device public key: standard base64 of exactly 32 bytes. Returns it as sent.
pub(crate) fn check_public_key(key: &str) -> Result<String, AuthError> {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(key.trim()) {
        Ok(bytes) if bytes.len() == 32 => Ok(key.trim().to_owned()),
        _ => Err(AuthError::BadPublicKey),
    }
}

/// Crockford base32 without I, L, O, U: easy to read aloud and type.
const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Normalises a typed code: upper case, separators dropped, I/L → 1, O → 0.
pub(crate) fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            other => other,
        })
        .collect()
}

fn new_code() -> String {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % 32] as char)
        .collect()
}

/// A one-time code as shown to the person: `ABCDE-FGHJK`.
pub(crate) fn display_code(code: &str) -> String {
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a}-{b}")
}

/// The person row.
pub(crate) fn person(tx: &mut dyn Tx, id: &str) -> Result<Option<Person>, StorageError> {
    let rows = tx.query("SELECT row_json FROM person WHERE id = $1", vals![id])?;
    rows.into_iter()
        .next()
        .map(|r| Ok(serde_json::from_str(&text(&r, 0, "row_json")?)?))
        .transpose()
}

/// Issues a one-time enrollment code for a person in a role, valid for `valid_for`.
pub(crate) fn create_enrollment(
    tx: &mut dyn Tx,
    person_id: PersonId,
    role: Role,
    now: DateTime<Utc>,
    valid_for: Duration,
) -> Result<String, AuthError> {
    let p = person(tx, &person_id.to_string())?
        .ok_or_else(|| AuthError::UnknownPerson(person_id.to_string()))?;
    if !p.roles.contains(&role) {
        return Err(AuthError::RoleNotHeld {
            person: p.name,
            role,
        });
    }
    let code = new_code();
    tx.exec(
        "INSERT INTO enrollment_code (code_hash, township_id, person_id, role, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        vals![sha256_hex(&code), p.township.to_string(), person_id.to_string(), role_str(role), ts(now), ts(now + valid_for)],
    )?;
    Ok(code)
}

pub(crate) fn role_str(role: Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_role(s: &str) -> Result<Role, StorageError> {
    Ok(serde_json::from_value(serde_json::Value::String(
        s.to_owned(),
    ))?)
}

/// A device token not used for this many days is refused (401): a phone lost in a drawer stops
/// being a key to the township's data. Every authenticated request moves the expiry on.
pub const DEVICE_TOKEN_IDLE_DAYS: i64 = 90;

fn token_expiry(now: DateTime<Utc>) -> String {
    ts(now + Duration::days(DEVICE_TOKEN_IDLE_DAYS))
}

/// Redeems a code: registers the device, returns the token once. The code cannot be used again.
pub(crate) fn redeem(
    tx: &mut dyn Tx,
    req: &EnrollRequest,
    now: DateTime<Utc>,
) -> Result<EnrollResponse, AuthError> {
    let public_key = req
        .public_key
        .as_deref()
        .map(check_public_key)
        .transpose()?;
    let code = normalise_code(&req.code);
    let rows = tx.query(
        "SELECT township_id, person_id, role, expires_at, used_at, device_id FROM enrollment_code WHERE code_hash = $1",
        vals![sha256_hex(&code)],
    )?;
    let row = rows.into_iter().next().ok_or(AuthError::CodeInvalid)?;
    let expires = text(&row, 3, "expires_at")?;
    if expires.as_str() < ts(now).as_str() {
        return Err(AuthError::CodeInvalid);
    }
    if let Some(used_at) = opt_text(&row, 4) {
        // The phone's first answer was lost on the way back: the same device retrying the same
        // code within an hour gets a fresh token (the old one was never seen by anyone).
        let same_device = opt_text(&row, 5).is_some_and(|d| d == req.device_id.to_string());
        if !same_device || used_at.as_str() < ts(now - Duration::hours(1)).as_str() {
            return Err(AuthError::CodeInvalid);
        }
        let token = random_hex(32);
        tx.exec(
            "UPDATE device SET token_hash = $1, public_key = COALESCE($2, public_key), token_expires_at = $3 WHERE id = $4 AND revoked_at IS NULL",
            vals![sha256_hex(&token), public_key, token_expiry(now), req.device_id.to_string()],
        )?;
        return respond(
            tx,
            req.device_id,
            &text(&row, 0, "township_id")?,
            &text(&row, 1, "person_id")?,
            parse_role(&text(&row, 2, "role")?)?,
            token,
            now,
        );
    }
    let township = text(&row, 0, "township_id")?;
    let person_id = text(&row, 1, "person_id")?;
    let role = parse_role(&text(&row, 2, "role")?)?;
    let existing = tx.query(
        "SELECT township_id, person_id, public_key FROM device WHERE id = $1",
        vals![req.device_id.to_string()],
    )?;
    if let Some(d) = existing.first() {
        // The same phone enrolled again with a fresh code for the same person (its token was
        // revoked or lost, or it needs its signing key registered): it keeps its id and its
        // `last_seq`, so its outbox syncs on where it stopped (sync.md §5.8: a device never
        // loses unsynced data to an auth error). Another person's code, or another key than
        // the one registered, cannot take it over.
        let same_person =
            text(d, 0, "township_id")? == township && text(d, 1, "person_id")? == person_id;
        let key_kept = match (opt_text(d, 2), &public_key) {
            (Some(old), Some(new)) => old == *new,
            _ => true,
        };
        if !same_person || !key_kept {
            return Err(AuthError::DeviceExists(req.device_id.to_string()));
        }
        let token = random_hex(32);
        tx.exec(
            "UPDATE device SET token_hash = $1, public_key = COALESCE(public_key, $2), role = $3, revoked_at = NULL, token_expires_at = $4 WHERE id = $5",
            vals![sha256_hex(&token), public_key, role_str(role), token_expiry(now), req.device_id.to_string()],
        )?;
        tx.exec(
            "UPDATE enrollment_code SET used_at = $1, device_id = $2 WHERE code_hash = $3",
            vals![ts(now), req.device_id.to_string(), sha256_hex(&code)],
        )?;
        return respond(tx, req.device_id, &township, &person_id, role, token, now);
    }
    let token = random_hex(32);
    let name: String = req.device_name.chars().take(100).collect();
    tx.exec(
        "INSERT INTO device (id, township_id, person_id, role, name, token_hash, enrolled_at, last_seq, public_key, token_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
        vals![req.device_id.to_string(), &township, &person_id, role_str(role), name, sha256_hex(&token), ts(now), public_key, token_expiry(now)],
    )?;
    tx.exec(
        "UPDATE enrollment_code SET used_at = $1, device_id = $2 WHERE code_hash = $3",
        vals![ts(now), req.device_id.to_string(), sha256_hex(&code)],
    )?;
    respond(tx, req.device_id, &township, &person_id, role, token, now)
}

fn respond(
    tx: &mut dyn Tx,
    device_id: DeviceId,
    township: &str,
    person_id: &str,
    role: Role,
    token: String,
    now: DateTime<Utc>,
) -> Result<EnrollResponse, AuthError> {
    let p = person(tx, person_id)?.ok_or_else(|| AuthError::UnknownPerson(person_id.to_owned()))?;
    let township_name = tx
        .query("SELECT name FROM township WHERE id = $1", vals![township])?
        .into_iter()
        .next()
        .map(|r| text(&r, 0, "name"))
        .transpose()?
        .unwrap_or_default();
    Ok(EnrollResponse {
        device_id,
        token,
        person_id: p.id,
        person_name: p.name,
        role,
        township_id: p.township,
        township_name,
        server_time_ms: now.timestamp_millis(),
    })
}

/// The device behind a bearer token, if it is enrolled and not revoked. Records when it was seen.
pub(crate) fn device_by_token(
    tx: &mut dyn Tx,
    token: &str,
    now: DateTime<Utc>,
) -> Result<DeviceCtx, AuthError> {
    let hash = sha256_hex(token.trim());
    let rows = tx.query(
        "SELECT id, township_id, person_id, role, revoked_at, token_expires_at FROM device WHERE token_hash = $1",
        vals![&hash],
    )?;
    let row = rows.into_iter().next().ok_or(AuthError::Unauthorised)?;
    if opt_text(&row, 4).is_some() {
        return Err(AuthError::Unauthorised);
    }
    if opt_text(&row, 5).is_some_and(|e| e.as_str() <= ts(now).as_str()) {
        return Err(AuthError::Unauthorised);
    }
    let uuid = |i, name| -> Result<Uuid, AuthError> {
        Uuid::parse_str(&text(&row, i, name)?)
            .map_err(|_| AuthError::Storage(StorageError::Column(name)))
    };
    let ctx = DeviceCtx {
        id: DeviceId::from_uuid(uuid(0, "id")?),
        township: TownshipId::from_uuid(uuid(1, "township_id")?),
        person: PersonId::from_uuid(uuid(2, "person_id")?),
        role: parse_role(&text(&row, 3, "role")?)?,
    };
    tx.exec(
        "UPDATE device SET last_seen_at = $1, token_expires_at = $2 WHERE id = $3",
        vals![ts(now), token_expiry(now), ctx.id.to_string()],
    )?;
    Ok(ctx)
}

/// The public key a device registered at enrollment, if any.
pub(crate) fn device_public_key(
    tx: &mut dyn Tx,
    device: DeviceId,
) -> Result<Option<String>, StorageError> {
    let rows = tx.query(
        "SELECT public_key FROM device WHERE id = $1",
        vals![device.to_string()],
    )?;
    Ok(rows.first().and_then(|r| opt_text(r, 0)))
}

/// Revokes a device; takes effect on its next request. Returns whether it existed.
pub(crate) fn revoke(
    tx: &mut dyn Tx,
    device: DeviceId,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    Ok(tx.exec(
        "UPDATE device SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        vals![ts(now), device.to_string()],
    )? == 1)
}

/// Creates a township staff account with an argon2 password hash.
pub(crate) fn create_staff(
    tx: &mut dyn Tx,
    township: TownshipId,
    username: &str,
    password: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let salt = SaltString::encode_b64(random_hex(16).as_bytes())
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AuthError::Hash(e.to_string()))?
        .to_string();
    tx.exec(
        "INSERT INTO staff (id, township_id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        vals![random_hex(16), township.to_string(), username, hash, role, ts(now)],
    )?;
    Ok(())
}

/// Checks a staff login; on success returns a session token (stored hashed, 12 h).
pub(crate) fn staff_login(
    tx: &mut dyn Tx,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(String, TownshipId), AuthError> {
    let rows = tx.query(
        "SELECT id, password_hash, township_id FROM staff WHERE username = $1",
        vals![username],
    )?;
    let Some(row) = rows.into_iter().next() else {
        // Spend the same time as a real check so user names cannot be probed by timing.
        let _ = Argon2::default().hash_password(
            password.as_bytes(),
            &SaltString::encode_b64(b"cunjie-no-such-user")
                .map_err(|e| AuthError::Hash(e.to_string()))?,
        );
        return Err(AuthError::BadLogin);
    };
    let stored = text(&row, 1, "password_hash")?;
    let parsed = PasswordHash::new(&stored).map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .map_err(|_| AuthError::BadLogin)?;
    let token = random_hex(32);
    tx.exec(
        "INSERT INTO staff_session (token_hash, staff_id, expires_at) VALUES ($1, $2, $3)",
        vals![
            sha256_hex(&token),
            text(&row, 0, "id")?,
            ts(now + Duration::hours(12))
        ],
    )?;
    let township = Uuid::parse_str(&text(&row, 2, "township_id")?)
        .map_err(|_| StorageError::Column("township_id"))?;
    Ok((token, TownshipId::from_uuid(township)))
}

/// The township of a valid staff session.
pub(crate) fn staff_by_session(
    tx: &mut dyn Tx,
    token: &str,
    now: DateTime<Utc>,
) -> Result<TownshipId, AuthError> {
    let rows = tx.query(
        "SELECT s.township_id FROM staff_session x JOIN staff s ON s.id = x.staff_id WHERE x.token_hash = $1 AND x.expires_at > $2",
        vals![sha256_hex(token.trim()), ts(now)],
    )?;
    let row = rows.into_iter().next().ok_or(AuthError::Unauthorised)?;
    let id = Uuid::parse_str(&text(&row, 0, "township_id")?)
        .map_err(|_| StorageError::Column("township_id"))?;
    Ok(TownshipId::from_uuid(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_forgiving_to_type() {
        assert_eq!(
            normalise_code("abcde-fghjk"),
            "ABCDEFGHJK",
            "case and dashes do not matter"
        );
        assert_eq!(
            normalise_code("0O1Il "),
            "00111",
            "easily confused letters map to digits"
        );
        let c = new_code();
        assert_eq!(c.len(), 10, "ten characters");
        assert!(
            c.bytes().all(|b| CODE_ALPHABET.contains(&b)),
            "only unambiguous characters"
        );
        assert_eq!(
            normalise_code(&display_code(&c)),
            c,
            "the displayed form reads back"
        );
    }
}
