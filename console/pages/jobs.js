// @ts-check
// Operator: the jobs, as the older admin showed its queues: working, queued, failed (requeue) and releasable
// (release after a look at the result), refreshed every few seconds while the tab is visible. Filters by kind and
// video are part of the route, so a filtered view can be bookmarked.
import { ApiError, get, post } from '../api.js';
import { failure, h, loading, table, when } from '../ui.js';

const TABS = [
  { state: 'working', title: 'Working' },
  { state: 'queued', title: 'Queued' },
  { state: 'failed', title: 'Failed' },
  { state: 'releasable', title: 'Releasable' },
  { state: 'succeeded', title: 'Succeeded' },
];
const KINDS = ['video-ingest', 'det-group', 'bulk-upload', 'materialize-version', 'ingest-annotations', 'update-roots', 'materialize', 'annotation-content', 'annotation-dataset', 'slide-image'];
const REFRESH_MS = 5000;
const SHOWN = 100;
const MAX_PAGES = 10;

/** @param {any} job what the job is about: its video, det_group or other input */
function subject(job) {
  if (job.videoId) return `video ${job.videoId}`;
  if (job.detGroupId) return `det_group ${job.detGroupId}`;
  const [name, value] = Object.entries(job.input ?? {})[0] ?? [];
  return name ? `${name} ${value}` : '—';
}

/** @param {any} job its steps in order, each with its state and parts done */
function steps(job) {
  const list = h('ol', { class: 'steps' });
  for (const [name, step] of Object.entries(job.steps ?? {})) {
    const s = /** @type {any} */ (step);
    const parts = s.total ? ` ${s.done ?? 0}/${s.total}` : '';
    const attempts = s.attempts > 1 ? ` ×${s.attempts}` : '';
    list.append(h('li', { class: `step ${s.state}`, text: `${name}: ${s.state}${parts}${attempts}` }));
  }
  return list;
}

/**
 * @param {string} state
 * @param {URLSearchParams} params
 */
function hashFor(state, params) {
  const q = new URLSearchParams(params);
  q.set('state', state);
  return `#/jobs?${q}`;
}

