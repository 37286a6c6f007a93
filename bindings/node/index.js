'use strict'
// The public API of ticketgate: each method is its JavaScript signature over one operation
// of the native addon (native.js, built by napi-rs), which reads the arguments into the
// core's types, runs the operation and converts the answer. Nothing is decided here.

const native = load()

/**
 * The addon, or an error that says how to get it: npm 12 and later install a dependency
 * without running its install script (which builds the addon) until the project approves
 * it, and napi-rs's own message blames an unrelated npm bug.
 */
function load() {
  try {
    return require('./native.js')
  } catch (e) {
    let why = e
    while (why.cause) why = why.cause
    throw Object.assign(
      new Error(
        `ticketgate: its native addon could not be loaded (${String(why.message).split('\n')[0]}). If npm skipped the ` +
          "package's install script, as npm 12 and later do until it is approved, run " +
          '`npm install-scripts approve ticketgate && npm rebuild ticketgate`; in a checkout, ' +
          '`npm run build` in bindings/node builds it.',
        { cause: e },
      ),
      { code: 'TicketgateError' },
    )
  }
}

// The core's input limits (crates/ticketgate/src/limits.rs), as far as `plain` needs them: they
// only bound what goes by text, since the core applies its own limits to either path.
const MAX_DEPTH = 16
const MAX_ITEMS = 256
const MAX_DOCUMENT = 64 * 1024
const MAX_BATCH = 100_000
// Dates JSON.stringify writes as the native reader would: years 0000-9999
const FIRST_MS = -62167219200000
const LAST_MS = 253402300799999

// JSON.stringify writes a Date as its `toJSON` says, which calls `toISOString`; the addon reads
// its time value. So a Date goes by text only while both are the built-ins, captured here (and
// never if they were replaced before this file was loaded: a date library may write local
// time); `getTime` is captured for the range check for the same reason.
const { toJSON: DATE_TO_JSON, toISOString: DATE_TO_ISO, getTime: DATE_GET_TIME } = Date.prototype
const builtin = (f) => /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(f))
const DATES_BY_TEXT = [DATE_TO_JSON, DATE_TO_ISO, DATE_GET_TIME].every(builtin)

// a lone surrogate is written by JSON.stringify as an escape the addon's JSON reader refuses
const wellFormed = String.prototype.isWellFormed ? (s) => s.isWellFormed() : (s) => !/\p{Cs}/u.test(s)

/**
 * Whether `JSON.stringify(v)` says exactly what the native reader reads from `v`: plain
 * objects (not array-like) and arrays, neither with a `toJSON`, of well-formed strings,
 * booleans, null, undefined, safe integers and Dates of years 0-9999 that the built-in
 * `toJSON` writes, within the input limits (`left` counts what may still be spent). Anything
 * else (NaN, which JSON would turn into null; functions, which it would drop; lone surrogates;
 * class instances, Maps, typed arrays, BigInts) is read key by key by the addon, which names
 * what is wrong with it.
 */
function plain(v, depth, left) {
  switch (typeof v) {
    case 'string':
      return (left.bytes -= v.length) >= 0 && wellFormed(v)
    case 'boolean':
    case 'undefined':
      return true
    case 'number':
      return Number.isSafeInteger(v)
    case 'object': {
      if (v === null) return true
      if (depth >= MAX_DEPTH || (left.bytes -= 8) < 0) return false
      const proto = Object.getPrototypeOf(v)
      if (proto === Date.prototype) {
        if (!DATES_BY_TEXT || v.toJSON !== DATE_TO_JSON || v.toISOString !== DATE_TO_ISO) return false
        const ms = DATE_GET_TIME.call(v)
        return ms >= FIRST_MS && ms <= LAST_MS
      }
      // any other `toJSON` (its own, Array.prototype's, Object.prototype's) would be written
      // instead of the value
      if ('toJSON' in v) return false
      if (proto === Array.prototype) {
        if (!Array.isArray(v) || v.length > left.items) return false
        for (let i = 0; i < v.length; i++) if (!plain(v[i], depth + 1, left)) return false
        return true
      }
      if ((proto !== Object.prototype && proto !== null) || 'length' in v) return false
      // for-in rather than Object.keys: no array made, and V8 reads `v[k]` by the key's slot
      // (`plain` of the example request 1.1-1.5 µs against 2.2). It also lists inherited
      // enumerable keys, which JSON.stringify leaves out: checking them too is stricter, never
      // looser.
      let n = 0
      for (const k in v) {
        if (++n > MAX_ITEMS || (left.bytes -= k.length) < 0 || !wellFormed(k) || !plain(v[k], depth + 1, left)) return false
      }
      return true
    }
    default:
      return false
  }
}

