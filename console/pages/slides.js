// @ts-check
// Slides: the sessions of slide images, and a session's images with their state and progress, a thumbnail and a
// link to the viewer for the ready ones, a page at a time. While an image is uploading or dicing the page reads the
// session again every few seconds (while the tab is visible). A thumbnail is a redirect to a presigned URL that an
// <img> could not ask for with the key, so it is fetched with the key and shown from a blob: URL.
import { get, imageBlobUrl } from '../api.js';
import { failure, h, loading, table, when } from '../ui.js';

const REFRESH_MS = 5000;
const BUSY = ['uploading', 'dicing'];

/**
 * @typedef {{ id: string, name: string, createdAt: string }} SlideSession
 * @typedef {{ id: string, filename: string, sizeBytes: number, state: string, progress: number, width: number | null,
 *   height: number | null, format: string | null, error: { code: string, message: string } | null, updatedAt: string }} SlideImage
 */

/** @param {number} bytes */
export function size(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const imagePath = (/** @type {string} */ id) => `/v1/slides/images/${encodeURIComponent(id)}`;

/** @param {SlideImage} image */
function progress(image) {
  const label = `${image.progress}%`;
  return h('div', { class: 'progress' },
    h('progress', { max: '100', value: String(image.progress), 'aria-label': `Progress of ${image.filename}` }),
    h('span', { text: label }));
}

/** @param {HTMLElement} main */
function sessionsView(main) {
  const list = h('div', { class: 'sessions' }, loading('Loading sessions…'));
  main.replaceChildren(h('h1', { text: 'Slides' }), list);
  let stopped = false;

  async function load() {
    list.replaceChildren(loading('Loading sessions…'));
    try {
      /** @type {{ sessions: SlideSession[] }} */
      const { sessions } = await get('/v1/slides/sessions');
      if (stopped) return;
      // the API lists the oldest first; the newest is the one most likely wanted
      const newest = [...sessions].reverse();
      list.replaceChildren(newest.length
        ? table(`${newest.length} session${newest.length === 1 ? '' : 's'}, newest first`, [
          { header: 'Session', cell: (s) => h('a', { href: `#/slides?session=${encodeURIComponent(s.id)}`, text: s.name }) },
          { header: 'Created', cell: (s) => when(s.createdAt) },
        ], newest)
        : h('p', { class: 'empty', text: 'No sessions yet.' }));
    } catch (error) {
      if (!stopped) list.replaceChildren(failure(error, () => void load()));
    }
  }
  void load();
  return () => {
    stopped = true;
  };
}

/**
 * @param {HTMLElement} main
 * @param {string} sessionId
 */
function sessionView(main, sessionId) {
  const heading = h('h1', { text: 'Slides' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const list = h('div', { class: 'slide-images' }, loading('Loading the session…'));
  const more = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', hidden: true, onclick: () => void showMore() }, 'More'));
  main.replaceChildren(h('p', {}, h('a', { href: '#/slides', text: '← All sessions' })), heading, status, list, more);

  /** Pages shown: a refresh reads as many again. */
  let pages = 1;
  /** @type {string | null} */
  let nextCursor = null;
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {Map<string, Promise<string>>} thumbnails as blob: URLs, by image id, fetched once for the page's life */
  const thumbnails = new Map();

  /** @param {SlideImage} image */
  function thumbnail(image) {
    const img = /** @type {HTMLImageElement} */ (h('img', { class: 'thumbnail', alt: `Thumbnail of ${image.filename}` }));
    let url = thumbnails.get(image.id);
    if (!url) {
      url = imageBlobUrl(`${imagePath(image.id)}/thumbnail`, 'the thumbnail');
      thumbnails.set(image.id, url);
      url.catch(() => thumbnails.delete(image.id));
    }
    url.then((src) => { img.src = src; }, () => { img.replaceWith(h('span', { class: 'empty', text: 'no thumbnail' })); });
    return img;
  }

  /** @param {SlideImage} image */
  const shown = (image) => {
    if (image.state === 'ready') {
      return h('div', { class: 'ready' },
        thumbnail(image),
        h('a', { href: `${imagePath(image.id)}/view`, text: 'Open in viewer', 'aria-label': `Open in viewer: ${image.filename}` }));
    }
    if (image.error) return h('span', { class: 'image-error', text: `${image.error.code}: ${image.error.message}` });
    return '';
  };

  /** The session and the images of as many pages as are shown. */
  async function read() {
    const detail = await get(`/v1/slides/sessions/${encodeURIComponent(sessionId)}`);
    /** @type {SlideImage[]} */
    const images = [...detail.images];
    /** @type {string | null} */
    let cursor = detail.nextCursor;
    for (let page = 1; page < pages && cursor; page += 1) {
      const q = new URLSearchParams({ sessionId, cursor });
      const next = await get(`/v1/slides/images?${q}`);
      images.push(...next.images);
      cursor = next.nextCursor;
    }
    return { name: /** @type {string} */ (detail.name), createdAt: /** @type {string} */ (detail.createdAt), images, cursor };
  }

  async function refresh() {
    clearTimeout(timer);
    let busy = false;
    try {
      const { name, createdAt, images, cursor } = await read();
      if (stopped) return;
      heading.textContent = `Slides: ${name}`;
      document.title = `${name} · Slides · Framewise`;
      nextCursor = cursor;
      busy = images.some((i) => BUSY.includes(i.state));
      list.replaceChildren(images.length
        ? table(`${images.length} image${images.length === 1 ? '' : 's'}${cursor ? ' so far' : ''}; session created ${when(createdAt)}`, [
          { header: 'Image', cell: (i) => i.filename },
          { header: 'State', cell: (i) => h('span', { class: `image-state ${i.state}`, text: i.state }) },
          { header: 'Progress', cell: (i) => progress(i) },
          { header: 'Size', cell: (i) => size(i.sizeBytes) },
          { header: 'Format', cell: (i) => (i.format ? `${i.format}${i.width && i.height ? `, ${i.width} × ${i.height}` : ''}` : '—') },
          { header: 'Updated', cell: (i) => when(i.updatedAt) },
          { header: 'Thumbnail, viewer or error', cell: (i) => shown(i) },
        ], images)
        : h('p', { class: 'empty', text: 'No images in this session yet.' }));
      more.hidden = !cursor;
      more.disabled = false;
      status.textContent = busy ? 'Images are being processed: this page refreshes every 5 s.' : '';
    } catch (error) {
      if (stopped) return;
      list.replaceChildren(failure(error, () => void refresh()));
      more.hidden = true;
    }
    if (!stopped && busy) timer = setTimeout(function tick() {
      // a hidden tab asks nothing; it looks again when the next tick finds it visible
      if (document.hidden) timer = setTimeout(tick, REFRESH_MS);
      else void refresh();
    }, REFRESH_MS);
  }

  async function showMore() {
    if (!nextCursor) return;
    more.disabled = true;
    pages += 1;
    await refresh();
  }

  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const url of thumbnails.values()) url.then((src) => URL.revokeObjectURL(src), () => {});
  };
}

export const slidesPage = {
  path: '/slides',
  title: 'Slides',
  /** @type {('admin' | 'analyst')[]} */
  roles: ['admin', 'analyst'],
  /**
   * @param {HTMLElement} main
   * @param {import('../app.js').PageContext} ctx
   */
  render(main, { params }) {
    const sessionId = params.get('session');
    return sessionId ? sessionView(main, sessionId) : sessionsView(main);
  },
};
