// @ts-check
// Annotation tasks: the projects; a project's uploads, each with its tasks' status and audit status; and a task's
// player, which plays the task video (its presigned URL from GET /v1/annotation/tasks/{id}) and steps it a frame at a
// time with the frame's boxes drawn over it. A task video holds one picture per task frame at the manifest's frame
// rate, so frame i is shown from i / fps to (i + 1) / fps: a step seeks to the middle of that span, away from the
// edges where rounding could show the neighbour. Boxes are in the frame's pixels, which are the video's (odd sizes are
// padded right and bottom, never scaled), so the overlay is an SVG whose viewBox is the video's size, fitted as the
// video is.
import { get } from '../api.js';
import { h, loadInto, table, when } from '../ui.js';

const SVG = 'http://www.w3.org/2000/svg';

/** What the API's numbers mean (GET /v1/annotation/tasks/{id}: taskStatus, auditStatus; an upload's status). */
export const TASK_STATUS = ['not started', 'in progress', 'completed'];
export const AUDIT_STATUS = ['pending', 'accepted', 'rejected', 'fixed', 'fixing', 'completed'];
const UPLOAD_STATUS = ['in progress', 'completed', 'error'];
const named = (/** @type {string[]} */ names, /** @type {number} */ n) => names[n] ?? `unknown (${n})`;

/**
 * @typedef {{ projectId: string, name: string, labels: string[], framesPerTask: number, createdAt: string }} Project
 * @typedef {{ uploadId: string, fileName: string, status: number, progress: number, taskCount?: number, frameCount?: number,
 *   error?: { code: string, message: string }, createdAt: string }} Upload
 * @typedef {{ taskId: string, projectId: string, uploadId: string, index: number, frames: { first: number, count: number },
 *   sourceFrames: number[], generated: boolean, taskStatus: number, auditStatus: number }} Task
 * @typedef {{ label: string, x: number, y: number, w: number, h: number, score?: number }} Box
 * @typedef {{ index: number, sourceFrame: number, human: Box[], auto: { version: number, boxes: Box[] } | null }} FrameBoxes
 * @typedef {{ frameRate: number, width: number, height: number, letterboxed: boolean }} Manifest
 */

const projectPath = (/** @type {string} */ id) => `/v1/annotation/projects/${encodeURIComponent(id)}`;
const taskPath = (/** @type {string} */ id) => `/v1/annotation/tasks/${encodeURIComponent(id)}`;

/** @param {HTMLElement} main */
function projectsView(main) {
  let stopped = false;
  const list = h('div', { class: 'projects' });
  main.replaceChildren(h('h1', { text: 'Annotation projects' }), list);
  loadInto(list, 'Loading projects…', async () => {
    /** @type {{ projects: Project[] }} */
    const { projects } = await get('/v1/annotation/projects');
    if (projects.length === 0) return [h('p', { class: 'empty', text: 'No annotation projects yet.' })];
    return [table(`${projects.length} project${projects.length === 1 ? '' : 's'}, by name`, [
      { header: 'Project', cell: (p) => h('a', { href: `#/annotation?project=${encodeURIComponent(p.projectId)}`, text: p.name }) },
      { header: 'Labels', cell: (p) => p.labels.join(', ') },
      { header: 'Frames per task', cell: (p) => String(p.framesPerTask) },
      { header: 'Created', cell: (p) => when(p.createdAt) },
    ], projects)];
  }, () => stopped);
  return () => {
    stopped = true;
  };
}

/**
 * @param {HTMLElement} main
 * @param {string} projectId
 */
function projectView(main, projectId) {
  let stopped = false;
  const heading = h('h1', { text: 'Annotation project' });
  const body = h('div', { class: 'annotation-project' });
  main.replaceChildren(h('p', {}, h('a', { href: '#/annotation', text: '← All projects' })), heading, body);
  loadInto(body, 'Loading the project…', async () => {
    /** @type {[Project, { uploads: Upload[] }]} */
    const [project, { uploads }] = await Promise.all([get(projectPath(projectId)), get(`${projectPath(projectId)}/uploads`)]);
    heading.textContent = `Annotation project: ${project.name}`;
    if (uploads.length === 0) return [h('p', { class: 'empty', text: 'No uploads in this project yet.' })];
    return uploads.map((upload) => {
      const tasks = h('div', { class: 'upload-tasks' });
      loadInto(tasks, 'Loading tasks…', async () => {
        /** @type {{ tasks: Task[] }} */
        const { tasks: list } = await get(`/v1/annotation/uploads/${encodeURIComponent(upload.uploadId)}/tasks`);
        if (list.length === 0) return [h('p', { class: 'empty', text: 'No tasks (yet).' })];
        return [table(`Tasks of ${upload.fileName}`, [
          { header: 'Task', cell: (t) => h('a', { href: `#/annotation?task=${encodeURIComponent(t.taskId)}`, 'aria-label': `Play task ${t.index + 1} of ${upload.fileName}`, text: `Task ${t.index + 1}` }) },
          { header: 'Frames', cell: (t) => String(t.frames.count) },
          { header: 'Status', cell: (t) => h('span', { class: 'task-status', 'data-value': String(t.taskStatus), text: named(TASK_STATUS, t.taskStatus) }) },
          { header: 'Audit status', cell: (t) => h('span', { class: 'audit-status', 'data-value': String(t.auditStatus), text: named(AUDIT_STATUS, t.auditStatus) }) },
        ], list)];
      }, () => stopped);
      return h('section', { class: 'upload', 'aria-label': `Upload ${upload.fileName}` },
        h('h2', { text: upload.fileName }),
        h('p', { class: 'upload-summary' },
          `Processing ${named(UPLOAD_STATUS, upload.status)} (${upload.progress}%) · `,
          `${upload.taskCount ?? 0} task${upload.taskCount === 1 ? '' : 's'} · ${upload.frameCount ?? 0} frames · uploaded ${when(upload.createdAt)}`),
        upload.error ? h('p', { class: 'error', text: `${upload.error.code}: ${upload.error.message}` }) : null,
        tasks);
    });
  }, () => stopped);
  return () => {
    stopped = true;
  };
}

