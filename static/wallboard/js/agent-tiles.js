// Agent performance tiles (issue 20): a leaderboard, occupancy per agent group, day totals per queue.
//
// state.leaderboard (rank -> row), state.occupancy (agent group id -> entry) and
// state.day_totals (queue id -> entry), see docs/protocol.md; each is {} when the board does
// not show it. Everything is set as text (names are whatever 8x8 or an administrator typed),
// names are cut with "…" (CSS ellipsis, and capped by setName) with the whole name in `title`.
// On the TV the tiles are a strip under the queues and agents (.wb-main shrinks, and the kiosk
// renderer lays itself out again); in the supervisor view a section of its own.

import { formatDuration, formatMetric, formatPercent, metricInfo } from "./format.js";
import { gettext } from "./i18n.js";
import { el, icon, setAttr, setIcon, setName, setText } from "./render-common.js";

const DAY_METRICS = ["day_queued", "day_accepted", "day_abandoned", "day_avg_wait_time", "day_avg_duration", "day_sla_activity"];
const NAME_MAX = 80;
const STATE_ICON = { warn: "warning", alert: "alert" };

function container(root) {
  let box = root.querySelector(".wb-agent-tiles");
  if (box) return box;
  const supervisor = root.querySelector(".sv-main");
  box = el("section", supervisor ? "wb-agent-tiles sv-section" : "wb-agent-tiles", {
    "aria-label": gettext("Agent performance"),
  });
  if (supervisor) {
    const title = el("h2");
    setText(title, gettext("Agent performance"));
    box.appendChild(title);
    supervisor.appendChild(box);
  } else {
    const main = root.querySelector(".wb-main");
    if (main) main.after(box);
    else root.appendChild(box);
  }
  return box;
}

function panel(box, className, title) {
  let node = box.querySelector(`.${className}`);
  if (!node) {
    node = el("div", `wb-at-panel ${className}`);
    const head = el("h3", "wb-at-title");
    setText(head, title);
    node.append(head, el(className === "wb-leaderboard" ? "ol" : "ul", "wb-at-list"));
    box.appendChild(node);
  }
  return node;
}

/** Keep one row per key, in the order given; rows of keys gone are removed. */
function syncRows(list, keys, create, update) {
  const rows = new Map(Array.from(list.children, (row) => [row.dataset.key, row]));
  let before = list.firstChild;
  for (const key of keys) {
    let row = rows.get(key);
    if (!row) {
      row = create(key);
      row.dataset.key = key;
    }
    rows.delete(key);
    if (row !== before) list.insertBefore(row, before);
    else before = before.nextSibling;
    update(row, key);
  }
  for (const row of rows.values()) row.remove();
}

/** A figure with its threshold state; warn and alert also get an icon (shape, not colour only). */
function setValue(node, text, state) {
  setText(node.firstChild, text);
  const level = state === "warn" || state === "alert" ? state : null;
  setAttr(node, "data-state", level || (state ? "ok" : null));
  let svg = node.querySelector("svg");
  if (level) {
    if (!svg) node.appendChild((svg = icon(STATE_ICON[level])));
    setIcon(svg, STATE_ICON[level]);
  } else if (svg) svg.remove();
}

function value(metric) {
  const node = el("span", "wb-at-value", { "data-metric": metric });
  node.appendChild(document.createTextNode(""));
  return node;
}

function nameCell() {
  return el("span", "wb-at-name");
}

