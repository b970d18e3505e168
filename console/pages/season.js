// @ts-check
// Client: a season's brand exposure. For each det_group the client was granted: the season's totals, bars of
// exposure seconds, detections and effectiveness per game, and a table of the same numbers; at a resolution of
// 1, 10 or 60 s each game also shows its buckets over time. A client key asks only for what it may see (its seasons,
// its metrics); an operator picks the client whose view it reads (`client` is passed to the metrics routes).
import { get } from '../api.js';
import { failure, h, loading, table } from '../ui.js';
import { barChart, columnStrip } from './charts.js';

export const RESOLUTIONS = [
  { value: 'video', title: 'Per game' },
  { value: '60', title: '60 s' },
  { value: '10', title: '10 s' },
  { value: '1', title: '1 s' },
];

/**
 * @typedef {{ frames: number, visibleFrames: number, exposureSeconds: number, detections: number, sumEffectiveness: number, meanArea: number, meanEffectiveness: number }} Totals
 * @typedef {{ videoId: string, frameRate: number, buckets: Record<string, number[]> }} VideoColumns
 * @typedef {{ id: string, title: string, startsAt: string, detGroups: { id: string, totals: Totals, videos: VideoColumns[] }[] }} GameMetrics
 * @typedef {{ seasonId: string, clientId: string, resolution: string, detGroups: { id: string, name: string, totals: Totals }[], games: GameMetrics[] }} SeasonMetrics
 */

/** How the console shows each number (the tables and the tests read these). */
export const format = {
  seconds: (/** @type {number} */ x) => x.toFixed(1),
  count: (/** @type {number} */ x) => String(Math.round(x)),
  effectiveness: (/** @type {number} */ x) => (x === 0 ? '0' : x.toPrecision(3)),
};

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const MEASURES = /** @type {const} */ ([
  { key: 'exposureSeconds', title: 'Exposure (s)', show: format.seconds },
  { key: 'detections', title: 'Detections', show: format.count },
  { key: 'sumEffectiveness', title: 'Effectiveness', show: format.effectiveness },
]);

/**
 * @param {string} path
 * @param {Record<string, string | null | undefined>} values
 * @returns {string}
 */
export function hashOf(path, values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
  return `#${path}?${q}`;
}

/** Columns of a game's strip at most (about its width in pixels). */
const STRIP_COLUMNS = 160;

/**
 * One game's buckets of a det_group over time: every video's columns one after another.
 * @param {VideoColumns[]} videos
 * @param {number} seconds the resolution
 */
function bucketsOverTime(videos, seconds) {
  /** @type {number[]} */ const at = [];
  /** @type {number[]} */ const values = [];
  let offset = 0;
  for (const v of videos) {
    const starts = v.buckets.start ?? [];
    const exposure = v.buckets.exposureSeconds ?? [];
    let last = -1;
    starts.forEach((start, i) => {
      const slot = Math.round(start / seconds);
      at.push(offset + slot);
      values.push(exposure[i] ?? 0);
      last = Math.max(last, slot);
    });
    offset += last + 2;
  }
  const slots = Math.max(1, offset - 1);
  if (slots <= STRIP_COLUMNS) return { at, values, slots, buckets: values.length, peak: Math.max(0, ...values) };
  // more buckets than a strip has pixels: each column shows the highest bucket it covers
  const binned = new Array(STRIP_COLUMNS).fill(0);
  at.forEach((slot, i) => {
    const column = Math.floor((slot * STRIP_COLUMNS) / slots);
    binned[column] = Math.max(binned[column], values[i] ?? 0);
  });
  return { at: binned.map((_, i) => i), values: binned, slots: STRIP_COLUMNS, buckets: values.length, peak: Math.max(0, ...values) };
}

/**
 * The season's det_groups as charts and tables: a pure function of the metrics (no request), so it can be timed.
 * @param {SeasonMetrics} metrics
 * @param {{ gameHref: (gameId: string, detGroupId: string) => string }} links
 * @returns {HTMLElement}
 */
