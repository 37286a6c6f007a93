// Every shared JSON vector, through the Node surface (keys converted to camelCase).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { camelKeys, vectorCases } from './helpers.mjs'

const { Gate } = createRequire(import.meta.url)('../index.js')
const cases = vectorCases()

test('there are enough vectors', () => assert.ok(cases.length >= 60))

for (const c of cases) {
  test(`${c.file} :: ${c.name}`, () => {
    const gate = new Gate({ clock: 'replay' })
    const request = camelKeys(c.request)
    if (request.grant && typeof request.grant === 'object' && c.sign_grant !== false) {
      request.grant = gate.signGrant(request.grant)
    }
    if (c.expect_error) {
      assert.throws(() => gate.decide(request), (e) => e instanceof Error && e.code === c.expect_error)
      return
    }
    const before = new Date(Date.parse(request.at) - 60_000)
    if (c.revoke_grant) gate.revokeGrant(request.grant.id)
    for (let i = 0; i < (c.velocity_count ?? 0); i++) gate.recordReveal(request.employee.id, `velocity-seed-${i}`, before)
    const d = gate.decide(request)
    const got = Object.fromEntries(Object.keys(c.expect).map((f) => [f, d.fields[f]?.outcome ?? 'withhold']))
    assert.deepEqual(got, c.expect, JSON.stringify(d.fields))
    if (c.expect_alerts) assert.deepEqual(d.alerts.map((a) => a.kind).sort(), [...c.expect_alerts].sort())
  })
}
