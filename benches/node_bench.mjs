// Per-decision time, side by side: ticketgate from Node, the Rust API (its own loop, in turns
// with Node's in this process), @cedar-policy/cedar-wasm doing the same four checks with the
// same policies and entities, and Casbin with an ABAC model of rule R1; then a 10,000-request
// batch against a loop.
//
//   (cd bindings/node && npm run build)
//   (cd benches && npm install) && node benches/node_bench.mjs [--json] [--memory]
//
// `benches/compare` runs this with `--json`. Each figure is the median of 5 rounds (of 40
// pairs for Node and the Rust API).
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { Gate } = require(path.join(ROOT, 'bindings/node/index.js'))
const native = require(path.join(ROOT, 'bindings/node/native.js'))
const cedar = require('@cedar-policy/cedar-wasm/nodejs')
const REQ_FILE = path.join(ROOT, 'examples/request.json')
const snake = JSON.parse(fs.readFileSync(REQ_FILE, 'utf8'))
const camel = (v) =>
  Array.isArray(v)
    ? v.map(camel)
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), camel(x)]))
      : v
const REQUEST = camel(snake)
const FIELDS = ['name', 'email', 'phone', 'ticket_numbers']
const N = 20000

function perCallUs(fn, n = N, rounds = 5) {
  for (let i = 0; i < n / 10; i++) fn()
  const times = []
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < n / rounds; i++) fn()
    times.push(Number(process.hrtime.bigint() - t) / 1000 / (n / rounds))
  }
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)]
}

const CASBIN_MODEL = `
[request_definition]
r = sub, obj, act
[policy_definition]
p = act
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.act == p.act && r.sub.purpose == "support" && r.obj.assignee == r.sub.id && r.obj.ticket_customer == r.obj.id && (r.obj.status == "open" || r.obj.status == "pending")
`

const dt = (s) => ({ __extn: { fn: 'datetime', arg: s.includes('.') ? s : s.replace('Z', '.000Z') } })
const { employee: e, customer: c, ticket: t } = snake
const entities = [
  { uid: { type: 'Employee', id: e.id }, parents: [], attrs: { roles: e.roles, teams: e.teams, segments: ['consumer'], suspended: false, shift: { start: dt(e.shift.start), end: dt(e.shift.end) } } },
  { uid: { type: 'Customer', id: c.id }, parents: [], attrs: { segment: c.segment ?? 'consumer', vip: false, employee: false } },
  { uid: { type: 'Ticket', id: t.id }, parents: [], attrs: { customer: { __entity: { type: 'Customer', id: t.customer } }, assignee: { __entity: { type: 'Employee', id: t.assignee } }, queue: t.queue, status: t.status, opened_at: dt(t.opened_at), callback_at: dt(t.callback_at) } },
  { uid: { type: 'Action', id: 'reveal' }, parents: [], attrs: {} },
  { uid: { type: 'Action', id: 'mask' }, parents: [], attrs: {} },
  ...FIELDS.flatMap((f) => ['reveal', 'mask'].map((g) => ({ uid: { type: 'Action', id: `${g}_${f}` }, attrs: {}, parents: [{ type: 'Action', id: g }] }))),
]
const calls = FIELDS.map((f) => ({
  principal: { type: 'Employee', id: e.id },
  action: { type: 'Action', id: `reveal_${f}` },
  resource: { type: 'Customer', id: c.id },
  context: { at: dt(snake.at), purpose: snake.purpose, field: f, ticket: { __entity: { type: 'Ticket', id: t.id } }, velocity: { count: 0, soft: 15, hard: 30, window_s: 3600, new_customer: true, day_count: 0, day_soft: 120, day_hard: 240, day_window_s: 86400, day_new_customer: true } },
  entities,
}))
const policies = fs.readdirSync(path.join(ROOT, 'policies')).filter((f) => f.endsWith('.cedar')).sort().map((f) => fs.readFileSync(path.join(ROOT, 'policies', f), 'utf8')).join('\n')

// RSS along 1,000,000 decisions (50 employees, 1,000 customers): it should stay flat.
function memoryRows() {
  const g = new Gate({ clock: 'replay', velocity: { windowS: 3600, soft: 1e6, hard: 1e6, day: { soft: 1e6, hard: 1e6 } } })
  const r = structuredClone(REQUEST)
  const total = 1000000
  const marks = { [total / 10]: '100,000', [total / 2]: '500,000', [total]: '1,000,000' }
  const out = []
  for (let i = 1; i <= total; i++) {
    r.employee.id = r.ticket.assignee = `e${i % 50}`
    r.customer.id = r.ticket.customer = `c${i % 1000}`
    g.decide(r)
    if (marks[i]) out.push([`Node: RSS after ${marks[i]} decisions (MB)`, process.memoryUsage().rss / 2 ** 20])
  }
  return out
}
if (process.argv.includes('--memory-only')) {
  console.log(JSON.stringify(memoryRows()))
  process.exit(0)
}

