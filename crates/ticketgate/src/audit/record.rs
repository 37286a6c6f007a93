//! The one owner of the audit line format: how a record is encoded, chained, hashed,
//! parsed back and summarised as a head. Writers and readers both go through here.
//!
//! A line is `{"seq":N,"prev":"<64 hex>",<payload>,"hash":"<64 hex>"}`. `hash` covers
//! everything before `,"hash"` (closed with `}`): SHA-256 without an audit key, or
//! HMAC-SHA256 under the key, so that whoever can write the file but lacks the key cannot
//! produce a chain that verifies.

use crate::decision::Decision;
use crate::model::AccessRequest;
use crate::time::Timestamp;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The `prev` of the very first record of a chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Shortest audit key accepted: an HMAC key shorter than its hash gives less than its strength.
pub const MIN_KEY_BYTES: usize = 32;

const HASH_KEY: &str = ",\"hash\":\"";

/// How records are chained: plain SHA-256, or HMAC-SHA256 under a secret key.
#[derive(Clone, Default)]
pub struct ChainKey(Option<Vec<u8>>);

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ChainKey(hmac)"
        } else {
            "ChainKey(plain)"
        })
    }
}

impl ChainKey {
    /// Plain SHA-256: detects edits only against a head kept elsewhere.
    pub fn plain() -> Self {
        Self(None)
    }

    /// HMAC-SHA256 under `secret`, which must be at least [`MIN_KEY_BYTES`] long.
    pub fn hmac(secret: impl Into<Vec<u8>>) -> Result<Self, String> {
        let secret = secret.into();
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!(
                "an audit key needs at least {MIN_KEY_BYTES} bytes, got {}",
                secret.len()
            ));
        }
        Ok(Self(Some(secret)))
    }

    /// Whether records are HMACed.
    pub fn is_keyed(&self) -> bool {
        self.0.is_some()
    }

    /// The hash of a record body (hex).
    pub fn hash(&self, body: &[u8]) -> String {
        match &self.0 {
            None => hex::encode(Sha256::digest(body)),
            Some(k) => {
                let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(k)
                    .unwrap_or_else(|_| {
                        // HMAC takes keys of any length; this arm cannot run.
                        <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default())
                    });
                mac.update(b"ticketgate-audit-v1\0");
                mac.update(body);
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }
}

/// The last record of a chain: store it elsewhere to detect a cut tail later.
#[cfg_attr(
    feature = "typescript",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase")
)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Sequence number of the last record (0 for an empty chain).
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

