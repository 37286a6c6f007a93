//! The one error type of the core. Every variant carries data a caller can act on,
//! so the bindings can map it to a typed exception without parsing messages.

use std::fmt;

/// Anything that can go wrong in ticketgate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request (or record) is malformed; no decision was made.
    #[error(transparent)]
    InvalidRequest(#[from] InvalidRequest),
    /// A policy pack failed to load, parse or validate.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The audit log could not be written or read.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The velocity / suspension store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    /// A stable code for the bindings and the CLI: `InvalidRequest`, `PolicyError`,
    /// `AuditError` or `StoreError`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "InvalidRequest",
            Error::Policy(_) => "PolicyError",
            Error::Audit(_) => "AuditError",
            Error::Store(_) => "StoreError",
        }
    }

    /// The bad key, for an invalid request.
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::InvalidRequest(i) => Some(&i.key),
            _ => None,
        }
    }
}

/// A request that cannot be decided, naming the offending key.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid request: {}{reason}", place(.key))]
pub struct InvalidRequest {
    /// Dotted path of the bad key, e.g. `ticket.closed_at`; empty for the whole document.
    pub key: String,
    /// Why it is wrong.
    pub reason: String,
    /// `key` is spelt as the caller wrote it (found while reading the caller's value), not
    /// in the contract's snake_case (a later check): a binding respells only the latter, or
    /// a key of the caller's own (`nick_name`) would be named as one they never wrote.
    pub(crate) as_written: bool,
}

/// The key an error names, as its message's prefix: none for the whole document, where a
/// bare "``:" would read as a key whose name is missing.
fn place(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("`{key}`: ")
    }
}

impl PartialEq for InvalidRequest {
    fn eq(&self, other: &Self) -> bool {
        (&self.key, &self.reason) == (&other.key, &other.reason)
    }
}

impl Eq for InvalidRequest {}

impl InvalidRequest {
    /// An invalid request at `key` (a dotted path such as `ticket.closed_at`).
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            reason: reason.into(),
            as_written: false,
        }
    }

    /// The same error for a value found under `prefix` (e.g. `[3]` in a batch), so the key
    /// still names the bad place in what the caller passed.
    pub fn within(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.key = if self.key.is_empty() {
                prefix.to_owned()
            } else if self.key.starts_with('[') {
                format!("{prefix}{}", self.key)
            } else {
                format!("{prefix}.{}", self.key)
            };
        }
        self
    }
}

/// Where in a pack a problem was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyDiagnostic {
    /// File name inside the pack, e.g. `guards.cedar`.
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The `@id` of the policy concerned, when known.
    pub policy_id: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let (Some(l), Some(c)) = (self.line, self.column) {
                write!(f, ":{l}:{c}")?;
            }
            write!(f, ": ")?;
        }
        if let Some(id) = &self.policy_id {
            write!(f, "policy `{id}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// A policy pack that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("policy pack rejected: {}", summary(.diagnostics))]
pub struct PolicyError {
    /// Every problem found, in file order.
    pub diagnostics: Vec<PolicyDiagnostic>,
}

fn summary(diags: &[PolicyDiagnostic]) -> String {
    match diags {
        [] => "unknown problem".to_owned(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

impl PolicyError {
    pub(crate) fn message(message: impl Into<String>) -> Self {
        Self {
            diagnostics: vec![PolicyDiagnostic {
                file: None,
                line: None,
                column: None,
                policy_id: None,
                message: message.into(),
            }],
        }
    }
}

/// The audit log could not be written, read or verified.
#[derive(Debug, Clone, thiserror::Error)]
#[error("audit log{}: {message}", self.named_path())]
pub struct AuditError {
    /// The log file concerned, when there is one.
    pub path: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl AuditError {
    /// ` PATH` for the message, unless the message begins with the path itself (a line of a
    /// file named as `file:line`): the file is said once, whatever the surface shows.
    fn named_path(&self) -> String {
        match &self.path {
            Some(p) if !self.message.starts_with(p.as_str()) => format!(" {p}"),
            _ => String::new(),
        }
    }
}

/// The velocity / suspension store failed (e.g. Redis unreachable).
#[derive(Debug, Clone, thiserror::Error)]
#[error("velocity store: {message}")]
pub struct StoreError {
    /// What went wrong.
    pub message: String,
}

/// Short alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::InvalidRequest;

    #[test]
    fn a_message_names_its_key_and_leaves_out_an_empty_one() {
        let at = InvalidRequest::new("ticket.closed_at", "is later than `at`");
        assert_eq!(
            at.to_string(),
            "invalid request: `ticket.closed_at`: is later than `at`"
        );
        let whole = InvalidRequest::new("", "missing field `employee`");
        assert_eq!(
            whole.to_string(),
            "invalid request: missing field `employee`"
        );
    }
}
