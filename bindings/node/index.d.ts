// The public API (index.js). The request, option and result shapes are generated from the
// core's types into types.d.ts; the native addon's own declarations are in native.d.ts.
import type { Access, AccessRequest, Affected, AuditReport, Decision, Employee, GateOptions, Grant, Restored, Suspect, Suspension, TicketgateError, View } from './types'
export * from './types'

/** The gate: decides, per contact field, what an employee may see. */
export declare class Gate {
  /** `new Gate(options)`: see `GateOptions` (every key optional; unknown keys are refused). */
  constructor(options?: GateOptions | null)
  /** Decides one request. */
  decide(request: AccessRequest): Decision
  /** Decides one request off the main thread; a bad request rejects the promise. */
  decideAsync(request: AccessRequest): Promise<Decision>
  /**
   * Decides many requests: one item per request, in order, each a decision or an
   * `Error` (not thrown) with `code`, `key` and `index`.
   */
  decideMany(requests: AccessRequest[]): Array<Decision | TicketgateError>
  /** `decideMany` off the main thread, spread over the cores like `decideMany`. */
  decideManyAsync(requests: AccessRequest[]): Promise<Array<Decision | TicketgateError>>
  /**
   * The contact record with the decision applied (revealed as is, masked, or null), and
   * that decision: one decision, one audit record. A key is a field however it is cased or
   * separated (`ticketNumbers` is `ticket_numbers`); other keys are left as they are.
   */
  view(request: AccessRequest, record: Record<string, unknown>): View
  /** `view` off the main thread; a bad request rejects the promise. */
  viewAsync(request: AccessRequest, record: Record<string, unknown>): Promise<View>
  /**
   * `view` over `[request, record]` pairs: one item per pair, in order, each a
   * `{record, decision}` or an `Error` (not thrown) with `code`, `key` and `index`.
   */
  viewMany(items: Array<[AccessRequest, Record<string, unknown>]>): Array<View | TicketgateError>
  /** `viewMany` off the main thread, spread over the cores like `viewMany`. */
  viewManyAsync(items: Array<[AccessRequest, Record<string, unknown>]>): Promise<Array<View | TicketgateError>>
  /**
   * Writes out and closes the audit log (fsynced, checkpoint published, its file and lock let
   * go, so a new gate may open it); a decision afterwards throws an `AuditError`.
   */
  close(): void
  /**
   * Forces the audit log to disk and publishes its checkpoint; returns the head
   * `SEQ:HASH` (null without an audit log).
   */
  auditCheckpoint(): string | null
  /** Loads a pack directory and swaps it in atomically; on error the old pack keeps serving. */
  reload(policies: string): string
  /** Suspends an employee on every gate sharing this store. */
  suspend(employeeId: string, reason: string): void
  /** Lifts a suspension; returns whether there was one. */
  reinstate(employeeId: string): boolean
  /** Current suspensions. */
  suspended(): Suspension[]
  /** Records a past reveal (warming velocity counts after a restart). */
  recordReveal(employeeId: string, customerId: string, at: string | Date): void
  /**
   * Whether to call `restore()` before deciding: the velocity store keeps nothing across a
   * restart (the memory store) and there is an audit trail to restore from.
   */
  readonly needsRestore: boolean
  /**
   * Restores from the audit trail what the velocity store forgot in a restart (the memory
   * store keeps nothing): suspensions, revocations, recent reveals. Call once at startup;
   * it only adds.
   */
  restore(): Restored
  /** Returns the grant signed as it is (no issuing checks: for tests and migrations). */
  signGrant(grant: Grant): Grant
  /**
   * Records a request for an `approved` grant; returns it signed as pending (it reveals
   * nothing until approved, and lapses after 12 h).
   */
  requestGrant(grant: Grant): Grant
  /** Approves a pending request; `approver` is the approving employee's facts. */
  approveGrant(grant: Grant, approver: Employee): Grant
  /** Issues a break-glass grant (reason and incident required, at most 1 h). */
  issueBreakGlass(grant: Grant): Grant
  /** Revokes a grant on every gate sharing this gate's store. */
  revokeGrant(grantId: string): void
  /** `sha256:` version of the pack deciding now. */
  get policyVersion(): string
  /** The fields the pack decides. */
  get fields(): Array<string>
  /** Alert callbacks that threw or could not be queued, and alerts dropped. */
  alertStats(): { failed: number, dropped: number }
  /** The audit log's last record as `SEQ:HASH`, or null without a log. */
  auditHead(): string | null
  /** Customers whose data `employee` saw (recorded as an `audit_read` by `reader`). */
  auditAffected(employee: string, since?: string | Date | null, until?: string | Date | null, reader?: string): Affected[]
  /**
   * Employees who saw customers who reported scam contact, most suspicious first
   * (recorded as an `audit_read` by `reader`).
   */
  auditSuspects(customers: string[], field?: string | null, reader?: string): Suspect[]
  /** Every access to one customer (recorded as an `audit_read` by `reader`). */
  auditCustomer(customer: string, reader?: string): Access[]
}

/** Test-only: a panic inside the core, to show it arrives as an `Error` with a `code`. */
export declare function _testPanic(): void

/**
 * `value` masked by the rules of `field`, as `view` masks a record's value: a string, or an
 * array of strings item by item (a record's ticket numbers); null where the rules cannot mask
 * (an email without `@`). Anything else throws an `InvalidRequest` naming it.
 */
export declare function mask(field: string, value: string | null): string | null
export declare function mask(field: string, value: readonly string[]): Array<string | null>

/**
 * Verifies audit files or directories (every segment, each chain on its own); throws an
 * `AuditError` naming the file and line of the first break.
 */
export declare function verifyAudit(paths: Array<string>, expectHead?: string | null, key?: string | Uint8Array | null, checkpoint?: string | null): AuditReport
