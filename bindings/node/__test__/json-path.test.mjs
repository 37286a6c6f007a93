// index.js hands the addon a request as JSON text when `plain` says the text says exactly
// what the value says; otherwise the addon reads the value key by key. Both must give the same
// decision, or the same error, for any input: here for the base request with one part
// changed to each kind of value a caller could pass, in both key spellings.
import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { inspect, isDeepStrictEqual } from 'node:util'
import { baseRequest, camelKeys } from './helpers.mjs'

const require = createRequire(import.meta.url)
const { _text: text, _decision: decision } = require('../index.js')
const native = require('../native.js')

class Point { constructor() { this.x = 1 } }
let deep = 'x'
for (let i = 0; i < 20; i++) deep = [deep]
const values = [
  null, undefined, true, 0, -0, 7, 1.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53) - 2, 10n,
  '', 'alice', 'x'.repeat(2000), 'x'.repeat(70000), '\ud800', 'é✓', '2026-11-28T09:00:00Z',
  new Date('2026-11-28T09:00:00Z'), new Date(NaN), new Date(-8.64e15), () => 1, Symbol('s'),
  Object.assign(new Date('2026-11-28T09:00:00Z'), { toJSON: () => '2026-11-28T20:00:00Z' }),
  [], ['consumer'], ['consumer', 7], [undefined], new Array(3), Array(300).fill('a'), deep,
  {}, { nickname: 'x' }, { length: 1, 0: 'consumer' }, { toJSON: () => 'consumer' },
  Object.create(null), new Point(), new Map([['a', 1]]), new Set(['consumer']), new Uint8Array([1, 2]),
  Object.assign(Object.create(null), { id: 'c1' }), new String('consumer'),
  Object.defineProperty({}, 'id', { enumerable: true, get() { throw new Error('boom') } }),
  new Proxy({}, { getPrototypeOf() { throw new Error('trap') } }),
]
const paths = [
  [], ['employee'], ['employee', 'id'], ['employee', 'segments'], ['employee', 'officeCountry'],
  ['employee', 'office_country'], ['customer', 'vip'], ['customer', 'segment'], ['ticket'],
  ['ticket', 'status'], ['ticket', 'openedAt'], ['ticket', 'closedAt'], ['ticket', 'closed_at'],
  ['purpose'], ['at'], ['justification'], ['fields'], ['client'], ['nickname'],
]

function changed(path, value, spelling) {
  const r = spelling === 'snake' ? baseRequest() : camelKeys(baseRequest())
  if (path.length === 0) return value
  let o = r
  for (const k of path.slice(0, -1)) o = o[k]
  o[path.at(-1)] = value
  return r
}

const show = (v) => inspect(v, { depth: 1 }).slice(0, 60)

function outcome(f) {
  try {
    const d = f()
    delete d.decisionId
    return { ok: d }
  } catch (e) {
    return { code: e.code, key: e.key, reason: e.reason, message: e.message }
  }
}

test('the JSON text path decides and refuses exactly as reading the value does', () => {
  const byText = new native.Gate({ clock: 'replay' })
  const byValue = new native.Gate({ clock: 'replay' })
  let texts = 0
  let decided = 0
  let n = 0
  for (const spelling of ['snake', 'camel']) {
    for (const path of paths) {
      for (const value of values) {
        const r = changed(path, value, spelling)
        const t = text(r)
        if (t !== undefined) texts++
        n++
        const a = outcome(() => decision(byText.call('decide', r, t)))
        const b = outcome(() => decision(byValue.call('decide', r)))
        if (!isDeepStrictEqual(a, b)) assert.deepEqual(a, b, `${spelling} ${path.join('.')} = ${show(value)}`)
        if (a.ok) decided++
      }
    }
  }
  // the text path must have been taken for most inputs, or this test proves nothing
  assert.ok(texts > n / 3, `${texts} of ${n} went by text`)
  // and decisions must have been compared, not only errors (most changes make a request invalid)
  assert.ok(decided >= 50, `${decided} of ${n} were decided`)
})

