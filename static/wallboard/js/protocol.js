// The board websocket: connect, keep epoch/seq, apply snapshots and patches, ask for a resync
// on a gap, reconnect with capped exponential backoff and full jitter, and notice staleness.
// See docs/protocol.md. The browser only ever sends {"type": "resync"}.

import { applyPatch } from "./jsonpatch.js";

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 30000;
export const STALE_CYCLES = 2.5;

/** Full jitter: a uniform delay in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt, { base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS, random = Math.random } = {}) {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** ws: or wss: per the page's protocol + the server-given path (or an absolute ws(s) URL). */
export function websocketUrl(pathOrUrl, loc = window.location) {
  if (/^wss?:\/\//i.test(pathOrUrl)) return pathOrUrl;
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  const path = pathOrUrl.startsWith("/") ? pathOrUrl : `/${pathOrUrl}`;
  return `${scheme}//${loc.host}${path}`;
}

/** Which parts of the board state a list of ops touched: {all, board, queues:Set, groups:Set, agents:Set}. */
export function dirtyFromOps(ops) {
  const dirty = { all: false, board: false, queues: new Set(), groups: new Set(), agents: new Set() };
  const mark = (pointer) => {
    if (typeof pointer !== "string") return;
    const parts = pointer.split("/");
    const top = parts[1];
    if (parts.length < 2 || top === "") {
      dirty.all = true;
    } else if (top === "board") {
      dirty.board = true;
    } else if (top === "leaderboard" || top === "occupancy" || top === "day_totals") {
      dirty.tiles = true; // agent performance tiles (agent-tiles.js)
    } else if (top === "queues" || top === "groups" || top === "agents") {
      if (parts.length < 3) dirty.all = true;
      else dirty[top].add(parts[2].replace(/~1/g, "/").replace(/~0/g, "~"));
    }
  };
  for (const op of ops) {
    mark(op && op.path);
    if (op && (op.op === "move" || op.op === "copy")) mark(op.from);
  }
  return dirty;
}

/**
 * One websocket to one board. Callbacks (all optional):
 *   onSnapshot(state, msg)            a full state arrived (first connect, resync)
 *   onPatch(state, dirty, msg)        ops were applied; dirty says what changed
 *   onMessage(msg)                    any accepted message (as_of freshness)
 *   onStatus(status, msg)             upstream health changed (also from a snapshot)
 *   onControl(msg)                    an administrator's control message
 *   onVersion(version)                the snapshot's server version differs from ours
 *   onConnection(state)               "connecting" | "open" | "closed"
 *   onStale(isStale, silentMs)        no message for STALE_CYCLES cycles (and back)
 *   onError(message)                  something went wrong that a person might want to know
 */
export class BoardConnection {
  constructor({ url, version = null, cycleSeconds = 10, callbacks = {}, WebSocketImpl = window.WebSocket }) {
    this.url = url;
    this.version = version;
    this.cycleSeconds = Number(cycleSeconds) || 10;
    this.cb = callbacks;
    this.WebSocketImpl = WebSocketImpl;
    this.ws = null;
    this.state = null;
    this.epoch = null;
    this.seq = null;
    this.awaitingSnapshot = true;
    this.resyncSentAt = 0;
    this.attempt = 0;
    this.lastMessageAt = Date.now();
    this.stale = false;
    this.stopped = false;
    this.reconnectTimer = null;
    this.staleTimer = null;
    this.openedAt = 0;
  }

  start() {
    this.stopped = false;
    this.lastMessageAt = Date.now();
    this._connect();
    this.staleTimer = setInterval(() => this._checkStale(), 500);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.staleTimer);
    this.reconnectTimer = null;
    this.staleTimer = null;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000, "board closed");
      } catch (e) {
        /* already closed */
      }
    }
  }

  _emit(name, ...args) {
    const fn = this.cb[name];
    if (typeof fn === "function") {
      try {
        fn(...args);
      } catch (err) {
        console.error(`wallboard: ${name} handler failed`, err);
      }
    }
  }

  _connect() {
    if (this.stopped) return;
    this._emit("onConnection", "connecting");
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch (err) {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    // Every (re)connection starts from a snapshot, which the server sends on connect.
    this.awaitingSnapshot = true;
    this.resyncSentAt = Date.now();
    ws.onopen = () => {
      this.openedAt = Date.now();
      this._emit("onConnection", "open");
    };
    ws.onmessage = (event) => this._onMessage(event.data);
    ws.onerror = () => {
      /* onclose follows */
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      this._emit("onConnection", "closed", event.code);
      if (event.code === 4403 || event.code === 4401) {
        this._emit("onError", event.code === 4401 ? "This display was revoked." : "This display is not allowed to see the board.");
      }
      // A connection that stayed up for a while resets the backoff.
      if (this.openedAt && Date.now() - this.openedAt > 60000) this.attempt = 0;
      this.openedAt = 0;
      this._scheduleReconnect();
    };
  }

  _scheduleReconnect() {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this._connect();
    }, delay);
  }

  _send(obj) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(obj));
  }

  requestResync() {
    this.awaitingSnapshot = true;
    this.resyncSentAt = Date.now();
    this._send({ type: "resync" });
  }

  _onMessage(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch (err) {
      return;
    }
    if (!msg || typeof msg !== "object") return;
    this.lastMessageAt = Date.now();
    this._checkStale();

    // Control messages go to one display and are outside the board's seq numbering.
    if (msg.type === "control") {
      this._emit("onControl", msg);
      return;
    }

    if (msg.type === "snapshot") {
      this._applySnapshot(msg);
      return;
    }

    if (msg.type !== "patch" && msg.type !== "status") return;

    if (this.awaitingSnapshot) {
      // Patches mean nothing until the snapshot arrives; ask again if it got lost.
      if (Date.now() - this.resyncSentAt > 2 * this.cycleSeconds * 1000) this.requestResync();
      if (msg.type === "status" && msg.status) this._emit("onStatus", msg.status, msg);
      return;
    }
    if (msg.epoch !== this.epoch) {
      this.requestResync();
      return;
    }
    const seq = Number(msg.seq);
    if (seq <= this.seq) return; // already covered by the snapshot
    if (seq !== this.seq + 1) {
      this.requestResync();
      return;
    }
    this.seq = seq;
    this._emit("onMessage", msg);
    if (msg.type === "status") {
      if (msg.status) this._emit("onStatus", msg.status, msg);
      return;
    }
    const ops = Array.isArray(msg.ops) ? msg.ops : [];
    if (ops.length === 0) return;
    try {
      this.state = applyPatch(this.state, ops);
    } catch (err) {
      console.warn("wallboard: patch failed, asking for a snapshot", err);
      this.requestResync();
      return;
    }
    this._emit("onPatch", this.state, dirtyFromOps(ops), msg);
  }

  _applySnapshot(msg) {
    if (this.version !== null && msg.version !== undefined && msg.version !== null && String(msg.version) !== String(this.version)) {
      this._emit("onVersion", msg.version);
    }
    if (!msg.data || typeof msg.data !== "object") return;
    this.state = msg.data;
    this.epoch = msg.epoch;
    this.seq = Number(msg.seq);
    this.awaitingSnapshot = false;
    this.attempt = 0;
    const cycle = msg.data.board && Number(msg.data.board.cycle_seconds);
    if (cycle > 0) this.cycleSeconds = cycle;
    this._emit("onMessage", msg);
    if (msg.status) this._emit("onStatus", msg.status, msg);
    this._emit("onSnapshot", this.state, msg);
  }

  _checkStale() {
    const now = Date.now();
    const silent = now - this.lastMessageAt;
    const limit = STALE_CYCLES * this.cycleSeconds * 1000;
    // Stale: nothing heard for 2.5 cycles, or a resync that has not been answered for as long.
    const stale = silent > limit || (this.awaitingSnapshot && this.state !== null && now - this.resyncSentAt > limit);
    if (stale !== this.stale) {
      this.stale = stale;
      this._emit("onStale", stale, silent);
    }
    // A socket that is open but silent for long is probably half-dead (NAT, proxy): recycle it.
    if (stale && this.ws && this.ws.readyState === 1 && silent > 6 * this.cycleSeconds * 1000) {
      try {
        this.ws.close(4000, "silent");
      } catch (e) {
        /* ignore */
      }
    }
  }
}
