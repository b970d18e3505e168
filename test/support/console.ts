// The web console in Debian's chromium, for the tests that use it as an operator or a client would: sign in,
// check a page with axe-core, keep a screenshot of it under test-results/ for review.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { ROOT } from './processes.ts';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
export const RESULTS = join(ROOT, 'test-results');

/** A new page on the console at `apiUrl` (the local cloud serves it at /), signed out. */
export async function consolePage(browser: Browser): Promise<Page> {
  // axe-core is injected as an inline script, which the console's Content-Security-Policy rightly refuses
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

/**
 * A page under the console's own Content-Security-Policy (axe-core cannot run on it), with the console messages of
 * everything the policy refused.
 */
export async function pageUnderPolicy(browser: Browser): Promise<{ page: Page; refused: string[] }> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const refused: string[] = [];
  page.on('console', (m) => void (/Content Security Policy/i.test(m.text()) && refused.push(m.text())));
  return { page, refused };
}

/** The rows of the first table under `selector`, each as { header: cell text }. */
export const tableRows = (page: Page, selector: string) =>
  page.locator(`${selector} table`).first().evaluate((table) => {
    const el = table as unknown as { querySelectorAll(s: string): Iterable<{ textContent: string | null; querySelectorAll(s: string): Iterable<{ textContent: string | null }> }> };
    const headers = [...el.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
    return [...el.querySelectorAll('tbody tr')].map((tr) =>
      Object.fromEntries([...tr.querySelectorAll('td')].map((td, i) => [headers[i], td.textContent ?? ''])) as Record<string, string>);
  });

export async function signIn(page: Page, apiUrl: string, key: string): Promise<void> {
  await page.goto(`${apiUrl}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Serious and critical axe-core violations of the page as it stands (WCAG 2 A and AA rules). */
export async function seriousViolations(page: Page): Promise<{ id: string; impact: string; nodes: string[] }[]> {
  await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  });
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

/**
 * The visible, enabled controls of the page that Tab never reaches from its start (a radio group counts once: Tab
 * enters it at one button, the arrow keys move within it), each named by its tag and text or label.
 */
export async function unreachableByKeyboard(page: Page, maxTabs = 400): Promise<string[]> {
  const total = await page.evaluate(() => {
    const doc = (globalThis as unknown as { document: any }).document; // eslint-disable-line @typescript-eslint/no-explicit-any
    const selector = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const controls = [...doc.querySelectorAll(selector)].filter((el: any) => !el.disabled && el.getClientRects().length > 0 && el.type !== 'hidden');
    const groups = new Map<string, number>();
    controls.forEach((el: any, i: number) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const group = el.type === 'radio' && el.name ? `radio:${el.name}` : `control:${i}`;
      if (!groups.has(group)) groups.set(group, groups.size);
      el.dataset.keyboardGroup = String(groups.get(group));
      el.dataset.keyboardName = `${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') ?? el.labels?.[0]?.textContent ?? el.textContent ?? el.name ?? '').trim().slice(0, 40)}"`;
    });
    doc.activeElement?.blur?.();
    return groups.size;
  });
  const reached = new Set<string>();
  for (let i = 0; i < Math.min(maxTabs, total * 2 + 5) && reached.size < total; i += 1) {
    await page.keyboard.press('Tab');
    const group = await page.evaluate(() => (globalThis as unknown as { document: { activeElement?: { dataset?: Record<string, string> } } }).document.activeElement?.dataset?.keyboardGroup);
    if (group !== undefined) reached.add(group);
  }
  return page.evaluate((seen) => {
    const doc = (globalThis as unknown as { document: any }).document; // eslint-disable-line @typescript-eslint/no-explicit-any
    const names = new Map<string, string>();
    for (const el of doc.querySelectorAll('[data-keyboard-group]')) if (!seen.includes(el.dataset.keyboardGroup)) names.set(el.dataset.keyboardGroup, el.dataset.keyboardName);
    return [...names.values()];
  }, [...reached]);
}

/** axe-core finds no serious violation, and every control can be reached with the keyboard. */
export async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
  expect(await unreachableByKeyboard(page), 'controls Tab never reaches').toEqual([]);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `console-${name}.png`), fullPage: true });
}
