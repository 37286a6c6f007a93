//! Core errors as JavaScript `Error`s: the core's message, and its detail (`ffi::describe`)
//! as properties in camelCase, `code` first.

use napi::bindgen_prelude::*;
use napi::JsValue;
use ticketgate::ffi::{camel, describe};
use ticketgate::Error as CoreError;

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
    obj.set_named_property("index", index as u32)?;
    Ok(obj.to_unknown())
}

fn build(env: &Env, e: CoreError) -> Result<Object<'_>> {
    let d = describe(&e, &camel::Camel).map_err(|e| napi::Error::from_reason(e.to_string()))?;
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, d.message))?;
    for (name, value) in d.attrs {
        obj.set_named_property(camel::name(name), value)?;
    }
    Ok(obj)
}

/// A panic inside ticketgate, reported as an error instead of killing the process.
pub fn internal(env: &Env, what: &str) -> napi::Error {
    let msg = format!("internal error in {what}; please report it");
    match env.create_error(napi::Error::new(Status::GenericFailure, msg)) {
        Ok(mut o) => match o.set_named_property("code", "TicketgateError") {
            Ok(()) => napi::Error::from(o.to_unknown()),
            Err(e) => e,
        },
        Err(e) => e,
    }
}
