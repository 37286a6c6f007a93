// ticketgate/express with real Express over loopback HTTP.
import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const express = require('express')
const { Gate } = require('../index.js')
const { gateRecord, gateRecords, errorHandler } = require('../express.js')

const H = 3600_000
const CUSTOMERS = { 'c-9': { id: 'c-9', segment: 'consumer', vip: false, employee: false,
  name: 'Jane Doe', email: 'jane.doe@example.com', phone: '+1 555-555-1234', ticket_numbers: ['TCK-004512'] } }

function app(gate) {
  const a = express()
  a.use((req, res, next) => {
    // the helpdesk's session: who is signed in
    const now = Date.now()
    req.user = { id: req.get('x-agent'), roles: ['agent'], teams: ['billing'], segments: ['consumer'],
      shift: { start: new Date(now - H), end: new Date(now + H) } }
    next()
  })
  const load = (req, res, next) => {
    const c = CUSTOMERS[req.params.id]
    if (!c) return res.sendStatus(404)
    res.locals.customer = c
    res.locals.ticket = { id: 'TCK-004512', customer: c.id, assignee: 'alice', queue: 'billing', status: 'open', openedAt: new Date(Date.now() - H) }
    const { name, email, phone, ticket_numbers } = c
    res.locals.record = { name, email, phone, ticket_numbers }
    next()
  }
  const guard = gateRecord(gate, {
    // async, as when the signed-in user is loaded from a database
    access: async (req, res) => ({
      employee: req.user,
      customer: { id: res.locals.customer.id, segment: res.locals.customer.segment, vip: res.locals.customer.vip, employee: res.locals.customer.employee },
      ticket: res.locals.ticket,
      purpose: req.query.purpose || 'support',
    }),
  })
  a.get('/customers/:id', load, guard, (req, res) => res.json({ record: res.locals.record, decisionId: res.locals.decision.decisionId }))
  // a list page of 50 customers, each on a ticket of the signed-in agent
  const list = (req, res, next) => {
    res.locals.rows = Array.from({ length: 50 }, (_, i) => ({ id: `c-${i}`, name: `Customer ${i}`, email: `c${i}@example.com` }))
    next()
  }
  const guardList = gateRecords(gate, {
    records: 'rows',
    access: async (req, res, row, i) => ({
      employee: req.user,
      customer: { id: row.id, segment: 'consumer', vip: false, employee: false },
      ticket: { id: `T-${i}`, customer: req.query.broken === String(i) ? 'someone-else' : row.id, assignee: req.user.id,
        queue: 'billing', status: 'open', openedAt: new Date(Date.now() - H) },
      purpose: 'support',
      intent: 'preview',
    }),
  })
  a.get('/customers', list, guardList, (req, res) => res.json({ rows: res.locals.rows, decisions: res.locals.decisions.length }))
  a.use(errorHandler)
  return a
}

async function withServer(gate, fn) {
  const server = app(gate).listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  try {
    await fn(`http://127.0.0.1:${server.address().port}`)
  } finally {
    await new Promise((r) => server.close(r))
  }
}

test('the assignee sees the record, a queue colleague sees masks, a bad request reaches the error handler', async () => {
  await withServer(new Gate(), async (base) => {
    const own = await (await fetch(`${base}/customers/c-9`, { headers: { 'x-agent': 'alice' } })).json()
    assert.equal(own.record.email, 'jane.doe@example.com')
    assert.equal(own.record.phone, '+1 ***-***-1234') // no callback scheduled
    assert.ok(own.decisionId)
    const other = await (await fetch(`${base}/customers/c-9`, { headers: { 'x-agent': 'bob' } })).json()
    assert.deepEqual(other.record, { name: 'J*** D**', email: 'j***@example.com', phone: '+1 ***-***-1234', ticket_numbers: null })
    const bad = await fetch(`${base}/customers/c-9?purpose=curiosity`, { headers: { 'x-agent': 'alice' } })
    assert.equal(bad.status, 400)
    const body = await bad.json()
    assert.equal(body.error.code, 'InvalidRequest')
    assert.equal(body.error.key, 'purpose')
  })
})

test('a list page is gated as one batch, and a bad row fails the page', async () => {
  await withServer(new Gate(), async (base) => {
    const page = await (await fetch(`${base}/customers`, { headers: { 'x-agent': 'alice' } })).json()
    assert.equal(page.rows.length, 50)
    assert.equal(page.decisions, 50)
    assert.deepEqual(page.rows[7], { id: 'c-7', name: 'C******* 7', email: 'c***@example.com' })
    const bad = await fetch(`${base}/customers?broken=7`, { headers: { 'x-agent': 'alice' } })
    assert.equal(bad.status, 400)
    const body = await bad.json()
    assert.equal(body.error.key, '[7].ticket.customer')
  })
})
