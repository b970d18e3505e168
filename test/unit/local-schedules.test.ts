// The local cloud's EventBridge stand-in: a schedule's constant input replaces the scheduled event, and a
// schedule longer than a timer can hold (a monthly one) still fires on time.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalFunctions } from '../../infra/local/functions.ts';
import { Router, type ScheduleBinding } from '../../infra/local/router.ts';

function routerWith(schedules: ScheduleBinding[]) {
  const invoke = vi.fn(async (_fn: string, _event: unknown) => undefined);
  const router = new Router({
    sqsEndpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    functions: { invoke } as unknown as LocalFunctions,
    queues: [],
    notifications: [],
    schedules,
    log: () => undefined,
  });
  return { router, invoke };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('local schedules', () => {
  it('sends a schedule its constant input, and the scheduled event otherwise', async () => {
    const { router, invoke } = routerWith([
      { name: 'with-input', fn: 'a', everySeconds: 60, input: { cadence: 'daily', expiresInDays: 2 } },
      { name: 'plain', fn: 'b', everySeconds: 60 },
    ]);
    await router.fireSchedule('with-input');
    await router.fireSchedule('plain');
    expect(invoke.mock.calls[0]).toEqual(['a', { cadence: 'daily', expiresInDays: 2 }]);
    expect(invoke.mock.calls[1]![1]).toMatchObject({ 'detail-type': 'Scheduled Event', resources: [expect.stringMatching(/rule\/plain$/)] });
    await router.stop();
  });

  it('fires a 30-day schedule after 30 days, not at once (setInterval cannot wait that long)', async () => {
    vi.useFakeTimers();
    const { router, invoke } = routerWith([
      { name: 'monthly', fn: 'm', everySeconds: 30 * 86_400, input: { cadence: 'monthly' } },
      { name: 'daily', fn: 'd', everySeconds: 86_400 },
    ]);
    router.start(true);
    await vi.advanceTimersByTimeAsync(29 * 86_400_000);
    expect(invoke.mock.calls.filter(([fn]) => fn === 'm')).toHaveLength(0);
    expect(invoke.mock.calls.filter(([fn]) => fn === 'd')).toHaveLength(29);
    await vi.advanceTimersByTimeAsync(86_400_000 + 3_600_000);
    expect(invoke.mock.calls.filter(([fn]) => fn === 'm')).toEqual([['m', { cadence: 'monthly' }]]);
    await router.stop();
  });
});
