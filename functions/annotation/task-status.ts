// The status of an annotation task: who works on it (taskStatus) and how its audit stands (auditStatus), with the
// only moves that mean something, as data. Pure.
//
// taskStatus: 0 not started, 1 in progress, 2 completed.
// auditStatus: 0 pending, 1 accepted, 2 rejected, 3 fixed, 4 fixing, 5 completed.

export const TASK_STATUS = { notStarted: 0, inProgress: 1, completed: 2 } as const;
export const AUDIT_STATUS = { pending: 0, accepted: 1, rejected: 2, fixed: 3, fixing: 4, completed: 5 } as const;
export type TaskStatus = (typeof TASK_STATUS)[keyof typeof TASK_STATUS];
export type AuditStatus = (typeof AUDIT_STATUS)[keyof typeof AUDIT_STATUS];
export type StatusField = 'taskStatus' | 'auditStatus';

export interface TaskStatuses {
  readonly taskStatus: TaskStatus;
  readonly auditStatus: AuditStatus;
}

export interface Move {
  readonly field: StatusField;
  readonly from: number;
  readonly to: number;
  /** What the move means, as a person says it. */
  readonly name: string;
  /** The other field must hold one of these values. */
  readonly when?: { readonly field: StatusField; readonly values: readonly number[] };
}

const { notStarted, inProgress, completed } = TASK_STATUS;
const A = AUDIT_STATUS;

/** Every allowed move; anything else is refused. */
export const MOVES: readonly Move[] = [
  { field: 'taskStatus', from: notStarted, to: inProgress, name: 'start' },
  { field: 'taskStatus', from: inProgress, to: completed, name: 'complete' },
  // Work is reopened only while nobody has accepted it: before its audit, or to fix what the audit rejected.
  { field: 'taskStatus', from: completed, to: inProgress, name: 'reopen', when: { field: 'auditStatus', values: [A.pending, A.fixing] } },
  // The audit judges finished work only.
  { field: 'auditStatus', from: A.pending, to: A.accepted, name: 'accept', when: { field: 'taskStatus', values: [completed] } },
  { field: 'auditStatus', from: A.pending, to: A.rejected, name: 'reject', when: { field: 'taskStatus', values: [completed] } },
  { field: 'auditStatus', from: A.rejected, to: A.fixing, name: 'start fixing' },
  { field: 'auditStatus', from: A.fixing, to: A.fixed, name: 'fixed', when: { field: 'taskStatus', values: [completed] } },
  { field: 'auditStatus', from: A.fixed, to: A.pending, name: 'audit again' },
  { field: 'auditStatus', from: A.accepted, to: A.completed, name: 'close' },
];

export interface StatusChange {
  readonly field: StatusField;
  readonly from: number;
  readonly to: number;
}

export interface HistoryEntry extends StatusChange {
  /** The caller: `{role}:{keyId}`. */
  readonly by: string;
  readonly at: string;
}

/** A move the rules do not allow, with the moves that are allowed from where the task stands. */
export class TransitionNotAllowed extends Error {
  override readonly name = 'TransitionNotAllowed';
  constructor(
    readonly field: StatusField,
    readonly from: number,
    readonly to: number,
    readonly allowed: readonly { field: StatusField; to: number; name: string }[],
  ) {
    const list = allowed.map((m) => `${m.field} → ${m.to} (${m.name})`).join(', ');
    super(`${field} cannot move from ${from} to ${to}; allowed now: ${list || 'none'}`);
  }
}

const holds = (m: Move, s: TaskStatuses): boolean => !m.when || m.when.values.includes(s[m.when.field]);

/** The moves allowed from these statuses. */
export function allowedMoves(s: TaskStatuses): Move[] {
  return MOVES.filter((m) => m.from === s[m.field] && holds(m, s));
}

/**
 * Applies the requested changes in order (taskStatus before auditStatus), each judged against the statuses the
 * one before left. A field already at the requested value is no change. Throws TransitionNotAllowed.
 */
export function planStatusChange(current: TaskStatuses, request: Partial<TaskStatuses>): { next: TaskStatuses; changes: StatusChange[] } {
  let next: TaskStatuses = current;
  const changes: StatusChange[] = [];
  for (const field of ['taskStatus', 'auditStatus'] as const) {
    const to = request[field];
    if (to === undefined || to === next[field]) continue;
    const from = next[field];
    const move = MOVES.find((m) => m.field === field && m.from === from && m.to === to && holds(m, next));
    if (!move) throw new TransitionNotAllowed(field, from, to, allowedMoves(next).map((m) => ({ field: m.field, to: m.to, name: m.name })));
    next = { ...next, [field]: to };
    changes.push({ field, from, to });
  }
  return { next, changes };
}

/** The task's history entries for these changes. */
export const historyEntries = (changes: readonly StatusChange[], by: string, at: string): HistoryEntry[] => changes.map((c) => ({ by, at, ...c }));
