// The lint config keeps the contexts' imports one way, in the order of CONTEXTS: each snippet is linted as if it
// were a file at that path, with the project's own eslint.config.js.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { CONTEXTS } from '../../infra/topology.ts';
import { ROOT } from '../support/processes.ts';

const eslint = new ESLint({ cwd: ROOT });

/** The messages of no-restricted-imports for `code` as the file `filePath`. */
async function refusals(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = x;\n`, { filePath: `${ROOT}/${filePath}` });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const pairs = CONTEXTS.flatMap((lower, i) => CONTEXTS.slice(i + 1).map((upper) => [lower, upper] as const));

describe('context imports', () => {
  it('refuses a back-edge and allows the downward import, for every pair of contexts', async () => {
    for (const [lower, upper] of pairs) {
      expect(await refusals(`functions/${lower}/x.ts`, `import { x } from '../${upper}/y.ts';`), `${lower} -> ${upper}`).toHaveLength(1);
      expect(await refusals(`functions/${upper}/x.ts`, `import { x } from '../${lower}/y.ts';`), `${upper} -> ${lower}`).toEqual([]);
    }
  });

  it('names the order in the refusal, and refuses type imports and files in a context subfolder too', async () => {
    const [message] = await refusals('functions/analytics/x.ts', "import { x } from '../ingest/videos.ts';");
    expect(message).toContain(CONTEXTS.join(' → '));
    expect(await refusals('functions/analytics/x.ts', "import type { x } from '../ingest/videos.ts';")).toHaveLength(1);
    expect(await refusals('functions/materialize/bulk/x.ts', "import { x } from '../../docs/http.ts';")).toHaveLength(1);
    expect(await refusals('functions/materialize/bulk/x.ts', "import { x } from '../../jobs/job.ts';")).toEqual([]);
  });

  it("keeps a context's features apart: bulk, segmentation and versions import materialize's shared modules, not each other", async () => {
    expect(await refusals('functions/materialize/bulk/x.ts', "import { x } from '../versions/store.ts';")).toHaveLength(1);
    expect(await refusals('functions/materialize/versions/x.ts', "import { x } from '../segmentation/sql.ts';")).toHaveLength(1);
    expect(await refusals('functions/materialize/segmentation/x.ts', "import { x } from '../bulk/upload.ts';")).toHaveLength(1);
    expect(await refusals('functions/materialize/bulk/x.ts', "import { x } from '../datastack.ts';")).toEqual([]);
    // the context order still holds inside a feature
    expect(await refusals('functions/materialize/versions/x.ts', "import { x } from '../../docs/http.ts';")).toHaveLength(1);
  });

  it('keeps lib below every context, and functions/ away from infra/ and cli/', async () => {
    for (const context of CONTEXTS) expect(await refusals('functions/lib/x.ts', `import { x } from '../${context}/y.ts';`), context).toHaveLength(1);
    expect(await refusals('functions/catalog/x.ts', "import { x } from '../lib/pg.ts';")).toEqual([]);
    expect(await refusals('functions/jobs/x.ts', "import { x } from '../../infra/topology.ts';")).toHaveLength(1);
    expect(await refusals('functions/lib/x.ts', "import { x } from '../../infra/topology.ts';")).toHaveLength(1);
    expect(await refusals('functions/ingest/x.ts', "import { x } from '../../cli/api.ts';")).toHaveLength(1);
  });

  it('keeps the CLI off server modules (types too); shared/ is for both and imports neither', async () => {
    expect(await refusals('cli/x.ts', "import type { x } from '../functions/catalog/uploads.ts';")).toHaveLength(1);
    expect(await refusals('cli/commands/x.ts', "import { x } from '../../functions/lib/errors.ts';")).toHaveLength(1);
    expect(await refusals('cli/commands/x.ts', "import { x } from '../../shared/label-map.ts';")).toEqual([]);
    expect(await refusals('functions/ingest/x.ts', "import { x } from '../../shared/label-map.ts';")).toEqual([]);
    expect(await refusals('shared/x.ts', "import { x } from '../functions/lib/errors.ts';")).toHaveLength(1);
    expect(await refusals('shared/x.ts', "import { x } from '../cli/api.ts';")).toHaveLength(1);
  });
});
