//! The data shapes of the contract (DESIGN.md "Data shapes"), parsed strictly:
//! unknown keys, wrong types and naive times are errors naming the key.

use crate::error::InvalidRequest;
use crate::host::{Json, Keys, Strings};
pub use crate::shift::{Shift, Weekly};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A support employee, as the calling service knows them at the time of the access.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(rename_all = "camelCase", optional_fields = nullable))]
#[serde(deny_unknown_fields)]
pub struct Employee {
    /// Stable employee id (an integer is taken as its decimal text).
    #[cfg_attr(feature = "typescript", ts(type = "string | number"))]
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Roles such as `agent`, `senior_agent`, `supervisor`, `security_reviewer`.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    #[serde(default, deserialize_with = "null_as_default")]
    pub roles: Vec<String>,
    /// Queue (team) names the employee works.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    #[serde(default, deserialize_with = "null_as_default")]
    pub teams: Vec<String>,
    /// Customer segments served. Required: an employee serves nothing until told.
    pub segments: Vec<String>,
    /// ISO 3166 alpha-2 country of the employee's office.
    #[serde(default)]
    pub office_country: Option<String>,
    /// An absolute shift or a weekly schedule; absent means off shift.
    #[serde(default)]
    pub shift: Option<Shift>,
    /// Suspended by the calling service.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    #[serde(default, deserialize_with = "null_as_default")]
    pub suspended: bool,
}

/// Customer segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Segment {
    Consumer,
    Business,
    Government,
}

impl Segment {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Consumer => "consumer",
            Segment::Business => "business",
            Segment::Government => "government",
        }
    }
}

/// The customer whose contact data is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(rename_all = "camelCase", optional_fields = nullable))]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Stable customer id (an integer is taken as its decimal text).
    #[cfg_attr(feature = "typescript", ts(type = "string | number"))]
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Segment. Required, like `vip` and `employee`: a missing sensitivity fact is an
    /// invalid request, never "not sensitive".
    pub segment: Segment,
    /// A VIP customer (R6).
    pub vip: bool,
    /// The customer is also staff (R6).
    pub employee: bool,
}

/// Ticket lifecycle states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Status {
    Open,
    Pending,
    Solved,
    Closed,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Solved => "solved",
            Status::Closed => "closed",
        }
    }

    /// `solved` or `closed`.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Solved | Status::Closed)
    }
}

/// A support ticket, as it was at the time of the access.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(rename_all = "camelCase", optional_fields = nullable))]
#[serde(deny_unknown_fields)]
pub struct Ticket {
    /// Ticket id.
    #[cfg_attr(feature = "typescript", ts(type = "string | number"))]
    #[serde(deserialize_with = "id")]
    pub id: String,
    /// Id of the customer the ticket is for.
    #[cfg_attr(feature = "typescript", ts(type = "string | number"))]
    #[serde(deserialize_with = "id")]
    pub customer: String,
    /// Employee id of the assignee.
    #[cfg_attr(feature = "typescript", ts(type = "string | number | null", optional = nullable))]
    #[serde(default, deserialize_with = "opt_id")]
    pub assignee: Option<String>,
    /// Queue (team) the ticket sits in.
    pub queue: String,
    /// Lifecycle state.
    pub status: Status,
    /// When it was opened.
    #[cfg_attr(feature = "typescript", ts(type = "string | Date"))]
    pub opened_at: Timestamp,
    /// When it was solved or closed; null while open or pending.
    #[cfg_attr(feature = "typescript", ts(type = "string | Date | null", optional = nullable))]
    #[serde(default)]
    pub closed_at: Option<Timestamp>,
    /// A callback scheduled in advance.
    #[cfg_attr(feature = "typescript", ts(type = "string | Date | null", optional = nullable))]
    #[serde(default)]
    pub callback_at: Option<Timestamp>,
    /// When the ticket got its assignee (for detection, not for the rules).
    #[cfg_attr(feature = "typescript", ts(type = "string | Date | null", optional = nullable))]
    #[serde(default)]
    pub assigned_at: Option<Timestamp>,
    /// Who assigned it: an employee id (maybe the assignee) or `router`.
    #[cfg_attr(feature = "typescript", ts(type = "string | number | null", optional = nullable))]
    #[serde(default, deserialize_with = "opt_id")]
    pub assigned_by: Option<String>,
}

/// Grant kinds (R9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// Approved in advance by a supervisor, up to 8 h.
    Approved,
    /// Self-issued in an emergency, up to 1 h, always alerted.
    BreakGlass,
}

impl GrantKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::Approved => "approved",
            GrantKind::BreakGlass => "break_glass",
        }
    }
}

