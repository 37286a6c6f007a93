//! Input limits (DESIGN.md): checked before any deep conversion, so no input can make the
//! library recurse, allocate or work in proportion to a size it merely claims.

use crate::error::InvalidRequest;

/// Largest request document, in bytes of JSON.
pub const MAX_DOCUMENT: usize = 64 * 1024;
/// Deepest nesting of lists and objects.
pub const MAX_DEPTH: usize = 16;
/// Longest string, in bytes.
pub const MAX_STRING: usize = 1024;
/// Longest `justification`, in bytes.
pub const MAX_JUSTIFICATION: usize = 4096;
/// Most items in a list (or keys in an object).
pub const MAX_ITEMS: usize = 256;
/// Most requests in one batch call from a binding.
pub const MAX_BATCH: usize = 100_000;

/// Where a value sits while the host reader (`host`) reads a binding's values: rendered
/// as a key path (`ticket.callback_at`, `fields[2]`) only when an error names it, because
/// building the path of every value cost more than converting it.
#[derive(Debug, Clone, Copy)]
pub enum At<'a> {
    /// The value given, under its own key path (empty for a whole request).
    Root(&'a str),
    /// A key of an object.
    Key(&'a At<'a>, &'a str),
    /// An element of a list.
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    /// The key path.
    pub fn path(&self) -> String {
        match self {
            At::Root(p) => (*p).to_owned(),
            At::Key(parent, k) => match parent.path() {
                p if p.is_empty() => (*k).to_owned(),
                p => format!("{p}.{k}"),
            },
            At::Index(parent, i) => format!("{}[{i}]", parent.path()),
        }
    }
}

/// The limit for a string under `key` (the last segment of its path).
pub fn string_limit(key: &str) -> usize {
    if key == "justification" {
        MAX_JUSTIFICATION
    } else {
        MAX_STRING
    }
}

/// Refuses a container of `n` items (or keys) at `path` past [`MAX_ITEMS`]; the host reader
/// calls it with a claimed length before reading or allocating anything.
pub fn check_items(path: &str, n: usize) -> Result<(), InvalidRequest> {
    if n > MAX_ITEMS {
        return Err(InvalidRequest::new(
            path,
            format!("has {n} items; at most {MAX_ITEMS} are accepted"),
        ));
    }
    Ok(())
}

/// Checks the raw text of a request before it is parsed.
pub fn check_text(text: &str) -> Result<(), InvalidRequest> {
    if text.len() > MAX_DOCUMENT {
        return Err(InvalidRequest::new(
            "",
            format!(
                "the request is {} bytes; at most {MAX_DOCUMENT} are accepted",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// A document as read from a file or a socket, which may be anything, as text: read no
/// further than one byte past [`MAX_DOCUMENT`] (so an endless stream is refused too), more
/// than that, or bytes that are not UTF-8, are an `InvalidRequest` saying so.
pub fn document_text(bytes: &[u8]) -> Result<&str, InvalidRequest> {
    if bytes.len() > MAX_DOCUMENT {
        return Err(InvalidRequest::new(
            "",
            format!("the document is more than {MAX_DOCUMENT} bytes; at most {MAX_DOCUMENT} are accepted"),
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| InvalidRequest::new("", format!("not UTF-8 text: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Json, Keys, Strings};
    use serde_json::{json, Value};

    /// What the one reader (`host`) says of a value, read as any JSON.
    fn check_value(v: &Value) -> Result<(), InvalidRequest> {
        Json::from(v.clone())
            .read::<Value>("", Keys::Exact, Strings::PerKey)
            .map(drop)
    }

    #[test]
    fn each_limit_names_the_key() {
        let long = "x".repeat(MAX_STRING + 1);
        assert_eq!(
            check_value(&json!({"employee": {"id": long}}))
                .unwrap_err()
                .key,
            "employee.id"
        );
        let ok = "x".repeat(MAX_JUSTIFICATION);
        check_value(&json!({ "justification": ok })).unwrap();
        let list: Vec<u8> = vec![0; MAX_ITEMS + 1];
        assert_eq!(
            check_value(&json!({"employee": {"teams": list}}))
                .unwrap_err()
                .key,
            "employee.teams"
        );
        let mut deep = json!("x");
        for _ in 0..MAX_DEPTH + 2 {
            deep = json!([deep]);
        }
        assert!(check_value(&json!({ "justification": deep }))
            .unwrap_err()
            .reason
            .contains("nested"));
        assert!(check_text(&" ".repeat(MAX_DOCUMENT + 1)).is_err());
    }
}
