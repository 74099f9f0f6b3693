// Per-display and per-browser presentation options (issue 20), none of them stored on the
// server: a display keeps them in its address, a supervisor's browser in localStorage.
//
//   ?palette=cb   colour-blind-safe palette (Okabe & Ito); ?palette=default turns it off.
//                 The supervisor view also has a switch, remembered by the browser.
//   ?lite=1       light mode for weak devices: no animations, transitions or shadows, and the
//                 tiles' and agents' timers step every LITE_TICK_SECONDS instead of every second.
//   ?shift=N      burn-in protection on a kiosk: the layout moves up to N px (0 = off; default
//                 3, at most 8) every SHIFT_SECONDS; ?shift_seconds=S changes the period (tests).
// A kiosk also keeps the screen awake with the Screen Wake Lock API where the browser has it.

import { gettext } from "./i18n.js";
import { setAttr, setText } from "./render-common.js";

const PALETTE_KEY = "wb-palette";
export const LITE_TICK_SECONDS = 5;
const SHIFT_DEFAULT_PX = 3;
const SHIFT_MAX_PX = 8;
const SHIFT_SECONDS = 180;

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch (e) {
    return null; // storage disabled
  }
}

function store(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch (e) {
    /* storage disabled: the choice lasts for this page only */
  }
}

function intParam(params, name, fallback, min, max) {
  const raw = params.get(name);
  const n = raw === null || raw.trim() === "" ? NaN : Number(raw);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

const PALETTES = ["cb", "default"];

/** The options this page was opened with: the address first, then this browser's own choice,
 *  then the board's (`boardPalette`, set in admin). */
export function readOptions(params, mode, boardPalette = "default") {
  const asked = params.get("palette");
  const kept = stored(PALETTE_KEY);
  const palette = PALETTES.includes(asked) ? asked : PALETTES.includes(kept) ? kept : boardPalette === "cb" ? "cb" : "default";
  const lite = ["1", "true", "yes", "on"].includes(String(params.get("lite")).toLowerCase());
  const shift = mode === "kiosk" ? intParam(params, "shift", SHIFT_DEFAULT_PX, 0, SHIFT_MAX_PX) : 0;
  const shiftSeconds = intParam(params, "shift_seconds", SHIFT_SECONDS, 1, 3600);
  return { palette, lite, shift, shiftSeconds };
}

function applyPalette(palette) {
  setAttr(document.documentElement, "data-palette", palette === "cb" ? "cb" : null);
}

/** The supervisor's switch: flips the palette and remembers it in this browser. */
function setupPaletteToggle(button, options) {
  const sync = () => {
    setAttr(button, "aria-pressed", options.palette === "cb" ? "true" : "false");
    setText(button.querySelector(".label") || button, options.palette === "cb" ? gettext("Colour-blind palette on") : gettext("Colour-blind palette"));
  };
  button.addEventListener("click", () => {
    options.palette = options.palette === "cb" ? "default" : "cb";
    store(PALETTE_KEY, options.palette);  // "default" too: switching off must beat a board set to cb
    applyPalette(options.palette);
    sync();
  });
  sync();
}

/**
 * Move the kiosk's content to a new spot within ±max px every `seconds`.
 *
 * Whole pixels, never (0, 0) twice in a row, so that no pixel shows the same edge for weeks;
 * CSS variables read by display-options.css (set through the CSSOM, which the CSP allows).
 */
function startShift(max, seconds) {
  const root = document.documentElement;
  setAttr(root, "data-shift", String(max));
  let last = "0,0";
  const move = () => {
    let x = 0;
    let y = 0;
    for (let i = 0; i < 5 && `${x},${y}` === last; i += 1) {
      x = Math.round((Math.random() * 2 - 1) * max);
      y = Math.round((Math.random() * 2 - 1) * max);
    }
    last = `${x},${y}`;
    root.style.setProperty("--wb-shift-x", `${x}px`);
    root.style.setProperty("--wb-shift-y", `${y}px`);
  };
  return setInterval(move, seconds * 1000);
}

/** Keep the screen on while the page is visible; the browser drops the lock when it is hidden. */
function keepAwake() {
  const wakeLock = navigator.wakeLock;
  if (!wakeLock || typeof wakeLock.request !== "function") return;
  let lock = null;
  const acquire = async () => {
    if (document.visibilityState !== "visible" || (lock && !lock.released)) return;
    try {
      lock = await wakeLock.request("screen");
    } catch (e) {
      lock = null; // refused (battery saver, policy): the TV's own settings decide
    }
  };
  document.addEventListener("visibilitychange", acquire);
  acquire();
}

// The options a display's address carries (the server passes on the same ones: views.py).
const URL_OPTIONS = ["theme", "palette", "lite", "shift", "lang"];

/** `target` (a URL) with this page's display options added where it names none of its own. */
export function withDisplayOptions(target, params) {
  for (const name of URL_OPTIONS) {
    if (params.has(name) && !target.searchParams.has(name)) target.searchParams.set(name, params.get(name));
  }
  return target;
}

/** Apply the options; returns them with `viewTickDue(nowMs)`, which lite mode slows down. */
export function setupDisplayOptions(mode, params) {
  const options = readOptions(params, mode, document.documentElement.dataset.boardPalette);
  const root = document.documentElement;
  applyPalette(options.palette);
  setAttr(root, "data-lite", options.lite ? "1" : null);
  const toggle = document.getElementById("wb-palette");
  if (toggle) setupPaletteToggle(toggle, options);
  if (mode === "kiosk") {
    if (options.shift > 0) startShift(options.shift, options.shiftSeconds);
    keepAwake();
  }
  let lastViewTick = -Infinity;
  options.viewTickDue = (nowMs) => {
    if (options.lite && nowMs - lastViewTick < LITE_TICK_SECONDS * 1000 - 50) return false;
    lastViewTick = nowMs;
    return true;
  };
  return options;
}
