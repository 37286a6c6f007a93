//! Grant signatures and the checks behind issuing. A grant is only honoured when the gate
//! that decides can verify it was issued by a gate holding one of its keys, so a grant
//! cannot be forged or stretched by editing its JSON. Signatures carry a key id, so keys
//! rotate: the newest key signs, older keys verify until they are removed.

use crate::error::InvalidRequest;
use crate::model::{Employee, Grant, GrantKind};
use crate::time::Timestamp;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// A secret used to sign and verify grants; share it across a fleet.
#[derive(Clone)]
pub struct GrantKey {
    id: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for GrantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GrantKey({})", self.id)
    }
}

impl GrantKey {
    /// Shortest secret accepted.
    pub const MIN_BYTES: usize = 32;

    /// A key from secret bytes; shorter than [`GrantKey::MIN_BYTES`] is refused (an empty
    /// key from a missing environment variable would make every grant forgeable). Its id
    /// is derived from the secret, so every host holding the secret agrees on it.
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
        let mut h = Sha256::new();
        h.update(b"ticketgate-grant-key-id\0");
        h.update(&secret);
        let id = hex::encode(h.finalize()).chars().take(12).collect();
        Ok(Self { id, secret })
    }

    /// A fresh random key: grants it signs are honoured only by this process.
    pub fn random() -> Self {
        use rand::RngCore;
        let mut k = vec![0u8; 32];
        rand::rng().fill_bytes(&mut k);
        Self::new(k).unwrap_or_else(|_| Self {
            id: "random".into(),
            secret: vec![0; 32],
        })
    }

    /// The key id written into signatures.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn mac(&self, grant: &Grant) -> HmacSha256 {
        let mut unsigned = grant.clone();
        unsigned.signature = None;
        // Struct field order is fixed, so this serialisation is canonical.
        let bytes = serde_json::to_vec(&unsigned).unwrap_or_default();
        // HMAC zero-pads short keys to the block size, so a hashed, padded secret gives
        // the infallible fixed-size constructor.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&Sha256::digest(&self.secret));
        let mut mac = <HmacSha256 as hmac::digest::KeyInit>::new(&block.into());
        mac.update(b"ticketgate-grant-v2\0");
        mac.update(self.id.as_bytes());
        mac.update(b"\0");
        mac.update(&bytes);
        mac
    }

    /// Returns the grant with `signature` set (`v2:<key id>:<hmac>`).
    pub fn sign(&self, mut grant: Grant) -> Grant {
        let tag = self.mac(&grant).finalize().into_bytes();
        grant.signature = Some(format!("v2:{}:{}", self.id, hex::encode(tag)));
        grant
    }

    /// Whether the grant's signature is valid under this key.
    pub fn verify(&self, grant: &Grant) -> bool {
        let Some((kid, tag)) = grant
            .signature
            .as_deref()
            .and_then(|s| s.strip_prefix("v2:"))
            .and_then(|s| s.split_once(':'))
        else {
            return false;
        };
        let Ok(tag) = hex::decode(tag) else {
            return false;
        };
        kid == self.id && self.mac(grant).verify_slice(&tag).is_ok()
    }
}

/// The keys a gate holds: the first signs, all verify (rotation).
#[derive(Debug, Clone)]
pub struct GrantKeys(Vec<GrantKey>);

impl GrantKeys {
    /// Keys, newest (signing) first; at least one.
    pub fn new(keys: Vec<GrantKey>) -> Result<Self, InvalidRequest> {
        if keys.is_empty() {
            return Err(InvalidRequest::new("grant_key", "needs at least one key"));
        }
        Ok(Self(keys))
    }

    pub(crate) fn random() -> Self {
        Self(vec![GrantKey::random()])
    }

    /// One key that signs and verifies.
    pub fn from_one(key: GrantKey) -> Self {
        Self(vec![key])
    }

    /// Signs with the newest key.
    pub fn sign(&self, grant: Grant) -> Grant {
        match self.0.first() {
            Some(k) => k.sign(grant),
            None => grant,
        }
    }

    /// Whether any key verifies the grant.
    pub fn verify(&self, grant: &Grant) -> bool {
        self.0.iter().any(|k| k.verify(grant))
    }
}

/// How long a requested grant waits for approval before it lapses.
pub const PENDING_LAPSE_MS: i64 = 12 * 3_600_000;
/// The longest lifetime of an approved grant.
pub const APPROVED_MAX_MS: i64 = 8 * 3_600_000;
/// The longest lifetime of a break-glass grant.
pub const BREAK_GLASS_MAX_MS: i64 = 3_600_000;
/// How long a revocation is kept: longer than any grant can still be used after it is issued.
pub const REVOCATION_KEEP_MS: i64 = PENDING_LAPSE_MS + APPROVED_MAX_MS + 3_600_000;

/// An invalid grant, keyed `grant.KEY` (`grant` for the grant as a whole).
fn bad(key: &str, reason: impl Into<String>) -> InvalidRequest {
    match key {
        "" => InvalidRequest::new("grant", reason),
        _ => InvalidRequest::new(format!("grant.{key}"), reason),
    }
}

fn nonempty(key: &str, v: &str) -> Result<(), InvalidRequest> {
    crate::model::nonempty(&format!("grant.{key}"), v)
}

/// `ms` as hours, minutes and seconds, to the millisecond: a lifetime just past its limit
/// must not read as the limit itself (`8 h 0.001 s`, not `480 min`).
fn lifetime(ms: i64) -> String {
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    match (s, milli) {
        (0, 0) => {}
        (s, 0) => parts.push(format!("{s} s")),
        (s, milli) => parts.push(format!("{s}.{milli:03} s")),
    }
    parts.join(" ")
}