/** Whether `v` (a batch of `items`, or one value) may go to the addon as JSON text. */
function fits(v, items = 1) {
  const left = { bytes: MAX_DOCUMENT * items, items: items > 1 ? MAX_BATCH : MAX_ITEMS }
  try {
    return plain(v, items > 1 ? -1 : 0, left)
  } catch {
    // a getter or a proxy that throws: the addon reads the value and names what failed
    return false
  }
}

/** `v` as JSON text for the addon when that says exactly what `v` says, else undefined. */
function text(v, items = 1) {
  try {
    return fits(v, items) ? JSON.stringify(v) : undefined
  } catch {
    return undefined
  }
}

// An async batch of more items than this goes to the addon in parts of this many: each part
// is read off the main thread while the next is made, and the items read are decided meanwhile
// (docs/benchmarks.md)
const PART = 500

/** A batch's text: one budget per item. */
function batchText(items) {
  return Array.isArray(items) && items.length <= MAX_BATCH ? text(items, Math.max(items.length, 2)) : undefined
}

/**
 * A decision from the addon's text: its wire form (crates/ticketgate/src/ffi/wire.rs gives
 * the order), or JSON when one of its strings would need escaping there. Gives the object
 * `JSON.parse` of the JSON would, in half the time.
 */
function decision(s) {
  if (s.charCodeAt(0) !== 1) return JSON.parse(s)
  p = s.split('\x01')
  i = 1
  broken = false
  const d = {
    decisionId: p[i++], at: p[i++], employee: p[i++], customer: p[i++], ticket: str(), grant: str(),
    purpose: p[i++], policyVersion: p[i++], fields: {}, alerts: [], velocity: null,
  }
  for (let n = count(); n > 0; n--) d.fields[p[i++]] = { outcome: p[i++], policies: list(), errors: list() }
  for (let n = count(); n > 0; n--) d.alerts.push({ kind: p[i++], message: p[i++], severity: p[i++], occurrence: num() })
  if (p[i] === '\x02') i++
  else {
    d.velocity = {
      count: num(), soft: num(), hard: num(), windowS: num(),
      day: { count: num(), soft: num(), hard: num(), windowS: num() },
    }
  }
  if (i < p.length) {
    d.wouldEnforce = {}
    for (let n = count(); n > 0; n--) d.wouldEnforce[p[i++]] = p[i++]
  }
  const whole = i === p.length && !broken
  p = undefined
  // an addon built from other sources than this file (a stale build) would shift every
  // value: refused rather than read as outcomes
  if (!whole) throw Object.assign(new Error('internal error: a decision in a form this index.js does not read; reinstall ticketgate'), { code: 'TicketgateError' })
  return d
}
// the wire's values, the next one's index and whether a count was not one, module-wide so
// `decision` allocates no closures
let p
let i = 0
let broken = false
const str = () => (p[i] === '\x02' ? (i++, null) : p[i++])
const num = () => +p[i++]
function count() {
  const n = num()
  if (!Number.isSafeInteger(n) || n < 0) broken = true
  return n
}
function list() {
  const out = []
  for (let n = count(); n > 0; n--) out.push(p[i++])
  return out
}

class Gate {
  #native
  #callbackFailures = 0

  /** @param {import('./index').GateOptions | null} [options] */
  constructor(options) {
    const onAlert = options == null ? undefined : options.onAlert
    // a throw escaping a threadsafe function would end the process: caught here, counted
    const guarded =
      typeof onAlert === 'function'
        ? (alert, decision) => {
            try {
              onAlert(alert, decision)
            } catch (e) {
              this.#callbackFailures++
              console.error(`ticketgate: onAlert callback threw for ${alert.kind}:`, e)
            }
          }
        : onAlert
    this.#native = new native.Gate(options, guarded)
  }