/// A time-boxed permission to reveal some fields of one customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(rename_all = "camelCase", optional_fields = nullable))]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Grant id.
    pub id: String,
    /// `approved` or `break_glass`.
    pub kind: GrantKind,
    /// Employee the grant is for.
    #[cfg_attr(feature = "typescript", ts(type = "string | number"))]
    #[serde(deserialize_with = "id")]
    pub grantee: String,
    /// Customer id the grant covers.
    #[cfg_attr(feature = "typescript", ts(type = "string | number"))]
    #[serde(deserialize_with = "id")]
    pub customer: String,
    /// Fields it may reveal.
    pub fields: Vec<String>,
    /// Purpose it was granted for.
    pub purpose: Purpose,
    /// Why it was asked for.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    #[serde(default, deserialize_with = "null_as_default")]
    pub reason: String,
    /// Incident id; required for break-glass.
    #[serde(default)]
    pub incident: Option<String>,
    /// Employee id of the approver; null for break-glass.
    #[cfg_attr(feature = "typescript", ts(type = "string | number | null", optional = nullable))]
    #[serde(default, deserialize_with = "opt_id")]
    pub approver: Option<String>,
    /// Roles the approver held when approving.
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    #[serde(default, deserialize_with = "null_as_default")]
    pub approver_roles: Vec<String>,
    /// Start of validity.
    #[cfg_attr(feature = "typescript", ts(type = "string | Date"))]
    pub issued_at: Timestamp,
    /// End of validity (exclusive).
    #[cfg_attr(feature = "typescript", ts(type = "string | Date"))]
    pub expires_at: Timestamp,
    /// When it was requested (set by `request_grant`; a request lapses after 12 h).
    #[cfg_attr(feature = "typescript", ts(type = "string | Date | null", optional = nullable))]
    #[serde(default)]
    pub requested_at: Option<Timestamp>,
    /// Set by the gate that signed it; an unsigned or altered grant is refused.
    #[serde(default)]
    pub signature: Option<String>,
}

/// Why the data is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Purpose {
    Support,
    SecurityReview,
    LegalRequest,
    Incident,
}

impl Purpose {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Support => "support",
            Purpose::SecurityReview => "security_review",
            Purpose::LegalRequest => "legal_request",
            Purpose::Incident => "incident",
        }
    }
}

/// What the caller will do with the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// A detail view (the default).
    View,
    /// A list page or search result: every field at most masked, never counted by velocity.
    Preview,
}

/// One question: may `employee` see these `fields` of `customer` now?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS), ts(rename_all = "camelCase", optional_fields = nullable))]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    /// Who asks.
    pub employee: Employee,
    /// Whose data.
    pub customer: Customer,
    /// The ticket being worked, if any.
    #[serde(default)]
    pub ticket: Option<Ticket>,
    /// A grant presented, if any.
    #[serde(default)]
    pub grant: Option<Grant>,
    /// Fields asked for; absent means every field of the pack.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// Why.
    pub purpose: Purpose,
    /// Free-text justification, kept in the audit log.
    #[serde(default)]
    pub justification: Option<String>,
    /// When; absent means now.
    #[cfg_attr(feature = "typescript", ts(type = "string | Date | null", optional = nullable))]
    #[serde(default)]
    pub at: Option<Timestamp>,
    /// Which tool asks.
    #[serde(default)]
    pub client: Option<String>,
    /// Caller's IP address.
    #[serde(default)]
    pub source_ip: Option<String>,
    /// `view` (default) or `preview`.
    #[serde(default)]
    pub intent: Option<Intent>,
}

/// An id given as a string or an integer (helpdesks key rows by integers); always kept as text.
fn id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an id (a string or an integer)")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(V)
}

