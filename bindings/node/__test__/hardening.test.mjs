// Hostile and careless callers (issue 11) and the audit trail (issue 12), through the npm package.
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { baseRequest, ROOT } from './helpers.mjs'

const require = createRequire(import.meta.url)
const native = require('../index.js')
const { Gate, mask, verifyAudit } = native

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tg-'))

function liveRequest(customer, at = new Date()) {
  const r = baseRequest()
  const h = 3600_000
  r.at = at
  r.employee.shift = { start: new Date(at - 4 * h), end: new Date(+at + 4 * h) }
  r.customer.id = customer
  Object.assign(r.ticket, { id: `T-${customer}`, customer, openedAt: new Date(at - 5 * h) })
  return r
}

test('a request dated ahead cannot empty the velocity window', () => {
  const gate = new Gate({ velocity: { windowS: 3600, soft: 2, hard: 3 } })
  for (let i = 0; i < 3; i++) assert.equal(gate.decide(liveRequest(`c${i}`)).fields.name.outcome, 'reveal')
  assert.notEqual(gate.decide(liveRequest('c3')).fields.name.outcome, 'reveal')
  for (const ahead of [new Date(Date.now() + 70 * 60_000), new Date('9999-01-01T00:00:00Z')]) {
    assert.throws(() => gate.decide(liveRequest('c4', ahead)), (e) => e.code === 'InvalidRequest' && e.key === 'at')
  }
  assert.notEqual(gate.decide(liveRequest('c5')).fields.name.outcome, 'reveal')
})

test('masks follow the rules in every script; unmaskable values are null', () => {
  assert.equal(mask('phone', '０９０-１２３４-５６７８'), '***-****-５６７８')
  assert.equal(mask('phone', '٠٥٠١٢٣٤٥٦٧'), '******٤٥٦٧')
  assert.equal(mask('ticket_numbers', 'billing-42'), 'billing-**')
  assert.equal(mask('phone', 'n/a'), null)
})

test('empty and short grant keys are refused', () => {
  for (const grantKey of ['', 'short', 'x'.repeat(31)]) {
    assert.throws(() => new Gate({ grantKey }), (e) => e.code === 'InvalidRequest' && e.key === 'grantKey')
  }
})

test('hostile shapes get typed errors, not crashes', () => {
  const gate = new Gate({ clock: 'replay' })
  let deep = 'x'
  for (let i = 0; i < 200_000; i++) deep = [deep]
  const huge = Object.assign([], { length: 2 ** 32 - 1 })
  const cases = [
    [{ ...baseRequest(), justification: deep }, 'justification'],
    [{ ...baseRequest(), employee: { ...baseRequest().employee, teams: huge } }, 'employee.teams'],
    [{ ...baseRequest(), client: 'x'.repeat(5000) }, 'client'],
  ]
  for (const [req, key] of cases) {
    assert.throws(() => gate.decide(req), (e) => e.code === 'InvalidRequest' && e.key.startsWith(key), key)
  }
  // where any value goes (a record's other keys) the depth limit itself names the level past it
  const notes = (e) => e.code === 'InvalidRequest' && e.key === `record.notes${'[0]'.repeat(16)}` && /deeper than 16/.test(e.message)
  assert.throws(() => gate.view(baseRequest(), { name: 'Jane Doe', notes: deep }), notes)
  const both = baseRequest()
  both.ticket.opened_at = '2026-11-28T07:00:00Z' // beside openedAt
  assert.throws(() => gate.decide(both), (e) => e.code === 'InvalidRequest')
})

test('a reason quotes fields as camelCase keys, the caller\'s own key as written', () => {
  const gate = new Gate({ clock: 'replay' })
  const noOpened = baseRequest()
  delete noOpened.ticket.openedAt
  const unknown = baseRequest()
  unknown.employee.office_Country = 'DE'
  for (const how of ['text', 'value']) {
    // NaN sends the request key by key rather than as text: both paths word it alike
    const req = (r) => (how === 'value' ? { ...r, justification: NaN } : r)
    assert.throws(() => gate.decide(req(noOpened)), (e) => e.key === 'ticket' && e.message.endsWith('missing field `openedAt`'), how)
    assert.throws(
      () => gate.decide(req(unknown)),
      (e) => e.key === 'employee.office_Country' && /unknown field `office_Country`, expected one of `id`.*`officeCountry`, `shift`/.test(e.message),
      how,
    )
  }
  assert.throws(() => new Gate({ auditLogg: 'x' }), (e) => e.key === 'auditLogg' && /`auditLog`, `durability`, `auditKey`/.test(e.message))
})

