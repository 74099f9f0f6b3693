// The TV view: queue/group tiles on a grid sized to the screen, and a paged agent panel.
// Nodes are keyed by id and updated in place; a patch only touches the tiles/rows it changed.
// No per-node timers or listeners: one tick() from main.js drives every clock on the page.

import { agentStateInfo, formatMetric, metricInfo } from "./format.js";
import { gettext, interpolate } from "./i18n.js";
import { Sparkline } from "./sparkline.js";
import {
  AgentSummary,
  agentTime,
  byAgentState,
  el,
  icon,
  isMuted,
  itemOrder,
  itemSubLabel,
  metricLevel,
  ScheduleBadge,
  scheduleState,
  setAttr,
  setName,
  setText,
  showAgent,
  slaDefinition,
  syncViews,
} from "./render-common.js";

const SPARK_METRICS = [
  ["queue_size", gettext("Waiting")],
  ["longest_wait_time", gettext("Longest wait")],
];

class QueueTile {
  constructor(kind, id) {
    this.kind = kind;
    this.id = id;
    this.el = el("article", "tile", { "data-kind": kind === "groups" ? "group" : "queue" });
    if (kind === "groups") this.el.dataset.groupId = id;
    else this.el.dataset.queueId = id;
    const head = el("header", "tile-head");
    this.nameEl = el("h2", "tile-name", { "data-metric": "name" });
    this.subEl = el("span", "tile-sub");
    this.badge = new ScheduleBadge();
    const titleBox = el("div", "tile-title");
    const subRow = el("div", "tile-subrow");
    // The countdown sits under the badge, on the sub line, so a long one never squeezes the name.
    subRow.append(this.subEl, this.badge.count);
    titleBox.append(this.nameEl, subRow);
    head.append(titleBox, this.badge.el);
    this.metricsEl = el("div", "tile-metrics");
    this.sparksEl = el("div", "tile-sparks");
    this.sparks = SPARK_METRICS.map(([metric, label]) => {
      const s = new Sparkline(metric, label);
      this.sparksEl.appendChild(s.el);
      return s;
    });
    this.el.append(head, this.metricsEl, this.sparksEl);
    this.metricCells = new Map();
    this.metricsKey = "";
  }

  _buildMetrics(names, board) {
    this.metricsEl.textContent = "";
    this.metricCells.clear();
    for (const name of names) {
      const cell = el("div", "metric", { "data-state": "ok" });
      const value = el("span", "metric-value", { "data-metric": name, "data-state": "ok" });
      const label = el("span", "metric-label");
      const info = metricInfo(name);
      const long = el("span", "l-long");
      long.textContent = info.label;
      const short = el("span", "l-short");
      short.textContent = info.short || info.label;
      label.append(long, short);
      const sla = slaDefinition(name, board);
      if (sla) {
        label.title = sla; // which SLA the source computes (issue 17); the note shows on the TV too
        if (board.sla_note) long.textContent = `${info.label} · ${board.sla_note}`;
      }
      cell.append(value, label);
      this.metricsEl.appendChild(cell);
      this.metricCells.set(name, { cell, value });
    }
    this.metricsKey = names.join(",") + `|${board.sla_note || ""}`;
  }

  update(item, board) {
    const names = Array.isArray(board.queue_metrics) && board.queue_metrics.length ? board.queue_metrics : Object.keys(item.metrics || {});
    if (names.join(",") + `|${board.sla_note || ""}` !== this.metricsKey) this._buildMetrics(names, board);
    setName(this.nameEl, item.name || this.id);
    setText(this.subEl, itemSubLabel(this.kind, item));
    const muted = isMuted(item, board);
    const metrics = item.metrics || {};
    const states = item.states || {};
    let alert = false;
    for (const [name, { cell, value }] of this.metricCells) {
      setText(value, formatMetric(name, metrics[name]));
      const level = metricLevel(states, name, muted);
      if (level === "alert") alert = true;
      setAttr(value, "data-state", level);
      setAttr(cell, "data-state", level);
    }
    setAttr(this.el, "data-alert", alert ? "1" : null);
    setAttr(this.el, "data-schedule", scheduleState(item));
    setAttr(this.el, "data-muted", muted ? "1" : null);
    this.badge.update(item.schedule);
    const history = item.history || {};
    this.sparks.forEach((spark, i) => {
      const metric = SPARK_METRICS[i][0];
      spark.update(history[metric], (v) => formatMetric(metric, v));
    });
  }