/**
 * The boxes of one frame as SVG rectangles in the video's pixels: people's (solid) and the automatic ones (dashed).
 * @param {SVGSVGElement} overlay
 * @param {FrameBoxes | undefined} frame
 */
function drawBoxes(overlay, frame) {
  /** @type {SVGElement[]} */
  const shapes = [];
  /** @param {Box} b @param {'human' | 'auto'} source */
  const shape = (b, source) => {
    const g = document.createElementNS(SVG, 'g');
    g.setAttribute('class', `box ${source}`);
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${b.label} (${source === 'human' ? 'annotated' : 'automatic'}${b.score === undefined ? '' : `, score ${b.score}`})`;
    const rect = document.createElementNS(SVG, 'rect');
    for (const [k, v] of Object.entries({ x: b.x, y: b.y, width: b.w, height: b.h, 'data-label': b.label, 'data-source': source })) rect.setAttribute(k, String(v));
    const text = document.createElementNS(SVG, 'text');
    text.setAttribute('x', String(b.x + 2));
    text.setAttribute('y', String(b.y - 3));
    text.textContent = b.label;
    g.append(title, rect, text);
    return g;
  };
  for (const b of frame?.human ?? []) shapes.push(shape(b, 'human'));
  for (const b of frame?.auto?.boxes ?? []) shapes.push(shape(b, 'auto'));
  overlay.replaceChildren(...shapes);
}

/**
 * @param {HTMLElement} main
 * @param {string} taskId
 */
function playerView(main, taskId) {
  let stopped = false;
  /** @type {(() => void)[]} */
  const cleanups = [];
  const heading = h('h1', { text: `Task ${taskId}` });
  const back = h('p', {}, h('a', { href: '#/annotation', text: '← All projects' }));
  const body = h('div', { class: 'task-player' });
  main.replaceChildren(back, heading, body);

  loadInto(body, 'Loading the task…', async () => {
    /** @type {[Task & { videoUrl: string, manifestUrl: string }, { frames: FrameBoxes[] }]} */
    const [task, annotations] = await Promise.all([get(taskPath(taskId)), get(`${taskPath(taskId)}/annotations`)]);
    // the manifest is a presigned GET on the media bucket (whose CORS lets any origin read it)
    const res = await fetch(task.manifestUrl);
    if (!res.ok) throw new Error(`The task's frame manifest could not be read (HTTP ${res.status}).`);
    /** @type {Manifest} */
    const manifest = await res.json();
    back.replaceChildren(h('a', { href: `#/annotation?project=${encodeURIComponent(task.projectId)}`, text: '← The project' }));
    heading.textContent = `Task ${task.index + 1}`;
    return player(task, annotations.frames, manifest, cleanups, () => stopped);
  }, () => stopped);

  return () => {
    stopped = true;
    for (const cleanup of cleanups) cleanup();
  };
}

/**
 * @param {Task & { videoUrl: string }} task
 * @param {FrameBoxes[]} frames
 * @param {Manifest} manifest
 * @param {(() => void)[]} cleanups
 * @param {() => boolean} stopped
 * @returns {Node[]}
 */
