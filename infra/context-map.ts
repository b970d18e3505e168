// The README's map of the bounded contexts, printed from the topology: the order they depend in, the data each owns,
// its routes, state machines and schedules. `npm run docs:map` writes it into README.md between its markers; a test
// fails when the README's copy differs from what the topology says.
import { readFileSync, writeFileSync } from 'node:fs';
import { CONTEXT_OWNERSHIP, CONTEXTS, contextOf, httpRoutes, topology, type ContextName } from './topology.ts';

export const MAP_START = '<!-- context map: printed by `npm run docs:map` from infra/topology.ts -->';
export const MAP_END = '<!-- end of context map -->';

const code = (items: readonly string[]): string => items.map((i) => `\`${i}\``).join(', ');

/** `/v1/seasons/{id}/games` → `/v1/seasons`: the families of a context's paths, in first-seen order. */
function pathFamilies(paths: readonly string[]): string[] {
  return [...new Set(paths.map((p) => p.split('/').slice(0, 3).join('/')))];
}

function owns(context: ContextName): string {
  const o = CONTEXT_OWNERSHIP[context];
  const parts = [
    o.postgres?.length && `PostgreSQL ${code(o.postgres)}`,
    o.mongodb?.length && `MongoDB ${code(o.mongodb)}`,
    o.dynamodb?.length && `DynamoDB ${code(o.dynamodb)}`,
    o.prefixes?.length && `S3 ${code(o.prefixes)}`,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : '—';
}

function row(context: ContextName, index: number): string {
  const functions = topology.functions.filter((f) => contextOf(f) === context);
  const routes = httpRoutes(functions);
  const routeText = routes.length === 0 ? '—' : `${routes.length}: ${code(pathFamilies(routes.map((r) => r.path)))}`;
  const machines = topology.stateMachines.filter((sm) => sm.context === context).map((sm) => sm.name);
  const schedules = functions.flatMap((f) => f.triggers.flatMap((t) => (t.kind === 'schedule' ? [`${t.name} (${t.expression})`] : [])));
  const cells = [String(index + 1), `**${context}**`, owns(context), routeText, machines.length ? code(machines) : '—', schedules.length ? schedules.join(', ') : '—'];
  return `| ${cells.join(' | ')} |`;
}

/** The map, as the Markdown between the README's markers. */
export function contextMap(): string {
  return [
    '| # | context | owns (only its code writes) | routes | state machines | schedules |',
    '|---|---|---|---|---|---|',
    ...CONTEXTS.map(row),
  ].join('\n');
}

/** The README with its map replaced by `map`. */
export function withMap(readme: string, map: string): string {
  const start = readme.indexOf(MAP_START);
  const end = readme.indexOf(MAP_END);
  if (start < 0 || end < start) throw new Error(`README.md has no context map markers (${MAP_START} … ${MAP_END})`);
  return `${readme.slice(0, start + MAP_START.length)}\n${map}\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const readme = new URL('../README.md', import.meta.url);
  writeFileSync(readme, withMap(readFileSync(readme, 'utf8'), contextMap()));
  console.log('README.md: context map written');
}
