//! The device's Ed25519 key and the photo statement it signs.
//!
//! At enrollment the phone makes a key from the OS's randomness, keeps the 32-byte seed in its
//! store and registers the public key with the township. For each photo it signs
//! [`PhotoAttestation::signing_bytes`] (the derivative's SHA-256 and size, when, where, of what,
//! by which device); the server checks the signature with the registered key and the photo's
//! bytes against the hash. Keys and signatures travel as standard base64 (with padding).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cunjie_domain::fact::{PhotoAttestation, PhotoHash};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use crate::MediaError;

/// The SHA-256 of `bytes` as a [`PhotoHash`] (64 lower-case hex digits).
pub fn sha256_hex(bytes: &[u8]) -> PhotoHash {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex.parse()
        .expect("64 lower-case hex digits are a valid PhotoHash")
}

/// The device's Ed25519 key. Created at enrollment on the phone; the seed is kept by the phone's
/// store, never sent. `Debug` shows the public key only, and the secret is zeroed on drop.
pub struct DeviceKey {
    key: SigningKey,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("public_key", &self.public_key_b64())
            .finish_non_exhaustive()
    }
}

impl DeviceKey {
    /// A new key from the operating system's randomness (getrandom).
    pub fn generate() -> Result<Self, MediaError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| MediaError::Random(e.to_string()))?;
        let key = Self::from_seed(seed);
        seed.fill(0);
        Ok(key)
    }

    /// The key for a stored seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The 32-byte seed, for the phone's store only.
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The public key as standard base64 of its 32 bytes (44 characters), sent at enrollment.
    pub fn public_key_b64(&self) -> String {
        STANDARD.encode(self.key.verifying_key().to_bytes())
    }

    /// Signs `a.signing_bytes()`: standard base64 of the 64-byte Ed25519 signature.
    /// Deterministic: the same key and statement give the same signature.
    pub fn sign(&self, a: &PhotoAttestation) -> String {
        STANDARD.encode(self.key.sign(&a.signing_bytes()).to_bytes())
    }
}

/// Checks that `signature_b64` is the signature of `a.signing_bytes()` by `public_key_b64`
/// (strict verification: weak keys and malleable signatures are refused).
pub fn verify_attestation(
    public_key_b64: &str,
    a: &PhotoAttestation,
    signature_b64: &str,
) -> Result<(), MediaError> {
    let key_bytes = STANDARD
        .decode(public_key_b64.trim())
        .map_err(|_| MediaError::KeyInvalid("not standard base64"))?;
    let key_bytes: [u8; 32] = key_bytes
        .try_into()
        .map_err(|_| MediaError::KeyInvalid("not 32 bytes"))?;
    let key = VerifyingKey::from_bytes(&key_bytes)
        .map_err(|_| MediaError::KeyInvalid("not a point on the curve"))?;
    if key.is_weak() {
        return Err(MediaError::KeyInvalid("a weak (small-order) key"));
    }
    let sig_bytes = STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| MediaError::SignatureMalformed("not standard base64"))?;
    let sig_bytes: [u8; 64] = sig_bytes
        .try_into()
        .map_err(|_| MediaError::SignatureMalformed("not 64 bytes"))?;
    key.verify_strict(&a.signing_bytes(), &Signature::from_bytes(&sig_bytes))
        .map_err(|_| MediaError::SignatureInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_is_the_standard_vector() {
        assert_eq!(
            sha256_hex(b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "FIPS 180-2 test vector"
        );
    }

    #[test]
    fn debug_does_not_show_the_seed() {
        let key = DeviceKey::from_seed([7; 32]);
        let shown = format!("{key:?}");
        assert!(
            shown.contains(&key.public_key_b64()),
            "public key shown: {shown}"
        );
        assert!(
            !shown.contains("7, 7") && !shown.contains(&STANDARD.encode([7u8; 32])),
            "seed must not be printed: {shown}"
        );
    }

    #[test]
    fn generated_keys_differ_and_round_trip_their_seed() {
        let a = DeviceKey::generate().expect("getrandom");
        let b = DeviceKey::generate().expect("getrandom");
        assert_ne!(a.seed(), b.seed(), "two keys from the OS differ");
        assert_eq!(
            DeviceKey::from_seed(a.seed()).public_key_b64(),
            a.public_key_b64(),
            "the stored seed gives back the same key"
        );
        assert_eq!(a.public_key_b64().len(), 44, "32 bytes in padded base64");
    }
}
