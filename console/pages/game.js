// @ts-check
// Client: one game of a season for one det_group, as time series at 1, 10 or 60 s (uPlot), with the game's events
// (from the season's metadata, as the viewer may see it) marked on the time axis; each video of the game is its own
// chart, linked to the video's best frames for the det_group. The numbers of every chart are also in a table.
import { get } from '../api.js';
import { failure, h, loading, table } from '../ui.js';
import { format, hashOf } from './season.js';

const UPLOT = '/vendor/uplot/dist/uPlot.esm.js';
const UPLOT_CSS = '/vendor/uplot/dist/uPlot.min.css';
const CHART_HEIGHT = 280;
const RESOLUTIONS = ['1', '10', '60'];

/** @typedef {typeof import('uplot')} UPlot */
/** @typedef {{ id: string, type: string, time: number }} GameEvent */

/** uPlot and its stylesheet, loaded the first time a game is shown. */
async function loadUPlot() {
  if (!document.querySelector(`link[href="${UPLOT_CSS}"]`)) document.head.append(h('link', { rel: 'stylesheet', href: UPLOT_CSS }));
  const module = await import(/** @type {string} */ (UPLOT));
  return /** @type {UPlot} */ (module.default);
}

/** @param {number} seconds */
const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

/**
 * @param {UPlot} uPlot
 * @param {{ title: string, buckets: any[], events: GameEvent[], width: number }} chart
 */
function timeSeries(uPlot, { title, buckets, events, width }) {
  const data = /** @type {import('uplot').AlignedData} */ ([
    buckets.map((b) => b.start),
    buckets.map((b) => b.exposureSeconds),
    buckets.map((b) => b.detections),
    buckets.map((b) => b.sumEffectiveness),
  ]);
  const holder = h('div', { class: 'uplot-holder' });
  /** @type {import('uplot').Options} */
  const options = {
    title, width, height: CHART_HEIGHT,
    // counts and seconds from zero, so a bucket's height compares with the others'
    scales: { x: { time: false }, s: { range: (_u, _min, max) => [0, max || 1] }, n: { range: (_u, _min, max) => [0, max || 1] } },
    series: [
      { label: 'Time (s)', value: (_u, v) => (v == null ? '—' : clock(v)) },
      { label: 'Exposure (s)', scale: 's', stroke: '#0b5cad', width: 2, value: (_u, v) => (v == null ? '—' : format.seconds(v)) },
      { label: 'Detections', scale: 'n', stroke: '#b35900', width: 1, value: (_u, v) => (v == null ? '—' : format.count(v)) },
      { label: 'Effectiveness', scale: 'e', stroke: '#116329', width: 1, value: (_u, v) => (v == null ? '—' : format.effectiveness(v)) },
    ],
    axes: [
      { values: (_u, ticks) => ticks.map(clock) },
      { scale: 's', label: 'Exposure (s)' },
      { scale: 'n', side: 1, label: 'Detections', grid: { show: false } },
    ],
    hooks: {
      // the game's events as dashed lines across the plot, named at the top
      draw: [(u) => {
        const { ctx } = u;
        const top = u.bbox.top;
        const bottom = top + u.bbox.height;
        ctx.save();
        ctx.strokeStyle = '#b42318';
        ctx.fillStyle = '#b42318';
        ctx.setLineDash([4, 4]);
        ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
        for (const e of events) {
          const x = u.valToPos(e.time, 'x', true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, bottom);
          ctx.stroke();
          ctx.fillText(e.type, x + 3, top + 12 * devicePixelRatio);
        }
        ctx.restore();
      }],
    },
  };
  const plot = new uPlot(options, data, holder);
  return { holder, plot };
}