test('a record error names the field as written', () => {
  const gate = new Gate({ clock: 'replay' })
  assert.throws(() => gate.view(baseRequest(), { ticket_numbers: 5 }), (e) => e.key === 'record.ticket_numbers')
  const shadow = new Gate({ clock: 'replay', mode: 'shadow' })
  const d = shadow.decide({ ...baseRequest(), ticket: null })
  assert.ok('ticket_numbers' in d.wouldEnforce)
})

test('a panic inside the core is an Error with a code, and the process lives on', () => {
  assert.throws(() => native._testPanic(), (e) => e.code === 'TicketgateError')
  assert.equal(mask('name', 'Jane'), 'J***')
})

test('batches return one result per item and keep the good ones', () => {
  const gate = new Gate({ clock: 'replay' })
  const out = gate.decideMany([baseRequest(), { employee: { id: 'x' } }, baseRequest()])
  assert.equal(out.length, 3)
  assert.equal(out[0].fields.name.outcome, 'reveal')
  assert.ok(out[1] instanceof Error && out[1].code === 'InvalidRequest' && out[1].index === 1)
  assert.ok(out[1].key.startsWith('[1]'))
  assert.equal(out[2].fields.name.outcome, 'reveal')
  for (const batch of [5, {}, null]) {
    assert.throws(() => gate.decideMany(batch), { code: 'InvalidRequest', message: /expected a list/ })
  }
})

test('suspension holds in shadow mode', () => {
  const gate = new Gate({ clock: 'replay', mode: 'shadow' })
  gate.suspend('alice', 'sold data')
  const d = gate.decide(baseRequest())
  assert.deepEqual(new Set(Object.values(d.fields).map((f) => f.outcome)), new Set(['withhold']))
})

test('audit: one writer per file, segments per gate in a directory, keyed chains, cut tails', () => {
  const dir = tmp()
  const log = path.join(dir, 'audit.jsonl')
  const first = new Gate({ clock: 'replay', auditLog: log })
  assert.throws(() => new Gate({ clock: 'replay', auditLog: log }), (e) => e.code === 'AuditError')
  first.decide(baseRequest())
  const segs = path.join(dir, 'segments')
  fs.mkdirSync(segs)
  const a = new Gate({ clock: 'replay', auditLog: segs })
  const b = new Gate({ clock: 'replay', auditLog: segs })
  a.decide(baseRequest())
  b.decide(baseRequest())
  const report = verifyAudit([segs])
  assert.equal(report.records, 2)
  assert.equal(report.segments.length, 2)

  const keyed = path.join(dir, 'keyed.jsonl')
  const cp = path.join(dir, 'elsewhere', 'head')
  const key = 'k'.repeat(32)
  const g = new Gate({ clock: 'replay', auditLog: keyed, auditKey: key, auditCheckpoint: cp })
  for (let i = 0; i < 4; i++) g.decide(baseRequest())
  assert.match(g.auditCheckpoint(), /^4:/)
  verifyAudit([keyed], null, key)
  assert.throws(() => verifyAudit([keyed], null, 'j'.repeat(32)), (e) => e.code === 'AuditError')
  assert.throws(() => new Gate({ auditLog: '/dev/full' }), (e) => e.code === 'AuditError')
})

test('grants: requested, approved by someone else, narrow to their fields, revoked, keys rotate', () => {
  const key = 'a fleet key of at least 32 bytes!'
  const a = new Gate({ grantKey: key })
  const now = Date.now()
  const grant = {
    id: 'g-1', kind: 'approved', grantee: 'alice', customer: 'vip-1', fields: ['phone'], purpose: 'support',
    reason: 'customer called about fraud', issuedAt: new Date(now - 60_000), expiresAt: new Date(now + 3600_000),
  }
  const vip = (g) => {
    const r = liveRequest('vip-1')
    r.customer.vip = true
    r.ticket = null
    r.grant = g
    return r
  }
  const pending = a.requestGrant(grant)
  assert.equal(a.decide(vip(pending)).fields.phone.outcome, 'withhold')
  const sup = { id: 'sam', roles: ['supervisor'], segments: ['consumer'] }
  assert.throws(() => a.approveGrant(pending, { ...sup, id: 'alice' }), (e) => e.key === 'approver.id')
  const approved = a.approveGrant(pending, sup)
  const b = new Gate({ grantKey: ['a newer fleet key, 32 bytes long', key] })
  const d = b.decide(vip(approved))
  assert.equal(d.fields.phone.outcome, 'reveal')
  assert.notEqual(d.fields.email.outcome, 'reveal')
  a.revokeGrant(approved.id)
  assert.equal(a.decide(vip(approved)).fields.phone.outcome, 'withhold')
  assert.throws(() => a.issueBreakGlass({ ...grant, id: 'g-2', kind: 'break_glass', incident: 'INC-1', expiresAt: new Date(now + 2 * 3600_000) }),
    (e) => e.code === 'InvalidRequest' && e.key === 'grant.expiresAt')
})

