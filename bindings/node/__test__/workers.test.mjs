// Several Node processes (as under PM2 or cluster) sharing one SQLite velocity store: the
// hard limit holds across them, and a suspension made in one is seen by the others.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const WORKER = `
const { Gate } = require(${JSON.stringify(path.join(HERE, '..', 'index.js'))})
const [url, prefix] = process.argv.slice(1)
const gate = new Gate({ velocityStore: url })
const now = Date.now(), h = 3600_000
let revealed = 0
for (let i = 0; i < 10; i++) {
  const c = prefix + '-' + i
  const d = gate.decide({
    employee: { id: process.env.EMPLOYEE || 'alice', roles: ['agent'], teams: ['billing'], segments: ['consumer'],
                shift: { start: new Date(now - h), end: new Date(now + h) } },
    customer: { id: c, segment: 'consumer', vip: false, employee: false },
    ticket: { id: 'T-' + c, customer: c, assignee: process.env.EMPLOYEE || 'alice', queue: 'billing', status: 'open', openedAt: new Date(now - h) },
    purpose: 'support',
  })
  if (d.fields.name.outcome === 'reveal') revealed++
}
process.stdout.write(String(revealed))
`

const run = (url, prefix, env = {}) =>
  new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', WORKER, url, prefix], { env: { ...process.env, ...env } })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => process.stderr.write(d))
    p.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`worker exited ${code}`))))
  })

test('8 processes on one sqlite store reveal exactly the hard limit; suspensions reach every process', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-sqlite-'))
  const url = `sqlite://${path.join(dir, 'velocity.db')}`
  const counts = await Promise.all([...Array(8).keys()].map((p) => run(url, `c${p}`)))
  assert.equal(counts.reduce((a, b) => a + b, 0), 30, String(counts))
  const { Gate } = await import('../index.js')
  new Gate({ velocityStore: url }).suspend('bob', 'investigation')
  assert.equal(await run(url, 'z', { EMPLOYEE: 'bob' }), 0)
})
