// @ts-check
// Client: a det_group's best frames in one video of a game: the frames with the highest effectiveness, highest first,
// each drawn by the API with the det_group's boxes (a colour per detectable, named in the legend), with its
// effectiveness and time. A drawn frame is a redirect to a presigned URL that an <img> could not ask for with the
// key, so it is fetched with the key and shown from a blob: URL; each frame has its own loading and error state.
import { get, imageBlobUrl } from '../api.js';
import { h, loadInto, loading } from '../ui.js';
import { format, hashOf } from './season.js';

const LIMIT = 12;

/** @param {number} seconds as m:ss.s */
const clock = (seconds) => `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;

/**
 * @typedef {{ label: string, color: string }} Legend
 * @typedef {{ label: string, score: number, box: number[], color: string }} Detection
 * @typedef {{ frame: number, time: number, effectiveness: number, count: number, detections: Detection[], image: string }} BestFrame
 */

export const bestFramesPage = {
  path: '/best-frames',
  title: 'Best frames',
  /** @type {('admin' | 'analyst' | 'client')[]} */
  roles: ['client', 'admin', 'analyst'],
  /** Reached from a game's charts, not the menu. */
  hidden: true,
  /**
   * @param {HTMLElement} main
   * @param {import('../app.js').PageContext} ctx
   */
  render(main, { me, params }) {
    const videoId = params.get('video') ?? '';
    const detGroupId = params.get('detGroup') ?? '';
    const gameId = params.get('game') ?? '';
    const seasonId = params.get('season') ?? '';
    const clientId = me.role === 'client' ? '' : params.get('client') ?? '';
    const resolution = params.get('resolution') ?? '';

    const heading = h('h1', { text: 'Best frames' });
    const back = h('p', {}, h('a', { href: hashOf('/game', { id: gameId, detGroup: detGroupId, season: seasonId, client: clientId, resolution }), text: '← Game' }));
    const content = h('div', { class: 'best-frames-content' });
    main.replaceChildren(back, heading, content);
    let stopped = false;
    /** @type {string[]} */
    const objectUrls = [];

    /** @param {BestFrame} f @param {number} rank */
    function frameFigure(f, rank) {
      const labels = [...new Set(f.detections.map((d) => d.label))].join(', ');
      const description = `Frame ${f.frame} at ${clock(f.time)}, ${f.detections.length} ${f.detections.length === 1 ? 'box' : 'boxes'}${labels ? ` of ${labels}` : ''}`;
      const slot = h('div', { class: 'frame-image' }, loading(`Drawing frame ${f.frame}…`));
      imageBlobUrl(f.image, 'the drawn frame')
        .then((src) => {
          if (stopped) return URL.revokeObjectURL(src);
          objectUrls.push(src);
          const img = h('img', { src, alt: description, width: 320 });
          slot.replaceChildren(h('a', { href: src, target: '_blank', rel: 'noopener', 'aria-label': `Open frame ${f.frame} full size` }, img));
        }, (/** @type {unknown} */ error) => {
          slot.replaceChildren(h('p', { class: 'error', role: 'alert', text: `Frame ${f.frame}: ${error instanceof Error ? error.message : error}` }));
        });
      return h('li', { 'data-frame': String(f.frame) },
        h('figure', {},
          slot,
          h('figcaption', {},
            h('span', { class: 'rank', text: `#${rank}` }), ' ',
            h('span', { text: `Effectiveness ${format.effectiveness(f.effectiveness)}` }), ' · ',
            h('span', { text: clock(f.time) }), ' · ',
            h('span', { class: 'frame-number', text: `frame ${f.frame}` }))));
    }

    /** @param {Legend[]} legend */
    const legendList = (legend) => h('ul', { class: 'legend', 'aria-label': 'Box colours' },
      ...legend.map((l) => {
        const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.borderColor = l.color; // CSSOM, not a style attribute: the console's CSP allows it
        return h('li', {}, swatch, l.label);
      }));

    loadInto(content, 'Loading the best frames…', async () => {
      if (!videoId || !detGroupId) throw new Error("Open a video's best frames from its game's chart.");
      const q = new URLSearchParams({ detGroup: detGroupId, limit: String(LIMIT) });
      const [best, detGroup] = await Promise.all([
        get(`/v1/videos/${encodeURIComponent(videoId)}/best-frames?${q}`),
        get(`/v1/det-groups/${encodeURIComponent(detGroupId)}`),
      ]);
      if (stopped) return [];
      heading.textContent = `Best frames: ${detGroup.name}`;
      document.title = `Best frames of ${detGroup.name} · Framewise`;
      /** @type {BestFrame[]} */
      const frames = best.frames;
      return [
        ...(frames.length
          ? [h('p', { text: `The ${frames.length} frames of this video with the highest effectiveness for ${detGroup.name}, highest first, with the boxes that were measured.` })]
          : []),
        legendList(best.legend),
        frames.length
          ? h('ol', { class: 'best-frames' }, ...frames.map((f, i) => frameFigure(f, i + 1)))
          : h('p', { class: 'empty', text: `No frame of this video shows ${detGroup.name}.` }),
      ];
    }, () => stopped);
    return () => {
      stopped = true;
      for (const url of objectUrls) URL.revokeObjectURL(url);
    };
  },
};