impl Head {
    /// The head of an empty chain.
    pub fn genesis() -> Self {
        Self {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (seq, hash) = s
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not SEQ:HASH"))?;
        let seq = seq
            .parse()
            .map_err(|_| format!("`{seq}` is not a sequence number"))?;
        if !is_hex64(hash) {
            return Err(format!("`{hash}` is not a 64-digit hex hash"));
        }
        Ok(Head {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Encodes one record after `prev`; returns the line (with its newline) and its hash.
pub(crate) fn encode(seq: u64, prev: &Head, payload: &str, key: &ChainKey) -> (Vec<u8>, String) {
    // `payload` is a serialised JSON object; its braces are replaced by the chain fields.
    let inner = payload
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or("");
    let sep = if inner.is_empty() { "" } else { "," };
    let body = format!("{{\"seq\":{seq},\"prev\":\"{}\"{sep}{inner}}}", prev.hash);
    let hash = key.hash(body.as_bytes());
    let mut line = Vec::with_capacity(body.len() + 80);
    line.extend_from_slice(body.get(..body.len() - 1).unwrap_or("").as_bytes());
    line.extend_from_slice(HASH_KEY.as_bytes());
    line.extend_from_slice(hash.as_bytes());
    line.extend_from_slice(b"\"}\n");
    (line, hash)
}

/// One line split into its chain fields (not yet checked).
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    pub(crate) seq: u64,
    pub(crate) prev: &'a str,
    pub(crate) hash: &'a str,
    /// Where `prev`'s hash ends (at its closing quote, in a line laid out right).
    prev_end: usize,
    body_end: usize,
    line: &'a str,
}

impl Parsed<'_> {
    /// Whether the stored hash is the hash of the body under `key`.
    pub(crate) fn hash_ok(&self, key: &ChainKey) -> bool {
        let mut body = String::with_capacity(self.body_end + 1);
        body.push_str(self.line.get(..self.body_end).unwrap_or(""));
        body.push('}');
        key.hash(body.as_bytes()) == self.hash
    }

    /// This record as a head.
    pub(crate) fn head(&self) -> Head {
        Head {
            seq: self.seq,
            hash: self.hash.to_owned(),
        }
    }
}

/// Splits a line (without its newline) into its chain fields.
pub(crate) fn parse(line: &str) -> Result<Parsed<'_>, &'static str> {
    const SEQ: &str = "{\"seq\":";
    const PREV: &str = ",\"prev\":\"";
    let rest = line.strip_prefix(SEQ).ok_or("does not start with seq")?;
    let comma = rest.find(',').ok_or("no field after seq")?;
    let seq = rest
        .get(..comma)
        .and_then(|s| s.parse().ok())
        .ok_or("seq is not a number")?;
    let prev = rest
        .get(comma..)
        .and_then(|r| r.strip_prefix(PREV))
        .and_then(|r| r.get(..64))
        .filter(|p| is_hex64(p))
        .ok_or("no prev hash")?;
    let at = line.rfind(HASH_KEY).ok_or("no hash")?;
    let hash = line
        .get(at + HASH_KEY.len()..)
        .and_then(|h| h.strip_suffix("\"}"))
        .filter(|h| is_hex64(h))
        .ok_or("malformed hash")?;
    Ok(Parsed {
        seq,
        prev,
        hash,
        prev_end: SEQ.len() + comma + PREV.len() + 64,
        body_end: at,
        line,
    })
}

/// What the writer puts after `prev`'s hash in every decision line, up to the decision's id:
/// [`DecisionRecord`] serialises `kind` then `decision`, and [`Decision`] starts with
/// `decision_id` then `at`.
const DECISION_OPENING: &str = "\",\"kind\":\"decision\",\"decision\":{\"decision_id\":\"";

/// A decision line's `seq` and `at`, read from the opening the writer lays out, without
/// reading the rest of the line: a restart passes over the decisions older than its
/// velocity window this way (a thousand bytes of JSON each). `None` for any line laid out
/// otherwise (an event, a line edited by hand): read it whole.
pub(crate) fn decision_seq_and_at(line: &str) -> Option<(u64, Timestamp)> {
    let p = parse(line).ok()?;
    let rest = line.get(p.prev_end..)?.strip_prefix(DECISION_OPENING)?;
    // a writer's id is a UUID: no escapes, so its closing quote is the first one
    let (_, rest) = rest.split_once('"')?;
    let at = rest.strip_prefix(",\"at\":\"")?.split('"').next()?;
    Some((p.seq, Timestamp::parse(at).ok()?))
}

/// Record kinds other than decisions.
pub mod kind {
    /// A decision.
    pub const DECISION: &str = "decision";
    /// An employee suspended through the kill switch.
    pub const SUSPEND: &str = "suspend";
    /// A suspension lifted.
    pub const REINSTATE: &str = "reinstate";
    /// Somebody read the trail through the library.
    pub const AUDIT_READ: &str = "audit_read";
    /// A grant was requested.
    pub const GRANT_REQUESTED: &str = "grant_requested";
    /// A grant was approved.
    pub const GRANT_APPROVED: &str = "grant_approved";
    /// A break-glass grant was issued.
    pub const BREAK_GLASS: &str = "break_glass";
    /// A grant was revoked.
    pub const GRANT_REVOKED: &str = "grant_revoked";
}

/// What the writer serialises for a decision (the read side is [`Record`]).
#[derive(Serialize)]
pub(crate) struct DecisionRecord<'a> {
    kind: &'static str,
    decision: &'a Decision,
    client: Option<&'a str>,
    source_ip: Option<&'a str>,
    office_country: Option<&'a str>,
    justification: Option<&'a str>,
    teams: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    self_assigned: bool,
}

impl<'a> DecisionRecord<'a> {
    pub(crate) fn new(decision: &'a Decision, req: &'a AccessRequest) -> Self {
        Self {
            kind: kind::DECISION,
            decision,
            client: req.client.as_deref(),
            source_ip: req.source_ip.as_deref(),
            office_country: req.employee.office_country.as_deref(),
            justification: req.justification.as_deref(),
            teams: &req.employee.teams,
            self_assigned: req.self_assigned(),
        }
    }
}

/// What the writer serialises for an administrative event.
#[derive(Serialize)]
pub(crate) struct EventRecord<'a> {
    pub(crate) kind: &'a str,
    pub(crate) at: Timestamp,
    pub(crate) subject: &'a str,
    pub(crate) detail: &'a str,
}

/// One record as read back.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Record {
    /// Sequence number within its segment.
    pub seq: u64,
    /// `decision`, `suspend`, `reinstate`, `audit_read`, ...
    pub kind: String,
    /// The decision, for `decision` records.
    #[serde(default)]
    pub decision: Option<Decision>,
    /// Which tool asked.
    #[serde(default)]
    pub client: Option<String>,
    /// From where.
    #[serde(default)]
    pub source_ip: Option<String>,
    /// The employee's office country.
    #[serde(default)]
    pub office_country: Option<String>,
    /// The stated justification.
    #[serde(default)]
    pub justification: Option<String>,
    /// The employee's teams (their peers for `anomalies`).
    #[serde(default)]
    pub teams: Vec<String>,
    /// The ticket was assigned to the employee by the employee (`assigned_by`).
    #[serde(default)]
    pub self_assigned: bool,
    /// For events: when.
    #[serde(default)]
    pub at: Option<Timestamp>,
    /// For events: whom it concerns.
    #[serde(default)]
    pub subject: Option<String>,
    /// For events: details.
    #[serde(default)]
    pub detail: Option<String>,
}

