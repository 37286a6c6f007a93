// Node-specific behaviour: errors with codes, Dates, async work, callbacks, audit, types.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ROOT, baseRequest } from './helpers.mjs'

const require = createRequire(import.meta.url)
const { Gate, verifyAudit, mask } = require('../index.js')
const HERE = path.join(ROOT, 'bindings/node')

test('decisions are plain camelCase objects; field names stay as they are', () => {
  const d = new Gate({ clock: 'replay' }).decide(baseRequest())
  assert.equal(d.fields.email.outcome, 'reveal')
  assert.equal(d.fields.phone.outcome, 'mask')
  assert.deepEqual(d.fields.ticket_numbers.policies, ['R1-own-ticket'])
  assert.deepEqual(d.velocity, { count: 1, soft: 15, hard: 30, windowS: 3600, day: { count: 1, soft: 120, hard: 240, windowS: 86400 } })
  assert.equal(d.grant, null)
  assert.match(d.policyVersion, /^sha256:[0-9a-f]{64}$/)
  assert.equal(Object.getPrototypeOf(d), Object.prototype)
})

test('Date objects are accepted as times', () => {
  const r = baseRequest()
  r.at = new Date('2026-11-28T10:00:00Z')
  r.ticket.openedAt = new Date('2026-11-28T07:00:00Z')
  assert.equal(new Gate({ clock: 'replay' }).decide(r).at, '2026-11-28T10:00:00.000Z')
  r.at = new Date('nope')
  assert.throws(() => new Gate({ clock: 'replay' }).decide(r), { code: 'InvalidRequest', key: 'at' })
})

for (const [name, mutate, key] of [
  ['ticket for another customer', (r) => (r.ticket.customer = 'c2'), 'ticket.customer'],
  ['unknown purpose', (r) => (r.purpose = 'curiosity'), 'purpose'],
  ['unknown field', (r) => (r.fields = ['name', 'ssn']), 'fields[1]'],
  ['unknown key', (r) => (r.employee.clearance = 'top'), 'employee.clearance'],
  ['wrong type', (r) => (r.customer.vip = 'yes'), 'customer.vip'],
  ['naive time', (r) => (r.at = '2026-11-28T10:00:00'), 'at'],
  ['closed without closedAt', (r) => (r.ticket.status = 'closed'), 'ticket.closedAt'],
  ['open with closedAt', (r) => (r.ticket.closedAt = '2026-11-28T09:00:00Z'), 'ticket.closedAt'],
]) {
  test(`invalid request: ${name}`, async () => {
    const r = baseRequest()
    mutate(r)
    const gate = new Gate({ clock: 'replay' })
    assert.throws(() => gate.decide(r), (e) => e instanceof Error && e.code === 'InvalidRequest' && e.key === key)
    await assert.rejects(gate.decideAsync(r), (e) => e.code === 'InvalidRequest' && e.key === key)
  })
}

test('policy errors carry file, line and column', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-pack-'))
  for (const f of fs.readdirSync(path.join(ROOT, 'policies')).filter((f) => /\.ceda/.test(f))) {
    fs.copyFileSync(path.join(ROOT, 'policies', f), path.join(dir, f))
  }
  fs.writeFileSync(path.join(dir, 'broken.cedar'), '@id("x")\npermit (principal, action, resource)\nwhen { principal.nope };\n')
  assert.throws(() => new Gate({ clock: 'replay', policies: dir }), (e) => e.code === 'PolicyError' && e.file === 'broken.cedar' && e.line === 3 && e.policyId === 'x')
  const gate = new Gate({ clock: 'replay' })
  const before = gate.policyVersion
  assert.throws(() => gate.reload(dir), { code: 'PolicyError' })
  assert.equal(gate.policyVersion, before)
  assert.throws(() => new Gate({ clock: 'replay', velocity: { windowS: 60, soft: 10, hard: 5 } }), { code: 'InvalidRequest' })
  assert.throws(() => new Gate({ clock: 'replay', durablity: 'always' }), { code: 'InvalidRequest', key: 'durablity' })
})