function player(task, frames, manifest, cleanups, stopped) {
  const count = task.frames.count;
  const fps = manifest.frameRate;
  const video = /** @type {HTMLVideoElement} */ (h('video', { src: task.videoUrl, muted: true, playsinline: true, preload: 'auto', 'aria-label': `Video of task ${task.index + 1}` }));
  video.muted = true;
  const overlay = /** @type {SVGSVGElement} */ (/** @type {unknown} */ (document.createElementNS(SVG, 'svg')));
  overlay.setAttribute('class', 'boxes');
  overlay.setAttribute('viewBox', `0 0 ${manifest.width} ${manifest.height}`);
  overlay.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  // labels are sized in the video's pixels, so they keep their size relative to the picture at any display size
  overlay.setAttribute('font-size', String(Math.max(8, Math.round(manifest.width / 50))));
  overlay.setAttribute('aria-hidden', 'true');
  const counter = h('output', { class: 'frame-counter', 'aria-live': 'polite' });
  const boxList = h('ul', { class: 'frame-boxes' });
  const play = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', onclick: () => (video.paused ? void video.play() : video.pause()) }, 'Play'));
  const previous = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', 'aria-label': 'Previous frame', 'aria-keyshortcuts': 'ArrowLeft', onclick: () => step(-1) }, '◀ Frame'));
  const next = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', 'aria-label': 'Next frame', 'aria-keyshortcuts': 'ArrowRight', onclick: () => step(1) }, 'Frame ▶'));
  const problem = h('p', { class: 'error', role: 'alert', hidden: true });
  let frame = 0;

  const frameAt = (/** @type {number} */ t) => Math.max(0, Math.min(count - 1, Math.floor(t * fps + 1e-6)));

  function show(/** @type {number} */ i) {
    frame = i;
    const boxes = frames[i];
    counter.textContent = `Frame ${i + 1} of ${count} (source frame ${task.sourceFrames[i] ?? '—'})`;
    drawBoxes(overlay, boxes);
    const listed = [
      ...(boxes?.human ?? []).map((b) => `${b.label} (annotated) at ${b.x}, ${b.y}, ${b.w} × ${b.h}`),
      ...(boxes?.auto?.boxes ?? []).map((b) => `${b.label} (automatic v${boxes?.auto?.version}) at ${b.x}, ${b.y}, ${b.w} × ${b.h}`),
    ];
    boxList.replaceChildren(...(listed.length ? listed.map((t) => h('li', { text: t })) : [h('li', { class: 'empty', text: 'No boxes on this frame.' })]));
    previous.disabled = i === 0;
    next.disabled = i === count - 1;
  }

  function step(/** @type {number} */ by) {
    const to = Math.max(0, Math.min(count - 1, frame + by));
    video.pause();
    video.currentTime = (to + 0.5) / fps;
    show(to);
  }

  // while playing, the counter and boxes follow each frame the video presents
  const follow = () => {
    if (stopped() || video.paused) return;
    show(frameAt(video.currentTime));
    video.requestVideoFrameCallback(follow);
  };
  video.addEventListener('play', () => {
    play.textContent = 'Pause';
    video.requestVideoFrameCallback(follow);
  });
  video.addEventListener('pause', () => {
    play.textContent = 'Play';
  });
  video.addEventListener('seeked', () => show(frameAt(video.currentTime)));
  video.addEventListener('ended', () => show(count - 1));
  video.addEventListener('error', () => {
    problem.hidden = false;
    problem.textContent = `The task video cannot be played here (${video.error?.message || `media error ${video.error?.code}`}).`;
  });

  /** @param {KeyboardEvent} event */
  const onKey = (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = /** @type {HTMLElement | null} */ (event.target);
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
    if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      event.preventDefault();
      step(event.key === 'ArrowLeft' ? -1 : 1);
    }
  };
  document.addEventListener('keydown', onKey);
  cleanups.push(() => {
    document.removeEventListener('keydown', onKey);
    video.pause();
    video.removeAttribute('src');
    video.load();
  });

  show(0);
  return [
    h('p', { class: 'task-summary' },
      `${named(TASK_STATUS, task.taskStatus)} · audit ${named(AUDIT_STATUS, task.auditStatus)} · ${count} frames at ${fps} fps · ${manifest.width} × ${manifest.height}`,
      manifest.letterboxed ? ' · frames of other sizes were fitted onto the video, so their boxes may not line up' : ''),
    h('div', { class: 'stage' }, video, overlay),
    h('div', { class: 'player-controls', role: 'group', 'aria-label': 'Player' }, previous, play, next, counter),
    h('p', { class: 'hint', text: 'Left and right arrow keys step one frame. Solid boxes are annotated by people, dashed ones automatic.' }),
    problem,
    h('h2', { text: 'Boxes on this frame' }),
    boxList,
  ];
}

export const annotationPage = {
  path: '/annotation',
  title: 'Annotation',
  /** @type {('admin' | 'analyst')[]} */
  roles: ['admin', 'analyst'],
  /**
   * @param {HTMLElement} main
   * @param {import('../app.js').PageContext} ctx
   */
  render(main, { params }) {
    const task = params.get('task');
    if (task) return playerView(main, task);
    const project = params.get('project');
    if (project) return projectView(main, project);
    return projectsView(main);
  },
};
