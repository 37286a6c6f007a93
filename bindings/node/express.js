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
      .then((a) => gate.viewAsync({ client: 'express', sourceIp: req.ip, ...a }, held || {}))
      .then((v) => {
        res.locals[record] = v.record
        res.locals[decision] = v.decision
        next()
      }, next)
  }
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

module.exports = { gateRecord, errorHandler }
