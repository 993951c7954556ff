// The podus observer page (SPEC 5.6). Plain script, no build step: it asks
// /state for the JSON of what ush knows, and asks again each time /events
// says the state changed. The graph's layout is kept across updates: a
// procedure keeps the place it was first given, so only colours move.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 190, NODE_H = 34, COL_W = 240, ROW_H = 46, PAD = 12;
// One colour per version (committed version of a procedure).
const PALETTE = ["#dfe4ec", "#a8d5ba", "#f6c58f", "#b9c6f5", "#f3a9b4", "#d3b8ea", "#f2e48c", "#9fd8df"];
const colourOf = (v) => (v <= 0 ? "#ffffff" : PALETTE[(v - 1) % PALETTE.length]);

const layout = { pos: new Map(), used: new Map() }; // name -> {x, y}; layer -> next row
let fetching = false, again = false, lastSeq = -1;

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}
function when(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  return d.toISOString().slice(11, 19) + " UTC";
}
function pauseText(ns) {
  if (ns === null || ns === undefined) return "";
  if (ns < 1e6) return (ns / 1000).toFixed(1) + " µs";
  return (ns / 1e6).toFixed(2) + " ms";
}
function bytes(n) {
  if (n < 1024) return n + " B";
  if (n < 1 << 20) return (n / 1024).toFixed(1) + " KiB";
  return (n / (1 << 20)).toFixed(1) + " MiB";
}

async function refresh() {
  if (fetching) { again = true; return; }
  fetching = true;
  try {
    const q = encodeURIComponent($("search").value.trim());
    const r = await fetch("/state?q=" + q, { cache: "no-store" });
    if (r.ok) render(await r.json());
  } catch (e) {
    setLive(false);
  } finally {
    fetching = false;
    if (again) { again = false; refresh(); }
  }
}

function setLive(on) {
  const l = $("live");
  l.className = "live " + (on ? "on" : "off");
  l.textContent = on ? "live" : "disconnected: retrying";
}

function render(s) {
  lastSeq = s.seq;
  document.body.dataset.seq = s.seq;
  const pups = s.pups || [];
  $("program").textContent = s.program || (pups[0] && pups[0].name) || "(none)";
  renderPups(pups);
  const p = pups[0];
  if (!p) { $("state").textContent = "Not connected to any pup yet."; return; }
  $("state").textContent = "Program " + p.name + (p.host ? " on " + p.host : "") + ": " + (p.program || "");
  renderVersions(p);
  renderPending(p);
  renderStack(p);
  renderGraph(p);
  renderTimeline(pups);
  renderOutput(p);
}

function renderPups(pups) {
  $("pups-section").hidden = pups.length < 2;
  const tb = $("pups").tBodies[0];
  tb.replaceChildren();
  for (const p of pups) {
    const last = [...p.timeline].reverse().find((r) => r.kind === "Update" || r.kind === "Revert");
    const tr = el("tr", { "data-pup": p.name });
    tr.append(el("td", {}, p.name), el("td", {}, p.host), el("td", {}, p.program), el("td", {}, String(p.hrvn)),
      el("td", {}, last ? last.from + " → " + last.to + " " + last.outcome + (last.pause_ns != null ? ", paused " + pauseText(last.pause_ns) : "") : "none"));
    tb.append(tr);
  }
}

function renderVersions(p) {
  const tb = $("versions").tBodies[0];
  tb.replaceChildren();
  const counts = new Map();
  for (const n of p.graph.nodes) counts.set(n.committed, (counts.get(n.committed) || 0) + 1);
  for (const v of p.versions) {
    const tr = el("tr", { "data-version": v.version, class: v.version === p.hrvn ? "hrvn" : "" });
    const td = el("td");
    td.append(el("span", { class: "swatch", style: "background:" + colourOf(v.version) }), document.createTextNode(String(v.version)));
    const shown = p.graph.limited ? "" : String(counts.get(v.version) || 0);
    tr.append(td, el("td", {}, String(v.slot)), el("td", {}, String(v.procs)), el("td", {}, bytes(v.code_bytes)), el("td", {}, shown));
    tb.append(tr);
  }
}

function renderPending(p) {
  const box = $("pending");
  box.replaceChildren();
  if (!p.pending.length) { box.append(el("p", { class: "muted" }, "No update is waiting.")); return; }
  for (const g of p.pending) {
    const d = el("div", { class: "group", "data-to": g.to });
    d.append(el("div", {}, "Version " + g.from + " → " + g.to + ": " + g.members.join(", ")));
    d.append(el("div", { class: "waits" }, g.waits_for.length
      ? "waits for " + g.waits_for.join(", ") + " to return (on the stack)"
      : "waits for its next chance to commit"));
    box.append(d);
  }
}

function renderStack(p) {
  const ol = $("stack");
  ol.replaceChildren();
  if (!p.stack.length) { ol.append(el("li", { class: "muted" }, "(not running)")); return; }
  for (const f of p.stack) ol.append(el("li", {}, f.name + "  (v" + f.version + (f.kind !== "proc" ? ", " + f.kind : "") + ")"));
}

function place(n) {
  let at = layout.pos.get(n.name);
  if (!at) {
    const row = layout.used.get(n.layer) || 0;
    layout.used.set(n.layer, row + 1);
    at = { x: PAD + n.layer * COL_W, y: PAD + row * ROW_H };
    layout.pos.set(n.name, at);
  }
  return at;
}

