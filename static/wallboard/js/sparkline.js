// Inline SVG sparklines from the server's per-minute history ({"<epoch seconds>": value}).

import { gettext, interpolate } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 100;
const HEIGHT = 30;

/** Sorted [t, v] points of a history object, numeric values only. */
export function historyPoints(history) {
  if (!history || typeof history !== "object") return [];
  const points = [];
  for (const key of Object.keys(history)) {
    const t = Number(key);
    const v = history[key];
    if (Number.isFinite(t) && v !== null && v !== undefined && Number.isFinite(Number(v))) points.push([t, Number(v)]);
  }
  points.sort((a, b) => a[0] - b[0]);
  return points;
}

/** Polyline coordinates in a 100x30 box; the x axis is the last hour ending at the newest point. */
export function sparklinePath(points, windowSeconds = 3600) {
  if (points.length === 0) return { line: "", area: "", max: 0 };
  const end = points[points.length - 1][0];
  const start = end - windowSeconds;
  let max = 0;
  for (const [, v] of points) if (v > max) max = v;
  const scale = max > 0 ? (HEIGHT - 2) / max : 0;
  const coords = [];
  for (const [t, v] of points) {
    if (t < start) continue;
    const x = ((t - start) / windowSeconds) * WIDTH;
    const y = HEIGHT - 1 - v * scale;
    coords.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  if (coords.length === 1) coords.unshift(`${Math.max(0, Number(coords[0].split(",")[0]) - 1.5).toFixed(1)},${coords[0].split(",")[1]}`);
  const first = coords[0].split(",")[0];
  const last = coords[coords.length - 1].split(",")[0];
  const line = coords.join(" ");
  const area = `${first},${HEIGHT} ${line} ${last},${HEIGHT}`;
  return { line, area, max };
}

/** A sparkline element that can be updated in place (no new nodes per update). */
export class Sparkline {
  constructor(metric, label) {
    this.el = document.createElement("div");
    this.el.className = "spark";
    this.el.dataset.spark = metric;
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", interpolate(gettext("%(label)s, last hour"), { label }));
    svg.classList.add("spark-svg");
    this.area = document.createElementNS(SVG_NS, "polygon");
    this.area.setAttribute("class", "spark-area");
    this.line = document.createElementNS(SVG_NS, "polyline");
    this.line.setAttribute("class", "spark-line");
    this.line.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(this.area, this.line);
    const caption = document.createElement("span");
    caption.className = "spark-label";
    caption.textContent = label;
    this.maxEl = document.createElement("span");
    this.maxEl.className = "spark-max";
    this.el.append(svg, caption, this.maxEl);
    this.key = "";
  }

  update(history, formatMax) {
    const { line, area, max } = sparklinePath(historyPoints(history));
    if (line === this.key) return;
    this.key = line;
    this.line.setAttribute("points", line);
    this.area.setAttribute("points", area);
    this.maxEl.textContent = line ? interpolate(gettext("max %(value)s"), { value: formatMax ? formatMax(max) : max }) : "";
  }
}