export function renderSeason(metrics, { gameHref }) {
  const resolution = metrics.resolution;
  const seconds = resolution === 'video' ? 0 : Number(resolution);
  if (metrics.detGroups.length === 0) return h('p', { class: 'empty', text: 'No det_group of this client has released results in this season.' });
  return h('div', { class: 'season' }, ...metrics.detGroups.map((dg, n) => {
    const rows = metrics.games.map((g) => ({ game: g, entry: g.detGroups.find((d) => d.id === dg.id) }));
    const headingId = `dg-${n}`;
    const totals = h('dl', { class: 'totals', 'aria-label': `${dg.name}: season totals` },
      ...MEASURES.map((m) => h('div', {}, h('dt', { text: m.title }), h('dd', { 'data-measure': m.key, text: m.show(dg.totals[m.key]) }))),
      h('div', {}, h('dt', { text: 'Mean effectiveness' }), h('dd', { text: format.effectiveness(dg.totals.meanEffectiveness) })),
      h('div', {}, h('dt', { text: 'Games' }), h('dd', { text: String(rows.filter((r) => r.entry).length) })));
    const charts = h('div', { class: 'charts' }, ...MEASURES.map((m) => {
      const values = rows.map((r) => r.entry?.totals[m.key] ?? 0);
      const max = Math.max(0, ...values);
      return h('figure', { class: 'chart' },
        h('figcaption', { text: `${m.title} per game (highest ${m.show(max)})` }),
        barChart({
          label: `${dg.name}: ${m.title.toLowerCase()} per game, ${rows.length} games; the numbers are in the table below`,
          values, titles: rows.map((r, i) => `${r.game.title}: ${m.show(values[i] ?? 0)}`),
        }));
    }));
    /** @type {{ header: string, cell: (row: typeof rows[number]) => Node | string }[]} */
    const columns = [
      { header: 'Game', cell: (r) => h('a', { href: gameHref(r.game.id, dg.id), text: r.game.title }) },
      { header: 'Starts', cell: (r) => dateTime.format(new Date(r.game.startsAt)) },
      ...MEASURES.map((m) => ({ header: m.title, cell: (/** @type {typeof rows[number]} */ r) => (r.entry ? m.show(r.entry.totals[m.key]) : '—') })),
    ];
    if (seconds) {
      columns.push({
        header: `Exposure per ${seconds} s`,
        cell: (r) => {
          if (!r.entry) return '—';
          const over = bucketsOverTime(r.entry.videos, seconds);
          return h('span', { class: 'over-time' },
            columnStrip({ label: `${r.game.title}: exposure per ${seconds} s bucket`, ...over }),
            h('span', { class: 'peak', text: `${over.buckets} buckets, peak ${format.seconds(over.peak)} s` }));
        },
      });
    }
    const numbers = table(`${dg.name}: per game`, columns, rows);
    numbers.classList.add('per-game');
    numbers.dataset.detGroup = dg.id;
    return h('section', { class: 'det-group', 'aria-labelledby': headingId, 'data-det-group': dg.id },
      h('h2', { id: headingId, text: dg.name }), totals, charts, numbers);
  }));
}