impl Record {
    /// When the record happened (the decision's `at` for decisions).
    pub fn time(&self) -> Option<Timestamp> {
        self.decision.as_ref().map(|d| d.at).or(self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_parse_round_trip_under_both_keys() {
        for key in [ChainKey::plain(), ChainKey::hmac([7u8; 32]).unwrap()] {
            let (line, hash) = encode(1, &Head::genesis(), r#"{"kind":"x"}"#, &key);
            let text = std::str::from_utf8(&line).unwrap().trim_end();
            let p = parse(text).unwrap();
            assert_eq!((p.seq, p.prev, p.hash), (1, GENESIS, hash.as_str()));
            assert!(p.hash_ok(&key));
            let r: Record = serde_json::from_str(text).unwrap();
            assert_eq!(r.kind, "x");
        }
    }

    #[test]
    fn a_plain_chain_does_not_verify_under_a_key() {
        let (line, _) = encode(1, &Head::genesis(), r#"{"kind":"x"}"#, &ChainKey::plain());
        let text = std::str::from_utf8(&line).unwrap().trim_end();
        assert!(!parse(text)
            .unwrap()
            .hash_ok(&ChainKey::hmac([1u8; 32]).unwrap()));
        assert!(ChainKey::hmac(b"short".to_vec()).is_err());
    }

    #[test]
    fn a_decision_line_is_skimmed_for_its_number_and_time_as_the_writer_lays_it_out() {
        let gate = crate::Gate::builder()
            .clock(crate::Clock::Replay)
            .build()
            .unwrap();
        let req = crate::AccessRequest::from_value(serde_json::json!({
            "employee": {"id": "alice", "segments": ["consumer"]},
            "customer": {"id": "c1", "segment": "consumer", "vip": false, "employee": false},
            "purpose": "support", "at": "2026-11-28T10:20:00.123Z"}))
        .unwrap();
        let d = gate.decide(&req).unwrap();
        let payload = serde_json::to_string(&DecisionRecord::new(&d, &req)).unwrap();
        for (seq, key) in [
            (1, ChainKey::plain()),
            (123_456, ChainKey::hmac([7u8; 32]).unwrap()),
        ] {
            let (line, _) = encode(seq, &Head::genesis(), &payload, &key);
            let text = std::str::from_utf8(&line).unwrap().trim_end();
            assert_eq!(decision_seq_and_at(text), Some((seq, d.at)), "{text}");
            let unquoted = text.replacen(&format!("{GENESIS}\""), &format!("{GENESIS}X"), 1);
            assert_eq!(decision_seq_and_at(&unquoted), None, "{unquoted}");
        }
        // laid out otherwise: read whole instead
        let event =
            r#"{"kind":"suspend","at":"2026-11-28T10:00:00.000Z","subject":"a","detail":"b"}"#;
        let quoted = payload.replacen(
            &d.decision_id,
            "x\\\",\\\"at\\\":\\\"2020-01-01T00:00:00Z",
            1,
        );
        for other in [event, quoted.as_str()] {
            let (line, _) = encode(1, &Head::genesis(), other, &ChainKey::plain());
            let text = std::str::from_utf8(&line).unwrap().trim_end();
            assert_eq!(decision_seq_and_at(text), None, "{text}");
        }
    }
}
