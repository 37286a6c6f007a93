import type { AccessRequest, Gate } from './index'

/** Options of `gateRecord`. */
export interface GateRecordOptions {
  /** Who asks for whose data, from the request and `res.locals` (or a Promise of it). */
  access: (req: any, res: any) => AccessRequest | Promise<AccessRequest>
  /** Key of the record on `res.locals` (default `record`). */
  record?: string
  /** Key the decision is put under on `res.locals` (default `decision`). */
  decision?: string
}

/** Express middleware: replaces `res.locals[record]` with what the agent may see. */
export function gateRecord(gate: Gate, options: GateRecordOptions): (req: any, res: any, next: (err?: unknown) => void) => void

/** Options of `gateRecords`. */
export interface GateRecordsOptions {
  /** Each row's access request, from the request, `res.locals`, the row and its index (or a Promise of it). */
  access: (req: any, res: any, record: any, index: number) => AccessRequest | Promise<AccessRequest>
  /** Key of the array of records on `res.locals` (default `records`). */
  records?: string
  /** Key the decisions are put under on `res.locals`, in row order (default `decisions`). */
  decisions?: string
}

/**
 * Express middleware for a list page: replaces each record of `res.locals[records]` with what
 * the agent may see, deciding the rows as one batch; a row that fails sends its error on.
 */
export function gateRecords(gate: Gate, options: GateRecordsOptions): (req: any, res: any, next: (err?: unknown) => void) => void

/** Express error handler for ticketgate errors (400 for InvalidRequest, 503 for AuditError/StoreError). */
export function errorHandler(err: any, req: any, res: any, next: (err?: unknown) => void): void
