// @ts-check
// The console's shell: sign-in, then the pages the key's role may use (GET /v1/me says which), by hash route
// (#/jobs, …), so the static files are the whole site. A page renders into <main> and returns how to stop (its
// polling); every page shows loading and error states, and a 401 anywhere returns to sign-in.
import { ApiError, get, session, whenUnauthorized } from './api.js';
import { annotationPage } from './pages/annotation.js';
import { bestFramesPage } from './pages/best-frames.js';
import { catalogPage } from './pages/catalog.js';
import { gamePage } from './pages/game.js';
import { jobsPage } from './pages/jobs.js';
import { seasonPage } from './pages/season.js';
import { signInPage } from './pages/sign-in.js';
import { slidesPage } from './pages/slides.js';
import { h } from './ui.js';

/**
 * @typedef {{ keyId: string, role: 'admin' | 'analyst' | 'client', clientId: string | null }} Me
 * @typedef {{ me: Me, params: URLSearchParams }} PageContext
 * @typedef {{ path: string, title: string, roles: Me['role'][], hidden?: boolean, render: (main: HTMLElement, ctx: PageContext) => (void | (() => void)) }} Page
 */

/** @type {Page[]} */
const PAGES = [jobsPage, catalogPage, seasonPage, gamePage, bestFramesPage, annotationPage, slidesPage];

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const who = /** @type {HTMLElement} */ (document.getElementById('who'));

/** @type {Me | undefined} */
let me;
/** @type {(() => void) | void} */
let stopPage;

const pagesFor = (/** @type {Me} */ m) => PAGES.filter((p) => p.roles.includes(m.role));

function route() {
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
  return { path: path || '/', params: new URLSearchParams(query) };
}

/** @param {string} [notice] */
function showSignIn(notice) {
  me = undefined;
  nav.replaceChildren();
  who.replaceChildren();
  stopPage?.();
  stopPage = signInPage.render(main, {
    notice,
    signedIn: (/** @type {Me} */ m) => {
      me = m;
      const first = pagesFor(m).find((p) => !p.hidden);
      if (first && route().path === first.path) void render();
      else location.hash = first ? `#${first.path}` : '#/';
    },
  });
  document.title = 'Sign in · Framewise';
}

async function render() {
  stopPage?.();
  stopPage = undefined;
  if (!session.key()) return showSignIn();
  if (!me) {
    try {
      me = /** @type {Me} */ (await get('/v1/me'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return; // whenUnauthorized shows sign-in
      main.replaceChildren(h('p', { class: 'error', role: 'alert', text: `The API could not be reached (${error instanceof Error ? error.message : error}).` }));
      return;
    }
  }
  const pages = pagesFor(me);
  const { path, params } = route();
  const page = pages.find((p) => p.path === path) ?? pages[0];
  nav.replaceChildren(
    ...pages.filter((p) => !p.hidden).map((p) => h('a', { href: `#${p.path}`, 'aria-current': p === page ? 'page' : undefined, text: p.title })),
  );
  who.replaceChildren(
    h('span', { text: me.role === 'client' ? 'Client' : me.role === 'admin' ? 'Admin' : 'Analyst' }),
    h('button', { type: 'button', onclick: () => { session.signOut(); showSignIn('Signed out.'); } }, 'Sign out'),
  );
  if (!page) {
    main.replaceChildren(h('p', { text: 'There is nothing this key may use here.' }));
    return;
  }
  document.title = `${page.title} · Framewise`;
  main.replaceChildren();
  stopPage = page.render(main, { me, params });
}

whenUnauthorized(() => {
  session.signOut();
  showSignIn('The key was refused (it may have been revoked). Sign in again.');
});
window.addEventListener('hashchange', () => void render());
void render();