export const jobsPage = {
  path: '/jobs',
  title: 'Jobs',
  /** @type {('admin' | 'analyst')[]} */
  roles: ['admin', 'analyst'],
  /**
   * @param {HTMLElement} main
   * @param {import('../app.js').PageContext} ctx
   */
  render(main, { me, params }) {
    const state = TABS.some((t) => t.state === params.get('state')) ? /** @type {string} */ (params.get('state')) : 'failed';
    const kind = params.get('kind') ?? '';
    const videoId = params.get('videoId') ?? '';
    const isAdmin = me.role === 'admin';

    const tabs = h('nav', { class: 'tabs', 'aria-label': 'Job states' },
      ...TABS.map((t) => h('a', { href: hashFor(t.state, params), 'aria-current': t.state === state ? 'page' : undefined, text: t.title })));
    const kindSelect = /** @type {HTMLSelectElement} */ (h('select', { id: 'job-kind', name: 'kind' },
      h('option', { value: '', text: 'every kind' }), ...KINDS.map((k) => h('option', { value: k, selected: k === kind, text: k }))));
    const videoInput = /** @type {HTMLInputElement} */ (h('input', { id: 'job-video', name: 'videoId', value: videoId, placeholder: 'video id', size: 38 }));
    const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter jobs' },
      h('label', { for: 'job-kind', text: 'Kind' }), kindSelect,
      h('label', { for: 'job-video', text: 'Video' }), videoInput,
      h('button', { type: 'submit' }, 'Filter'));
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      const q = new URLSearchParams({ state });
      if (kindSelect.value) q.set('kind', kindSelect.value);
      if (videoInput.value.trim()) q.set('videoId', videoInput.value.trim());
      location.hash = `#/jobs?${q}`;
    });
    const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
    const list = h('div', { class: 'jobs' }, loading('Loading jobs…'));
    main.replaceChildren(h('h1', { text: 'Jobs' }), tabs, filters, status, list);

    /** Jobs whose review panel is open: a refresh keeps it open. */
    const open = new Set();
    let stopped = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;

    const act = async (/** @type {string} */ what, /** @type {string} */ path, /** @type {string} */ done) => {
      status.textContent = `${what}…`;
      try {
        await post(path);
        status.textContent = done;
      } catch (error) {
        status.textContent = `${what} failed: ${error instanceof ApiError ? `${error.message} (${error.code})` : error}`;
      }
      await refresh();
    };

    /** @param {any} job */
    const actions = (job) => {
      if (!isAdmin) return '';
      if (state === 'failed') return h('button', { type: 'button', onclick: () => act(`Requeuing ${job.jobId}`, `/v1/jobs/${encodeURIComponent(job.jobId)}/requeue`, `Requeued ${job.jobId}.`) }, 'Requeue');
      if (state === 'releasable') {
        const release = job.videoId ? `/v1/videos/${job.videoId}/release` : `/v1/det-groups/${job.detGroupId}/release`;
        const reviewing = open.has(job.jobId);
        return h('span', { class: 'actions' },
          h('button', { type: 'button', 'aria-expanded': String(reviewing), onclick: () => { toggle(job); void refresh(); } }, reviewing ? 'Close review' : 'Review'),
          reviewing ? h('button', { type: 'button', class: 'primary', onclick: () => act(`Releasing ${subject(job)}`, release, `Released ${subject(job)}.`) }, 'Release') : null);
      }
      return '';
    };
    const toggle = (/** @type {any} */ job) => {
      if (open.delete(job.jobId)) return;
      open.add(job.jobId);
      openReview(job);
    };

    /** A review, asked for once when its panel opens and kept while the page polls: jobId → its state. */
    /** @type {Map<string, { review?: any, error?: unknown }>} */
    const reviews = new Map();
    /** @param {any} job */
    const reviewPath = (job) =>
      job.videoId ? `/v1/videos/${encodeURIComponent(job.videoId)}/review` : `/v1/det-groups/${encodeURIComponent(job.detGroupId)}/review`;
    /** @param {any} job */
    const openReview = (job) => {
      if (reviews.has(job.jobId)) return;
      reviews.set(job.jobId, {});
      get(reviewPath(job)).then(
        (review) => reviews.set(job.jobId, { review }),
        (error) => reviews.set(job.jobId, { error }),
      ).finally(() => { if (!stopped) void refresh(); });
    };

    const fixed = (/** @type {number} */ x, /** @type {number} */ digits) => x.toFixed(digits);
    /** @type {{ header: string, cell: (totals: any) => string }[]} */
    const TOTALS = [
      { header: 'Visible frames', cell: (t) => `${t.visibleFrames} of ${t.frames}` },
      { header: 'Exposure (s)', cell: (t) => fixed(t.exposureSeconds, 1) },
      { header: 'Detections', cell: (t) => String(t.detections) },
      { header: 'Effectiveness', cell: (t) => fixed(t.sumEffectiveness, 2) },
    ];

    /** @param {any} r a video's review: each det_group's totals, as clients would see them */
    const videoReview = (r) => {
      const seen = r.runReleased ? 'Clients already see these results.'
        : r.releasedAt ? `Clients see the results released ${when(r.releasedAt)} until this release.` : 'Clients see nothing of this video before this release.';
      return [h('p', { text: seen }),
        r.detGroups.length === 0 ? h('p', { class: 'empty', text: 'No det_group has results for this video.' })
          : table(`Whole-video metrics of video ${r.videoId}`, [
            { header: 'det_group', cell: (g) => g.name },
            ...TOTALS.map((c) => ({ header: c.header, cell: (/** @type {any} */ g) => c.cell(g.totals) })),
            { header: 'det_group released', cell: (g) => (g.releasedAt ? when(g.releasedAt) : 'not yet') },
          ], r.detGroups)];
    };

    /** @param {any} r a det_group's review: its totals in each video it applies to */
    const detGroupReview = (r) => [
      r.videos.length === 0 ? h('p', { class: 'empty', text: 'No ingested video shows its detectables yet.' })
        : table(`Whole-video metrics of det_group ${r.name}`, [
          { header: 'Video', cell: (v) => v.title ?? v.videoId },
          ...TOTALS.map((c) => ({ header: c.header, cell: (/** @type {any} */ v) => (v.totals ? c.cell(v.totals) : 'not computed') })),
        ], r.videos)];

    /** @param {any} job the job's result, and what its release would show clients */
    const review = (job) => {
      const result = h('dl', { class: 'result' }, ...Object.entries(job.result ?? {}).flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: typeof v === 'object' ? JSON.stringify(v) : String(v) })]));
      const state = reviews.get(job.jobId) ?? {};
      if (state.error) return h('div', {}, result, failure(state.error, () => { reviews.delete(job.jobId); openReview(job); }));
      if (!state.review) return h('div', {}, result, loading('Loading its metrics…'));
      return h('div', { class: 'review' }, result, ...(job.videoId ? videoReview(state.review) : detGroupReview(state.review)));
    };

    /** Up to SHOWN jobs: a kind filters each page the API reads, so a short page may still have more after it. */
    async function listed() {
      /** @type {any[]} */
      const jobs = [];
      /** @type {string | undefined} */
      let cursor;
      for (let pages = 0; pages < MAX_PAGES && jobs.length < SHOWN; pages += 1) {
        const q = new URLSearchParams({ state, limit: '100' });
        if (videoId) q.set('videoId', videoId);
        if (kind) q.set('kind', kind);
        if (cursor) q.set('cursor', cursor);
        const page = await get(`/v1/jobs?${q}`);
        jobs.push(...page.jobs);
        cursor = page.cursor;
        if (!cursor) break;
      }
      return jobs.slice(0, SHOWN);
    }

    async function refresh() {
      clearTimeout(timer);
      try {
        const jobs = await listed();
        if (stopped) return;
        const rows = table(`${jobs.length} ${state} job${jobs.length === 1 ? '' : 's'}${kind ? ` of kind ${kind}` : ''}`, [
          { header: 'Job', cell: (j) => h('code', { text: j.jobId }) },
          { header: 'Kind', cell: (j) => j.kind },
          { header: 'Subject', cell: (j) => subject(j) },
          { header: 'Steps', cell: (j) => steps(j) },
          { header: 'Error', cell: (j) => (j.error ? h('span', { class: 'job-error', text: `${j.error.code}: ${j.error.message}` }) : '') },
          { header: 'Updated', cell: (j) => when(j.updatedAt) },
          { header: 'Actions', cell: (j) => h('div', {}, actions(j), open.has(j.jobId) ? review(j) : null) },
        ], jobs);
        list.replaceChildren(jobs.length ? rows : h('p', { class: 'empty', text: `No ${state} jobs${kind ? ` of kind ${kind}` : ''}.` }));
      } catch (error) {
        if (stopped) return;
        list.replaceChildren(failure(error, () => void refresh()));
      }
      if (!stopped) timer = setTimeout(function tick() {
        // a hidden tab asks nothing; it looks again when the next tick finds it visible
        if (document.hidden) timer = setTimeout(tick, REFRESH_MS);
        else void refresh();
      }, REFRESH_MS);
    }
    void refresh();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  },
};
