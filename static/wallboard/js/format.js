// Formatting helpers shared by the kiosk and the supervisor view. No DOM here.

import { compileFormat, gettext, interpolate, locale } from "./i18n.js";

const pad2 = (n) => (n < 10 ? "0" : "") + n;
// Hours and minutes the language's way ("1h05m", "1 h 05", "1:05 h"); minutes:seconds stay m:ss.
const HOURS_MINUTES = compileFormat(gettext("%(hours)sh%(minutes)sm"));

/** Seconds as "m:ss" under an hour, "4h05m" from an hour on (fits a tile); null/undefined as an en dash. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "–";
  let s = Math.max(0, Math.floor(Number(seconds)));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return h > 0 ? HOURS_MINUTES({ hours: h, minutes: pad2(m) }) : `${m}:${pad2(s)}`;
}

/** A countdown that stays short on a tile: "2d 4h", "5:12:09", "12:03". */
export function formatCountdown(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 86400) {
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    return h ? interpolate(gettext("%(days)sd %(hours)sh"), { days: d, hours: h }) : interpolate(gettext("%(days)sd"), { days: d });
  }
  return formatDuration(s);
}

export function formatCount(value) {
  if (value === null || value === undefined || value === "") return "–";
  const n = Number(value);
  return Number.isFinite(n) ? numberFormat("count").format(Math.round(n)) : String(value);
}

export function formatPercent(value) {
  if (value === null || value === undefined || value === "") return "–";
  const n = Number(value);
  return Number.isFinite(n) ? numberFormat("percent").format(Math.round(n) / 100) : String(value);
}

const numberFormats = new Map();
/** Intl number formats in the page's language ("1.234" in German, "87 %" in French). */
function numberFormat(kind) {
  let f = numberFormats.get(kind);
  if (!f) {
    const opts = kind === "percent" ? { style: "percent", maximumFractionDigits: 0 } : { maximumFractionDigits: 0 };
    f = new Intl.NumberFormat(locale(), opts);
    numberFormats.set(kind, f);
  }
  return f;
}

/** ISO-8601 (or epoch seconds) to epoch milliseconds; NaN when unusable. */
export function toMillis(value) {
  if (value === null || value === undefined || value === "") return NaN;
  if (typeof value === "number") return value * 1000;
  return Date.parse(value);
}

const timeFormats = new Map();
function timeFormat(timeZone, withSeconds) {
  const key = `${timeZone || ""}|${withSeconds}`;
  let f = timeFormats.get(key);
  if (!f) {
    const opts = { hour: "2-digit", minute: "2-digit" };
    if (withSeconds) opts.second = "2-digit";
    if (timeZone) opts.timeZone = timeZone;
    try {
      f = new Intl.DateTimeFormat(locale(), opts);
    } catch (e) {
      delete opts.timeZone;
      f = new Intl.DateTimeFormat(locale(), opts);
    }
    timeFormats.set(key, f);
  }
  return f;
}

/** Wall-clock time of an epoch-ms instant, in the board's time zone if given. */
export function formatClock(ms, { timeZone = null, seconds = false } = {}) {
  if (!Number.isFinite(ms)) return "–";
  return timeFormat(timeZone, seconds).format(new Date(ms));
}

/** Metric catalogue: label and how to show each value (names as in the normalised records). */
const METRICS = {
  queue_size: { label: gettext("Waiting"), kind: "count" },
  longest_wait_time: { label: gettext("Longest wait"), kind: "duration", short: gettext("Max wait") },
  sla_activity: { label: gettext("SLA"), kind: "percent" },
  day_sla_activity: { label: gettext("SLA today"), kind: "percent", short: gettext("SLA today") },
  thirty_min_sla_activity: { label: gettext("SLA 30 min"), kind: "percent", short: gettext("SLA 30m") },
  sla_target: { label: gettext("SLA target"), kind: "percent" },
  agent_count_wait_transact: { label: gettext("Available"), kind: "count" },
  agent_count_busy: { label: gettext("Busy"), kind: "count" },
  agent_count_on_break: { label: gettext("On break"), kind: "count" },
  agent_count_work_offline: { label: gettext("Offline"), kind: "count", short: gettext("Offline") },
  agent_count_logged_out: { label: gettext("Logged out"), kind: "count", short: gettext("Logged out") },
  agent_count_post_process: { label: gettext("Wrap-up"), kind: "count" },
  assigned_agent_count: { label: gettext("Assigned"), kind: "count" },
  enabled_agent_count: { label: gettext("Enabled"), kind: "count" },
  number_in_offered: { label: gettext("Offered"), kind: "count" },
  number_in_progress: { label: gettext("In progress"), kind: "count", short: gettext("In progress") },
  day_accepted: { label: gettext("Accepted today"), kind: "count", short: gettext("Accepted") },
  day_abandoned: { label: gettext("Abandoned today"), kind: "count", short: gettext("Abandoned") },
  day_queued: { label: gettext("Queued today"), kind: "count", short: gettext("Queued") },
  day_avg_wait_time: { label: gettext("Avg wait today"), kind: "duration", short: gettext("Avg wait") },
  day_avg_duration: { label: gettext("Avg handle today"), kind: "duration", short: gettext("Avg handle") },
  thirty_min_accepted: { label: gettext("Accepted 30 min"), kind: "count", short: gettext("Acc. 30m") },
  thirty_min_abandoned: { label: gettext("Abandoned 30 min"), kind: "count", short: gettext("Aband. 30m") },
  thirty_min_queued: { label: gettext("Queued 30 min"), kind: "count", short: gettext("Queued 30m") },
  thirty_min_avg_wait_time: { label: gettext("Avg wait 30 min"), kind: "duration", short: gettext("Wait 30m") },
  thirty_min_avg_duration: { label: gettext("Avg handle 30 min"), kind: "duration", short: gettext("Handle 30m") },
  thirty_min_longest_wait_time: { label: gettext("Longest wait 30 min"), kind: "duration", short: gettext("Max wait 30m") },
};

export function metricInfo(name) {
  const known = METRICS[name];
  if (known) return known;
  const label = String(name).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  return { label, kind: /_time$|duration/.test(name) ? "duration" : "count" };
}

export function formatMetric(name, value) {
  const { kind } = metricInfo(name);
  if (kind === "duration") return formatDuration(value);
  if (kind === "percent") return formatPercent(value);
  return formatCount(value);
}

export const AGENT_STATES = {
  available: { label: gettext("Available"), order: 0 },
  offered: { label: gettext("Offered"), order: 1 },
  busy: { label: gettext("Busy"), order: 2 },
  post_processing: { label: gettext("Wrap-up"), order: 3 },
  on_break: { label: gettext("On break"), order: 4 },
  offline: { label: gettext("Offline"), order: 5 },
  logged_out: { label: gettext("Logged out"), order: 6 },
  unknown: { label: gettext("Unknown"), order: 7 },
};

export function agentStateInfo(state) {
  return AGENT_STATES[state] || AGENT_STATES.unknown;
}

export function mediaLabel(media) {
  return { phone: gettext("Phone"), chat: gettext("Chat"), email: gettext("Email"), vmail: gettext("Voicemail") }[media] || (media ? String(media) : "");
}

/** An agent's group name: the board's name for the group, else "Group <id>" (docs/protocol.md). */
export function groupName(agent, board) {
  const id = agent && agent.group_id;
  if (id === undefined || id === null || id === "") return "";
  const names = (board && board.agent_groups) || {};
  return names[id] || interpolate(gettext("Group %(id)s"), { id });
}
