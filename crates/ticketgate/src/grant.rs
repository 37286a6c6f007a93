//! Grant signatures. A grant is only honoured when the gate that decides can verify it
//! was issued by a gate holding the same key, so a grant cannot be forged or stretched
//! by editing its JSON.

use crate::error::InvalidRequest;
use crate::model::Grant;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// A secret used to sign and verify grants; share it across a fleet.
#[derive(Clone)]
pub struct GrantKey(Vec<u8>);

impl std::fmt::Debug for GrantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GrantKey(..)")
    }
}

impl GrantKey {
    /// A key from secret bytes; shorter than [`GrantKey::MIN_BYTES`] is refused (an empty
    /// key from a missing environment variable would make every grant forgeable).
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, InvalidRequest> {
        let secret = secret.into();
        if secret.len() < Self::MIN_BYTES {
            return Err(InvalidRequest::new(
                "grant_key",
                format!(
                    "needs at least {} bytes of secret, got {}",
                    Self::MIN_BYTES,
                    secret.len()
                ),
            ));
        }
        Ok(Self(secret))
    }

    /// Shortest secret accepted.
    pub const MIN_BYTES: usize = 32;

    /// A fresh random key: grants it signs are honoured only by this process.
    pub fn random() -> Self {
        use rand::RngCore;
        let mut k = vec![0u8; 32];
        rand::rng().fill_bytes(&mut k);
        Self(k)
    }

    fn mac(&self, grant: &Grant) -> HmacSha256 {
        let mut unsigned = grant.clone();
        unsigned.signature = None;
        // Struct field order is fixed, so this serialisation is canonical.
        let bytes = serde_json::to_vec(&unsigned).unwrap_or_default();
        // HMAC zero-pads short keys to the block size, so a hashed, padded secret gives
        // the infallible fixed-size constructor.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&Sha256::digest(&self.0));
        let mut mac = <HmacSha256 as hmac::digest::KeyInit>::new(&block.into());
        mac.update(b"ticketgate-grant-v1\0");
        mac.update(&bytes);
        mac
    }

    /// Returns the grant with `signature` set.
    pub fn sign(&self, mut grant: Grant) -> Grant {
        let tag = self.mac(&grant).finalize().into_bytes();
        grant.signature = Some(format!("v1:{}", hex::encode(tag)));
        grant
    }

    /// Whether the grant's signature is valid under this key.
    pub fn verify(&self, grant: &Grant) -> bool {
        let Some(sig) = grant
            .signature
            .as_deref()
            .and_then(|s| s.strip_prefix("v1:"))
        else {
            return false;
        };
        let Ok(tag) = hex::decode(sig) else {
            return false;
        };
        self.mac(grant).verify_slice(&tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GrantKind, Purpose};
    use crate::time::Timestamp;

    fn grant() -> Grant {
        Grant {
            id: "g1".into(),
            kind: GrantKind::Approved,
            grantee: "e1".into(),
            customer: "c1".into(),
            fields: vec!["phone".into()],
            purpose: Purpose::Support,
            reason: "callback".into(),
            incident: None,
            approver: Some("s1".into()),
            approver_roles: vec!["supervisor".into()],
            issued_at: Timestamp::parse("2026-11-28T10:00:00Z").unwrap(),
            expires_at: Timestamp::parse("2026-11-28T12:00:00Z").unwrap(),
            signature: None,
        }
    }

    #[test]
    fn signed_grants_verify_and_edits_do_not() {
        let k = GrantKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
        let g = k.sign(grant());
        assert!(k.verify(&g));
        let mut stretched = g.clone();
        stretched.expires_at = Timestamp::parse("2026-11-29T12:00:00Z").unwrap();
        assert!(!k.verify(&stretched));
        assert!(!GrantKey::new([7u8; 32]).unwrap().verify(&g));
        assert!(GrantKey::new(b"".to_vec()).is_err());
        assert!(GrantKey::new([1u8; 31]).is_err());
        assert!(!k.verify(&grant()));
    }
}