/** @param {string} path */
const allPages = async (path) => {
  /** @type {any[]} */ const items = [];
  let cursor = '';
  for (;;) {
    const page = await get(`${path}${path.includes('?') ? '&' : '?'}limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    items.push(...page.items);
    if (!page.nextCursor) return items;
    cursor = page.nextCursor;
  }
};

export const seasonPage = {
  path: '/season',
  title: 'Season',
  /** @type {('admin' | 'analyst' | 'client')[]} */
  roles: ['client', 'admin', 'analyst'],
  /**
   * @param {HTMLElement} main
   * @param {import('../app.js').PageContext} ctx
   */
  render(main, { me, params }) {
    const operator = me.role !== 'client';
    const clientId = operator ? params.get('client') ?? '' : '';
    let seasonId = params.get('season') ?? '';
    const resolution = RESOLUTIONS.some((r) => r.value === params.get('resolution')) ? /** @type {string} */ (params.get('resolution')) : 'video';
    const go = (/** @type {Record<string, string>} */ change) => {
      location.hash = hashOf('/season', { client: clientId, season: seasonId, resolution, ...change });
    };

    const controls = h('form', { class: 'filters', 'aria-label': 'Season and resolution' });
    controls.addEventListener('submit', (e) => e.preventDefault());
    const content = h('div', { class: 'season-content' }, loading('Loading seasons…'));
    main.replaceChildren(h('h1', { text: 'Season' }), controls, content);
    const abort = new AbortController();
    let stopped = false;

    /** @param {{ id: string, name: string }[]} options @param {string} selected @param {string} id @param {string} label @param {(v: string) => void} onchange */
    const picker = (options, selected, id, label, onchange) => {
      const select = /** @type {HTMLSelectElement} */ (h('select', { id, name: id },
        ...(selected ? [] : [h('option', { value: '', text: `choose a ${label.toLowerCase()}` })]),
        ...options.map((o) => h('option', { value: o.id, selected: o.id === selected, text: o.name }))));
      select.addEventListener('change', () => onchange(select.value));
      return [h('label', { for: id, text: label }), select];
    };
    const resolutions = h('fieldset', { class: 'resolution' },
      h('legend', { text: 'Resolution' }),
      ...RESOLUTIONS.flatMap((r) => {
        const input = h('input', { type: 'radio', name: 'resolution', id: `resolution-${r.value}`, value: r.value, checked: r.value === resolution });
        input.addEventListener('change', () => go({ resolution: r.value }));
        return [input, h('label', { for: `resolution-${r.value}`, text: r.title })];
      }));

    async function load() {
      content.replaceChildren(loading('Loading seasons…'));
      try {
        // operators read a client's view: which client first; a client key never lists clients
        const clients = operator ? await allPages('/v1/clients') : [];
        const seasons = await allPages('/v1/seasons');
        if (stopped) return;
        if (!seasonId && seasons.length && (clientId || !operator)) {
          // the first season, kept in the address (without a second render) so the view can be bookmarked
          seasonId = seasons[0].id;
          history.replaceState(null, '', hashOf('/season', { client: clientId, season: seasonId, resolution }));
        }
        controls.replaceChildren(
          ...(operator ? picker(clients, clientId, 'season-client', 'Client', (v) => go({ client: v })) : []),
          ...picker(seasons, seasonId, 'season-id', 'Season', (v) => go({ season: v })),
          resolutions);
        if (operator && !clientId) return content.replaceChildren(h('p', { class: 'empty', text: 'Choose the client whose view to show.' }));
        if (!seasons.length) return content.replaceChildren(h('p', { class: 'empty', text: 'There is no season to show.' }));
        content.replaceChildren(loading('Loading the season’s metrics…'));
        const q = new URLSearchParams({ resolution });
        if (clientId) q.set('client', clientId);
        const metrics = /** @type {SeasonMetrics} */ (await get(`/v1/seasons/${encodeURIComponent(seasonId)}/metrics?${q}`, { signal: abort.signal }));
        if (stopped) return;
        const drill = resolution === 'video' ? '10' : resolution;
        content.replaceChildren(renderSeason(metrics, {
          gameHref: (gameId, detGroupId) => hashOf('/game', { id: gameId, detGroup: detGroupId, season: seasonId, resolution: drill, client: clientId }),
        }));
      } catch (error) {
        if (stopped) return;
        content.replaceChildren(failure(error, () => void load()));
      }
    }
    void load();
    return () => {
      stopped = true;
      abort.abort();
    };
  },
};
