// Campaign badges on the board: each campaign the board shows, with its last known state.
//
// state.campaigns (docs/protocol.md): [{id, name, state, source, by, at}], where `state` is
// running, paused, stopped, purged or unknown and `source` says where it comes from (8x8 has
// no call that reads it): none, person, automatic (blending) or uncertain (the answer to the
// last change was lost). The badges sit in the header, one <li> per campaign, marked with
// data-campaign-id, data-state and data-source so tests and custom CSS can find them.

import { gettext, interpolate } from "./i18n.js";
import { setAttr, setText } from "./render-common.js";

const STATE_LABEL = {
  running: gettext("running"),
  paused: gettext("paused"),
  stopped: gettext("stopped"),
  purged: gettext("purged"),
  unknown: gettext("state unknown"),
};
const NAME_MAX = 40;

function listFor(root) {
  let list = root.querySelector(".wb-campaigns");
  if (!list) {
    const meta = root.querySelector(".wb-header .wb-meta") || root.querySelector(".wb-header") || root;
    list = document.createElement("ul");
    list.className = "wb-campaigns";
    list.setAttribute("aria-label", gettext("Campaigns"));
    meta.insertBefore(list, meta.firstChild);
  }
  return list;
}

function describe(c) {
  const label = STATE_LABEL[c.state] || STATE_LABEL.unknown;
  if (c.source === "automatic") return interpolate(gettext("%(state)s automatically (inbound queues)"), { state: label });
  if (c.source === "uncertain") return interpolate(gettext("%(state)s: check in 8x8"), { state: label });
  if (c.source === "person" && c.by) return interpolate(gettext("%(state)s, set by %(person)s"), { state: label, person: c.by });
  return label;
}

/** Show one badge per campaign; nothing (and no list) when the board shows no campaign. */
export function renderCampaigns(root, campaigns) {
  const items = Array.isArray(campaigns) ? campaigns.filter((c) => c && typeof c.id === "string") : [];
  const existing = root.querySelector(".wb-campaigns");
  if (!items.length) {
    if (existing) existing.hidden = true;
    return;
  }
  const list = existing || listFor(root);
  list.hidden = false;
  const keep = new Set();
  for (const c of items) {
    keep.add(c.id);
    let li = list.querySelector(`li[data-campaign-id="${CSS.escape(c.id)}"]`);
    if (!li) {
      li = document.createElement("li");
      li.className = "wb-campaign";
      setAttr(li, "data-campaign-id", c.id);
      list.appendChild(li);
    }
    const name = String(c.name || c.id);
    const short = name.length > NAME_MAX ? `${name.slice(0, NAME_MAX - 1)}…` : name;
    const state = STATE_LABEL[c.state] ? c.state : "unknown";
    setAttr(li, "data-state", state);
    setAttr(li, "data-source", String(c.source || "none"));
    setText(li, `${short}: ${STATE_LABEL[state]}`);
    setAttr(li, "title", `${name}: ${describe(c)}`);
  }
  for (const li of Array.from(list.children)) {
    if (!keep.has(li.getAttribute("data-campaign-id"))) li.remove();
  }
}
