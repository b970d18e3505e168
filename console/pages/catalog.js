// @ts-check
// Operator: the catalog as the pipeline sees it. A season's games with their videos and each video's status; a
// client's det_groups with their detectables. An admin grants a det_group to the client (an existing one, or a new
// one of the detectables it picks), revokes one (a det_group no client holds any more is deleted with its metrics,
// so revoking asks once more) and replaces one by another (`POST …/replace` with the other's detectables: the ones
// both share stay with the client throughout). The season and the client picked are part of the route, so a view
// can be bookmarked.
import { ApiError, call, get } from '../api.js';
import { failure, h, loading, table, when } from '../ui.js';

/** Rows a picker reads at most (pages of 500, the API's largest). */
const MAX_ROWS = 2000;
/** Detectables named per det_group; the rest are counted. */
const NAMED = 12;

/**
 * Every row of a list route, following nextCursor up to MAX_ROWS.
 * @param {string} path e.g. `/v1/games?seasonId=…`
 * @returns {Promise<any[]>}
 */
async function all(path) {
  /** @type {any[]} */
  const rows = [];
  /** @type {string | null | undefined} */
  let cursor;
  do {
    const q = new URLSearchParams({ limit: '500' });
    if (cursor) q.set('cursor', cursor);
    const page = await get(`${path}${path.includes('?') ? '&' : '?'}${q}`);
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && rows.length < MAX_ROWS);
  return rows;
}

/**
 * @param {Record<string, string | null | undefined>} values
 * @returns {string}
 */
function hashOf(values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
  return `#/catalog?${q}`;
}

/** @param {any} dg */
const detGroupLabel = (dg) => `${dg.name} (${dg.detectableIds.length} detectable${dg.detectableIds.length === 1 ? '' : 's'})`;

/**
 * A labelled select of rows and a button that shows the one picked (not on change: arrow keys on a closed select
 * change it, and a keyboard user would leave the page at every step).
 * @param {string} id
 * @param {string} label
 * @param {{ value: string, text: string }[]} options
 * @param {string} selected
 * @param {(value: string) => void} onPick
 */
function picker(id, label, options, selected, onPick) {
  const select = /** @type {HTMLSelectElement} */ (h('select', { id, name: id },
    ...options.map((o) => h('option', { value: o.value, selected: o.value === selected, text: o.text }))));
  const form = h('form', { class: 'filters', 'aria-label': `Pick a ${label.toLowerCase()}` },
    h('label', { for: id, text: label }), select, h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onPick(select.value);
  });
  return form;
}