test('batches and views by text match batches and views by value', () => {
  const byText = new native.Gate({ clock: 'replay' })
  const byValue = new native.Gate({ clock: 'replay' })
  const requests = values.map((v) => changed(['ticket', 'status'], v, 'camel'))
  requests.push(baseRequest(), camelKeys(baseRequest()))
  const plainOnes = requests.filter((r) => text(r) !== undefined)
  const strip = (xs) => xs.map((x) => (x instanceof Error ? { code: x.code, key: x.key, index: x.index } : { ...x, decisionId: 0 }))
  const batch = plainOnes
  assert.ok(batch.length > 10)
  assert.deepEqual(strip(byText.call('decide_many', batch, JSON.stringify(batch))), strip(byValue.call('decide_many', batch)))
  const record = { name: 'Ann Lee', email: 'ann@example.com', phone: '+49 30 1234567', ticket_numbers: ['T-1'], note: 'é' }
  const pairs = plainOnes.map((r) => [r, record])
  const views = (xs) => xs.map((x) => (x instanceof Error ? { code: x.code, key: x.key } : { record: x.record, d: { ...x.decision, decisionId: 0 } }))
  assert.deepEqual(views(byText.call('view_many', pairs, JSON.stringify(pairs))), views(byValue.call('view_many', pairs)))
  const one = [baseRequest(), record]
  const v1 = outcome(() => JSON.parse(byText.call('view', one, text(one, 2))).decision)
  const v2 = outcome(() => JSON.parse(byValue.call('view', one)).decision)
  assert.deepEqual(v1, v2)
})

test('a Date or array whose toJSON is not the built-in one is read as the value, not its JSON', () => {
  const { Gate } = require('../index.js')
  // each would make JSON.stringify write something other than what the addon reads: a shift
  // that ends at 20:00 rather than 16:00 would reveal at 17:00
  const late = () => '2026-11-28T20:00:00Z'
  const patches = [
    [Date.prototype, 'toJSON', late], [Date.prototype, 'toISOString', late],
    [Array.prototype, 'toJSON', () => ['admin']], [Object.prototype, 'toJSON', () => ({})],
  ]
  for (const [proto, key, f] of patches) {
    const r = camelKeys(baseRequest())
    r.employee.shift.end = new Date('2026-11-28T16:00:00Z')
    r.at = new Date('2026-11-28T17:00:00Z')
    const saved = Object.getOwnPropertyDescriptor(proto, key)
    // as a library patches a prototype: not enumerable
    Object.defineProperty(proto, key, { value: f, configurable: true, writable: true })
    try {
      assert.equal(text(r), undefined, `${key} replaced`)
      const a = outcome(() => new Gate({ clock: 'replay' }).decide(r))
      const b = outcome(() => decision(new native.Gate({ clock: 'replay' }).call('decide', r)))
      assert.deepEqual(a, b, `${key} replaced`)
      assert.ok(a.ok && Object.values(a.ok.fields).every((x) => x.outcome !== 'reveal'), `${key} replaced: off shift`)
    } finally {
      if (saved) Object.defineProperty(proto, key, saved)
      else delete proto[key]
    }
  }
  const r = camelKeys(baseRequest())
  r.at = new Date('2026-11-28T10:20:00Z')
  assert.equal(text(r), JSON.stringify(r), 'with the built-ins back, a Date goes by text again')
  // replaced before index.js was loaded: what it captured is not the built-in either
  const early = `Date.prototype.toJSON = function () { return 'local' }
    const { _text } = require(${JSON.stringify(require.resolve('../index.js'))})
    process.stdout.write(String(_text({ at: new Date(0) }) === undefined && _text({ at: 'x' }) !== undefined))`
  assert.equal(execFileSync(process.execPath, ['-e', early], { encoding: 'utf8' }), 'true')
})
