// Page entry point for the kiosk and the supervisor view.
//
// Config comes from the json_script element "wb-config" (see templates/boards/base.html):
//   {board, ws_path, version, cycle_seconds, theme, mode, rotation: [{slug, title, seconds, ws_path}]}
// plus, optionally, `ws_url` (an absolute ws:// URL that beats ws_path; used by the browser tests)
// and `time_zone` (IANA name for the clock; the TV's own zone otherwise).
//
// Rotation: when `rotation` is not empty the kiosk shows each board for its `seconds`, then
// closes that board's websocket and opens the next one (one socket at a time; the next board's
// snapshot arrives on connect, so the switch costs one round trip and no server state).

import { formatClock, toMillis } from "./format.js";
import { gettext, interpolate } from "./i18n.js";
import { BoardConnection, websocketUrl } from "./protocol.js";
import { KioskView } from "./render-kiosk.js";
import { SupervisorView } from "./render-supervisor.js";
import { alertKeys, setAttr, setIcon, setName, setText } from "./render-common.js";
import { disableSound, enableSound, playAlert, soundEnabled } from "./sound.js";
import { renderAnnouncements } from "./announcements.js";
import { renderCampaigns } from "./campaigns.js";
import { renderAgentTiles } from "./agent-tiles.js";
import { setupDisplayOptions, withDisplayOptions } from "./display-options.js";

const RELOAD_GUARD_KEY = "wb-last-reload";
const RELOAD_MIN_GAP_MS = 15000;
const SKEW_SAMPLES = 30;

function readConfig() {
  const node = document.getElementById("wb-config");
  let config = {};
  try {
    config = JSON.parse(node ? node.textContent : "{}") || {};
  } catch (e) {
    config = {};
  }
  config.rotation = Array.isArray(config.rotation) ? config.rotation : [];
  return config;
}

// Close codes that mean the server changed its mind about this page (docs/protocol.md): a
// display revoked, re-issued or switched (4401), access gone or never there (4403), a board
// deleted (4404). Reconnecting cannot help; loading the page again asks the server what this
// screen may show now: the display's current board, the "no valid link" page, or the login.
const ACCESS_CLOSE_CODES = new Set([4401, 4403, 4404]);
// A page the server serves but whose socket it keeps refusing (a proxy stripping the Origin)
// must not reload every few seconds for weeks.
const ACCESS_RELOAD_GAP_MS = 60000;
const ACCESS_TEXT = {
  4401: gettext("This display was revoked: ask an administrator for a new display link"),
  4403: gettext("This screen is not allowed to show the board"),
  4404: gettext("This board no longer exists"),
};

/** Reload, but never more than once per gap (a mismatch that persists would loop). */
function guardedReload(minGap = RELOAD_MIN_GAP_MS) {
  let last = 0;
  try {
    last = Number(sessionStorage.getItem(RELOAD_GUARD_KEY)) || 0;
  } catch (e) {
    /* storage disabled */
  }
  const wait = Math.max(0, last + minGap - Date.now());
  setTimeout(() => {
    try {
      sessionStorage.setItem(RELOAD_GUARD_KEY, String(Date.now()));
    } catch (e) {
      /* storage disabled */
    }
    window.location.reload();
  }, wait);
}

// Upstream trouble in words for the people in the room, keyed on the status `state`. The
// status `message` carries technical detail (addresses, parser positions) for supervisors and
// administrators: a TV never shows it.
const STATUS_TEXT = {
  degraded: gettext("8x8 is not answering properly"),
  unauthorised: gettext("8x8 refused the token — ask your administrator"),
  unreachable: gettext("8x8 is not answering"),
  busy: gettext("8x8 is busy"),
  malformed: gettext("8x8's answer could not be read"),
  unreadable_secret: gettext("The wallboard's 8x8 token must be entered again — ask your administrator"),
  disabled: gettext("Updates from 8x8 are switched off — ask your administrator"),
  pending: gettext("Waiting for the first data from 8x8"),
};
const STATUS_FALLBACK = gettext("8x8 is having trouble");
const BANNER_ICONS = { alert: "alert", warn: "warning", info: "info" };

class Board {
  constructor(config) {
    this.config = config;
    this.mode = config.mode === "supervisor" ? "supervisor" : "kiosk";
    this.root = document.querySelector(".wb");
    this.titleEl = this.root.querySelector(".wb-title");
    this.clockEl = this.root.querySelector(".wb-clock");
    this.asOfEl = this.root.querySelector(".wb-asof time");
    this.banners = {
      status: this.root.querySelector('[data-banner="status"]'),
      stale: this.root.querySelector('[data-banner="stale"]'),
      connection: this.root.querySelector('[data-banner="connection"]'),
    };
    const now = () => Date.now() + this.offsetMs;
    this.offsetMs = 0;
    this.view = this.mode === "supervisor" ? new SupervisorView(this.root, { now }) : new KioskView(this.root, { now });
    this.params = new URLSearchParams(window.location.search);
    this.asOfMs = NaN;
    this.skew = [];
    this.previousAlerts = null;
    this.connState = "connecting";
    this.closedSince = 0;
    this.closeCode = null;
    this.isStale = false;
    this.lastMessageAt = Date.now();
    this.status = null;
    this.conn = null;
    this.rotationIndex = 0;
    this.rotationTimer = null;
  }

