import { describe, expect, it } from 'vitest';
import { allowedMoves, historyEntries, MOVES, planStatusChange, TransitionNotAllowed, type TaskStatuses } from '../../functions/annotation/task-status.ts';

const s = (taskStatus: number, auditStatus: number) => ({ taskStatus, auditStatus }) as TaskStatuses;

function refusal(from: TaskStatuses, req: Partial<TaskStatuses>): TransitionNotAllowed {
  try {
    planStatusChange(from, req);
  } catch (e) {
    expect(e).toBeInstanceOf(TransitionNotAllowed);
    return e as TransitionNotAllowed;
  }
  throw new Error('expected the move to be refused');
}

describe('task status transitions', () => {
  it('work: not started → in progress → completed, and reopened while the audit is pending', () => {
    expect(planStatusChange(s(0, 0), { taskStatus: 1 }).changes).toEqual([{ field: 'taskStatus', from: 0, to: 1 }]);
    expect(planStatusChange(s(1, 0), { taskStatus: 2 }).next).toEqual(s(2, 0));
    expect(planStatusChange(s(2, 0), { taskStatus: 1 }).next).toEqual(s(1, 0));
  });

  it('the audit accepts or rejects only a completed task', () => {
    expect(planStatusChange(s(2, 0), { auditStatus: 1 }).next).toEqual(s(2, 1));
    expect(planStatusChange(s(2, 0), { auditStatus: 2 }).next).toEqual(s(2, 2));
    const e = refusal(s(1, 0), { auditStatus: 1 });
    expect(e.field).toBe('auditStatus');
    expect(e.allowed).toEqual([{ field: 'taskStatus', to: 2, name: 'complete' }]);
    expect(e.message).toContain('taskStatus → 2 (complete)');
  });

  it('rejected → fixing → fixed → pending audit again, then accepted → completed', () => {
    let state = s(2, 2);
    for (const [field, to] of [['auditStatus', 4], ['taskStatus', 1], ['taskStatus', 2], ['auditStatus', 3], ['auditStatus', 0], ['auditStatus', 1], ['auditStatus', 5]] as const) {
      state = planStatusChange(state, { [field]: to }).next;
    }
    expect(state).toEqual(s(2, 5));
  });

  it('refuses shortcuts and naming the moves allowed instead', () => {
    expect(refusal(s(0, 0), { taskStatus: 2 }).allowed).toEqual([{ field: 'taskStatus', to: 1, name: 'start' }]);
    expect(refusal(s(2, 2), { auditStatus: 3 }).allowed).toEqual([{ field: 'auditStatus', to: 4, name: 'start fixing' }]);
    expect(refusal(s(2, 4), { auditStatus: 0 }).allowed.map((m) => m.to)).toEqual([1, 3]); // reopen work, or fixed
    expect(refusal(s(2, 1), { taskStatus: 1 }).allowed).toEqual([{ field: 'auditStatus', to: 5, name: 'close' }]);
    expect(refusal(s(2, 5), { auditStatus: 0 }).allowed).toEqual([]);
    expect(refusal(s(2, 5), { auditStatus: 0 }).message).toContain('allowed now: none');
  });

  it('judges the second field against the state the first change left; equal values are no change', () => {
    expect(planStatusChange(s(1, 0), { taskStatus: 2, auditStatus: 1 }).changes).toHaveLength(2);
    expect(planStatusChange(s(1, 0), { taskStatus: 1 }).changes).toEqual([]);
  });

  it('every move is reachable data and names a real value', () => {
    for (const m of MOVES) expect(allowedMoves(s(m.field === 'taskStatus' ? m.from : 2, m.field === 'auditStatus' ? m.from : (m.when?.values[0] ?? 0)))).toContainEqual(m);
  });

  it('history says who, when, which field, from and to', () => {
    const { changes } = planStatusChange(s(0, 0), { taskStatus: 1 });
    expect(historyEntries(changes, 'analyst:k1', '2026-01-01T00:00:00.000Z')).toEqual([
      { by: 'analyst:k1', at: '2026-01-01T00:00:00.000Z', field: 'taskStatus', from: 0, to: 1 },
    ]);
  });
});
