// Pieces shared by the kiosk and the supervisor renderers: small DOM helpers, schedule badges,
// agent state icons, ordering, alert bookkeeping, and the runs both views repeat (keyed views
// kept in line with the state, queue/group lines, agent rows, the agent summary chips).

import { gettext, interpolate } from "./i18n.js";
import { agentStateInfo, formatCountdown, formatDuration, groupName, mediaLabel, toMillis } from "./format.js";

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

const SCHEDULE_LABEL = {
  open: gettext("Open"),
  closed: gettext("Closed"),
  choice: gettext("Choice"),
  missing: gettext("Schedule missing"),
  redirect: gettext("Redirected"),
};
const SCHEDULE_ICON = { open: "open", closed: "closed", choice: "choice", missing: "warning", redirect: "choice" };
// A mapped schedule 8x8 no longer has: open or closed is unknown, and only admin can fix it.
const MISSING_TITLE = gettext("The schedule mapped to this queue no longer exists at 8x8: ask an administrator to map another one");
// Whole phrases, so each language can put the time where it belongs.
const OPENS_IN = gettext("opens in %(time)s");
const CLOSES_IN = gettext("closes in %(time)s");
const CHANGES_IN = gettext("changes in %(time)s");
const NEXT_VERB = { open: OPENS_IN, closed: CLOSES_IN, choice: CHANGES_IN, redirect: gettext("redirects in %(time)s") };
const CURRENT_VERB = { open: CLOSES_IN, closed: OPENS_IN, choice: CHANGES_IN, redirect: CHANGES_IN };

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
    if (state === "choice" && schedule.label) label = String(schedule.label).replace(/^CHOICE/i, SCHEDULE_LABEL.choice);
    // A ContactNow jump:<queue>: "Redirected to Sales" (docs/protocol.md).
    if (state === "redirect" && schedule.label) label = String(schedule.label);
    // "Closed · Christmas Day": on a TV nobody hovers for a tooltip.
    if (schedule.exception) label = `${label} · ${schedule.exception}`;
    setText(this.label, label);
    setAttr(this.el, "data-exception", schedule.exception || null);
    const title = state === "missing" ? MISSING_TITLE : [schedule.name, schedule.exception ? interpolate(gettext("Exception: %(name)s"), { name: schedule.exception }) : ""].filter(Boolean).join(" · ");
    setAttr(this.el, "title", title || null);
    // A missing schedule says so and counts down to nothing: its next change is not ours to tell.
    this.nextMs = state === "missing" ? NaN : toMillis(schedule.next_change);
    this.verb = NEXT_VERB[schedule.next_state] || CURRENT_VERB[state];
  }

  tick(nowMs) {
    if (!Number.isFinite(this.nextMs)) {
      setText(this.count, "");
      return;
    }
    const left = (this.nextMs - nowMs) / 1000;
    setText(this.count, left > 0 ? interpolate(this.verb, { time: formatCountdown(left) }) : gettext("changing now"));
  }
}

/**
 * Keep a map of keyed views (tiles, rows) in line with `items`.
 *
 * `ids === null` is a snapshot: every item, and views whose item is gone are destroyed; else
 * only the dirty `ids` of a patch are touched. Keys are `prefix + id`, so queues and groups
 * can share one map. `update(view, item)` returns true when the view's place in the order may
 * have changed. Returns whether anything was created, destroyed or moved.
 */
export function syncViews(views, prefix, items, ids, create, update) {
  let changed = false;
  if (ids === null) {
    for (const [key, view] of [...views]) {
      if (key.startsWith(prefix) && !(key.slice(prefix.length) in items)) {
        view.destroy();
        views.delete(key);
        changed = true;
      }
    }
  }
  for (const id of ids === null ? Object.keys(items) : ids) {
    const key = prefix + id;
    const item = items[id];
    let view = views.get(key);
    if (!item) {
      if (view) {
        view.destroy();
        views.delete(key);
        changed = true;
      }
      continue;
    }
    if (!view) {
      view = create(id);
      views.set(key, view);
      changed = true;
    }
    if (update(view, item)) changed = true;
  }
  return changed;
}

