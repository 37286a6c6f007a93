// Compiled by `tsc --noEmit` in the tests: the published types must fit real use.
import { Gate, type AccessRequest, type Decision, type GateOptions } from '../index'

const options: GateOptions = { velocity: { windowS: 3600, soft: 15, hard: 30 }, durability: 'always' }
const gate = new Gate(options)

const request: AccessRequest = {
  employee: { id: 'alice', roles: ['agent'], teams: ['billing'], segments: ['consumer'], shift: { start: new Date(), end: '2030-01-01T00:00:00Z' } },
  customer: { id: 'c-1', segment: 'consumer', vip: false, employee: false },
  ticket: { id: 'T-1', customer: 'c-1', assignee: 'alice', queue: 'billing', status: 'open', openedAt: new Date() },
  purpose: 'support',
  at: new Date(),
}

const decision: Decision = gate.decide(request)
const outcome: 'reveal' | 'mask' | 'withhold' = decision.fields['ticket_numbers'].outcome
const count: number | undefined = decision.velocity?.windowS
const masked: Record<string, unknown> = gate.view(request, { name: 'Jane Doe' }).record
const batch = gate.decideMany([request, request])
const firstOk: string = batch[0] && 'decisionId' in batch[0] ? batch[0].decisionId : batch[0].code

async function later(): Promise<string> {
  const d = await gate.decideAsync(request)
  return d.alerts.map((a) => a.kind).join(',') + outcome + String(count) + String(masked.name) + firstOk
}
void later
