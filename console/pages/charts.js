// @ts-check
// Bar charts as plain SVG built with DOM calls: one <rect> per bar, scaled by the SVG's viewBox, so a page of
// 40 games × 10 det_groups stays a few thousand elements. The charts are pictures (role="img" with a label); the
// numbers they draw are always also in a table next to them, which is what a screen reader reads.

const SVG = 'http://www.w3.org/2000/svg';

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/**
 * Vertical bars, one per value, each with its label as a tooltip.
 * @param {{ label: string, values: number[], titles: string[], className?: string }} chart
 */
export function barChart({ label, values, titles, className = '' }) {
  const max = Math.max(0, ...values) || 1;
  const step = 10;
  const height = 100;
  const chart = svg('svg', { class: `bars ${className}`.trim(), role: 'img', 'aria-label': label, viewBox: `0 0 ${Math.max(1, values.length) * step} ${height}`, preserveAspectRatio: 'none' });
  values.forEach((v, i) => {
    const barHeight = (Math.max(0, v) / max) * height;
    const bar = svg('rect', { x: i * step + 1, y: height - barHeight, width: step - 2, height: barHeight });
    const title = svg('title');
    title.textContent = titles[i] ?? String(v);
    bar.append(title);
    chart.append(bar);
  });
  return chart;
}

/**
 * A strip of columns over time (one path, however many buckets): `at` is each column's slot, `values` its height.
 * @param {{ label: string, at: number[], values: number[], slots: number }} strip
 */
export function columnStrip({ label, at, values, slots }) {
  const max = Math.max(0, ...values) || 1;
  const strip = svg('svg', { class: 'strip', role: 'img', 'aria-label': label, viewBox: `0 0 ${Math.max(1, slots)} ${max}`, preserveAspectRatio: 'none' });
  let d = '';
  values.forEach((v, i) => {
    if (v > 0) d += `M${at[i]} ${max}V${max - v}h1V${max}z`;
  });
  strip.append(svg('path', { d }));
  return strip;
}