export const catalogPage = {
  path: '/catalog',
  title: 'Catalog',
  /** @type {('admin' | 'analyst')[]} */
  roles: ['admin', 'analyst'],
  /**
   * @param {HTMLElement} main
   * @param {import('../app.js').PageContext} ctx
   */
  render(main, { me, params }) {
    const isAdmin = me.role === 'admin';
    let stopped = false;
    const seasons = h('section', { class: 'catalog', 'aria-labelledby': 'catalog-seasons' }, h('h2', { id: 'catalog-seasons', text: 'Seasons and games' }), loading('Loading seasons…'));
    const clients = h('section', { class: 'catalog', 'aria-labelledby': 'catalog-clients' }, h('h2', { id: 'catalog-clients', text: 'Clients and det_groups' }), loading('Loading clients…'));
    main.replaceChildren(h('h1', { text: 'Catalog' }), seasons, clients);

    /** @param {HTMLElement} section @param {...(Node | string)} content */
    const show = (section, ...content) => {
      if (!stopped) section.replaceChildren(/** @type {Node} */ (section.firstChild), ...content);
    };
    const pick = (/** @type {string} */ name, /** @type {string} */ value) => {
      location.hash = hashOf({ season: params.get('season'), client: params.get('client'), [name]: value });
    };

    async function showSeasons() {
      show(seasons, loading('Loading seasons…'));
      try {
        const [list, leagues] = await Promise.all([all('/v1/seasons'), all('/v1/leagues')]);
        const leagueName = new Map(leagues.map((l) => [l.id, l.name]));
        if (!list.length) return show(seasons, h('p', { class: 'empty', text: 'No seasons yet.' }));
        const seasonId = list.some((s) => s.id === params.get('season')) ? /** @type {string} */ (params.get('season')) : list[0].id;
        const choose = picker('catalog-season', 'Season', list.map((s) => ({ value: s.id, text: `${leagueName.get(s.leagueId) ?? 'league'} · ${s.name}` })), seasonId, (v) => pick('season', v));
        show(seasons, choose, loading('Loading games…'));
        const games = await all(`/v1/games?seasonId=${encodeURIComponent(seasonId)}`);
        const videos = await Promise.all(games.map((g) => all(`/v1/videos?gameId=${encodeURIComponent(g.id)}`)));
        const rows = games.map((game, i) => ({ game, videos: videos[i] ?? [] }));
        show(seasons, choose, rows.length
          ? table(`${rows.length} game${rows.length === 1 ? '' : 's'} of the season`, [
            { header: 'Game', cell: (r) => r.game.title },
            { header: 'Starts', cell: (r) => when(r.game.startsAt) },
            { header: 'Videos', cell: (r) => (r.videos.length
              ? h('ul', { class: 'videos' }, ...r.videos.map((v) => h('li', {}, h('span', { text: v.title ?? v.id }), ' ', h('span', { class: `video-status ${v.status}`, text: v.status }))))
              : h('span', { class: 'empty', text: 'no video' })) },
          ], rows)
          : h('p', { class: 'empty', text: 'No games in this season.' }));
      } catch (error) {
        show(seasons, failure(error, () => void showSeasons()));
      }
    }

    const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    let busy = false;
    /** @type {Map<string, string>} */
    const detectableNames = new Map();

    /** @param {string[]} ids */
    async function nameDetectables(ids) {
      const missing = [...new Set(ids)].filter((id) => !detectableNames.has(id));
      await Promise.all(missing.map(async (id) => detectableNames.set(id, (await get(`/v1/detectables/${id}`)).name)));
    }

    /**
     * @param {string} what
     * @param {() => Promise<string>} change returns what to say once done
     */
    async function act(what, change) {
      if (busy) return; // one change at a time: a second click would act on a list about to change
      busy = true;
      status.textContent = `${what}…`;
      let said;
      try {
        said = await change();
      } catch (error) {
        said = `${what} failed: ${error instanceof ApiError ? `${error.message} (${error.code})` : error}`;
      }
      // said once the list shows the change
      await showClients();
      status.textContent = said;
      busy = false;
    }

    async function showClients() {
      try {
        const list = await all('/v1/clients');
        if (!list.length) return show(clients, h('p', { class: 'empty', text: 'No clients yet.' }));
        const client = list.find((c) => c.id === params.get('client')) ?? list[0];
        const choose = picker('catalog-client', 'Client', list.map((c) => ({ value: c.id, text: c.name })), client.id, (v) => pick('client', v));
        if (!clients.querySelector('table')) show(clients, choose, status, loading('Loading det_groups…'));
        const base = `/v1/clients/${encodeURIComponent(client.id)}/det-groups`;
        const grants = (await get(base)).items;
        const held = await Promise.all(grants.map((/** @type {any} */ g) => get(`/v1/det-groups/${g.detGroupId}`)));
        await nameDetectables(held.flatMap((dg) => dg.detectableIds.slice(0, NAMED)));
        const others = isAdmin ? (await all('/v1/det-groups')).filter((dg) => !held.some((m) => m.id === dg.id)) : [];
        const everyDetectable = isAdmin ? await all('/v1/detectables') : [];

        /** @param {any} dg */
        const detectables = (dg) => {
          const names = dg.detectableIds.slice(0, NAMED).map((/** @type {string} */ id) => detectableNames.get(id) ?? id);
          const more = dg.detectableIds.length - names.length;
          return h('ul', { class: 'detectables' }, ...names.map((/** @type {string} */ n) => h('li', { text: n })), more > 0 ? h('li', { class: 'empty', text: `and ${more} more` }) : null);
        };
        /** @param {any} dg */
        const actions = (dg) => {
          const cell = h('div', { class: 'actions' });
          // the confirmation replaces the row's controls in place and takes the focus; Cancel gives both back
          const revoke = h('button', { type: 'button', 'aria-label': `Revoke ${dg.name}`, onclick: () => {
            const confirm = h('button', { type: 'button', class: 'primary', 'aria-label': `Confirm revoking ${dg.name}`, onclick: () => void act(`Revoking ${dg.name}`, async () => {
              const r = await call('DELETE', `${base}/${dg.id}`);
              return `Revoked ${dg.name} from ${client.name}${r.deleted ? '; no client held it any more, so it was deleted' : ''}.`;
            }) }, 'Confirm');
            const controls = [...cell.childNodes];
            cell.replaceChildren(
              h('span', { text: 'Revoke it? With no other client holding it, it is deleted with its metrics.' }),
              confirm,
              h('button', { type: 'button', onclick: () => { cell.replaceChildren(...controls); revoke.focus(); } }, 'Cancel'));
            confirm.focus();
          } }, 'Revoke');
          cell.append(revoke);
          if (!others.length) return cell;
          const id = `replace-${dg.id}`;
          const by = /** @type {HTMLSelectElement} */ (h('select', { id, name: 'replacement' }, ...others.map((o) => h('option', { value: o.id, text: detGroupLabel(o) }))));
          const replace = h('form', { class: 'actions', 'aria-label': `Replace ${dg.name}` },
            h('label', { for: id, text: 'Replace by' }), by, h('button', { type: 'submit' }, 'Replace'));
          replace.addEventListener('submit', (event) => {
            event.preventDefault();
            const next = others.find((o) => o.id === by.value);
            if (!next) return;
            void act(`Replacing ${dg.name} by ${next.name}`, async () => {
              const r = await call('POST', `${base}/${dg.id}/replace`, { body: { name: next.name, detectableIds: next.detectableIds } });
              return `Replaced ${dg.name} by ${next.name} for ${client.name}${r.oldDeleted ? `; ${dg.name} was deleted` : ''}.`;
            });
          });
          cell.append(replace);
          return cell;
        };

        const columns = [
          { header: 'det_group', cell: (/** @type {any} */ dg) => h('span', {}, dg.name, h('br'), h('code', { text: dg.id })) },
          { header: 'Detectables', cell: detectables },
          ...(isAdmin ? [{ header: 'Actions', cell: actions }] : []),
        ];
        const heldTable = held.length
          ? table(`${held.length} det_group${held.length === 1 ? '' : 's'} of ${client.name}`, columns, held)
          : h('p', { class: 'empty', text: `${client.name} holds no det_group.` });

        /**
         * A det_group of detectables picked here, granted to the client: the API creates it (and computes its metrics)
         * unless one with exactly these detectables exists, which the client then gets instead.
         * @param {any[]} detectableList
         */
        const newDetGroupForm = (detectableList) => {
          const name = /** @type {HTMLInputElement} */ (h('input', { id: 'new-det-group-name', name: 'name', required: true, size: 30 }));
          const pickedDetectables = /** @type {HTMLSelectElement} */ (h('select', { id: 'new-det-group-detectables', name: 'detectableIds', multiple: true, size: 6, required: true },
            ...detectableList.map((d) => h('option', { value: d.id, text: d.name }))));
          const form = h('form', { class: 'new-det-group', 'aria-label': `A new det_group for ${client.name}` },
            h('label', { for: 'new-det-group-name', text: 'New det_group' }), name,
            h('label', { for: 'new-det-group-detectables', text: 'Of detectables' }), pickedDetectables,
            h('button', { type: 'submit', class: 'primary' }, 'Create and grant'));
          form.addEventListener('submit', (event) => {
            event.preventDefault();
            const detectableIds = [...pickedDetectables.selectedOptions].map((o) => o.value);
            const named = name.value.trim();
            if (!named || !detectableIds.length) return;
            void act(`Granting ${named}`, async () => {
              const r = await call('POST', base, { body: { name: named, detectableIds } });
              return r.created
                ? `Granted ${named} to ${client.name}, a new det_group whose metrics are being computed.`
                : `Granted to ${client.name} the det_group that has exactly these detectables.`;
            });
          });
          return form;
        };

        /** @type {HTMLElement | null} */
        let grant = null;
        if (isAdmin && !others.length) grant = h('p', { class: 'empty', text: `${client.name} holds every det_group there is.` });
        else if (isAdmin) {
          const which = /** @type {HTMLSelectElement} */ (h('select', { id: 'grant-det-group', name: 'detGroupId' }, ...others.map((o) => h('option', { value: o.id, text: detGroupLabel(o) }))));
          grant = h('form', { class: 'filters', 'aria-label': `Grant a det_group to ${client.name}` },
            h('label', { for: 'grant-det-group', text: 'Grant det_group' }), which, h('button', { type: 'submit', class: 'primary' }, 'Grant'));
          grant.addEventListener('submit', (event) => {
            event.preventDefault();
            const dg = others.find((o) => o.id === which.value);
            if (!dg) return;
            void act(`Granting ${dg.name}`, async () => {
              await call('PUT', `${base}/${dg.id}`);
              return `Granted ${dg.name} to ${client.name}.`;
            });
          });
        }
        show(clients, choose, status, heldTable, grant ?? '', isAdmin ? newDetGroupForm(everyDetectable) : '');
      } catch (error) {
        show(clients, status, failure(error, () => void showClients()));
      }
    }

    void showSeasons();
    void showClients();
    return () => {
      stopped = true;
    };
  },
};