  tick(nowMs) {
    this.badge.tick(nowMs);
  }

  destroy() {
    this.el.remove();
  }
}

class AgentRow {
  constructor(id) {
    this.id = id;
    this.el = el("div", "agent", { "data-agent-id": id, role: "row" });
    this.pill = el("span", "agent-state", { role: "cell" });
    this.icon = icon("unknown", "icon agent-icon");
    this.stateEl = el("span", "agent-state-label", { "data-metric": "state" });
    this.pill.append(this.icon, this.stateEl);
    this.nameEl = el("span", "agent-name", { "data-metric": "name", role: "cell" });
    this.groupEl = el("span", "agent-group", { "data-metric": "group_name", role: "cell" });
    this.timeEl = el("span", "agent-time", { "data-metric": "time_in_status", role: "cell" });
    this.el.append(this.pill, this.nameEl, this.groupEl, this.timeEl);
    this.since = NaN;
    this.sortKey = "";
  }

  update(agent, board) {
    const state = showAgent(this, agent, board);
    this.sortKey = `${agentStateInfo(state).order}|${String(agent.name || "").toLowerCase()}|${agent.id}`;
  }

  tick(nowMs) {
    setText(this.timeEl, agentTime(this.since, nowMs));
  }

  destroy() {
    this.el.remove();
  }
}

/** Best grid for n boxes in w x h: maximise the size of a box of the given aspect ratio. */
export function fitGrid(n, w, h, aspect = 1.6) {
  let best = { cols: 1, rows: Math.max(1, n), size: 0 };
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const cw = w / cols;
    const ch = h / rows;
    const size = Math.min(cw, ch * aspect);
    if (size > best.size + 0.5) best = { cols, rows, size };
  }
  return best;
}

export class KioskView {
  constructor(root, { now = () => Date.now() } = {}) {
    this.root = root;
    this.now = now;
    this.main = root.querySelector(".wb-main");
    this.queuesSection = root.querySelector(".wb-queues");
    this.grid = root.querySelector(".wb-grid");
    this.queuePager = root.querySelector(".wb-queues .wb-pager");
    this.agentsSection = root.querySelector(".wb-agents");
    this.agentList = root.querySelector(".wb-agent-list");
    this.agentPager = root.querySelector(".wb-agents .wb-pager");
    this.summaryEl = root.querySelector(".wb-agent-summary");
    this.tiles = new Map(); // "queues/<id>" | "groups/<id>" -> QueueTile
    this.rows = new Map(); // agent id -> AgentRow
    this.tileOrder = [];
    this.agentOrder = [];
    this.board = {};
    this.tilePage = 0;
    this.agentPage = 0;
    this.tilesPerPage = Infinity;
    this.rowsPerPage = Infinity;
    this.lastPageFlip = Date.now();
    this.summary = new AgentSummary(this.summaryEl, ["available", "busy", "post_processing", "on_break", "offline"]);
    this.resizeObserver = new ResizeObserver(() => this.layout());
    this.resizeObserver.observe(this.main);
    // The list also shrinks without .wb-main changing (the summary above it wraps): re-page then too.
    this.resizeObserver.observe(this.agentList);
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.clear();
  }

  clear() {
    for (const t of this.tiles.values()) t.destroy();
    for (const r of this.rows.values()) r.destroy();
    this.tiles.clear();
    this.rows.clear();
    this.tileOrder = [];
    this.agentOrder = [];
  }

