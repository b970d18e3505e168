// The slide viewer: a page that shows a ready slide image with OpenSeadragon (from the openseadragon package, shipped
// with slides-api, never a CDN). The page and its files are public and hold no data: a browser navigating to a page
// cannot send an API key, so the page's script takes the key from sessionStorage (or asks for it), and reads the
// image's metadata, descriptor and tiles with it.
//
// Tiles: OpenSeadragon loads the descriptor and every tile by XHR with `Authorization: Bearer <key>` to this API
// (same origin), which answers a 302 to a signed URL on another origin (CloudFront in AWS, presigned S3 locally). The
// browser follows it as a CORS request and drops the Authorization header on the cross-origin hop (the Fetch standard;
// Chromium does), so the other origin sees only its signed query and needs no preflight, only
// Access-Control-Allow-Origin on the GET (SIGNED_CDN_CORS in AWS, the bucket's BROWSER_BUCKET_CORS locally). Plain <img> tiles could not carry the key; a key in the URL would end up in logs and history.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { config } from '../lib/config.ts';

/** sessionStorage's name of the API key: one name for every page of this API that needs the key. */
export const API_KEY_STORAGE = 'framewise.apiKey';

/** The navigation buttons shown (zoom in, zoom out, home, full page), each in its four states. */
const BUTTONS = ['zoomin', 'zoomout', 'home', 'fullpage'].flatMap((b) => ['rest', 'grouphover', 'hover', 'pressed'].map((s) => `${b}_${s}.png`));

/** The files the page loads, by the name it asks for. */
export const VIEWER_ASSETS = ['openseadragon.min.js', 'viewer.js', 'viewer.css', ...BUTTONS] as [string, ...string[]];
export type ViewerAsset = (typeof VIEWER_ASSETS)[number];

const STYLE = `[hidden] { display: none !important; }
html, body { margin: 0; height: 100%; font: 15px/1.4 system-ui, sans-serif; background: #111; color: #eee; }
body { display: flex; flex-direction: column; }
header { display: flex; align-items: center; gap: 1em; padding: 0.4em 1em; background: #222; }
h1 { font-size: 1.05em; margin: 0; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
button { font: inherit; }
form { margin: 2em auto; display: grid; gap: 0.5em; width: min(26em, 90vw); }
input { font: inherit; padding: 0.3em; }
.hint { color: #aaa; font-size: 0.9em; margin: 0; }
#status { margin: 1em; }
#status[data-kind="error"] { color: #ff9b8f; }
#viewer { flex: 1; min-height: 0; position: relative; }
/* the rule OpenSeadragon would inject as an inline style, which the page's CSP refuses */
@media (hover: none) { .openseadragon-canvas:focus { outline: none !important; } }
`;

// Plain browser JavaScript, served as viewer.js (a script of the page's own origin, as its CSP requires).
const SCRIPT = `'use strict';
(() => {
  const KEY = ${JSON.stringify(API_KEY_STORAGE)};
  const here = new URL('.', location.href); // .../images/{id}/
  const imageUrl = here.href.replace(/\\/$/, '');
  const id = decodeURIComponent(imageUrl.split('/').pop());
  const form = document.getElementById('sign-in');
  const input = document.getElementById('api-key');
  const status = document.getElementById('status');
  const title = document.getElementById('title');
  const signOut = document.getElementById('sign-out');
  let viewer;

  const say = (text, kind) => {
    status.textContent = text;
    status.dataset.kind = kind || 'info';
    status.hidden = !text;
  };
  const askForKey = (message) => {
    form.hidden = false;
    signOut.hidden = true;
    say(message || '', 'error');
    input.focus();
  };
  const reason = (body) => (body && body.error ? body.error.code + ': ' + body.error.message : 'no details');

  async function open(key) {
    form.hidden = true;
    say('Loading the image...');
    let res;
    try {
      res = await fetch(imageUrl, { headers: { Authorization: 'Bearer ' + key }, cache: 'no-store' });
    } catch (err) {
      say('The API could not be reached (' + err.message + ').', 'error');
      return;
    }
    const body = await res.json().catch(() => undefined);
    if (res.status === 401) {
      sessionStorage.removeItem(KEY);
      askForKey('The API key was not accepted (401 ' + reason(body) + '). Enter a valid key.');
      return;
    }
    signOut.hidden = false;
    if (res.status === 403) return say('This API key may not view slide images (403).', 'error');
    if (res.status === 404 || res.status === 400) return say('There is no slide image with the id ' + id + ' (' + res.status + ').', 'error');
    if (!res.ok || !body) return say('The API answered ' + res.status + ' (' + reason(body) + ').', 'error');
    title.textContent = body.filename;
    document.title = body.filename + ' - Framewise';
    if (body.state !== 'ready') {
      return say('The image is ' + body.state + ' (' + body.progress + '%): it can be viewed once it is ready.' + (body.error ? ' ' + body.error.message : ''), 'error');
    }
    say('');
    viewer = OpenSeadragon({
      element: document.getElementById('viewer'),
      prefixUrl: '../../viewer/',
      tileSources: new URL('image.dzi', here).href,
      loadTilesWithAjax: true,
      ajaxHeaders: { Authorization: 'Bearer ' + key },
      showRotationControl: false,
      maxZoomPixelRatio: 4,
    });
    viewer.addHandler('open-failed', (e) => say('The image could not be opened (' + e.message + ').', 'error'));
    // the open viewer, for a user's (or a test's) console
    window.framewiseViewer = viewer;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    input.value = '';
    void open(key);
  });
  signOut.addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    if (viewer) viewer.destroy();
    viewer = undefined;
    window.framewiseViewer = undefined;
    askForKey('');
  });

  const key = sessionStorage.getItem(KEY);
  if (key) void open(key);
  else askForKey('');
})();
`;

