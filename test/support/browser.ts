// Debian's chromium driven by playwright-core, for the tests that look at a page as a user would. Chromium is
// installed on first use by scripts/setup-chromium.sh (as root; elsewhere, run that script once with sudo).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from './processes.ts';

const CHROMIUM = '/usr/bin/chromium';

function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const script = join(ROOT, 'scripts', 'setup-chromium.sh');
  if (process.getuid?.() !== 0) throw new Error(`chromium is not installed: run \`sudo ${script}\` once`);
  execFileSync('sh', [script], { stdio: 'inherit', timeout: 600_000 });
  return CHROMIUM;
}

export async function launchBrowser(): Promise<Browser> {
  // --no-sandbox: the tests run as root on CI machines, where chromium's sandbox refuses to start
  return chromium.launch({ executablePath: ensureChromium(), args: ['--no-sandbox'], headless: true });
}
