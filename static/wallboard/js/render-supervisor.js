// The supervisor view: every queue and group in a table, every agent in a sortable, filterable
// table. Same live data and the same keyed, in-place updates as the kiosk.

import { AGENT_STATES, agentStateInfo, formatMetric, groupName, metricInfo } from "./format.js";
import { gettext, interpolate } from "./i18n.js";
import { Sparkline } from "./sparkline.js";
import {
  AgentSummary,
  agentTime,
  byPosition,
  capText,
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

// Filter options: enough of a name to tell groups and queues apart in a drop-down.
const OPTION_MAX = 60;

class QueueRow {
  constructor(kind, id) {
    this.kind = kind;
    this.el = el("tr", "q-row", { "data-kind": kind === "groups" ? "group" : "queue" });
    if (kind === "groups") this.el.dataset.groupId = id;
    else this.el.dataset.queueId = id;
    const nameCell = el("th", "q-name", { scope: "row" });
    this.nameEl = el("span", "q-name-text", { "data-metric": "name" });
    this.subEl = el("span", "q-sub");
    nameCell.append(this.nameEl, this.subEl);
    const schedCell = el("td", "q-sched");
    this.badge = new ScheduleBadge();
    schedCell.appendChild(this.badge.el);
    this.el.append(nameCell, schedCell);
    this.cells = new Map();
    this.sparkCell = el("td", "q-spark");
    this.spark = new Sparkline("queue_size", gettext("Waiting"));
    this.sparkCell.appendChild(this.spark.el);
    this.metricsKey = "";
  }

  update(item, board, names) {
    if (names.join(",") !== this.metricsKey) {
      for (const { cell } of this.cells.values()) cell.remove();
      this.cells.clear();
      this.sparkCell.remove();
      for (const name of names) {
        // data-label: the metric's name on a phone, where rows become cards without a head.
        const cell = el("td", "q-metric num", { "data-metric": name, "data-state": "ok", "data-label": metricInfo(name).label });
        this.cells.set(name, { cell });
        this.el.appendChild(cell);
      }
      this.el.appendChild(this.sparkCell);
      this.metricsKey = names.join(",");
    }
    setName(this.nameEl, item.name || item.id);
    setText(this.subEl, itemSubLabel(this.kind, item));
    const muted = isMuted(item, board);
    const metrics = item.metrics || {};
    const states = item.states || {};
    for (const [name, { cell }] of this.cells) {
      setText(cell, formatMetric(name, metrics[name]));
      setAttr(cell, "data-state", metricLevel(states, name, muted));
    }
    setAttr(this.el, "data-schedule", scheduleState(item));
    this.badge.update(item.schedule);
    this.spark.update((item.history || {}).queue_size, (v) => formatMetric("queue_size", v));
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
    this.el = el("tr", "a-row", { "data-agent-id": id });
    this.nameEl = el("th", "a-name", { scope: "row", "data-metric": "name" });
    const stateCell = el("td", "a-state");
    this.icon = icon("unknown", "icon agent-icon");
    this.stateEl = el("span", "", { "data-metric": "state" });
    stateCell.append(this.icon, this.stateEl);
    this.timeEl = el("td", "a-time num", { "data-metric": "time_in_status" });
    this.groupEl = el("td", "a-group", { "data-metric": "group_name" });
    this.el.append(this.nameEl, stateCell, this.timeEl, this.groupEl);
    this.agent = null;
    this.since = NaN;
  }

  update(agent, board) {
    this.agent = agent;
    showAgent(this, agent, board);
  }

  tick(nowMs) {
    setText(this.timeEl, agentTime(this.since, nowMs));
  }

  destroy() {
    this.el.remove();
  }
}

// The board of the state being shown: group names come from it (docs/protocol.md).
let currentBoard = {};

/** The queue ids an agent answers: its own `queue_ids` if any, else its group's (board.agent_group_queues). */
export function agentQueues(agent, board) {
  if (Array.isArray(agent.queue_ids)) return agent.queue_ids.map(String);
  const byGroup = (board && board.agent_group_queues) || {};
  const ids = agent.group_id === undefined || agent.group_id === null ? null : byGroup[String(agent.group_id)];
  return Array.isArray(ids) ? ids.map(String) : null;
}

const SORTERS = {
  name: (a) => String(a.name || "").toLowerCase(),
  state: (a) => agentStateInfo(a.state).order,
  // Longest in status first when ascending: a smaller status_since is a longer time.
  time_in_status: (a) => Number(a.status_since) || Infinity,
  group_name: (a) => groupName(a, currentBoard).toLowerCase(),
};

export class SupervisorView {
  constructor(root, { now = () => Date.now() } = {}) {
    this.root = root;
    this.now = now;
    this.queueHead = root.querySelector(".sv-queues thead tr");
    this.queueBody = root.querySelector(".sv-queues tbody");
    this.agentBody = root.querySelector(".sv-agents tbody");
    this.filters = {
      group: root.querySelector('[data-filter="group"]'),
      state: root.querySelector('[data-filter="state"]'),
      queue: root.querySelector('[data-filter="queue"]'),
      text: root.querySelector('[data-filter="text"]'),
    };
    this.countEl = root.querySelector(".sv-agent-count");
    this.summaryEl = root.querySelector(".wb-agent-summary");
    this.queueRows = new Map();
    this.agentRows = new Map();
    this.queueOrder = [];
    this.agentOrder = [];
    this.sort = { key: "state", dir: 1 };
    this.state = null;
    this.headKey = "";
    this.optionsKey = "";
    this.summary = new AgentSummary(this.summaryEl, ["available", "offered", "busy", "post_processing", "on_break", "offline", "logged_out"]);

    this.optionKeys = new Map();
    this._onFilter = (event) => {
      if (event && event.target.tagName === "SELECT") this._titleSelect(event.target);
      this._arrangeAgents();
    };
    for (const f of Object.values(this.filters)) if (f) f.addEventListener(f.tagName === "INPUT" ? "input" : "change", this._onFilter);
    this._onSort = (event) => {
      const button = event.target.closest("[data-sort]");
      if (!button) return;
      const key = button.dataset.sort;
      this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : 1 };
      this._arrangeAgents();
    };
    this.sortHead = root.querySelector(".sv-agents thead");
    this.sortHead.addEventListener("click", this._onSort);
    this._fillStateOptions();
  }

  destroy() {
    for (const f of Object.values(this.filters)) if (f) f.removeEventListener(f.tagName === "INPUT" ? "input" : "change", this._onFilter);
    this.sortHead.removeEventListener("click", this._onSort);
    this.clear();
  }

  clear() {
    for (const r of this.queueRows.values()) r.destroy();
    for (const r of this.agentRows.values()) r.destroy();
    this.queueRows.clear();
    this.agentRows.clear();
    this.queueOrder = [];
    this.agentOrder = [];
  }

  _fillStateOptions() {
    const select = this.filters.state;
    if (!select) return;
    for (const [value, info] of Object.entries(AGENT_STATES)) {
      const option = el("option");
      option.value = value;
      option.textContent = info.label;
      select.appendChild(option);
    }
  }

  render(state, dirty = null) {
    this.state = state;
    currentBoard = state.board || {};
    const board = state.board || {};
    const full = dirty === null || dirty.all || dirty.board;
    const names = Array.isArray(board.queue_metrics) ? board.queue_metrics : [];
    if (names.join(",") + `|${board.sla_note || ""}` !== this.headKey) {
      this.headKey = names.join(",") + `|${board.sla_note || ""}`;
      this.queueHead.textContent = "";
      const cols = [[gettext("Queue"), ""], [gettext("Schedule"), ""], ...names.map((n) => [metricInfo(n).label, "num", n]), [gettext("Waiting, last hour"), ""]];
      for (const [label, cls, name] of cols) {
        const th = this.queueHead.appendChild(el("th", cls, { scope: "col" }));
        th.textContent = label;
        const sla = slaDefinition(name || "", board); // which SLA the source computes (issue 17)
        if (sla) th.title = sla;
        if (sla && board.sla_note) th.textContent = `${label} (${board.sla_note})`;
      }
    }
    let queuesChanged = false;
    for (const kind of ["groups", "queues"]) {
      const changed = syncViews(this.queueRows, `${kind}/`, state[kind] || {}, full ? null : dirty[kind], (id) => new QueueRow(kind, id), (row, item) => {
        row.update(item, board, names);
        row.tick(this.now());
        return false;
      });
      if (changed) queuesChanged = true;
    }
    if (queuesChanged || full) {
      const order = itemOrder(state);
      if (order.join("\n") !== this.queueOrder.join("\n")) {
        this.queueOrder = order;
        for (const key of order) this.queueBody.appendChild(this.queueRows.get(key).el);
      }
      this._fillQueueOptions(state);
    }

    const agents = state.agents || {};
    const now = this.now();
    syncViews(this.agentRows, "", agents, full ? null : dirty.agents, (id) => new AgentRow(id), (row, agent) => {
      row.update(agent, currentBoard);
      row.tick(now);
      return false;
    });
    if (full || dirty.agents.size) {
      this._fillGroupOptions(agents);
      this._arrangeAgents();
      this.summary.update(agents);
    }
  }

  _syncOptions(select, entries, key) {
    if (!select) return;
    // Kept here, not in a data attribute: the key holds every name, however long.
    const k = entries.map((e) => e.join("=")).join("|");
    if (this.optionKeys.get(key) === k) return;
    this.optionKeys.set(key, k);
    const current = select.value;
    while (select.options.length > 1) select.remove(1);
    for (const [value, label] of entries) {
      const option = el("option");
      option.value = value;
      // A select is as wide as its longest option: cut long names, the whole one on hover.
      option.textContent = capText(label, OPTION_MAX);
      if (option.textContent !== label) option.title = label;
      select.appendChild(option);
    }
    select.value = entries.some(([v]) => v === current) ? current : "";
    this._titleSelect(select);
    if (key === "queue") select.closest("label").hidden = entries.length === 0;
  }

  /** The chosen option's whole name on hover over the closed select. */
  _titleSelect(select) {
    const option = select.selectedOptions[0];
    setAttr(select, "title", option && option.title ? option.title : null);
  }

  _fillGroupOptions(agents) {
    const groups = new Map();
    for (const a of Object.values(agents)) if (a.group_id !== undefined && a.group_id !== null) groups.set(String(a.group_id), groupName(a, currentBoard));
    const entries = [...groups.entries()].sort((a, b) => (a[1].toLowerCase() < b[1].toLowerCase() ? -1 : 1));
    this._syncOptions(this.filters.group, entries, "group");
    // The queue filter needs to know which queues agents answer: from their group (set in admin).
    const hasQueues = Object.values(agents).some((a) => agentQueues(a, currentBoard) !== null);
    const queues = hasQueues && this.state ? Object.values(this.state.queues || {}).sort(byPosition).map((q) => [String(q.id), q.name || String(q.id)]) : [];
    this._syncOptions(this.filters.queue, queues, "queue");
  }

  _fillQueueOptions(state) {
    this._fillGroupOptions(state.agents || {});
  }

  _matches(agent) {
    const f = this.filters;
    if (f.group && f.group.value && String(agent.group_id) !== f.group.value) return false;
    if (f.state && f.state.value && agent.state !== f.state.value) return false;
    if (f.queue && f.queue.value && !(agentQueues(agent, currentBoard) || []).includes(f.queue.value)) return false;
    if (f.text && f.text.value.trim()) {
      const needle = f.text.value.trim().toLowerCase();
      if (!String(agent.name || "").toLowerCase().includes(needle) && !String(agent.id).toLowerCase().includes(needle)) return false;
    }
    return true;
  }

  _arrangeAgents() {
    const { key, dir } = this.sort;
    const value = SORTERS[key] || SORTERS.name;
    const rows = [...this.agentRows.values()].filter((r) => r.agent);
    rows.sort((a, b) => {
      const va = value(a.agent);
      const vb = value(b.agent);
      if (va !== vb) return (va < vb ? -1 : 1) * dir;
      const na = SORTERS.name(a.agent);
      const nb = SORTERS.name(b.agent);
      return na < nb ? -1 : na > nb ? 1 : 0;
    });
    const order = rows.map((r) => r.id);
    if (order.join("\n") !== this.agentOrder.join("\n")) {
      this.agentOrder = order;
      for (const r of rows) this.agentBody.appendChild(r.el);
    }
    let shown = 0;
    for (const r of rows) {
      const hidden = !this._matches(r.agent);
      if (r.el.hidden !== hidden) r.el.hidden = hidden;
      if (!hidden) shown += 1;
    }
    for (const th of this.sortHead.querySelectorAll("[data-sort]")) {
      const cell = th.closest("th");
      setAttr(cell, "aria-sort", th.dataset.sort === key ? (dir > 0 ? "ascending" : "descending") : "none");
    }
    if (this.countEl) setText(this.countEl, interpolate(gettext("%(shown)s of %(total)s agents"), { shown, total: rows.length }));
  }

  layout() {}

  tick(nowMs) {
    for (const row of this.queueRows.values()) row.tick(nowMs);
    for (const row of this.agentRows.values()) if (!row.el.hidden) row.tick(nowMs);
  }
}