  start() {
    this._applyTheme(this.params.get("theme") || this.config.theme);
    this.options = setupDisplayOptions(this.mode, this.params);
    this._setupSound();
    const rotation = this.mode === "kiosk" ? this.config.rotation.filter((r) => r && (r.ws_path || r.ws_url)) : [];
    if (rotation.length > 1) {
      this.rotation = rotation;
      const i = rotation.findIndex((r) => r.slug === this.config.board);
      this._showRotation(i >= 0 ? i : 0);
    } else {
      this._connect(this.config.ws_url || this.config.ws_path, this.config.title);
    }
    this.tick();
    // One timer for every clock on the page, aligned to the second.
    setTimeout(() => {
      this.tick();
      this.ticker = setInterval(() => this.tick(), 1000);
    }, 1000 - (Date.now() % 1000) + 5);
    window.addEventListener("resize", () => this.view.layout());
  }

  _showRotation(index) {
    clearTimeout(this.rotationTimer);
    this.rotationIndex = index % this.rotation.length;
    const entry = this.rotation[this.rotationIndex];
    this.view.clear();
    this.previousAlerts = null;
    this._connect(entry.ws_url || entry.ws_path, entry.title);
    this.root.dataset.rotation = `${this.rotationIndex + 1}/${this.rotation.length}`;
    const seconds = Math.max(5, Number(entry.seconds) || 30);
    this.rotationTimer = setTimeout(() => this._showRotation(this.rotationIndex + 1), seconds * 1000);
  }

  _connect(pathOrUrl, title) {
    if (this.conn) this.conn.stop();
    if (title) setName(this.titleEl, title);
    this.root.dataset.loading = "1";
    this.conn = new BoardConnection({
      url: websocketUrl(pathOrUrl),
      version: this.config.version === undefined ? null : this.config.version,
      cycleSeconds: this.config.cycle_seconds,
      callbacks: {
        onSnapshot: (state, msg) => this._onSnapshot(state, msg),
        onPatch: (state, dirty) => this._onPatch(state, dirty),
        onMessage: (msg) => this._onMessage(msg),
        onStatus: (status) => this._onStatus(status),
        onControl: (msg) => this._onControl(msg),
        onVersion: () => guardedReload(),
        onConnection: (state, code) => this._onConnection(state, code),
        onStale: (stale) => this._onStale(stale),
      },
    });
    window.wallboard = {
      connection: this.conn,
      get state() {
        return this.connection.state;
      },
      get seq() {
        return this.connection.seq;
      },
      get epoch() {
        return this.connection.epoch;
      },
    };
    this.conn.start();
  }

  _applyTheme(theme) {
    if (theme === "light" || theme === "dark") setAttr(document.documentElement, "data-theme", theme);
  }

  _onSnapshot(state, msg) {
    delete this.root.dataset.loading;
    const board = state.board || {};
    if (board.title) setName(this.titleEl, board.title);
    // The page's theme comes from the view; a later change of the board's theme applies live.
    this.boardTheme = board.theme;
    this.view.render(state, null);
    renderAnnouncements(this.root, state.announcements, () => Date.now() + this.offsetMs);
    renderCampaigns(this.root, state.campaigns);
    renderAgentTiles(this.root, state);
    this._checkAlerts(state);
    this.root.dataset.seq = msg.seq;
  }

  _onPatch(state, dirty) {
    const board = state.board || {};
    if (dirty.board || dirty.all) {
      if (board.title) setName(this.titleEl, board.title);
      if (board.theme !== this.boardTheme) {
        this.boardTheme = board.theme;
        if (!this.params.get("theme")) this._applyTheme(board.theme);
      }
    }
    this.view.render(state, dirty);
    renderAnnouncements(this.root, state.announcements, () => Date.now() + this.offsetMs);
    renderCampaigns(this.root, state.campaigns);
    renderAgentTiles(this.root, state, dirty);
    this._checkAlerts(state);
  }

  _onMessage(msg) {
    this.lastMessageAt = Date.now();
    const asOf = toMillis(msg.as_of);
    if (Number.isFinite(asOf)) {
      this.asOfMs = asOf;
      // as_of is never in the future on a correct clock: if it is, the TV's clock is behind.
      this.skew.push(asOf - Date.now());
      if (this.skew.length > SKEW_SAMPLES) this.skew.shift();
      const ahead = Math.max(...this.skew);
      this.offsetMs = ahead > 2000 ? ahead : 0;
    }
    this.root.dataset.seq = msg.seq;
    this._renderAsOf();
    this._renderBanners();
  }

  _renderAsOf() {
    setText(this.asOfEl, Number.isFinite(this.asOfMs) ? formatClock(this.asOfMs, { timeZone: this.config.time_zone, seconds: true }) : gettext("waiting for data"));
  }

  _onStatus(status) {
    this.status = status;
    this._renderBanners();
  }