test('1,000 concurrent decideAsync calls all resolve correctly', async () => {
  const gate = new Gate({ clock: 'replay', velocity: { windowS: 3600, soft: 100000, hard: 100000, day: { soft: 100000, hard: 100000 } } })
  const jobs = []
  for (let i = 0; i < 1000; i++) {
    const r = baseRequest()
    r.customer.id = `c${i}`
    r.ticket.customer = `c${i}`
    r.ticket.assignee = i % 2 ? 'alice' : 'bob'
    jobs.push(gate.decideAsync(r).then((d) => [i, d]))
  }
  const results = await Promise.all(jobs)
  assert.equal(results.length, 1000)
  for (const [i, d] of results) {
    assert.equal(d.customer, `c${i}`)
    assert.equal(d.fields.name.outcome, i % 2 ? 'reveal' : 'mask')
  }
})

test('decideManyAsync and viewManyAsync run off the main thread and match the sync batches', async () => {
  const reqs = []
  for (let i = 0; i < 400; i++) {
    const r = baseRequest()
    r.customer.id = `c${i}`
    r.ticket.customer = `c${i}`
    r.ticket.assignee = `e${i % 8}`
    r.employee.id = `e${i % 8}`
    reqs.push(r)
  }
  reqs[7] = { ...reqs[7], purpose: 'gossip' }
  const opts = { clock: 'replay', velocity: { windowS: 3600, soft: 100000, hard: 100000, day: { soft: 100000, hard: 100000 } } }
  // peer signals compare an employee with the others, who are decided at the same time on the
  // other core: when one fires may differ between two batches (docs/detection.md)
  const peer = new Set(['reveal_volume', 'self_assigned'])
  const strip = (d) =>
    d instanceof Error ? [d.code, d.key, d.index] : { ...d, decisionId: undefined, alerts: d.alerts.filter((a) => !peer.has(a.kind)) }
  const sync = new Gate(opts).decideMany(reqs).map(strip)
  let ticks = 0
  const timer = setInterval(() => ticks++, 0)
  const pending = new Gate(opts).decideManyAsync(reqs)
  // the batch is the requests as they were at the call, though read on another thread
  const customer = reqs[0].ticket.customer
  reqs[0].ticket.customer = 'someone-else'
  const decided = await pending
  reqs[0].ticket.customer = customer
  clearInterval(timer)
  assert.deepEqual(decided.map(strip), sync)
  assert.ok(decided[7] instanceof Error && decided[7].code === 'InvalidRequest' && decided[7].index === 7)
  assert.ok(ticks > 0, 'the event loop ran while the batch was decided')
  const record = { name: 'Jane Doe', email: 'jane.doe@example.com', phone: '555-555-1234', ticket_numbers: ['TCK-004512'] }
  const views = await new Gate(opts).viewManyAsync(reqs.slice(0, 10).map((r) => [r, record]).concat([[reqs[0], 'not a record']]))
  assert.equal(views[0].record.email, 'jane.doe@example.com')
  assert.equal(views[7].code, 'InvalidRequest')
  assert.ok(views[10] instanceof Error && views[10].index === 10)
})