function renderLeaderboard(box, rows, mode) {
  const keys = Object.keys(rows || {}).sort((a, b) => Number(a) - Number(b));
  const existing = box.querySelector(".wb-leaderboard");
  if (!mode) {
    if (existing) existing.remove();
    return false;
  }
  const title = mode === "aht" ? gettext("Top agents: avg handling time") : gettext("Top agents: accepted today");
  const node = panel(box, "wb-leaderboard", title);
  setText(node.querySelector(".wb-at-title"), title);
  const metric = mode === "aht" ? "agent_aht" : "agent_accepted";
  syncRows(
    node.querySelector(".wb-at-list"),
    keys,
    () => {
      const li = el("li", "wb-at-row");
      li.append(el("span", "wb-at-rank"), nameCell(), value(metric));
      return li;
    },
    (li, rank) => {
      const row = rows[rank];
      setAttr(li, "data-rank", rank);
      setAttr(li, "data-leader-id", row.id);
      setText(li.querySelector(".wb-at-rank"), rank);
      setName(li.querySelector(".wb-at-name"), row.name, NAME_MAX);
      const cell = li.querySelector(".wb-at-value");
      setAttr(cell, "data-metric", metric);
      const text = metric === "agent_aht" ? formatDuration(row.aht) : formatMetric("day_accepted", row.accepted);
      setValue(cell, text, (row.states || {})[metric]);
    },
  );
  return true;
}

function renderOccupancy(box, entries, on) {
  const existing = box.querySelector(".wb-occupancy");
  if (!on) {
    if (existing) existing.remove();
    return false;
  }
  const node = panel(box, "wb-occupancy", gettext("Occupancy"));
  syncRows(
    node.querySelector(".wb-at-list"),
    Object.keys(entries || {}),
    () => {
      const li = el("li", "wb-at-row");
      li.append(nameCell(), value("occupancy"));
      return li;
    },
    (li, id) => {
      const entry = entries[id];
      setAttr(li, "data-group-id", id);
      setName(li.querySelector(".wb-at-name"), entry.name, NAME_MAX);
      setValue(li.querySelector(".wb-at-value"), formatPercent(entry.occupancy), (entry.states || {}).occupancy);
    },
  );
  return true;
}

function renderDayTotals(box, entries, on) {
  const existing = box.querySelector(".wb-day-totals");
  if (!on) {
    if (existing) existing.remove();
    return false;
  }
  const node = panel(box, "wb-day-totals", gettext("Today per queue"));
  syncRows(
    node.querySelector(".wb-at-list"),
    Object.keys(entries || {}),
    () => {
      const li = el("li", "wb-at-row wb-at-card");
      const figures = el("span", "wb-at-figures");
      for (const metric of DAY_METRICS) {
        const figure = el("span", "wb-at-figure");
        const label = el("span", "wb-at-label");
        setText(label, metricInfo(metric).short || metricInfo(metric).label);
        figure.append(label, value(metric));
        figures.appendChild(figure);
      }
      li.append(nameCell(), figures);
      return li;
    },
    (li, id) => {
      const entry = entries[id];
      setAttr(li, "data-queue-id", id);
      setName(li.querySelector(".wb-at-name"), entry.name, NAME_MAX);
      for (const metric of DAY_METRICS) {
        const cell = li.querySelector(`.wb-at-value[data-metric="${metric}"]`);
        setValue(cell, formatMetric(metric, (entry.metrics || {})[metric]), (entry.states || {})[metric]);
      }
    },
  );
  return true;
}

/** Show the tiles the board chose; nothing (and no section) when it chose none.
 *
 * `dirty` (protocol.js dirtyFromOps) skips the work on the patches that touched no tile: a board
 * with hundreds of queues repaints its day totals only when a figure changed. */
export function renderAgentTiles(root, state, dirty = null) {
  if (dirty && !dirty.all && !dirty.board && !dirty.tiles) return;
  const tiles = ((state && state.board) || {}).agent_tiles || {};
  const mode = tiles.leaderboard === "accepted" || tiles.leaderboard === "aht" ? tiles.leaderboard : null;
  const existing = root.querySelector(".wb-agent-tiles");
  if (!mode && !tiles.occupancy && !tiles.day_totals && !existing) return;
  const box = existing || container(root);
  const shown = [
    renderLeaderboard(box, state.leaderboard, mode),
    renderOccupancy(box, state.occupancy, Boolean(tiles.occupancy)),
    renderDayTotals(box, state.day_totals, Boolean(tiles.day_totals)),
  ].filter(Boolean).length;
  box.hidden = shown === 0;
  setAttr(box, "data-panels", shown);
}
