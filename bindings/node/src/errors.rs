//! Core errors as JavaScript `Error`s with a stable `code` and structured properties.

use napi::bindgen_prelude::*;
use napi::JsValue;
use ticketgate::Error as CoreError;

/// A key path from the core's own checks (`ticket.closed_at`, `fields[1]`) as the Node caller
/// writes it; keys below a contact record (`record.ticket_numbers`) are field names and stay.
/// Paths from converting the caller's values are already as written, and pass unchanged.
fn camel_path(path: &str) -> String {
    let mut in_record = false;
    let mut out = String::with_capacity(path.len());
    for (i, seg) in path.split('.').enumerate() {
        if i > 0 {
            out.push('.');
        }
        let mut up = false;
        for c in seg.chars() {
            match c {
                '_' if !in_record => up = true,
                c if up => {
                    out.push(c.to_ascii_uppercase());
                    up = false;
                }
                c => out.push(c),
            }
        }
        in_record |= seg == "record" || seg.ends_with("].record");
    }
    out
}

fn set<V: ToNapiValue>(obj: &mut Object<'_>, key: &str, v: V) {
    // best effort: a property that cannot be set leaves the message and code intact
    let _ = obj.set_named_property(key, v);
}

/// Builds the JS error; returned as `napi::Error` holding the value, so it is thrown (or
/// rejects a promise) verbatim.
pub fn to_js(env: &Env, e: CoreError) -> napi::Error {
    match build(env, e) {
        Ok(obj) => napi::Error::from(obj.to_unknown()),
        Err(err) => err,
    }
}

/// The JS error for one failed item of a batch, returned (not thrown) with its `index`.
pub fn error_object<'e>(env: &'e Env, e: CoreError, index: usize) -> Result<Unknown<'e>> {
    let mut obj = build(env, e)?;
    set(&mut obj, "index", index as u32);
    Ok(obj.to_unknown())
}

fn build(env: &Env, e: CoreError) -> Result<Object<'_>> {
    let code = e.code();
    let message = match &e {
        CoreError::InvalidRequest(i) => {
            format!("invalid request: `{}`: {}", camel_path(&i.key), i.reason)
        }
        other => other.to_string(),
    };
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, message.clone()))?;
    set(&mut obj, "code", code);
    match &e {
        CoreError::InvalidRequest(i) => {
            set(&mut obj, "key", camel_path(&i.key));
            set(&mut obj, "reason", i.reason.as_str());
        }
        CoreError::Policy(p) => {
            let diags: Vec<serde_json::Value> = p
                .diagnostics
                .iter()
                .map(|d| {
                    serde_json::json!({"file": d.file, "line": d.line, "column": d.column,
                        "policyId": d.policy_id, "message": d.message})
                })
                .collect();
            if let Some(first) = p.diagnostics.first() {
                set(&mut obj, "file", first.file.clone());
                set(&mut obj, "line", first.line.map(|n| n as u32));
                set(&mut obj, "column", first.column.map(|n| n as u32));
                set(&mut obj, "policyId", first.policy_id.clone());
            }
            set(&mut obj, "diagnostics", serde_json::Value::Array(diags));
        }
        CoreError::Audit(a) => set(&mut obj, "path", a.path.clone()),
        _ => {}
    }
    Ok(obj)
}

/// A panic inside ticketgate, reported as an error instead of killing the process.
pub fn internal(env: &Env, what: &str) -> napi::Error {
    let msg = format!("internal error in {what}; please report it");
    match env.create_error(napi::Error::new(Status::GenericFailure, msg)) {
        Ok(mut o) => {
            set(&mut o, "code", "TicketgateError");
            napi::Error::from(o.to_unknown())
        }
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::camel_path;

    #[test]
    fn core_key_paths_read_as_written_in_javascript() {
        assert_eq!(camel_path("ticket.closed_at"), "ticket.closedAt");
        assert_eq!(camel_path("fields[1]"), "fields[1]");
        assert_eq!(camel_path("record.ticket_numbers"), "record.ticket_numbers");
        assert_eq!(
            camel_path("[2].record.ticket_numbers"),
            "[2].record.ticket_numbers"
        );
        assert_eq!(camel_path("peerSignals.ratio"), "peerSignals.ratio");
    }
}