const rows = []
const gate = new Gate({ clock: 'replay' })
const d = gate.decide(REQUEST)
if (FIELDS.some((f) => d.fields[f].outcome !== 'reveal')) throw new Error(JSON.stringify(d.fields))
// µs per decision of `gate.decide` and of the Rust API's own loop over the same request in this
// process (the addon's `decide_loop` operation: the same build and allocator), in turns of 500
// decisions each, so that a busy minute on a shared machine falls on both sides of a pair alike
const nodeRounds = []
const rustRounds = []
const core = new native.Gate({ clock: 'replay' }, undefined)
for (let r = 0; r <= 40; r++) {
  const t = process.hrtime.bigint()
  for (let i = 0; i < 500; i++) gate.decide(REQUEST)
  const node = Number(process.hrtime.bigint() - t) / 1000 / 500
  const rust = (JSON.parse(core.call('decide_loop', { request: REQUEST, times: 500 })) * 1e6) / 500
  // the first pair warms up
  if (r > 0) {
    nodeRounds.push(node)
    rustRounds.push(rust)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
rows.push(['ticketgate gate.decide (Node, 4 fields)', median(nodeRounds)])
rows.push(['ticketgate Gate::decide (Rust API, 4 fields)', median(rustRounds)])
const paired = median(nodeRounds.map((n, i) => n / rustRounds[i]))
const check = (a) => {
  if (a.type !== 'success' || a.response.decision !== 'allow') throw new Error(JSON.stringify(a))
}
calls.forEach((call) => check(cedar.isAuthorized({ ...call, policies: { staticPolicies: policies } })))
rows.push(['cedar-wasm isAuthorized x4 (policies as text)', perCallUs(() => calls.forEach((call) => cedar.isAuthorized({ ...call, policies: { staticPolicies: policies } })), 2000)])
check(cedar.preparsePolicySet('pack', { staticPolicies: policies }).type === 'success' ? cedar.statefulIsAuthorized({ ...calls[0], preparsedPolicySetId: 'pack' }) : { type: 'failure' })
rows.push(['cedar-wasm statefulIsAuthorized x4 (preparsed policy set)', perCallUs(() => calls.forEach((call) => cedar.statefulIsAuthorized({ ...call, preparsedPolicySetId: 'pack' })), 5000)])

const casbin = require('casbin')
const enforcer = await casbin.newEnforcer(casbin.newModelFromString(CASBIN_MODEL))
for (const f of ['name', 'email', 'ticket_numbers']) await enforcer.addPolicy(`reveal_${f}`)
const sub = { id: e.id, purpose: snake.purpose }
const obj = { id: c.id, assignee: t.assignee, ticket_customer: t.customer, status: t.status }
const got = FIELDS.map((f) => enforcer.enforceSync(sub, obj, `reveal_${f}`))
if (JSON.stringify(got) !== '[true,true,false,true]') throw new Error(`casbin: ${got}`)
rows.push(['Casbin enforceSync x4 (Node, ABAC model of R1)', perCallUs(() => FIELDS.forEach((f) => enforcer.enforceSync(sub, obj, `reveal_${f}`)), 5000)])

const reqs = []
for (let i = 0; i < 10000; i++) {
  const r = structuredClone(REQUEST)
  r.employee.id = r.ticket.assignee = `e${i % 50}`
  r.customer.id = r.ticket.customer = `c${i}`
  reqs.push(r)
}
const RECORD = { name: 'Ann Lee', email: 'ann@example.com', phone: '+49 30 1234567', ticket_numbers: ['T-1'] }
const batchGate = () => new Gate({ clock: 'replay', velocity: { windowS: 3600, soft: 1e6, hard: 1e6, day: { soft: 1e6, hard: 1e6 } } })
const pairs = reqs.map((r) => [r, RECORD])
const works = [
  ['Node: loop of 10,000 decide (ms)', (g) => { for (const r of reqs) g.decide(r) }],
  ['Node: decideManyAsync of 10,000 (ms)', (g) => g.decideManyAsync(reqs)],
  ['Node: loop of 10,000 view (ms)', (g) => { for (const r of reqs) g.view(r, RECORD) }],
  ['Node: viewManyAsync of 10,000 (ms)', (g) => g.viewManyAsync(pairs)],
]
// a fresh gate per run (velocity from zero), built outside the timing as the criterion
// benches do: building parses the pack, which is neither side's work. The four take turns,
// round by round, so that a slow minute on a shared machine weighs on a loop and its batch
// alike; the first round warms up.
const times = works.map(() => [])
for (let r = 0; r <= 5; r++) {
  for (const [i, [, work]] of works.entries()) {
    const g = batchGate()
    const t = process.hrtime.bigint()
    await work(g)
    if (r > 0) times[i].push(Number(process.hrtime.bigint() - t) / 1e6)
  }
}
const batches = works.map(([name], i) => [name, median(times[i])])

// RSS along 1,000,000 decisions, in a process of its own so that what the runs above left
// on the heap does not move it
const memory = process.argv.includes('--memory')
  ? JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--memory-only'], { encoding: 'utf8' }))
  : []

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ decide: rows, paired, batch: batches, memory }))
} else {
  const [node, rust] = [rows[0][1], rows[1][1]]
  console.log(`${''.padEnd(60)} ${'µs/decision'.padStart(12)} ${'vs Node'.padStart(10)}`)
  for (const [name, us] of rows) console.log(`${name.padEnd(60)} ${us.toFixed(1).padStart(12)} ${(us / node).toFixed(2).padStart(9)}x`)
  console.log(`\nNode / Rust: ${(node / rust).toFixed(2)}x, median of the pairs' ratios ${paired.toFixed(2)}x (target <= 1.15x)`)
  for (const [name, ms] of batches) console.log(`${name.padEnd(60)} ${ms.toFixed(1).padStart(12)}`)
  console.log(`decideManyAsync speed-up: ${(batches[0][1] / batches[1][1]).toFixed(2)}x, viewManyAsync ${(batches[2][1] / batches[3][1]).toFixed(2)}x`)
  for (const [name, mb] of memory) console.log(`${name.padEnd(60)} ${mb.toFixed(1).padStart(12)}`)
}
