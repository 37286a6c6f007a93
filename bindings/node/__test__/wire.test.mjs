// `decide` gets a decision from the addon in its wire form (crates/ticketgate/src/ffi/wire.rs)
// and `index.js` builds the object from it. That object must be the one `JSON.parse` of the
// decision's JSON gives, key order included, for any decision: here real ones of every kind
// the gate makes, and generated ones with the strings a caller or a pack could put in them.
import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { baseRequest } from './helpers.mjs'

const require = createRequire(import.meta.url)
const { _decision: decision } = require('../index.js')
const native = require('../native.js')

/** The decision of `d`'s JSON through the wire, and whether the wire form was used. */
function roundTrip(d) {
  const wire = native._wire(JSON.stringify(d))
  return { back: decision(wire), wire: wire.charCodeAt(0) === 1 }
}

const same = (d) => {
  const { back, wire } = roundTrip(d)
  assert.equal(JSON.stringify(back), JSON.stringify(d))
  assert.deepStrictEqual(back, d)
  return wire
}

test('real decisions come back from the wire as their JSON says', () => {
  const record = { name: 'Ann Lee', email: 'ann@example.com', phone: '+49 30 1234567', ticket_numbers: ['T-1'] }
  const requests = [
    baseRequest(),
    { ...baseRequest(), ticket: null },
    { ...baseRequest(), at: '2026-11-28T20:00:00Z' },
    { ...baseRequest(), purpose: 'security_review' },
    { ...baseRequest(), fields: ['phone'] },
    { ...baseRequest(), customer: { id: 'c1', segment: 'consumer', vip: true, employee: false } },
    { ...baseRequest(), employee: { ...baseRequest().employee, suspended: true } },
  ]
  let kinds = 0
  for (const mode of ['enforce', 'shadow']) {
    const gate = new native.Gate({ clock: 'replay', mode })
    for (const r of requests) {
      // `view` still answers with JSON: the decision inside it is the reference
      const d = JSON.parse(gate.call('view', [r, record])).decision
      assert.ok(same(d), 'a real decision went by the wire')
      kinds += d.alerts.length > 0 ? 1 : 0
    }
  }
  assert.ok(kinds >= 4, 'decisions with alerts were among them')
})

// a small deterministic generator (mulberry32), so a failure replays
let seed = 20261129
const rand = (n) => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n)
}
const pick = (xs) => xs[rand(xs.length)]
const PIECES = ['a', 'Z', '0', '7', ' ', 'é', '✓', '😀', '\t', '\n', '"', '\\', '\x00', '\x03', '-', ':', '{', '[']
const word = () => Array.from({ length: rand(6) }, () => pick(PIECES)).join('')
// now and then a string the wire cannot carry as it is: the decision then goes as JSON
const text = () =>
  rand(100) === 0 ? word() + pick(['\x01', '\x02']) + word() : rand(8) === 0 ? pick(['', 'null', '__proto__', '123']) : word()
const count = () => pick([0, 1, 15, 30, 3600, 86400, 2 ** 32, 2 ** 53 - 1])
const OUTCOMES = ['reveal', 'mask', 'withhold']
const FIELD_NAMES = ['name', 'email', 'phone', 'ticket_numbers', '0', '10', '9', 'é']
const ODD_NAMES = ['__proto__', 'a\x01b', 'x\x02']

function fieldMap(value) {
  const names = [...FIELD_NAMES.filter(() => rand(3) === 0), ...ODD_NAMES.filter(() => rand(40) === 0)].sort()
  // keys in the order the core's map holds them: what JSON.parse of its text then makes
  return JSON.parse(JSON.stringify(Object.fromEntries(names.map((f) => [f, value()]))))
}

function generated() {
  const d = {
    decisionId: text(),
    at: new Date(rand(2 ** 31) * 1000 + rand(1000)).toISOString(),
    employee: text(),
    customer: text(),
    ticket: rand(3) === 0 ? null : text(),
    grant: rand(2) === 0 ? null : text(),
    purpose: pick(['support', 'security_review', 'legal_request', 'incident']),
    policyVersion: text(),
    fields: fieldMap(() => ({
      outcome: pick(OUTCOMES),
      policies: Array.from({ length: rand(3) }, text),
      errors: Array.from({ length: rand(2) }, text),
    })),
    alerts: Array.from({ length: rand(3) }, () => ({
      kind: text(), message: text(), severity: pick(['info', 'low', 'medium', 'high']), occurrence: count(),
    })),
    velocity:
      rand(4) === 0
        ? null
        : {
            count: count(), soft: count(), hard: count(), windowS: count(),
            day: { count: count(), soft: count(), hard: count(), windowS: count() },
          },
  }
  if (rand(3) === 0) d.wouldEnforce = fieldMap(() => pick(OUTCOMES))
  return d
}

test('generated decisions come back from the wire as their JSON says, escaping none', () => {
  let wire = 0
  let json = 0
  for (let n = 0; n < 3000; n++) {
    const d = generated()
    const strings = JSON.stringify(d)
    const needsJson = /\\u000[12]/.test(strings) || Object.hasOwn(d.fields, '__proto__') ||
      (d.wouldEnforce !== undefined && Object.hasOwn(d.wouldEnforce, '__proto__'))
    const byWire = same(d)
    assert.equal(byWire, !needsJson, strings)
    if (byWire) wire++
    else json++
  }
  assert.ok(wire > 300 && json > 300, `${wire} by the wire, ${json} as JSON`)
})

test('a wire form with a value more or less than its decision has is refused, not read', () => {
  const plain = {
    decisionId: 'd', at: '2026-11-28T10:20:00.000Z', employee: 'e', customer: 'c', ticket: 'T-1', grant: null,
    purpose: 'support', policyVersion: 'v',
    fields: { email: { outcome: 'mask', policies: ['R3'], errors: [] }, name: { outcome: 'reveal', policies: ['R1'], errors: [] } },
    alerts: [{ kind: 'velocity_soft', message: 'm', severity: 'info', occurrence: 1 }],
    velocity: { count: 1, soft: 15, hard: 30, windowS: 3600, day: { count: 1, soft: 120, hard: 240, windowS: 86400 } },
  }
  const shadow = { ...plain, wouldEnforce: { email: 'mask', name: 'withhold' } }
  for (const d of [plain, shadow, { ...plain, fields: {}, alerts: [], velocity: null }]) {
    const wire = native._wire(JSON.stringify(d))
    assert.equal(wire.charCodeAt(0), 1)
    assert.deepStrictEqual(decision(wire), d)
    for (const bad of [wire + '\x01x', wire + '\x011', wire.slice(0, wire.lastIndexOf('\x01'))]) {
      assert.throws(() => decision(bad), { code: 'TicketgateError' }, JSON.stringify(bad))
    }
  }
})