  _onControl(msg) {
    if (msg.action === "reload") {
      window.location.reload();
    } else if (msg.action === "switch" && typeof msg.url === "string") {
      // The TV keeps its display options (?lite=1…) on the board it is switched to.
      const target = withDisplayOptions(new URL(msg.url, window.location.href), this.params);
      if (target.origin === window.location.origin) window.location.assign(target.href);
    }
  }

  _onConnection(state, code) {
    this.connState = state;
    if (state === "closed") {
      if (!this.closedSince) this.closedSince = Date.now();
      this.closeCode = code;
      if (ACCESS_CLOSE_CODES.has(code)) {
        // The server said no: asking again would be refused again, and a reconnect racing the
        // reload could be answered first. The reload (at most once a minute) asks what to show.
        if (this.conn) this.conn.stop();
        guardedReload(ACCESS_RELOAD_GAP_MS);
      }
    } else if (state === "open") {
      this.closedSince = 0;
      this.closeCode = null;
    }
    this.root.dataset.connection = state;
    this._renderBanners();
  }

  _onStale(stale) {
    this.isStale = stale;
    setAttr(this.root, "data-stale", stale ? "1" : null);
    this._renderBanners();
  }

  _checkAlerts(state) {
    const keys = alertKeys(state);
    if (this.previousAlerts) {
      for (const key of keys) {
        if (!this.previousAlerts.has(key)) {
          playAlert();
          break;
        }
      }
    }
    this.previousAlerts = keys;
  }

  _banner(name, text, level, detail = "") {
    const node = this.banners[name];
    if (!node) return;
    const show = Boolean(text);
    if (node.hidden === show) node.hidden = !show;
    if (show) {
      setText(node.querySelector(".banner-text") || node, text);
      setAttr(node, "data-level", level);
      // A shape per level as well as a colour (issue 20).
      const svg = node.querySelector("svg.icon");
      if (svg) setIcon(svg, BANNER_ICONS[level] || "warning");
    }
    const detailEl = node.querySelector(".banner-detail");
    const shown = show && detail && detail !== text ? detail : "";
    if (detailEl) {
      setText(detailEl, shown);
      if (detailEl.hidden === Boolean(shown)) detailEl.hidden = !shown;
    }
    setAttr(node, "title", shown || null);
  }

  /** The status banner's words: what is wrong and how old the numbers are, nothing technical. */
  _statusText(status) {
    const text = STATUS_TEXT[status.state] || STATUS_FALLBACK;
    const lastOk = toMillis(status.last_ok);
    if (status.state === "pending" || !Number.isFinite(lastOk)) return text;
    const time = formatClock(lastOk, { timeZone: this.config.time_zone });
    return interpolate(gettext("%(problem)s. Showing the last good data from %(time)s"), { problem: text, time });
  }

  _renderBanners() {
    const now = Date.now();
    const st = this.status;
    if (st && st.state && st.state !== "ok") {
      // Supervisors get 8x8's detail on a second, smaller line; TVs only the words above.
      const detail = this.mode === "supervisor" && typeof st.message === "string" ? st.message : "";
      this._banner("status", this._statusText(st), st.state === "pending" ? "info" : "alert", detail);
      setAttr(this.root, "data-upstream", st.state);
    } else {
      this._banner("status", "", null);
      setAttr(this.root, "data-upstream", st ? "ok" : null);
    }
    if (this.isStale) {
      const silent = Math.round((now - this.lastMessageAt) / 1000);
      this._banner("stale", interpolate(gettext("No update for %(seconds)s s: the numbers below may be out of date"), { seconds: silent }), "warn");
    } else {
      this._banner("stale", "", null);
    }
    if (ACCESS_CLOSE_CODES.has(this.closeCode)) {
      this._banner("connection", ACCESS_TEXT[this.closeCode], "alert");
    } else if (this.connState !== "open" && this.closedSince && now - this.closedSince > 3000) {
      this._banner("connection", gettext("Connection to the server lost: reconnecting…"), "warn");
    } else {
      this._banner("connection", "", null);
    }
  }

  _setupSound() {
    const button = document.getElementById("wb-sound");
    if (button) {
      const sync = () => {
        setAttr(button, "aria-pressed", soundEnabled() ? "true" : "false");
        setText(button.querySelector(".label") || button, soundEnabled() ? gettext("Sound on") : gettext("Enable sound"));
      };
      button.addEventListener("click", async () => {
        if (soundEnabled()) disableSound();
        else if (await enableSound()) playAlert();
        sync();
      });
      sync();
    } else if (this.params.get("sound") === "1") {
      // A kiosk whose browser allows autoplay (e.g. --autoplay-policy=no-user-gesture-required).
      enableSound();
    }
  }

  tick() {
    const now = Date.now() + this.offsetMs;
    setText(this.clockEl, formatClock(now, { timeZone: this.config.time_zone }));
    this._renderAsOf();
    if (this.options.viewTickDue(now)) this.view.tick(now);
    if (this.isStale || (this.closedSince && this.connState !== "open")) this._renderBanners();
  }
}

const board = new Board(readConfig());
board.start();