export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  /** In the asset's URL (`?v=`): the package's version, or a hash of the page's own files. */
  readonly version: string;
}

const openseadragonVersion = (): string =>
  (JSON.parse(readFileSync(join(config.openseadragonDir(), 'package.json'), 'utf8')) as { version: string }).version;
const BUILD = 'build/openseadragon';

const hashOf = (text: string | Buffer): string => createHash('sha256').update(text).digest('base64');
const contentHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

function load(name: ViewerAsset): Omit<Asset, 'gzip'> {
  if (name === 'viewer.js') return { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(SCRIPT), version: contentHash(SCRIPT) };
  if (name === 'viewer.css') return { contentType: 'text/css; charset=utf-8', body: Buffer.from(STYLE), version: contentHash(STYLE) };
  const file = name.endsWith('.png') ? join(BUILD, 'images', name) : join(BUILD, name);
  const contentType = name.endsWith('.png') ? 'image/png' : 'text/javascript; charset=utf-8';
  return { contentType, body: readFileSync(join(config.openseadragonDir(), file)), version: openseadragonVersion() };
}

const loaded = new Map<ViewerAsset, Asset>();

/** An asset, and gzipped once per instance. */
export function viewerAsset(name: ViewerAsset): Asset {
  let asset = loaded.get(name);
  if (!asset) {
    const plain = load(name);
    asset = { ...plain, gzip: gzipSync(plain.body) };
    loaded.set(name, asset);
  }
  return asset;
}

// OpenSeadragon adds an inline <style data-openseadragon-mobile-css> unless the page has one: the page has an empty
// one (allowed by its hash) and its rule is in viewer.css, so no inline style is needed.
const EMPTY_STYLE_HASH = `'sha256-${hashOf('')}'`;

/**
 * The page's Content-Security-Policy: scripts and styles of this origin only; XHR to this API and, through its
 * redirects, to the origin of its signed URLs (`objectOrigin`); tiles decoded from blobs (and by OpenSeadragon's
 * worker, made from a blob).
 */
export const viewerPolicy = (objectOrigin: string): string =>
  [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' ${EMPTY_STYLE_HASH}`,
    "img-src 'self' blob: data:",
    `connect-src 'self' ${objectOrigin}`,
    'worker-src blob:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

/** The page: relative URLs (`…/images/{id}/view` → `…/viewer/<asset>`), so it works under any base path. No data. */
export const viewerPage = (): string => {
  const url = (name: ViewerAsset) => `../../viewer/${name}?v=${viewerAsset(name).version}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Slide image - Framewise</title>
<link rel="stylesheet" href="${url('viewer.css')}">
<style data-openseadragon-mobile-css></style>
</head>
<body>
<header><h1 id="title">Slide image</h1><button id="sign-out" type="button" hidden>Forget the API key</button></header>
<form id="sign-in" hidden>
<label for="api-key">API key</label>
<input id="api-key" name="api-key" type="password" autocomplete="off" required>
<button type="submit">Open the image</button>
<p class="hint">The key is kept in this tab only (sessionStorage) and sent only to this API.</p>
</form>
<p id="status" role="status" hidden></p>
<div id="viewer"></div>
<script src="${url('openseadragon.min.js')}"></script>
<script src="${url('viewer.js')}"></script>
</body>
</html>
`;
};
