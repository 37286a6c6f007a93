import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

export const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())

export function camelKeys(v) {
  if (Array.isArray(v)) return v.map(camelKeys)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelKeys(x)]))
  return v
}

export function vectorCases() {
  const out = []
  for (const dir of ['policies/tests', 'tests/vectors']) {
    for (const f of fs.readdirSync(path.join(ROOT, dir)).filter((f) => f.endsWith('.json')).sort()) {
      for (const c of JSON.parse(fs.readFileSync(path.join(ROOT, dir, f), 'utf8'))) out.push({ file: f, ...c })
    }
  }
  return out
}

export function baseRequest() {
  return {
    employee: {
      id: 'alice',
      roles: ['agent'],
      teams: ['billing'],
      segments: ['consumer'],
      officeCountry: 'DE',
      shift: { start: '2026-11-28T08:00:00Z', end: '2026-11-28T16:00:00Z' },
    },
    customer: { id: 'c1', segment: 'consumer', vip: false, employee: false },
    ticket: {
      id: 'T-1',
      customer: 'c1',
      assignee: 'alice',
      queue: 'billing',
      status: 'open',
      openedAt: '2026-11-28T07:00:00Z',
    },
    purpose: 'support',
    at: '2026-11-28T10:00:00Z',
  }
}
