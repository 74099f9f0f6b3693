// Pieces shared by the kiosk and the supervisor renderers: small DOM helpers, schedule badges,
// agent state icons, ordering, and alert bookkeeping.

import { agentStateInfo, formatCountdown, toMillis } from "./format.js";

export function el(tag, className, attrs) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (attrs) for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

/** Set text only when it changed (no layout work for unchanged values). */
export function setText(node, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** At most this many characters of a name reach the page; `title` holds the whole name. */
export const NAME_MAX = 200;

const graphemes = typeof Intl !== "undefined" && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

/**
 * The first `max` characters of `text`, with "…" when cut.
 *
 * A name is whatever 8x8 or an administrator typed, 10,000 characters included: laying out
 * and re-setting text nodes that long on every patch costs TVs dearly, and CSS ellipsis still
 * measures the whole string. Characters are user-perceived ones, so an emoji is never halved.
 */
export function capText(text, max = NAME_MAX) {
  const value = text === null || text === undefined ? "" : String(text);
  // Code units never undercount characters: anything this short is shown whole.
  if (value.length <= max) return value;
  // Segments (or code points, without Intl.Segmenter) are read lazily: a long name stops at max.
  const parts = [];
  for (const piece of graphemes ? graphemes.segment(value) : value) {
    if (parts.length === max) return `${parts.join("")}…`;
    parts.push(graphemes ? piece.segment : piece);
  }
  return value;
}

// The full name each node shows: skips the cap (and the title) when the name did not change.
const shownNames = new WeakMap();

/** Show a name cut to `max` characters with the whole of it on hover (`title`). */
export function setName(node, text, max = NAME_MAX) {
  const full = text === null || text === undefined ? "" : String(text);
  if (shownNames.get(node) === full) return;
  shownNames.set(node, full);
  setText(node, capText(full, max));
  setAttr(node, "title", full || null);
}

export function setAttr(node, name, value) {
  if (value === null || value === undefined || value === false) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** <svg><use href="#i-NAME"></svg>; the sprite lives in base.html. */
export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG_NS, "use");
  use.setAttribute("href", `#i-${name}`);
  svg.appendChild(use);
  return svg;
}

export function setIcon(svg, name) {
  const use = svg.firstChild;
  const href = `#i-${name}`;
  if (use.getAttribute("href") !== href) use.setAttribute("href", href);
}

export function agentIconName(state) {
  return agentStateInfo(state) === agentStateInfo("unknown") ? "unknown" : state;
}

/** Sort key for queues and groups: an optional server position, then name, then id. */
export function byPosition(a, b) {
  const pa = Number.isFinite(a.position) ? a.position : Number.isFinite(a.order) ? a.order : Infinity;
  const pb = Number.isFinite(b.position) ? b.position : Number.isFinite(b.order) ? b.order : Infinity;
  if (pa !== pb) return pa < pb ? -1 : 1;
  const na = String(a.name || "").toLowerCase();
  const nb = String(b.name || "").toLowerCase();
  if (na !== nb) return na < nb ? -1 : 1;
  return String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0;
}

export function byAgentState(a, b) {
  const oa = agentStateInfo(a.state).order;
  const ob = agentStateInfo(b.state).order;
  if (oa !== ob) return oa - ob;
  const na = String(a.name || "").toLowerCase();
  const nb = String(b.name || "").toLowerCase();
  if (na !== nb) return na < nb ? -1 : 1;
  return String(a.id) < String(b.id) ? -1 : 1;
}

export function isMuted(item, board) {
  const schedule = item && item.schedule;
  return Boolean(schedule && schedule.state === "closed" && (!board || board.mute_when_closed !== false));
}

/** The set of "queues/<id>/<metric>" keys currently in alert (muted ones left out). */
export function alertKeys(state) {
  const keys = new Set();
  if (!state) return keys;
  const board = state.board || {};
  for (const kind of ["queues", "groups"]) {
    const items = state[kind] || {};
    for (const id of Object.keys(items)) {
      const item = items[id];
      if (!item || isMuted(item, board)) continue;
      const states = item.states || {};
      for (const metric of Object.keys(states)) if (states[metric] === "alert") keys.add(`${kind}/${id}/${metric}`);
    }
  }
  return keys;
}

const SCHEDULE_LABEL = { open: "Open", closed: "Closed", choice: "Choice", missing: "Schedule missing" };
const SCHEDULE_ICON = { open: "open", closed: "closed", choice: "choice", missing: "warning" };
// A mapped schedule 8x8 no longer has: open or closed is unknown, and only admin can fix it.
const MISSING_TITLE = "The schedule mapped to this queue no longer exists at 8x8: ask an administrator to map another one";
const NEXT_VERB = { open: "opens", closed: "closes", choice: "changes" };
const CURRENT_VERB = { open: "closes", closed: "opens", choice: "changes" };

/** A schedule badge (open/closed/choice, or missing) with a countdown to the next change. */
export class ScheduleBadge {
  constructor() {
    this.el = el("span", "badge", { "data-metric": "schedule" });
    this.icon = icon("open", "icon badge-icon");
    this.label = el("span", "badge-label");
    this.count = el("span", "badge-count", { "data-metric": "next_change" });
    this.el.append(this.icon, this.label, this.count);
    this.nextMs = NaN;
    this.verb = "";
    this.el.hidden = true;
  }

  update(schedule) {
    if (!schedule || !schedule.state) {
      this.el.hidden = true;
      this.nextMs = NaN;
      setAttr(this.el, "data-state", null);
      return;
    }
    this.el.hidden = false;
    this.count.hidden = false;
    const state = SCHEDULE_LABEL[schedule.state] ? schedule.state : "choice";
    setAttr(this.el, "data-state", state);
    setAttr(this.count, "data-schedule", state);
    setIcon(this.icon, SCHEDULE_ICON[state]);
    let label = SCHEDULE_LABEL[state];
    if (state === "choice" && schedule.label) label = String(schedule.label).replace(/^CHOICE/i, "Choice");
    // "Closed · Christmas Day": on a TV nobody hovers for a tooltip.
    if (schedule.exception) label = `${label} · ${schedule.exception}`;
    setText(this.label, label);
    setAttr(this.el, "data-exception", schedule.exception || null);
    const title = state === "missing" ? MISSING_TITLE : [schedule.name, schedule.exception ? `Exception: ${schedule.exception}` : ""].filter(Boolean).join(" · ");
    setAttr(this.el, "title", title || null);
    this.nextMs = toMillis(schedule.next_change);
    this.verb = NEXT_VERB[schedule.next_state] || CURRENT_VERB[state];
  }

  tick(nowMs) {
    if (!Number.isFinite(this.nextMs)) {
      setText(this.count, "");
      return;
    }
    const left = (this.nextMs - nowMs) / 1000;
    setText(this.count, left > 0 ? `${this.verb} in ${formatCountdown(left)}` : "changing now");
  }
}