test('a large async batch, sent in parts, gives what the same batch sent whole gives', async () => {
  // index.js sends more than 500 items in parts of 500; a bad item keeps its place and its
  // index in the whole batch, whichever part it came in
  const record = { name: 'Jane Doe', email: 'jane.doe@example.com', phone: '555-555-1234', ticket_numbers: ['TCK-004512'] }
  const reqs = []
  for (let i = 0; i < 1234; i++) {
    const r = baseRequest()
    r.customer.id = r.ticket.customer = `c${i % 300}`
    r.employee.id = r.ticket.assignee = `e${i % 9}`
    reqs.push(r)
  }
  reqs[3] = { ...reqs[3], purpose: 'gossip' }
  reqs[500] = { ...reqs[500], fields: ['shoe_size'] }
  reqs[1233] = 'not a request'
  const opts = { clock: 'replay', velocity: { windowS: 3600, soft: 20, hard: 40, day: { soft: 1000, hard: 2000 } } }
  const peer = new Set(['reveal_volume', 'self_assigned'])
  const strip = (d) =>
    d instanceof Error ? [d.code, d.key, d.index]
      : d.decision ? { record: d.record, decision: strip(d.decision) }
        : { ...d, decisionId: undefined, alerts: d.alerts.filter((a) => !peer.has(a.kind)) }
  const whole = new Gate(opts).decideMany(reqs).map(strip)
  assert.deepEqual([whole[3][1], whole[500][1], whole[1233][2]], ['[3].purpose', '[500].fields[0]', 1233])
  assert.ok(whole.some((d) => d.fields && Object.values(d.fields).some((f) => f.outcome === 'withhold')), 'the hard limit was reached')
  assert.deepEqual((await new Gate(opts).decideManyAsync(reqs)).map(strip), whole)
  const pairs = reqs.map((r, i) => [r, i === 700 ? { ...record, phone: 5551234 } : record])
  const views = new Gate(opts).viewMany(pairs).map(strip)
  assert.deepEqual(views[700][1], '[700].record.phone')
  assert.deepEqual((await new Gate(opts).viewManyAsync(pairs)).map(strip), views)
  // a large batch that JSON would not say exactly (a Map) is read by value, as the sync one is
  const mixed = reqs.slice(0, 600)
  mixed[550] = { ...mixed[550], customer: new Map([['id', 'c1']]) }
  const byValue = new Gate(opts).decideMany(mixed).map(strip)
  assert.equal(byValue[550][0], 'InvalidRequest')
  assert.deepEqual((await new Gate(opts).decideManyAsync(mixed)).map(strip), byValue)
  // a getter that throws only when read again (after the check) rejects; it does not throw
  let reads = 0
  const odd = Object.defineProperty({ ...baseRequest() }, 'purpose', { enumerable: true, get() { if (reads++) throw new Error('read twice'); return 'support' } })
  const promise = new Gate(opts).decideManyAsync([...reqs.slice(0, 600), odd])
  await assert.rejects(promise, /read twice/)
  // the addon's parts, finished twice
  const feed = new (require('../native.js').Gate)(opts).feed(false)
  feed.push(JSON.stringify([baseRequest()]))
  assert.equal((await feed.finish()).length, 1)
  await assert.rejects(feed.finish(), { code: 'InvalidRequest', message: /finished already/ })
})

test('alerts carry severity and their place in the episode; peerSignals are checked', () => {
  const gate = new Gate({ clock: 'replay', peerSignals: { ratio: 4, minExcess: 5, minPeers: 2 } })
  const noTicket = { ...baseRequest(), ticket: null }
  const first = gate.decide(noTicket).alerts.find((a) => a.kind === 'no_ticket')
  assert.deepEqual([first.severity, first.occurrence], ['low', 1])
  assert.equal(gate.decide(noTicket).alerts.find((a) => a.kind === 'no_ticket').occurrence, 2)
  assert.throws(() => new Gate({ clock: 'replay', peerSignals: { ratio: 0.5 } }), { code: 'InvalidRequest', key: 'peerSignals.ratio' })
  assert.throws(() => new Gate({ maxAgeS: 1e12 }), { code: 'InvalidRequest', key: 'maxAgeS' })
  assert.throws(() => new Gate({ maxSkewS: 3601 }), { code: 'InvalidRequest', key: 'maxSkewS' })
  const rotating = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tg-')), 'audit.jsonl')
  assert.throws(() => new Gate({ auditLog: rotating, auditRotateBytes: 0 }), { code: 'InvalidRequest', key: 'auditRotateBytes' })
})

