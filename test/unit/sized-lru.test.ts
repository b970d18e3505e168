import { describe, expect, it } from 'vitest';
import { SizedLru } from '../../functions/lib/sized-lru.ts';

describe('SizedLru', () => {
  it('evicts the least recently used beyond its limit, counting sizes', () => {
    let limit = 100;
    const lru = new SizedLru<string>(() => limit);
    lru.set('a', 'A', 25);
    lru.set('b', 'B', 25);
    lru.set('c', 'C', 25);
    expect(lru.get('a')).toBe('A'); // a is now the most recently used
    lru.set('d', 'D', 25);
    lru.set('e', 'E', 25); // 125 > 100: b, the least recently used, goes
    expect(lru.get('b')).toBeUndefined();
    expect(['a', 'c', 'd', 'e'].map((k) => lru.get(k))).toEqual(['A', 'C', 'D', 'E']);
    expect(lru.size).toBe(100);
    lru.set('c', 'C2', 10); // replacing counts the new size only
    expect(lru.size).toBe(85);
    expect(lru.get('c')).toBe('C2');
    limit = 40; // read on the next insert
    lru.set('f', 'F', 5);
    expect(lru.size).toBeLessThanOrEqual(40);
    expect(lru.get('f')).toBe('F');
  });

  it('keeps nothing larger than a quarter of the limit, and forgets on delete and clear', () => {
    const lru = new SizedLru<number>(() => 100);
    lru.set('big', 1, 26);
    expect(lru.get('big')).toBeUndefined();
    lru.set('x', 2, 25);
    lru.set('big', 3, 26); // a too-large replacement drops the old value too
    lru.set('x', 4, 30);
    expect(lru.get('x')).toBeUndefined();
    lru.set('y', 5, 10);
    lru.delete('y');
    expect(lru.get('y')).toBeUndefined();
    lru.set('z', 6, 10);
    lru.clear();
    expect(lru.size).toBe(0);
    expect(lru.get('z')).toBeUndefined();
  });
});