export const gamePage = {
  path: '/game',
  title: 'Game',
  /** @type {('admin' | 'analyst' | 'client')[]} */
  roles: ['client', 'admin', 'analyst'],
  /** Reached from the season page's tables, not the menu. */
  hidden: true,
  /**
   * @param {HTMLElement} main
   * @param {import('../app.js').PageContext} ctx
   */
  render(main, { me, params }) {
    const gameId = params.get('id') ?? '';
    const detGroupId = params.get('detGroup') ?? '';
    const seasonId = params.get('season') ?? '';
    const clientId = me.role === 'client' ? '' : params.get('client') ?? '';
    const resolution = RESOLUTIONS.includes(params.get('resolution') ?? '') ? /** @type {string} */ (params.get('resolution')) : '10';
    const here = (/** @type {Record<string, string>} */ change) => hashOf('/game', { id: gameId, detGroup: detGroupId, season: seasonId, client: clientId, resolution, ...change });

    const heading = h('h1', { text: 'Game' });
    const back = h('p', {}, h('a', { href: hashOf('/season', { season: seasonId, client: clientId, resolution }), text: '← Season' }));
    const switcher = h('fieldset', { class: 'resolution' }, h('legend', { text: 'Resolution' }),
      ...RESOLUTIONS.flatMap((r) => {
        const input = h('input', { type: 'radio', name: 'resolution', id: `game-resolution-${r}`, value: r, checked: r === resolution });
        input.addEventListener('change', () => { location.hash = here({ resolution: r }); });
        return [input, h('label', { for: `game-resolution-${r}`, text: `${r} s` })];
      }));
    const content = h('div', { class: 'game-content' }, loading('Loading the game…'));
    main.replaceChildren(back, heading, h('form', { class: 'filters', 'aria-label': 'Resolution' }, switcher), content);
    /** @type {{ destroy(): void, setSize(size: { width: number, height: number }): void }[]} */
    const plots = [];
    let stopped = false;
    const chartWidth = () => Math.max(320, Math.min(1200, main.clientWidth - 40));
    // uPlot draws on a canvas of a fixed size: a window made narrower or wider redraws the charts to fit
    const resized = new ResizeObserver(() => {
      const width = chartWidth();
      for (const p of plots) p.setSize({ width, height: CHART_HEIGHT });
    });
    resized.observe(main);

    async function load() {
      content.replaceChildren(loading('Loading the game…'));
      try {
        if (!gameId || !detGroupId || !seasonId) throw new Error('Open a game from the season page.');
        const view = clientId ? `?client=${encodeURIComponent(clientId)}` : '';
        const [meta, detGroup, uPlot] = await Promise.all([
          get(`/v1/seasons/${encodeURIComponent(seasonId)}/meta${view}`),
          get(`/v1/det-groups/${encodeURIComponent(detGroupId)}`),
          loadUPlot(),
        ]);
        const game = /** @type {any[]} */ (meta.games).find((g) => g.id === gameId);
        if (!game) throw new Error('This game is not in the season, or not visible to this key.');
        /** @type {GameEvent[]} */
        const events = game.events ?? [];
        const videos = /** @type {{ id: string, title: string }[]} */ (game.videos ?? []);
        const series = await Promise.all(videos.map((v) =>
          get(`/v1/videos/${encodeURIComponent(v.id)}/metrics?${new URLSearchParams({ detGroup: detGroupId, resolution })}`)));
        if (stopped) return;
        heading.textContent = `${game.title}: ${detGroup.name}`;
        document.title = `${game.title} · Framewise`;
        const width = chartWidth();
        const parts = [];
        for (const [i, v] of videos.entries()) {
          const buckets = /** @type {any[]} */ (series[i].buckets);
          const { holder, plot } = timeSeries(uPlot, { title: `${v.title}: per ${resolution} s`, buckets, events, width });
          plots.push(plot);
          const figure = h('figure', { class: 'series', 'data-video': v.id },
            h('figcaption', { text: `${v.title}: exposure, detections and effectiveness per ${resolution} s bucket, ${buckets.length} buckets; ${events.length} events marked. The numbers are in the table below.` }),
            holder,
            h('p', { class: 'best-frames-link' }, h('a', {
              href: hashOf('/best-frames', { video: v.id, detGroup: detGroupId, game: gameId, season: seasonId, client: clientId, resolution }),
              text: `Best frames of ${v.title}`,
            })));
          const numbers = h('details', {}, h('summary', { text: `The ${buckets.length} buckets of ${v.title}` }),
            table(`${v.title}: per ${resolution} s`, [
              { header: 'From', cell: (/** @type {any} */ b) => clock(b.start) },
              { header: 'Exposure (s)', cell: (b) => format.seconds(b.exposureSeconds) },
              { header: 'Detections', cell: (b) => format.count(b.detections) },
              { header: 'Effectiveness', cell: (b) => format.effectiveness(b.sumEffectiveness) },
            ], buckets));
          parts.push(figure, numbers);
        }
        content.replaceChildren(
          ...(videos.length ? parts : [h('p', { class: 'empty', text: 'This game has no released video yet.' })]),
          events.length
            ? table(`${game.title}: events`, [
              { header: 'Time', cell: (/** @type {GameEvent} */ e) => clock(e.time) },
              { header: 'Event', cell: (e) => e.type },
            ], events)
            : h('p', { class: 'empty', text: 'No events recorded for this game.' }));
      } catch (error) {
        if (stopped) return;
        content.replaceChildren(failure(error, () => void load()));
      }
    }
    void load();
    return () => {
      stopped = true;
      resized.disconnect();
      for (const p of plots) p.destroy();
    };
  },
};