  /** dirty === null: everything (snapshot); else {all, board, queues, groups, agents}. */
  render(state, dirty = null) {
    const board = state.board || {};
    const full = dirty === null || dirty.all || dirty.board;
    this.board = board;
    this.root.dataset.agentPanel = board.agent_panel === false ? "off" : "on";
    let tilesChanged = false;
    for (const kind of ["groups", "queues"]) {
      const changed = syncViews(this.tiles, `${kind}/`, state[kind] || {}, full ? null : dirty[kind], (id) => new QueueTile(kind, id), (tile, item) => {
        const before = `${item.name}|${item.position}|${item.order}`;
        const moved = tile.orderKey !== before;
        tile.orderKey = before;
        tile.update(item, board);
        tile.tick(this.now());
        return moved;
      });
      if (changed) tilesChanged = true;
    }
    if (tilesChanged || full) this._orderTiles(state);

    const agents = state.agents || {};
    const agentsChanged = syncViews(this.rows, "", agents, full ? null : dirty.agents, (id) => new AgentRow(id), (row, agent) => {
      const key = row.sortKey;
      row.update(agent, this.board);
      row.tick(this.now());
      return row.sortKey !== key;
    });
    if (agentsChanged || full) this._orderAgents(agents);
    if (full) this.layout();
    else if (tilesChanged || agentsChanged) this._applyPaging();
  }

  _orderTiles(state) {
    const order = itemOrder(state).filter((k) => this.tiles.has(k));
    if (order.join("\n") !== this.tileOrder.join("\n")) {
      this.tileOrder = order;
      for (const key of order) this.grid.appendChild(this.tiles.get(key).el);
    }
  }

  _orderAgents(agents) {
    const hide = this.board.hide_logged_out !== false;
    const list = Object.values(agents).filter((a) => !(hide && a.state === "logged_out"));
    list.sort(byAgentState);
    const order = list.map((a) => a.id).filter((id) => this.rows.has(id));
    const visible = new Set(order);
    for (const [id, row] of this.rows) {
      if (!visible.has(id)) {
        row.el.hidden = true;
        if (row.el.parentNode) row.el.remove();
      }
    }
    if (order.join("\n") !== this.agentOrder.join("\n")) {
      this.agentOrder = order;
      for (const id of order) this.agentList.appendChild(this.rows.get(id).el);
    }
    this.summary.update(agents);
  }

  /** Recompute the grid and the number of rows per page from the space on screen. */
  layout() {
    const tileCount = this.tileOrder.length;
    const qRect = this.grid.getBoundingClientRect();
    const W = qRect.width;
    const H = this.queuesSection.clientHeight;
    if (W > 0 && H > 0 && tileCount > 0) {
      // Never smaller than this: beyond it the tiles are paged instead.
      const minW = Math.max(260, W / 5);
      const minH = Math.max(190, H / 4.2);
      const maxCols = Math.max(1, Math.floor(W / minW));
      const maxRows = Math.max(1, Math.floor(H / minH));
      this.tilesPerPage = tileCount > maxCols * maxRows ? maxCols * maxRows : tileCount;
      const paged = this.tilesPerPage < tileCount;
      if (this.queuePager.hidden === paged) this.queuePager.hidden = !paged;
      const gridH = paged ? H - this.queuePager.offsetHeight : H;
      const n = this.tilesPerPage;
      const gap = Math.max(6, Math.round(Math.min(window.innerWidth, window.innerHeight * 1.78) * 0.006));
      const fit = fitGrid(n, W + gap, gridH + gap, 1.55);
      const tileW = (W - gap * (fit.cols - 1)) / fit.cols;
      const tileH = (gridH - gap * (fit.rows - 1)) / fit.rows;
      const metrics = Math.max(1, (this.board.queue_metrics || []).length || 4);
      // Metrics area: about 58 % of the tile, laid out as the best grid of cells.
      const mFit = fitGrid(metrics, tileW * 0.9, tileH * 0.56, 1.4);
      const cellW = (tileW * 0.9) / mFit.cols;
      const cellH = (tileH * 0.56) / mFit.rows;
      const valueFs = Math.max(12, Math.min(cellH * 0.58, cellW * 0.33));
      const style = this.grid.style;
      style.setProperty("--cols", fit.cols);
      style.setProperty("--rows", fit.rows);
      style.setProperty("--gap", `${gap}px`);
      style.setProperty("--tile-h", `${tileH}px`);
      style.setProperty("--mcols", mFit.cols);
      style.setProperty("--value-fs", `${valueFs.toFixed(1)}px`);
      const labelFs = Math.max(9, Math.min(valueFs * 0.36, cellW * 0.13));
      setAttr(this.grid, "data-size", tileH < 240 ? "small" : null);
      style.setProperty("--label-fs", `${labelFs.toFixed(1)}px`);
      // Short labels ("Max wait") when a cell is too narrow for the long ones ("Longest wait").
      setAttr(this.grid, "data-labels", cellW / labelFs < 10 ? "short" : null);
      style.setProperty("--name-fs", `${Math.max(12, Math.min(tileH * 0.095, tileW * 0.06)).toFixed(1)}px`);
      style.setProperty("--badge-fs", `${Math.max(10, Math.min(tileH * 0.06, tileW * 0.04)).toFixed(1)}px`);
    }
    const listH = this.agentList.clientHeight;
    const listW = this.agentList.clientWidth;
    if (listH > 0) {
      const rowH = Math.max(26, Math.min(window.innerHeight / 19, listW / 9));
      this.rowsPerPage = Math.max(1, Math.floor(listH / rowH));
      const realH = listH / this.rowsPerPage;
      this.agentList.style.setProperty("--row-h", `${realH.toFixed(1)}px`);
      const rowFs = Math.min(realH, rowH * 1.1) * 0.45;
      this.agentList.style.setProperty("--row-fs", `${rowFs.toFixed(1)}px`);
      // Narrow panels keep the state icon and colour bar and drop the state's word and group.
      const ems = listW / rowFs;
      setAttr(this.agentList, "data-density", ems < 16 ? "narrow" : ems < 28 ? "compact" : null);
    }
    this._applyPaging();
  }