/// Checks what every grant needs before it is signed: ids, fields, a lifetime within
/// `max_ms`, and not starting later than the pending lapse from `now`.
fn check_shape(g: &Grant, now: Timestamp, max_ms: i64) -> Result<(), InvalidRequest> {
    nonempty("id", &g.id)?;
    nonempty("grantee", &g.grantee)?;
    nonempty("customer", &g.customer)?;
    if g.fields.is_empty() {
        return Err(bad("fields", "must name at least one field"));
    }
    let life = g.expires_at.millis() - g.issued_at.millis();
    if life <= 0 {
        return Err(bad("expires_at", "must be after issued_at"));
    }
    if life > max_ms {
        return Err(bad(
            "expires_at",
            format!(
                "a lifetime of {} is past the limit of {}",
                lifetime(life),
                lifetime(max_ms)
            ),
        ));
    }
    if g.issued_at.millis() > now.millis() + PENDING_LAPSE_MS {
        return Err(bad("issued_at", "starts more than 12 h from now"));
    }
    if g.expires_at <= now {
        return Err(bad("expires_at", "is already past"));
    }
    Ok(())
}

/// A request for an approved grant: no approver yet, stamped with when it was asked for.
pub(crate) fn pending(mut g: Grant, now: Timestamp) -> Result<Grant, InvalidRequest> {
    if g.kind != GrantKind::Approved {
        return Err(bad(
            "kind",
            "a request is for an `approved` grant; use issue_break_glass for break-glass",
        ));
    }
    if g.approver.is_some() || !g.approver_roles.is_empty() {
        return Err(bad(
            "approver",
            "is set by approve_grant, not by the requester",
        ));
    }
    nonempty("reason", &g.reason)?;
    check_shape(&g, now, APPROVED_MAX_MS)?;
    g.requested_at = Some(now);
    g.signature = None;
    Ok(g)
}

/// The approved grant, or why `approver` may not approve it. `g` has a verified signature.
pub(crate) fn approved(
    mut g: Grant,
    approver: &Employee,
    now: Timestamp,
) -> Result<Grant, InvalidRequest> {
    let requested = match (&g.approver, g.requested_at) {
        (None, Some(r)) if g.kind == GrantKind::Approved => r,
        _ => return Err(bad("", "is not a pending grant request")),
    };
    if now.millis() - requested.millis() >= PENDING_LAPSE_MS {
        return Err(bad(
            "requested_at",
            "the request lapsed after 12 h without approval",
        ));
    }
    if approver.id == g.grantee {
        return Err(InvalidRequest::new(
            "approver.id",
            "an employee cannot approve their own grant",
        ));
    }
    if approver.suspended {
        return Err(InvalidRequest::new(
            "approver.suspended",
            "a suspended employee cannot approve",
        ));
    }
    if !approver.roles.iter().any(|r| r == "supervisor") {
        return Err(InvalidRequest::new(
            "approver.roles",
            "only a `supervisor` can approve a grant",
        ));
    }
    check_shape(&g, now, APPROVED_MAX_MS)?;
    g.approver = Some(approver.id.clone());
    g.approver_roles = approver.roles.clone();
    g.signature = None;
    Ok(g)
}

/// A break-glass grant ready to sign, or why not.
pub(crate) fn break_glass(mut g: Grant, now: Timestamp) -> Result<Grant, InvalidRequest> {
    if g.kind != GrantKind::BreakGlass {
        return Err(bad("kind", "must be `break_glass`"));
    }
    if g.approver.is_some() {
        return Err(bad("approver", "a break-glass grant has no approver"));
    }
    nonempty("reason", &g.reason)?;
    nonempty("incident", g.incident.as_deref().unwrap_or(""))?;
    check_shape(&g, now, BREAK_GLASS_MAX_MS)?;
    g.signature = None;
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Purpose;

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
            requested_at: None,
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
        assert!(!k.verify(&grant()));
        assert!(GrantKey::new(b"".to_vec()).is_err());
        assert!(GrantKey::new([1u8; 31]).is_err());
    }

    #[test]
    fn keys_rotate_by_id() {
        let old = GrantKey::new([1u8; 32]).unwrap();
        let new = GrantKey::new([2u8; 32]).unwrap();
        assert_ne!(old.id(), new.id());
        let signed_by_old = old.sign(grant());
        let ring = GrantKeys::new(vec![new.clone(), old]).unwrap();
        assert!(ring.verify(&signed_by_old));
        let signed_by_ring = ring.sign(grant());
        assert!(new.verify(&signed_by_ring));
        assert!(!GrantKeys::new(vec![new]).unwrap().verify(&signed_by_old));
    }

    #[test]
    fn a_lifetime_just_past_its_limit_says_by_how_much() {
        let now = Timestamp::parse("2026-11-28T09:00:00Z").unwrap();
        let mut g = grant();
        g.expires_at = Timestamp::parse("2026-11-28T18:00:00.001Z").unwrap();
        let e = check_shape(&g, now, APPROVED_MAX_MS).unwrap_err();
        assert_eq!(e.key, "grant.expires_at");
        assert_eq!(
            e.reason,
            "a lifetime of 8 h 0.001 s is past the limit of 8 h"
        );
        g.expires_at = Timestamp::parse("2026-11-28T18:00:00Z").unwrap();
        assert!(check_shape(&g, now, APPROVED_MAX_MS).is_ok());
        assert_eq!(lifetime(3_600_000 + 61_500), "1 h 1 min 1.500 s");
        assert_eq!(lifetime(59_000), "59 s");
    }
}
