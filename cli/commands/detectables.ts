// `framewise detectables [--json]`: every detectable the API knows (all pages), as a table or JSON.
import type { Api } from '../api.ts';
import type { DetectableName } from '../../shared/label-map.ts';
import { run, table, type CommandContext } from './common.ts';

export interface DetectablesOptions {
  readonly json?: boolean;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const PAGE_SIZE = 500; // the catalog's largest page

/** Every detectable, following nextCursor from page to page. */
export async function listDetectables(api: Api): Promise<DetectableName[]> {
  const all: DetectableName[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), ...(cursor && { cursor }) });
    const page: Page<DetectableName> = await api.get<Page<DetectableName>>(`/v1/detectables?${query}`);
    for (const d of page.items) all.push({ id: d.id, name: d.name });
    if (page.nextCursor !== null && page.nextCursor === cursor) throw new Error(`the API repeated cursor ${cursor}`);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

export function detectablesTable(detectables: readonly DetectableName[]): string[] {
  return table([['id', 'name'], ...detectables.map((d) => [d.id, d.name])]);
}

export function runDetectables(opts: DetectablesOptions, ctx: CommandContext): Promise<number> {
  const { output } = ctx;
  return run(output, opts, async () => {
    const detectables = await listDetectables(ctx.api);
    if (opts.json) {
      output.out(JSON.stringify(detectables, null, 2));
    } else if (detectables.length === 0) {
      output.out('no detectables yet (an admin creates them: POST /v1/detectables)');
    } else {
      for (const line of detectablesTable(detectables)) output.out(line);
      output.out(`${detectables.length} detectable${detectables.length === 1 ? '' : 's'}`);
    }
    return { kind: 'done' };
  });
}