fn opt_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Id(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Id>::deserialize(d)?.map(|i| i.0))
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl AccessRequest {
    /// Parses a request from JSON text, naming the bad key on error. The input limits are
    /// checked before anything is converted.
    pub fn from_json(text: &str) -> Result<Self, InvalidRequest> {
        crate::limits::check_text(text)?;
        let json: Json = serde_json::from_str(text)
            .map_err(|e| InvalidRequest::new("", format!("malformed JSON: {e}")))?;
        json.read("", Keys::Exact, Strings::PerKey)
    }

    /// [`AccessRequest::from_json`] for bytes as read from a file or a socket (see
    /// [`crate::limits::document_text`]).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, InvalidRequest> {
        Self::from_json(crate::limits::document_text(bytes)?)
    }

    /// Parses a request from a JSON value, naming the bad key on error, within the input
    /// limits: read by the same reader as the bindings' values (`host`).
    pub fn from_value(value: serde_json::Value) -> Result<Self, InvalidRequest> {
        part_from_value(value, "")
    }

    /// Whether the employee works the ticket because they assigned it to themselves.
    pub fn self_assigned(&self) -> bool {
        self.ticket.as_ref().is_some_and(|t| {
            t.assigned_by.as_deref() == Some(self.employee.id.as_str())
                && t.assignee.as_deref() == Some(self.employee.id.as_str())
        })
    }

    /// Checks what types cannot: consistency between the parts and with `at`. Ticket
    /// times up to `skew_ms` after `at` are clock skew between servers, and accepted.
    /// `fields` are checked against the pack by the gate.
    pub fn check(&self, at: Timestamp, skew_ms: i64) -> Result<(), InvalidRequest> {
        let e = &self.employee;
        nonempty("employee.id", &e.id)?;
        nonempty("customer.id", &self.customer.id)?;
        if let Some(c) = &e.office_country {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(InvalidRequest::new(
                    "employee.office_country",
                    format!("`{c}` is not an ISO 3166 alpha-2 code such as `DE`"),
                ));
            }
        }
        if let Some(s) = &e.shift {
            s.check()?;
        }
        if let Some(t) = &self.ticket {
            check_ticket(t, &self.customer.id, at, skew_ms)?;
        }
        if let Some(g) = &self.grant {
            if g.customer != self.customer.id {
                return Err(InvalidRequest::new(
                    "grant.customer",
                    format!(
                        "grant is for customer `{}`, not the request's customer `{}`",
                        g.customer, self.customer.id
                    ),
                ));
            }
            if g.expires_at <= g.issued_at {
                return Err(InvalidRequest::new(
                    "grant.expires_at",
                    "must be after the grant's issue time",
                ));
            }
        }
        if let Some(ip) = &self.source_ip {
            if ip.parse::<std::net::IpAddr>().is_err() {
                return Err(InvalidRequest::new(
                    "source_ip",
                    format!("`{ip}` is not an IP address"),
                ));
            }
        }
        Ok(())
    }
}

/// Refuses a value that says nothing (an id that names nobody, a grant's reason or incident):
/// empty, or only whitespace, which a form field or a padded database column gives as easily.
pub(crate) fn nonempty(key: &str, v: &str) -> Result<(), InvalidRequest> {
    match v {
        "" => Err(InvalidRequest::new(key, "must not be empty")),
        v if v.trim().is_empty() => Err(InvalidRequest::new(key, "must not be only whitespace")),
        _ => Ok(()),
    }
}

fn check_ticket(
    t: &Ticket,
    customer: &str,
    at: Timestamp,
    skew_ms: i64,
) -> Result<(), InvalidRequest> {
    let later = |x: Timestamp| x.millis().saturating_sub(at.millis()) > skew_ms;
    nonempty("ticket.id", &t.id)?;
    if t.customer != customer {
        return Err(InvalidRequest::new(
            "ticket.customer",
            format!(
                "ticket `{}` is for customer `{}`, not the request's customer `{customer}`",
                t.id, t.customer
            ),
        ));
    }
    match (t.status.is_done(), t.closed_at) {
        (true, None) => {
            return Err(InvalidRequest::new(
                "ticket.closed_at",
                format!("must be given for a ticket that is `{}`", t.status.as_str()),
            ))
        }
        (false, Some(_)) => {
            return Err(InvalidRequest::new(
                "ticket.closed_at",
                format!(
                    "must be null or left out while the ticket is `{}`",
                    t.status.as_str()
                ),
            ))
        }
        _ => {}
    }
    // a ticket assigned after `at` had another assignee (or none) at the time of the access
    let times = [
        ("ticket.opened_at", Some(t.opened_at)),
        ("ticket.closed_at", t.closed_at),
        ("ticket.assigned_at", t.assigned_at),
    ];
    if let Some((key, _)) = times.iter().find(|(_, x)| x.is_some_and(later)) {
        return Err(InvalidRequest::new(
            *key,
            "is later than the request's `at`: pass the ticket as it was at the time of the access",
        ));
    }
    if let Some(c) = t.closed_at {
        if c < t.opened_at {
            return Err(InvalidRequest::new(
                "ticket.closed_at",
                "is earlier than the time the ticket was opened",
            ));
        }
    }
    Ok(())
}

