// Formatting helpers shared by the kiosk and the supervisor view. No DOM here.

const pad2 = (n) => (n < 10 ? "0" : "") + n;

/** Seconds as "m:ss" under an hour, "4h05m" from an hour on (fits a tile); null/undefined as an en dash. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "–";
  let s = Math.max(0, Math.floor(Number(seconds)));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return h > 0 ? `${h}h${pad2(m)}m` : `${m}:${pad2(s)}`;
}

/** A countdown that stays short on a tile: "2d 4h", "5:12:09", "12:03". */
export function formatCountdown(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 86400) {
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    return h ? `${d}d ${h}h` : `${d}d`;
  }
  return formatDuration(s);
}

export function formatCount(value) {
  if (value === null || value === undefined || value === "") return "–";
  const n = Number(value);
  return Number.isFinite(n) ? String(Math.round(n)) : String(value);
}

export function formatPercent(value) {
  if (value === null || value === undefined || value === "") return "–";
  const n = Number(value);
  return Number.isFinite(n) ? `${Math.round(n)}%` : String(value);
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
      f = new Intl.DateTimeFormat(undefined, opts);
    } catch (e) {
      delete opts.timeZone;
      f = new Intl.DateTimeFormat(undefined, opts);
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
  queue_size: { label: "Waiting", kind: "count" },
  longest_wait_time: { label: "Longest wait", kind: "duration", short: "Max wait" },
  sla_activity: { label: "SLA", kind: "percent" },
  day_sla_activity: { label: "SLA today", kind: "percent", short: "SLA today" },
  thirty_min_sla_activity: { label: "SLA 30 min", kind: "percent", short: "SLA 30m" },
  sla_target: { label: "SLA target", kind: "percent" },
  agent_count_wait_transact: { label: "Available", kind: "count" },
  agent_count_busy: { label: "Busy", kind: "count" },
  agent_count_on_break: { label: "On break", kind: "count" },
  agent_count_work_offline: { label: "Offline", kind: "count", short: "Offline" },
  agent_count_logged_out: { label: "Logged out", kind: "count", short: "Logged out" },
  agent_count_post_process: { label: "Wrap-up", kind: "count" },
  assigned_agent_count: { label: "Assigned", kind: "count" },
  enabled_agent_count: { label: "Enabled", kind: "count" },
  number_in_offered: { label: "Offered", kind: "count" },
  number_in_progress: { label: "In progress", kind: "count", short: "In progress" },
  day_accepted: { label: "Accepted today", kind: "count", short: "Accepted" },
  day_abandoned: { label: "Abandoned today", kind: "count", short: "Abandoned" },
  day_queued: { label: "Queued today", kind: "count", short: "Queued" },
  day_avg_wait_time: { label: "Avg wait today", kind: "duration", short: "Avg wait" },
  day_avg_duration: { label: "Avg handle today", kind: "duration", short: "Avg handle" },
  thirty_min_accepted: { label: "Accepted 30 min", kind: "count", short: "Acc. 30m" },
  thirty_min_abandoned: { label: "Abandoned 30 min", kind: "count", short: "Aband. 30m" },
  thirty_min_queued: { label: "Queued 30 min", kind: "count", short: "Queued 30m" },
  thirty_min_avg_wait_time: { label: "Avg wait 30 min", kind: "duration", short: "Wait 30m" },
  thirty_min_avg_duration: { label: "Avg handle 30 min", kind: "duration", short: "Handle 30m" },
  thirty_min_longest_wait_time: { label: "Longest wait 30 min", kind: "duration", short: "Max wait 30m" },
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
  available: { label: "Available", order: 0 },
  offered: { label: "Offered", order: 1 },
  busy: { label: "Busy", order: 2 },
  post_processing: { label: "Wrap-up", order: 3 },
  on_break: { label: "On break", order: 4 },
  offline: { label: "Offline", order: 5 },
  logged_out: { label: "Logged out", order: 6 },
  unknown: { label: "Unknown", order: 7 },
};

export function agentStateInfo(state) {
  return AGENT_STATES[state] || AGENT_STATES.unknown;
}

export function mediaLabel(media) {
  return { phone: "Phone", chat: "Chat", email: "Email", vmail: "Voicemail" }[media] || (media ? String(media) : "");
}

/** An agent's group name: the board's name for the group, else "Group <id>" (docs/protocol.md). */
export function groupName(agent, board) {
  const id = agent && agent.group_id;
  if (id === undefined || id === null || id === "") return "";
  const names = (board && board.agent_groups) || {};
  return names[id] || `Group ${id}`;
}
