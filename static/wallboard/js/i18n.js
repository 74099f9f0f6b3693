// The page's language: Django's djangojs catalogue for it, rendered into the page as JSON
// (<script type="application/json" id="wb-i18n">, see wallboard/boards/templatetags/wb_i18n.py),
// and the locale Intl formats numbers and times in. Without the element (unit tests) the
// strings stay English and Intl takes <html lang>.
//
// Mark strings with gettext() around a literal so `manage.py makemessages -d djangojs` finds them; put
// variable parts in as %(name)s with interpolate() so translators can move them.

let loaded = null;

function load() {
  if (loaded) return loaded;
  loaded = { lang: "", catalog: {} };
  try {
    const el = typeof document !== "undefined" && document.getElementById("wb-i18n");
    if (el) loaded = Object.assign(loaded, JSON.parse(el.textContent || "{}"));
  } catch (e) {
    // A broken catalogue leaves the board in English rather than blank.
  }
  if (!loaded.lang && typeof document !== "undefined") loaded.lang = document.documentElement.lang || "";
  return loaded;
}

/** The translation of `msgid` in the page's language (`msgid` itself when there is none). */
export function gettext(msgid) {
  const found = load().catalog[msgid];
  if (typeof found === "string" && found) return found;
  if (Array.isArray(found) && found[0]) return found[0];
  return msgid;
}

/** `fmt` with each %(name)s replaced by `values[name]` (Django's named interpolation). */
export function interpolate(fmt, values) {
  return String(fmt).replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** `fmt` split once, for formats applied on every tick: compiled(values) is interpolate(fmt, values). */
export function compileFormat(fmt) {
  const parts = String(fmt).split(/%\((\w+)\)s/);
  return (values) => {
    let out = parts[0];
    for (let i = 1; i < parts.length; i += 2) out += (parts[i] in values ? String(values[parts[i]]) : "") + parts[i + 1];
    return out;
  };
}

/** The BCP 47 locale for Intl ("de", "fr"...), or undefined for the browser's own. */
export function locale() {
  const lang = load().lang;
  if (!lang) return undefined;
  const own = (typeof navigator !== "undefined" && navigator.language) || "";
  // The device's own variant (en-GB's 24-hour clock, de-CH) when it speaks the page's language.
  return own.split("-")[0].toLowerCase() === lang.split("-")[0].toLowerCase() ? own : lang;
}
