'use strict'
// ticketgate/express: an Express middleware that gates a contact record before a route renders
// or sends it. The route (or an earlier middleware) puts the record on `res.locals`; `access`
// says who asks for whose data; the middleware replaces the record with what the agent may see
// and puts the decision beside it. Errors (an invalid request, an audit log that cannot be
// written) go to Express's error handler with their `code`; nothing is shown on an error.

/**
 * @param {import('./index').Gate} gate
 * @param {{ access: (req: any, res: any) => import('./index').AccessRequest, record?: string, decision?: string }} options
 */
function gateRecord(gate, options) {
  const { access, record = 'record', decision = 'decision' } = options || {}
  if (typeof access !== 'function') {
    throw new TypeError('gateRecord(gate, { access }) needs access(req, res) returning the access request')
  }
  return function ticketgateRecord(req, res, next) {
    const held = res.locals[record]
    res.locals[record] = undefined // never left in place unmasked, whatever happens next
    // `access` may be async (the signed-in user loaded from a database); a throw or a
    // rejection goes to the error handler like any error of the gate's
    Promise.resolve()
      .then(() => access(req, res))
      .then((a) => gate.viewAsync(caller(req, a), held || {}))
      .then((v) => {
        res.locals[record] = v.record
        res.locals[decision] = v.decision
        next()
      }, next)
  }
}

/**
 * Gates the records of a list page as one batch (decided off the main thread, one audit fsync
 * for the page; one agent's rows in order, as velocity counts them): `res.locals[records]`, an
 * array, is replaced by what the agent may see of each row, and `res.locals[decisions]` holds
 * their decisions in the same order. `access(req, res, record, index)` gives each row's access
 * request (or a Promise of it). A row that cannot be decided sends its error (keyed `[i]...`)
 * to the error handler: a page is never shown with a row missing.
 *
 * @param {import('./index').Gate} gate
 * @param {{ access: (req: any, res: any, record: any, index: number) => import('./index').AccessRequest, records?: string, decisions?: string }} options
 */
function gateRecords(gate, options) {
  const { access, records = 'records', decisions = 'decisions' } = options || {}
  if (typeof access !== 'function') {
    throw new TypeError('gateRecords(gate, { access }) needs access(req, res, record, index) returning each row\'s access request')
  }
  return function ticketgateRecords(req, res, next) {
    const held = res.locals[records]
    res.locals[records] = undefined
    Promise.resolve()
      .then(() => {
        if (!Array.isArray(held)) throw new TypeError(`res.locals.${records} must be an array of records`)
        return Promise.all(held.map((r, i) => access(req, res, r, i)))
      })
      .then((as) => gate.viewManyAsync(as.map((a, i) => [caller(req, a), held[i] || {}])))
      .then((views) => {
        const failed = views.find((v) => v instanceof Error)
        if (failed) throw failed
        res.locals[records] = views.map((v) => v.record)
        res.locals[decisions] = views.map((v) => v.decision)
        next()
      })
      .catch(next)
  }
}

/** The access request with who asks from where: `client` defaults to `express`, `sourceIp` to `req.ip`. */
function caller(req, a) {
  return { client: 'express', sourceIp: req.ip, ...a }
}

/** An error handler that answers a ticketgate error with its status and code, and passes the rest on. */
function errorHandler(err, req, res, next) {
  const status = { InvalidRequest: 400, PolicyError: 500, AuditError: 503, StoreError: 503 }[err && err.code]
  if (!status) {
    next(err)
    return
  }
  res.status(status).json({ error: { code: err.code, message: err.message, key: err.key } })
}

module.exports = { gateRecord, gateRecords, errorHandler }