/** Groups first, then queues, each by position: the keys ("groups/<id>", "queues/<id>") in order. */
export function itemOrder(state) {
  const groups = Object.values(state.groups || {}).sort(byPosition).map((g) => `groups/${g.id}`);
  const queues = Object.values(state.queues || {}).sort(byPosition).map((q) => `queues/${q.id}`);
  return [...groups, ...queues];
}

/** The line under a queue's or group's name: the media, or how many queues the group holds. */
export function itemSubLabel(kind, item) {
  if (kind !== "groups") return mediaLabel(item.media_type);
  const n = Array.isArray(item.queue_ids) ? item.queue_ids.length : 0;
  return n === 1 ? gettext("Group · 1 queue") : interpolate(gettext("Group · %(count)s queues"), { count: n });
}

/** The `data-schedule` of a queue or group: its schedule's state, or "none". */
export function scheduleState(item) {
  return item.schedule && item.schedule.state ? item.schedule.state : "none";
}

const LEVELS = new Set(["ok", "warn", "alert"]);

/** The level a metric shows: the board's, except "ok" when muted or when the level is unknown. */
export function metricLevel(states, name, muted) {
  return !muted && LEVELS.has(states[name]) ? states[name] : "ok";
}

/**
 * Show an agent on a row view holding `el`, `icon`, `stateEl`, `nameEl`, `groupEl`.
 *
 * Sets the row's `since` for agentTime(); returns the state shown ("unknown" for states this
 * page does not know).
 */
export function showAgent(row, agent, board) {
  const state = agentIconName(agent.state);
  setAttr(row.el, "data-agent-state", state);
  setIcon(row.icon, state);
  setText(row.stateEl, agentStateInfo(state).label);
  showReason(row, agent.reason);
  setName(row.nameEl, agent.name || agent.id);
  setName(row.groupEl, groupName(agent, board));
  row.since = Number(agent.status_since);
  return state;
}

/** The agent's reason code (8x8's status code) just after the state, where the source has one. */
function showReason(row, reason) {
  const text = reason === null || reason === undefined ? "" : String(reason);
  if (!row.reasonEl) {
    if (!text) return;
    row.reasonEl = el("span", "agent-reason", { "data-metric": "reason" });
    row.stateEl.after(row.reasonEl);
  }
  setName(row.reasonEl, text, 24);
  setAttr(row.el, "data-reason", text || null);
}

/** What SLA means on this board (the source's definition), for SLA metrics only; "" otherwise. */
export function slaDefinition(name, board) {
  return /sla_activity$/.test(name) && board && board.sla_definition ? String(board.sla_definition) : "";
}

/** Time in status at `nowMs` for an agent whose status began at `since` (epoch seconds). */
export function agentTime(since, nowMs) {
  return Number.isFinite(since) && since > 0 ? formatDuration(nowMs / 1000 - since) : "–";
}

/** The row of chips counting agents per state, one chip per state in `states` (in that order). */
export class AgentSummary {
  constructor(container, states) {
    this.container = container;
    this.states = states;
    this.chips = new Map();
  }

  update(agents) {
    if (!this.container) return;
    const counts = Object.fromEntries(this.states.map((state) => [state, 0]));
    for (const a of Object.values(agents)) if (a.state in counts) counts[a.state] += 1;
    for (const [state, n] of Object.entries(counts)) {
      let chip = this.chips.get(state);
      if (!chip) {
        chip = el("span", "chip", { "data-agent-state": state, title: agentStateInfo(state).label });
        chip.num = el("span", "chip-count", { "data-metric": `agents_${state}` });
        const label = el("span", "chip-label");
        label.textContent = agentStateInfo(state).label;
        chip.append(icon(state, "icon chip-icon"), chip.num, label);
        this.chips.set(state, chip);
        this.container.appendChild(chip);
      }
      setText(chip.num, n);
    }
  }
}
