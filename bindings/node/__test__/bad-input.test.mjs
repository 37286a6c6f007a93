// The bad-input catalogue (docs/bad-input.md): every row is a case here.
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { baseRequest, ROOT } from './helpers.mjs'

const require = createRequire(import.meta.url)
const { Gate } = require('../index.js')

const rows = [...fs.readFileSync(path.join(ROOT, 'docs/bad-input.md'), 'utf8').matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1])

const nested = (n) => {
  let v = 'x'
  for (let i = 0; i < n; i++) v = [v]
  return v
}
const decide = (change, live = false) => () => {
  const r = baseRequest()
  change(r)
  new Gate(live ? {} : { clock: 'replay' }).decide(r)
}
const badPack = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-pack-'))
  for (const f of fs.readdirSync(path.join(ROOT, 'policies')).filter((f) => /\.ceda/.test(f))) {
    fs.copyFileSync(path.join(ROOT, 'policies', f), path.join(dir, f))
  }
  fs.writeFileSync(path.join(dir, 'broken.cedar'), '@id("x")\npermit (principal, action, resource)\nwhen { principal.nope };\n')
  new Gate({ policies: dir })
}

const CASES = {
  'malformed-json': [() => new Gate({ clock: 'replay' }).decide('{"employee":'), 'InvalidRequest', ''],
  'wrong-type': [decide((r) => (r.customer.vip = 'yes')), 'InvalidRequest', 'customer.vip'],
  'huge-string': [decide((r) => (r.client = 'x'.repeat(2000))), 'InvalidRequest', 'client'],
  'huge-list': [decide((r) => (r.employee.teams = Object.assign([], { length: 2 ** 32 - 1 }))), 'InvalidRequest', 'employee.teams'],
  'deep-nesting': [decide((r) => (r.justification = nested(200_000))), 'InvalidRequest', 'justification'],
  'non-utf8': [decide((r) => (r.employee.id = 'alice\ud800')), 'InvalidRequest', 'employee.id'],
  'naive-time': [decide((r) => (r.at = '2026-11-28T10:00:00')), 'InvalidRequest', 'at'],
  'unknown-key': [decide((r) => (r.employee.nickname = 'x')), 'InvalidRequest', 'employee.nickname'],
  'unknown-purpose': [decide((r) => (r.purpose = 'curiosity')), 'InvalidRequest', 'purpose'],
  'missing-fact': [decide((r) => delete r.customer.vip), 'InvalidRequest', 'customer'],
  'at-out-of-window': [decide((r) => (r.at = new Date(Date.now() + 3600_000)), true), 'InvalidRequest', 'at'],
  'blank-id': [decide((r) => (r.customer.id = r.ticket.customer = '  ')), 'InvalidRequest', 'customer.id'],
  'ticket-mismatch': [decide((r) => (r.ticket.customer = 'c2')), 'InvalidRequest', 'ticket.customer'],
  'duplicate-key': [decide((r) => (r.ticket.opened_at = '2026-11-28T07:00:00Z')), 'InvalidRequest', 'ticket.opened_at'],
  'empty-grant-key': [() => new Gate({ grantKey: '' }), 'InvalidRequest', 'grantKey'],
  'invalid-pack': [badPack, 'PolicyError', null],
}

test('every row of the catalogue is a case', () => {
  assert.ok(rows.length > 10)
  assert.deepEqual(new Set(rows), new Set(Object.keys(CASES)))
})

for (const row of rows.filter((r) => CASES[r])) {
  test(`bad input: ${row}`, () => {
    const [run, code, key] = CASES[row]
    assert.throws(run, (e) => {
      assert.equal(e.code, code, e.message)
      if (key !== null) assert.ok(e.key === key || e.key.startsWith(`${key}[`), `${e.key} vs ${key}`)
      return true
    })
  })
}

// V8 hands a key out as UTF-8 with U+FFFD for a lone surrogate; looked up again by that
// spelling it found nothing, and the key and its value vanished from a request or a record
test('a key with a lone surrogate is refused where it stands, not dropped', async () => {
  const gate = new Gate({ clock: 'replay' })
  const r = baseRequest()
  const refused = (key) => (e) => e.code === 'InvalidRequest' && e.key === key && /lone surrogate/.test(e.reason)
  assert.throws(() => gate.decide({ ...r, 'purpose\ud800': 'x' }), refused(''))
  assert.throws(() => gate.decide({ ...r, employee: { ...r.employee, '\udc00id': 'x' } }), refused('employee'))
  assert.throws(() => gate.view(r, { 'na\ud800me': 'Ann Lee' }), refused('record'))
  await assert.rejects(gate.viewAsync(r, { 'e\ud800mail': 'ann@example.com' }), refused('record'))
  const [ok, bad] = await gate.decideManyAsync([r, { ...r, customer: { ...r.customer, 'v\ud800ip': true } }])
  assert.equal(ok.fields.email.outcome, 'reveal')
  assert.ok(refused('[1].customer')(bad), bad)
  // a pair is a character like any other
  assert.equal(gate.view(r, { '\ud83d\ude00': 'x' }).record['\ud83d\ude00'], 'x')
})