function renderGraph(p) {
  const g = p.graph, box = $("graph");
  box.replaceChildren();
  const at = g.nodes.map(place);
  let w = 0, h = 0;
  for (const a of at) { w = Math.max(w, a.x + NODE_W + PAD); h = Math.max(h, a.y + NODE_H + PAD); }
  box.setAttribute("width", w); box.setAttribute("height", h);
  for (const [a, b] of g.edges) {
    const s = at[a], t = at[b];
    const x1 = s.x + NODE_W, y1 = s.y + NODE_H / 2, x2 = t.x, y2 = t.y + NODE_H / 2;
    const path = x2 > x1
      ? `M${x1},${y1} C${x1 + 30},${y1} ${x2 - 30},${y2} ${x2},${y2}`
      : `M${s.x + NODE_W / 2},${s.y + NODE_H} C${s.x + NODE_W / 2},${s.y + NODE_H + 40} ${t.x + NODE_W / 2},${t.y + NODE_H + 40} ${t.x + NODE_W / 2},${t.y + NODE_H}`;
    box.append(svg("path", { class: "edge", d: path, "marker-end": "url(#arrow)" }));
  }
  const defs = svg("defs");
  const m = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto" });
  m.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#9aa3b5" }));
  defs.append(m);
  box.prepend(defs);
  const frameVersion = new Map();
  for (const f of p.stack) if (!frameVersion.has(f.name)) frameVersion.set(f.name, f.version);
  g.nodes.forEach((n, i) => {
    const a = at[i];
    const cls = ["node", n.on_stack ? "on-stack" : "", n.pending ? "pending" : "", n.match ? "match" : ""].join(" ").trim();
    const grp = svg("g", { class: cls, "data-name": n.name, "data-version": n.committed, transform: `translate(${a.x},${a.y})` });
    grp.append(svg("rect", { width: NODE_W, height: NODE_H, fill: colourOf(n.committed) }));
    const t1 = svg("text", { x: 8, y: 14 }); t1.textContent = n.name.length > 19 ? n.name.slice(0, 18) + "…" : n.name;
    const t2 = svg("text", { x: 8, y: 28, class: "sub" });
    const fv = frameVersion.get(n.name);
    t2.textContent = "v" + n.committed + (n.on_stack ? " · on stack" + (fv !== undefined && fv !== n.committed ? ", v" + fv + " code" : "") : "") + (n.pending ? " · waiting" : "");
    const title = svg("title"); title.textContent = n.name + ": committed to version " + n.committed;
    grp.append(t1, t2, title);
    box.append(grp);
  });
  const note = $("graphnote");
  if (g.limited) {
    note.textContent = `${g.nodes.length} of ${g.total} procedures shown: the changed ones, those on the stack or waiting, and their callers` +
      (g.query ? `; ${g.matches} match “${g.query}”` : "; search to add others");
  } else {
    note.textContent = g.total + " procedures" + (g.query ? `; ${g.matches} match “${g.query}”` : "");
  }
  const lg = $("legend");
  lg.replaceChildren();
  for (const v of p.versions) {
    const s = el("span");
    s.append(el("span", { class: "swatch", style: "background:" + colourOf(v.version) }), document.createTextNode("committed to version " + v.version));
    lg.append(s);
  }
  lg.append(el("span", {}, "▭ thick black outline: on the stack"), el("span", {}, "┅ dashed red outline: waiting to be updated"));
}

function renderTimeline(pups) {
  const box = $("timeline");
  box.replaceChildren();
  const from = pups[0] ? pups[0].timeline_from : "events";
  $("timeline-from").textContent = from === "journal" ? "(from the pup's journal)" : "(what this ush has seen)";
  for (const p of pups) {
    const lane = el("div", { class: "lane", "data-pup": p.name });
    lane.append(el("div", { class: "lane-name" }, p.name));
    if (p.timeline_dropped) lane.append(el("span", { class: "muted" }, p.timeline_dropped + " earlier…"));
    for (const r of p.timeline) {
      const d = el("div", { class: "ev " + r.kind, "data-kind": r.kind });
      let what;
      if (r.kind === "Load") what = "loaded version " + r.version;
      else if (r.kind === "Update") what = "update " + r.from + " → " + r.to + ": " + r.outcome;
      else if (r.kind === "Revert") what = "revert " + r.from + " → " + r.to + (r.code_of ? " (code of " + r.code_of + ")" : "") + ": " + r.outcome;
      else what = "frame of " + r.proc + " moved " + r.from + " → " + r.to;
      d.append(el("div", { class: "when" }, when(r.at_ms)), el("div", {}, what));
      if (r.pause_ns !== undefined && r.pause_ns !== null) {
        d.dataset.pauseNs = r.pause_ns;
        d.append(el("div", { class: "pause" }, "program paused " + pauseText(r.pause_ns)));
      }
      lane.append(d);
    }
    if (!p.timeline.length) lane.append(el("span", { class: "muted" }, "nothing yet"));
    box.append(lane);
  }
}

function renderOutput(p) {
  const pre = $("output");
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = p.output.lines.join("\n");
  $("dropped").textContent = p.output.dropped ? p.output.dropped + " earlier lines dropped from view (the last " + p.output.lines.length + " are kept)" : "";
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

function connect() {
  const es = new EventSource("/events");
  es.addEventListener("open", () => { setLive(true); refresh(); });
  es.addEventListener("state", (e) => { if (Number(e.data) !== lastSeq) refresh(); });
  es.addEventListener("error", () => setLive(false));
}

let searchTimer = null;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(refresh, 150);
});
connect();
refresh();