test('view and viewMany mask a record', () => {
  const gate = new Gate({ clock: 'replay' })
  const record = { name: 'Jane Doe', email: 'jane.doe@example.com', phone: '555-555-1234', ticket_numbers: ['TCK-004512'], plan: 'gold' }
  const v = gate.view(baseRequest(), record)
  assert.equal(v.record.email, 'jane.doe@example.com')
  assert.equal(v.decision.fields.email.outcome, 'reveal')
  const r = baseRequest()
  r.ticket.assignee = 'bob'
  assert.deepEqual(gate.viewMany([[r, record]])[0].record, {
    name: 'J*** D**', email: 'j***@example.com', phone: '***-***-1234', ticket_numbers: null, plan: 'gold',
  })
  assert.throws(() => gate.view(r, { phone: 5551234 }), { code: 'InvalidRequest', key: 'record.phone' })
  // a record that is not an object (null included: it would read as an empty record)
  for (const bad of [null, undefined, 5, ['Jane Doe']]) {
    assert.throws(() => gate.view(r, bad), { code: 'InvalidRequest', key: 'record', message: /an object/ })
    const failed = gate.viewMany([[r, record], [r, bad]])[1]
    assert.ok(failed instanceof Error && failed.key === '[1].record', String(failed))
  }
  assert.equal(mask('phone', '+1 555-555-1234'), '+1 ***-***-1234')
  // mask takes a value as a record holds it, and names what it cannot take with a contract code
  assert.deepEqual(mask('ticket_numbers', ['billing-42', 'TCK-004512']), ['billing-**', 'TCK-****12'])
  assert.deepEqual(mask('email', ['a@x.org', 'nope']), ['a***@x.org', null])
  assert.equal(mask('name', null), null)
  assert.equal(mask('name', undefined), null)
  for (const [bad, key] of [[5, 'value'], [{ a: 'b' }, 'value'], [['a', 5], 'value[1]']]) {
    assert.throws(() => mask('name', bad), { code: 'InvalidRequest', key })
  }
  assert.throws(() => mask(5, 'x'), { code: 'InvalidRequest', key: 'field' })
  // a JavaScript record keys its fields in camelCase: the key is still the field
  const camel = { ticketNumbers: ['TCK-004512'], Phone: '555-555-1234', fullName: 'Jane Doe' }
  for (const v of [gate.view(r, camel).record, gate.viewMany([[r, camel]])[0].record]) {
    assert.deepEqual(v, { ticketNumbers: null, Phone: '***-***-1234', fullName: 'Jane Doe' })
  }
})

test('kill switch and an onAlert callback that throws', async () => {
  const seen = []
  let done
  const called = new Promise((r) => (done = r))
  const gate = new Gate({
    clock: 'replay',
    onAlert: (alert, decision) => {
      seen.push([alert.kind, decision.employee])
      done()
      throw new Error('a broken callback must not break decisions')
    },
  })
  gate.suspend('alice', 'investigation')
  assert.equal(gate.suspended()[0].employee, 'alice')
  assert.throws(() => gate.suspend('', 'x'), { code: 'InvalidRequest', key: 'employeeId' })
  // alert delivery does not hold the event loop open by itself (a server's loop is always busy)
  const keepAlive = setInterval(() => {}, 1000)
  const d = gate.decide(baseRequest())
  assert.deepEqual(Object.values(d.fields).map((f) => f.outcome), ['withhold', 'withhold', 'withhold', 'withhold'])
  await called
  await new Promise((r) => setTimeout(r, 50))
  clearInterval(keepAlive)
  assert.ok(seen.some(([k, e]) => k === 'suspended' && e === 'alice'))
  assert.ok(gate.alertStats().failed >= 1)
  assert.equal(gate.reinstate('alice'), true)
  assert.equal(gate.decide(baseRequest()).fields.name.outcome, 'reveal')
})

test('audit log from Node, verified and tampered', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-audit-'))
  const log = path.join(dir, 'audit.jsonl')
  const gate = new Gate({ clock: 'replay', auditLog: log, durability: 'always' })
  gate.decide({ ...baseRequest(), client: 'console' })
  assert.deepEqual(gate.auditAffected('alice', null, null, 'sec').map((a) => a.customer), ['c1'])
  assert.equal(gate.auditCustomer('c1')[0].client, 'console')
  const head = gate.auditHead()
  assert.equal(verifyAudit([log], head).records, 3)
  const lines = fs.readFileSync(log, 'utf8').split('\n')
  fs.writeFileSync(log, lines[0].replace('alice', 'mallory') + '\n' + lines.slice(1).join('\n'))
  assert.throws(() => verifyAudit([log]), { code: 'AuditError' })
})

test('the generated native.d.ts is the committed one', () => {
  const out = execFileSync('git', ['status', '--porcelain', '--', 'native.d.ts'], { cwd: HERE, encoding: 'utf8' })
  assert.equal(out.trim(), '', 'a build changed native.d.ts: commit the regenerated file')
})

