// @ts-check
// Small DOM helpers: elements built from data (text is always text, never parsed HTML), and the three states every
// page shows: loading, an error with what to do, and its content.
import { ApiError } from './api.js';

/**
 * @param {string} tag
 * @param {Record<string, any>} [props] attributes; `on…` functions become listeners, `text` the text content
 * @param {(Node | string | null | undefined | false)[]} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === 'text') el.textContent = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** @param {string} [what] */
export const loading = (what = 'Loading…') => h('p', { class: 'loading', role: 'status' }, what);

/** @param {unknown} error */
export function errorMessage(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) return 'This key may not see this.';
    if (error.status === 404) return `Not found: ${error.message}`;
    return `${error.message} (${error.code})`;
  }
  if (error instanceof TypeError) return 'The API could not be reached. Check the connection and try again.';
  return error instanceof Error ? error.message : String(error);
}

/**
 * @param {unknown} error
 * @param {() => void} [retry]
 */
export const failure = (error, retry) =>
  h('div', { class: 'error', role: 'alert' }, h('p', { text: errorMessage(error) }), retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null);

/**
 * A part of a page that loads once: loading, then its content or an error with Try again.
 * @param {HTMLElement} into
 * @param {string} what
 * @param {() => Promise<Node[]>} load
 * @param {() => boolean} stopped
 */
export function loadInto(into, what, load, stopped) {
  const run = async () => {
    into.replaceChildren(loading(what));
    try {
      const content = await load();
      if (!stopped()) into.replaceChildren(...content);
    } catch (error) {
      if (!stopped()) into.replaceChildren(failure(error, () => void run()));
    }
  };
  void run();
}

/** @param {string | undefined | null} iso */
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

/**
 * A table of rows; `columns` name each header and how to show a row's cell.
 * @template T
 * @param {string} caption
 * @param {{ header: string, cell: (row: T) => Node | string }[]} columns
 * @param {T[]} rows
 */
export function table(caption, columns, rows) {
  return h(
    'table', {},
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', text: c.header })))),
    h('tbody', {}, ...rows.map((row) => h('tr', {}, ...columns.map((c) => h('td', {}, c.cell(row)))))),
  );
}
