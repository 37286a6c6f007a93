'use strict'
// The public API of ticketgate: each method is its JavaScript signature over one operation
// of the native addon (native.js, built by napi-rs), which reads the arguments into the
// core's types, runs the operation and converts the answer. Nothing is decided here.

const native = require('./native.js')

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

  decide(request) { return this.#native.call('decide', request) }
  decideAsync(request) { return this.#native.callAsync('decide', request) }
  decideMany(requests) { return this.#native.call('decide_many', requests) }
  decideManyAsync(requests) { return this.#native.callAsync('decide_many', requests) }
  view(request, record) { return this.#native.call('view', [request, record]) }
  viewAsync(request, record) { return this.#native.callAsync('view', [request, record]) }
  viewMany(items) { return this.#native.call('view_many', items) }
  viewManyAsync(items) { return this.#native.callAsync('view_many', items) }

  reload(policies) { return this.#native.call('reload', { policies }) }
  suspend(employeeId, reason) { this.#native.call('suspend', { employeeId, reason }) }
  reinstate(employeeId) { return this.#native.call('reinstate', { employeeId }) }
  suspended() { return this.#native.call('suspended', {}) }
  recordReveal(employeeId, customerId, at) { this.#native.call('record_reveal', { employeeId, customerId, at }) }

  signGrant(grant) { return this.#native.call('sign_grant', { grant }) }
  requestGrant(grant) { return this.#native.call('request_grant', { grant }) }
  approveGrant(grant, approver) { return this.#native.call('approve_grant', { grant, approver }) }
  issueBreakGlass(grant) { return this.#native.call('issue_break_glass', { grant }) }
  revokeGrant(grantId) { this.#native.call('revoke_grant', { grantId }) }

  auditCheckpoint() { return this.#native.call('audit_checkpoint', {}) }
  auditHead() { return this.#native.call('audit_head', {}) }
  auditAffected(employee, since, until, reader = 'node') {
    return this.#native.call('audit_affected', { employee, since, until, reader })
  }
  auditSuspects(customers, field, reader = 'node') {
    return this.#native.call('audit_suspects', { customers, field, reader })
  }
  auditCustomer(customer, reader = 'node') { return this.#native.call('audit_customer', { customer, reader }) }

  get policyVersion() { return this.#native.policyVersion }
  get fields() { return this.#native.fields }
  alertStats() {
    const { failed, dropped } = this.#native.alertStats()
    return { failed: failed + this.#callbackFailures, dropped }
  }
}

function verifyAudit(paths, expectHead, key, checkpoint) {
  return native.verifyAudit({ paths, expectHead, key, checkpoint })
}

module.exports = { Gate, verifyAudit, mask: native.mask, _testPanic: native._testPanic }