  decide(request) { return decision(this.#native.call('decide', request, text(request))) }
  decideAsync(request) { return this.#native.callAsync('decide', request, text(request)).then(decision) }
  decideMany(requests) { return this.#native.call('decide_many', requests, batchText(requests)) }
  decideManyAsync(requests) { return this.#manyAsync('decide_many', requests) }
  view(request, record) { return this.#pair('call', request, record) }
  viewAsync(request, record) { return this.#pair('callAsync', request, record) }
  viewMany(items) { return this.#native.call('view_many', items, batchText(items)) }
  viewManyAsync(items) { return this.#manyAsync('view_many', items) }
  #pair(how, request, record) {
    const pair = [request, record]
    const out = this.#native[how]('view', pair, text(pair, 2))
    return how === 'call' ? JSON.parse(out) : out.then(JSON.parse)
  }
  #manyAsync(op, items) {
    const large = Array.isArray(items) && items.length > PART && items.length <= MAX_BATCH
    if (!large) return this.#native.callAsync(op, items, batchText(items))
    // not plain: read by value, without walking the batch a second time in `batchText`
    if (!fits(items, items.length)) return this.#native.callAsync(op, items, undefined)
    const feed = this.#native.feed(op === 'view_many')
    try {
      for (let i = 0; i < items.length; i += PART) feed.push(JSON.stringify(items.slice(i, i + PART)))
    } catch (e) {
      // a getter that throws only when read a second time: the parts already pushed are
      // decided and audited (finished now rather than when the feed is collected), none
      // handed out
      feed.finish().catch(() => {})
      return Promise.reject(e)
    }
    return feed.finish()
  }
  #call(op, args) { return JSON.parse(this.#native.call(op, args)) }

  reload(policies) { return this.#call('reload', { policies }) }
  suspend(employeeId, reason) { this.#call('suspend', { employeeId, reason }) }
  reinstate(employeeId) { return this.#call('reinstate', { employeeId }) }
  suspended() { return this.#call('suspended', {}) }
  recordReveal(employeeId, customerId, at) { this.#call('record_reveal', { employeeId, customerId, at }) }
  get needsRestore() { return this.#call('needs_restore', {}) }
  restore() { return this.#call('restore', {}) }

  signGrant(grant) { return this.#call('sign_grant', { grant }) }
  requestGrant(grant) { return this.#call('request_grant', { grant }) }
  approveGrant(grant, approver) { return this.#call('approve_grant', { grant, approver }) }
  issueBreakGlass(grant) { return this.#call('issue_break_glass', { grant }) }
  revokeGrant(grantId) { this.#call('revoke_grant', { grantId }) }

  close() { this.#call('close', {}) }
  auditCheckpoint() { return this.#call('audit_checkpoint', {}) }
  auditHead() { return this.#call('audit_head', {}) }
  auditAffected(employee, since, until, reader = 'node') {
    return this.#call('audit_affected', { employee, since, until, reader })
  }
  auditSuspects(customers, field, reader = 'node') {
    return this.#call('audit_suspects', { customers, field, reader })
  }
  auditCustomer(customer, reader = 'node') { return this.#call('audit_customer', { customer, reader }) }

  get policyVersion() { return this.#native.policyVersion }
  get fields() { return this.#native.fields }
  alertStats() {
    const { failed, dropped } = this.#call('alert_stats', {}) ?? { failed: 0, dropped: 0 }
    return { failed: failed + this.#callbackFailures, dropped }
  }
}

function mask(field, value) {
  return JSON.parse(native.mask({ field, value }))
}

function verifyAudit(paths, expectHead, key, checkpoint) {
  return JSON.parse(native.verifyAudit({ paths, expectHead, key, checkpoint }))
}

// `_text` and `_decision` are for the tests that hold each fast path to the plain one
module.exports = { Gate, verifyAudit, mask, _testPanic: native._testPanic, _text: text, _decision: decision }