test('an addon that is not built is named, with the commands that build it', () => {
  // as npm 12 leaves the package: its files, without the install script's build
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketgate-unbuilt-'))
  for (const f of ['index.js', 'native.js', 'package.json']) fs.copyFileSync(path.join(HERE, f), path.join(dir, f))
  try {
    assert.throws(() => require(path.join(dir, 'index.js')), (e) => {
      assert.equal(e.code, 'TicketgateError')
      assert.match(e.message, /could not be loaded \(.*ticketgate\.[^ ]*\.node/)
      assert.match(e.message, /npm install-scripts approve ticketgate && npm rebuild ticketgate/)
      assert.ok(e.cause instanceof Error)
      return true
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a TypeScript usage example type-checks', () => {
  execFileSync(path.join(HERE, 'node_modules/.bin/tsc'), ['--noEmit', '-p', path.join(HERE, '__test__/tsconfig.json')], {
    stdio: 'pipe',
  })
})

const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

for (const doc of DOCS) test(`JavaScript examples in ${doc} run`, () => {
  const text = fs.readFileSync(path.join(ROOT, doc), 'utf8')
  const blocks = text.split('```js\n').slice(1).map((b) => b.split('```')[0])
  for (const b of blocks) {
    const src = b
      .replaceAll("require('ticketgate')", `require(${JSON.stringify(path.join(HERE, 'index.js'))})`)
      .replaceAll("require('ticketgate/express')", `require(${JSON.stringify(path.join(HERE, 'express.js'))})`)
      .replaceAll("require('express')", `require(${JSON.stringify(path.join(HERE, 'node_modules', 'express'))})`)
    execFileSync(process.execPath, ['-e', src], { cwd: os.tmpdir(), stdio: 'pipe' })
  }
})

test('shadow mode refuses nothing and says what would have been enforced', () => {
  const d = new Gate({ clock: 'replay', mode: 'shadow' }).decide({ ...baseRequest(), ticket: null })
  assert.equal(d.fields.name.outcome, 'reveal')
  assert.equal(d.wouldEnforce.name, 'withhold')
  assert.equal(new Gate({ clock: 'replay' }).decide(baseRequest()).wouldEnforce, undefined)
  assert.throws(() => new Gate({ clock: 'replay', mode: 'lenient' }), { code: 'InvalidRequest', key: 'mode' })
})

test('a restarted gate restores what its memory store forgot from the trail', () => {
  const trail = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-restore-'))
  const velocity = { windowS: 3600, soft: 1, hard: 1 }
  const before = new Gate({ clock: 'replay', auditLog: trail, velocity })
  assert.equal(before.decide(baseRequest()).fields.name.outcome, 'reveal')
  before.suspend('mallory', 'sold customer data')
  before.close()
  const after = new Gate({ clock: 'replay', auditLog: trail, velocity })
  assert.equal(after.needsRestore, true)
  assert.deepEqual(after.restore(), { suspended: ['mallory'], revoked: [], counted: 1, skipped: [] })
  const other = baseRequest()
  other.customer.id = other.ticket.customer = 'c2'
  assert.notEqual(after.decide(other).fields.name.outcome, 'reveal')
  const mallory = baseRequest()
  mallory.employee.id = mallory.ticket.assignee = 'mallory'
  assert.ok(Object.values(after.decide(mallory).fields).every((f) => f.outcome === 'withhold'))
  assert.equal(new Gate({ clock: 'replay' }).needsRestore, false)
  assert.throws(() => new Gate({ clock: 'replay' }).restore(), { code: 'InvalidRequest', key: 'auditLog' })
  after.close()
  const shared = new Gate({ clock: 'replay', auditLog: trail, velocityStore: `sqlite:///${trail}/v.db` })
  assert.equal(shared.needsRestore, false)
  shared.close()
  fs.rmSync(trail, { recursive: true })
})

test('the bench loop decides and audits each time, and refuses bad input', () => {
  // benches/node_bench.mjs times `decide` against it: it must be the core's real decide
  const native = require('../native.js')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-'))
  const core = new native.Gate({ clock: 'replay', auditLog: path.join(dir, 'audit.jsonl') }, undefined)
  assert.ok(JSON.parse(core.call('decide_loop', { request: baseRequest(), times: 3 })) >= 0)
  assert.match(JSON.parse(core.call('audit_head', {})), /^3:/)
  const bad = { request: { ...baseRequest(), employee: 1 }, times: 1 }
  assert.throws(() => core.call('decide_loop', bad), (e) => e.code === 'InvalidRequest' && /request\.employee/.test(e.message))
  fs.rmSync(dir, { recursive: true })
})