/// Parses any part of the contract from JSON within the input limits, its errors' keys
/// under `prefix` (e.g. `approver.roles`).
pub(crate) fn part_from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, InvalidRequest> {
    Json::from(value).read(prefix, Keys::Exact, Strings::PerKey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> serde_json::Value {
        json!({
            "employee": {"id": "e1", "segments": ["consumer"]},
            "customer": {"id": "c1", "segment": "consumer", "vip": false, "employee": false},
            "purpose": "support"
        })
    }

    #[test]
    fn minimal_request_parses_with_defaults() {
        let r = AccessRequest::from_value(base()).unwrap();
        assert_eq!(r.customer.segment, Segment::Consumer);
        assert!(!r.employee.suspended);
    }

    #[test]
    fn sensitivity_facts_are_required() {
        for (part, key) in [
            ("customer", "segment"),
            ("customer", "vip"),
            ("customer", "employee"),
            ("employee", "segments"),
        ] {
            let mut v = base();
            v[part].as_object_mut().unwrap().remove(key);
            let e = AccessRequest::from_value(v).unwrap_err();
            assert!(e.reason.contains(key), "{e}");
            let mut v = base();
            v[part][key] = json!(null);
            assert!(AccessRequest::from_value(v).is_err(), "{part}.{key}: null");
        }
    }

    #[test]
    fn unknown_keys_are_named() {
        let mut v = base();
        v["employee"]["nickname"] = json!("x");
        let e = AccessRequest::from_value(v).unwrap_err();
        assert_eq!(e.key, "employee.nickname");
        assert!(e.reason.contains("nickname"), "{e}");
    }

    #[test]
    fn wrong_types_and_bad_enums_are_named() {
        let mut v = base();
        v["customer"]["vip"] = json!("yes");
        assert_eq!(
            AccessRequest::from_value(v).unwrap_err().key,
            "customer.vip"
        );
        let mut v = base();
        v["purpose"] = json!("curiosity");
        let e = AccessRequest::from_value(v).unwrap_err();
        assert_eq!(e.key, "purpose");
        assert!(e.reason.contains("curiosity"));
    }

    #[test]
    fn naive_times_are_refused() {
        let mut v = base();
        v["at"] = json!("2026-11-28T10:00:00");
        let e = AccessRequest::from_value(v).unwrap_err();
        assert_eq!(e.key, "at");
        assert!(e.reason.contains("offset"), "{e}");
    }

    #[test]
    fn null_means_absent() {
        let mut v = base();
        v["ticket"] = json!(null);
        v["employee"]["roles"] = json!(null);
        let r = AccessRequest::from_value(v).unwrap();
        assert!(r.ticket.is_none());
        assert!(r.employee.roles.is_empty());
    }

    #[test]
    fn ticket_consistency() {
        let at = Timestamp::parse("2026-11-28T10:00:00Z").unwrap();
        let mut v = base();
        v["ticket"] = json!({"id": "t", "customer": "other", "queue": "q", "status": "open",
            "opened_at": "2026-11-27T10:00:00Z"});
        let e = AccessRequest::from_value(v)
            .unwrap()
            .check(at, 0)
            .unwrap_err();
        assert_eq!(e.key, "ticket.customer");
        let mut v = base();
        v["ticket"] = json!({"id": "t", "customer": "c1", "queue": "q", "status": "closed",
            "opened_at": "2026-11-27T10:00:00Z"});
        let e = AccessRequest::from_value(v)
            .unwrap()
            .check(at, 0)
            .unwrap_err();
        assert_eq!(e.key, "ticket.closed_at");
        let mut v = base();
        v["ticket"] = json!({"id": "t", "customer": "c1", "queue": "q", "status": "closed",
            "opened_at": "2026-11-27T10:00:00Z", "closed_at": "2026-11-28T11:00:00Z"});
        let r = AccessRequest::from_value(v).unwrap();
        let e = r.check(at, 30_000).unwrap_err();
        assert!(e.reason.contains("later than"), "{e}");
        // a second of skew between two servers' clocks is not an error
        let mut v = base();
        v["ticket"] = json!({"id": "t", "customer": "c1", "queue": "q", "status": "closed",
            "opened_at": "2026-11-27T10:00:00Z", "closed_at": "2026-11-28T10:00:01Z"});
        AccessRequest::from_value(v)
            .unwrap()
            .check(at, 30_000)
            .unwrap();
        // every ticket time: one assigned after the access had another assignee then
        for (key, late) in [("opened_at", "10:00:31"), ("assigned_at", "10:00:31")] {
            let ticket = |t: &str| {
                let mut v = base();
                v["ticket"] = json!({"id": "t", "customer": "c1", "queue": "q", "status": "open",
                    "opened_at": "2026-11-28T09:00:00Z", key: format!("2026-11-28T{t}Z")});
                AccessRequest::from_value(v).unwrap()
            };
            let e = ticket(late).check(at, 30_000).unwrap_err();
            assert_eq!(e.key, format!("ticket.{key}"), "{e}");
            ticket("10:00:30").check(at, 30_000).unwrap();
        }
    }
}
