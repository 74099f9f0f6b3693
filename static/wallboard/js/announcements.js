// Announcements: the band under the header that shows supervisors' messages (state.announcements).
//
// Each item is {id, message, severity, starts, ends}; the server sends only the ones on now and
// drops one within a poll cycle of its end, but the band also hides one at its `ends` by itself.
// Messages are set with textContent only: typed by people, never HTML.

const SEVERITIES = new Set(["info", "warning", "critical"]);
const ICONS = { warning: "#i-warning", critical: "#i-warning" };
const SVG = "http://www.w3.org/2000/svg";

let timer = null;
let lastKey = null;

function current(list, nowMs) {
  if (!Array.isArray(list)) return [];
  return list.filter((a) => {
    if (!a || typeof a.message !== "string") return false;
    const ends = Date.parse(a.ends);
    return !Number.isFinite(ends) || ends > nowMs;
  });
}

function item(a) {
  const severity = SEVERITIES.has(a.severity) ? a.severity : "info";
  const li = document.createElement("li");
  li.className = "wb-announcement";
  li.dataset.severity = severity;
  li.dataset.announcementId = String(a.id);
  if (ICONS[severity]) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("aria-hidden", "true");
    const use = document.createElementNS(SVG, "use");
    use.setAttribute("href", ICONS[severity]);
    svg.appendChild(use);
    li.append(svg);
  }
  const text = document.createElement("span");
  text.className = "wb-announcement-text";
  text.textContent = a.message;
  li.append(text);
  return li;
}

/** Show `list` in the page's band (a `.wb-announcements` element); `now()` is the corrected clock. */
export function renderAnnouncements(root, list, now = () => Date.now()) {
  const band = root.querySelector(".wb-announcements");
  if (!band) return;
  const nowMs = now();
  const shown = current(list, nowMs);
  const key = JSON.stringify(shown.map((a) => [a.id, a.message, a.severity]));
  if (timer) clearTimeout(timer);
  timer = null;
  const ends = shown.map((a) => Date.parse(a.ends)).filter(Number.isFinite);
  if (ends.length) {
    // Re-check at the earliest end (capped: timers far ahead drift on sleeping TVs).
    const wait = Math.min(Math.max(0, Math.min(...ends) - nowMs) + 50, 60000);
    timer = setTimeout(() => renderAnnouncements(root, list, now), wait);
  }
  if (key === lastKey) return;
  lastKey = key;
  band.replaceChildren(...shown.map(item));
  band.hidden = shown.length === 0;
  root.dataset.announcements = String(shown.length);
}
