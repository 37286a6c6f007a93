// The kill switch and fail-closed behaviour through a real Redis server.
import assert from 'node:assert/strict'
import { test, before, after } from 'node:test'
import { createRequire } from 'node:module'
import { spawn } from 'node:child_process'
import net from 'node:net'
import { baseRequest } from './helpers.mjs'

const { Gate } = createRequire(import.meta.url)('../index.js')

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

const ping = (port) =>
  new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => c.write('PING\r\n'))
    c.on('data', (d) => (c.destroy(), resolve(d.toString().startsWith('+PONG'))))
    c.on('error', () => resolve(false))
  })

let server
let url

before(async () => {
  const port = await freePort()
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  })
  server.on('error', (e) => {
    throw new Error(`redis-server is not installed (scripts/test.sh installs it): ${e.message}`)
  })
  for (let i = 0; i < 200 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 50))
  url = `redis://127.0.0.1:${port}/`
})

after(() => server?.kill())

test('a suspension on one gate applies on another', async () => {
  const a = new Gate({ clock: 'replay', redisUrl: url })
  const b = new Gate({ clock: 'replay', redisUrl: url })
  assert.equal((await b.decideAsync(baseRequest())).fields.name.outcome, 'reveal')
  a.suspend('alice', 'bulk export')
  const d = await b.decideAsync(baseRequest())
  assert.ok(Object.values(d.fields).every((f) => f.outcome === 'withhold'))
  assert.ok(d.alerts.some((x) => x.kind === 'suspended'))
  assert.equal(b.reinstate('alice'), true)
  assert.equal(a.decide(baseRequest()).fields.name.outcome, 'reveal')
})

test('unreachable Redis fails closed for reveals, masks still served', async () => {
  const gate = new Gate({ clock: 'replay', redisUrl: `redis://127.0.0.1:${await freePort()}/` })
  const d = gate.decide(baseRequest())
  assert.equal(d.fields.name.outcome, 'mask')
  assert.ok(d.fields.name.errors.some((e) => e.includes('redis')))
  assert.throws(() => gate.suspend('alice', 'x'), { code: 'StoreError' })
  assert.throws(() => new Gate({ clock: 'replay', redisUrl: 'not a url' }), { code: 'StoreError' })
})