test('canaries alert; suspects rank the employee who saw the complainants', () => {
  const dir = tmp()
  const gate = new Gate({ clock: 'replay', auditLog: path.join(dir, 'a.jsonl'), canaries: ['c-canary'] })
  const at = (emp, c) => {
    const r = baseRequest()
    r.employee.id = emp
    r.customer.id = c
    Object.assign(r.ticket, { id: `T-${c}`, customer: c, assignee: emp })
    return r
  }
  assert.ok(gate.decide(at('alice', 'c-canary')).alerts.some((a) => a.kind === 'canary'))
  for (const c of ['v1', 'v2', 'v3']) gate.decide(at('mallory', c))
  for (let i = 0; i < 4; i++) for (let j = 0; j < 15; j++) gate.decide(at(`a${i}`, `n${i}-${j}`))
  const ranked = gate.auditSuspects(['v1', 'v2', 'v3'], null, 'sec')
  assert.equal(ranked[0].employee, 'mallory')
  assert.equal(ranked[0].matched, 3)
  assert.ok(ranked[0].pValue < 1e-3)
})

test('array-likes are lists; a claimed length past the limit is refused before reading', () => {
  const gate = new Gate({ clock: 'replay' })
  const args = (function () { return arguments })('billing')
  for (const teams of [args, { length: 1, 0: 'billing' }]) {
    const r = baseRequest()
    r.employee.teams = teams
    assert.equal(gate.decide(r).fields.name.outcome, 'reveal')
  }
  const r = baseRequest()
  r.employee.teams = { length: 2 ** 32 - 1 }
  assert.throws(() => gate.decide(r), (e) => e.code === 'InvalidRequest' && e.key === 'employee.teams')
})

test('inherited keys are not data, on either path (a polluted Object.prototype adds nothing)', () => {
  const gate = new Gate({ clock: 'replay' })
  const plain = gate.decide(baseRequest())
  // a prototype other than Object.prototype sends the request key by key through N-API
  const inheriting = (own, inherited) => Object.assign(Object.create(inherited), own)
  for (const inherited of [{ fields: ['email'] }, { bogus: 'x' }, { purpose: 'legal' }]) {
    const d = gate.decide(inheriting(baseRequest(), inherited))
    assert.deepEqual(Object.keys(d.fields), Object.keys(plain.fields), JSON.stringify(inherited))
    assert.equal(d.purpose, 'support')
  }
  const r = baseRequest()
  r.customer = inheriting(r.customer, { bogus: 'x' })
  assert.deepEqual(gate.decide(r).fields, plain.fields)
  Object.defineProperty(Object.prototype, 'fields', { value: ['email'], enumerable: true, configurable: true })
  try {
    for (const req of [baseRequest(), inheriting(baseRequest(), {})]) {
      assert.deepEqual(Object.keys(gate.decide(req).fields), Object.keys(plain.fields))
    }
  } finally {
    delete Object.prototype.fields
  }
})

test('a Map or a Set is named as such, not read as an empty object', () => {
  const gate = new Gate({ clock: 'replay' })
  const req = baseRequest()
  const cases = [
    [new Map(Object.entries(req)), '', 'Map'],
    [{ ...req, employee: new Map(Object.entries(req.employee)) }, 'employee', 'Map'],
    [{ ...req, employee: { ...req.employee, roles: new Set(req.employee.roles) } }, 'employee.roles', 'Set'],
  ]
  for (const [bad, key, cls] of cases) {
    const named = (e) => e.code === 'InvalidRequest' && e.key === key && e.message.includes(`a ${cls}, not a plain object`)
    assert.throws(() => gate.decide(bad), named, key)
    const [ok, item] = gate.decideMany([req, bad])
    assert.equal(ok.fields.name.outcome, 'reveal')
    assert.deepEqual([item.code, item.key, item.reason.startsWith(`a ${cls}`)], ['InvalidRequest', key ? `[1].${key}` : '[1]', true])
  }
  assert.throws(() => gate.view(req, new Map([['name', 'Jane Doe']])), (e) => e.key === 'record' && /a Map/.test(e.message))
})

test('close writes out the audit log and lets a new gate open it', () => {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tg-close-')), 'audit.jsonl')
  const first = new Gate({ clock: 'replay', auditLog: log, durability: 'batched' })
  first.decide(baseRequest())
  first.close()
  first.close()
  assert.throws(() => first.decide(baseRequest()), (e) => e.code === 'AuditError' && /closed/.test(e.message))
  const second = new Gate({ clock: 'replay', auditLog: log })
  second.decide(baseRequest())
  second.close()
  assert.equal(native.verifyAudit([log]).records, 2)
})