  _applyPaging() {
    const tilePages = Math.max(1, Math.ceil(this.tileOrder.length / this.tilesPerPage));
    if (this.tilePage >= tilePages) this.tilePage = 0;
    this.tileOrder.forEach((key, i) => {
      const hidden = Math.floor(i / this.tilesPerPage) !== this.tilePage;
      const tile = this.tiles.get(key);
      if (tile.el.hidden !== hidden) tile.el.hidden = hidden;
    });
    this._pagerText(this.queuePager, this.tilePage, tilePages);

    const agentPages = Math.max(1, Math.ceil(this.agentOrder.length / this.rowsPerPage));
    if (this.agentPage >= agentPages) this.agentPage = 0;
    const now = this.now();
    this.agentOrder.forEach((id, i) => {
      const row = this.rows.get(id);
      const hidden = Math.floor(i / this.rowsPerPage) !== this.agentPage;
      if (row.el.hidden !== hidden) {
        row.el.hidden = hidden;
        if (!hidden) row.tick(now);
      }
    });
    this._pagerText(this.agentPager, this.agentPage, agentPages);
    this.agentsSection.dataset.pages = agentPages;
    this.agentsSection.dataset.page = this.agentPage + 1;
    this.queuesSection.dataset.pages = tilePages;
    this.queuesSection.dataset.page = this.tilePage + 1;
  }

  _pagerText(pager, page, pages) {
    if (!pager) return;
    const paged = pages > 1;
    if (pager.hidden === paged) pager.hidden = !paged;
    if (!paged) return;
    if (pager.childElementCount !== pages) {
      pager.textContent = "";
      for (let i = 0; i < pages; i++) pager.appendChild(el("span", "dot"));
    }
    Array.from(pager.children).forEach((dot, i) => setAttr(dot, "data-current", i === page ? "1" : null));
    setAttr(pager, "aria-label", interpolate(gettext("Page %(page)s of %(pages)s"), { page: page + 1, pages }));
  }

  /** Called every second. Ticks visible timers and flips pages every page_seconds. */
  tick(nowMs) {
    const pageMs = Math.max(3, Number(this.board.page_seconds) || 12) * 1000;
    if (nowMs - this.lastPageFlip >= pageMs) {
      this.lastPageFlip = nowMs;
      const agentPages = Math.ceil(this.agentOrder.length / this.rowsPerPage);
      const tilePages = Math.ceil(this.tileOrder.length / this.tilesPerPage);
      if (agentPages > 1) this.agentPage = (this.agentPage + 1) % agentPages;
      if (tilePages > 1) this.tilePage = (this.tilePage + 1) % tilePages;
      if (agentPages > 1 || tilePages > 1) this._applyPaging();
    }
    for (const key of this.tileOrder) {
      const tile = this.tiles.get(key);
      if (!tile.el.hidden) tile.tick(nowMs);
    }
    for (const id of this.agentOrder) {
      const row = this.rows.get(id);
      if (!row.el.hidden) row.tick(nowMs);
    }
  }
}
