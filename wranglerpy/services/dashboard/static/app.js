// The dashboard page: routing between views, the live event stream (SSE), and the workers,
// requests (with a waterfall per trace) and logs views. The state browsers are in views.js.
import { el, clear, table, api, json, errorBox } from "./dom.js";

// A console call's arguments (a list) as one line, as a terminal shows them.
function logText(message) {
  return Array.isArray(message) ? message.map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join(" ") : json(message);
}
import { stateViews } from "./views.js";

const KEPT = 1000; // events kept in the page, as the server keeps them
const events = [];
const byTrace = new Map();
let selectedTrace = null;
let current = null;
const main = document.getElementById("main");
const statusLine = document.getElementById("status");

// ------------------------------------------------------------------ live events (SSE)
function connect() {
  const source = new EventSource("api/stream");
  source.addEventListener("hello", (message) => {
    const hello = JSON.parse(message.data);
    document.body.dataset.stream = "open";
    statusLine.textContent = !hello.follows ? "state only (no dev or edge attached)"
      : hello.live ? "live" : "live (waiting for dev/edge events)";
  });
  source.addEventListener("event", (message) => receive(JSON.parse(message.data)));
  source.onerror = () => {
    document.body.dataset.stream = "closed";
    statusLine.textContent = "disconnected: reconnecting…";
  };
}

function receive(event) {
  if (events.length && event.seq <= events[events.length - 1].seq) return; // seen already
  events.push(event);
  if (events.length > KEPT) {
    const old = events.shift();
    if (old.type === "request") forget(old);
  }
  if (event.type === "request" && event.trace) {
    if (!byTrace.has(event.trace)) byTrace.set(event.trace, []);
    byTrace.get(event.trace).push(event);
  }
  if (current && current.onEvent) current.onEvent(event);
}

function forget(event) {
  const group = byTrace.get(event.trace);
  if (!group) return;
  const left = group.filter((e) => e !== event);
  if (left.length) byTrace.set(event.trace, left); else byTrace.delete(event.trace);
}

// ------------------------------------------------------------------------ workers
const workersView = {
  title: "Workers and their bindings",
  async render(root) {
    const overview = await api("overview");
    root.append(el("p", { class: "muted" }, `State: ${overview.persist_dir}`));
    if (!overview.workers.length) root.append(el("p", { class: "muted" }, "No workers yet."));
    for (const worker of overview.workers) {
      const link = worker.url ? el("a", { href: worker.url, target: "_blank", rel: "noopener noreferrer" }, worker.url) : el("span", { class: "muted" }, "not running");
      const rows = worker.bindings.map((b) => el("tr", {}, el("td", { class: "mono" }, `env.${b.binding}`), el("td", {}, b.kind), el("td", { class: "mono" }, b.target)));
      root.append(el("section", { class: "card worker", "data-worker": worker.name },
        el("h3", {}, worker.name, " ", el("span", { class: "badge" }, worker.mode || "configured"), " ", link),
        rows.length ? table(["Binding", "Resource", "Target"], rows) : el("p", { class: "muted" }, "No bindings.")));
    }
  },
};

// ----------------------------------------------------------------------- requests
function statusClass(event) {
  if (event.outcome && event.outcome !== "ok") return "status-err";
  if (event.status >= 500) return "status-err";
  if (event.status >= 400) return "status-warn";
  return "status-ok";
}

function when(ns) {
  return ns ? new Date(Number(ns) / 1e6).toLocaleTimeString() : "";
}

function requestRow(event) {
  const row = el("tr", {
    class: "clickable request" + (event.trace === selectedTrace ? " selected" : ""),
    "data-trace": event.trace || "", "data-path": event.path || "", "data-worker": event.worker || "",
    on: { click: () => selectTrace(event.trace) },
  },
  el("td", {}, when(event.start_ns)),
  el("td", {}, event.worker || ""),
  el("td", { class: "mono" }, event.method || ""),
  el("td", { class: "mono" }, event.path || ""),
  el("td", { class: statusClass(event) }, String(event.status ?? "")),
  el("td", {}, `${Number(event.duration_ms || 0).toFixed(1)} ms`),
  el("td", { class: "mono" }, (event.trace || "").slice(0, 8)));
  return row;
}

function selectTrace(trace) {
  selectedTrace = trace;
  if (current === requestsView) render(); // redraw with the waterfall
}

function waterfall(trace) {
  const spans = (byTrace.get(trace) || []).slice().sort((a, b) => Number(a.start_ns) - Number(b.start_ns));
  if (!spans.length) return el("p", { class: "muted" }, "This trace is no longer kept.");
  const start = Math.min(...spans.map((s) => Number(s.start_ns)));
  const end = Math.max(...spans.map((s) => Number(s.start_ns) + Number(s.duration_ms || 0) * 1e6));
  const total = Math.max(end - start, 1);
  // One tree: calls under the call that made them, binding calls under their call, each
  // level in start order; a call whose parent is not kept (or another trace's) is a root.
  const items = [];
  for (const s of spans) {
    const name = s.method === "RPC" ? `RPC ${s.entrypoint || "Default"}.${s.rpcMethod || ""}` : `${s.method} ${s.path}`;
    items.push({ id: s.span, parent: s.parent_span, label: `${s.worker}: ${name}`, begin: Number(s.start_ns),
      ms: Number(s.duration_ms || 0), cls: statusClass(s) === "status-err" ? "error" : "" });
    for (const c of s.child_spans || []) {
      items.push({ id: c.span, parent: s.span, label: `${s.worker}: ${c.name}`, begin: Number(c.start_ns),
        ms: (Number(c.end_ns) - Number(c.start_ns)) / 1e6, cls: "child" + (c.error ? " error" : "") });
    }
  }
  const known = new Set(items.map((i) => i.id));
  const children = new Map();
  for (const item of items) {
    const key = item.parent && known.has(item.parent) && item.parent !== item.id ? item.parent : null;
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(item);
  }
  const rows = [];
  const bar = (item, indent) => el("div", { class: "wf-row span" },
    el("div", { class: "wf-label", title: item.label, style: { "padding-left": `${indent}em` } }, item.label),
    el("div", { class: "wf-track" }, el("div", { class: "wf-bar " + item.cls, style: {
      left: `${(100 * (item.begin - start)) / total}%`, width: `${Math.max((100 * item.ms * 1e6) / total, 0.3)}%` } })),
    el("div", { class: "wf-time" }, `${item.ms.toFixed(1)} ms`));
  const placed = new Set();
  const walk = (key, depth) => {
    for (const item of (children.get(key) || []).sort((a, b) => a.begin - b.begin)) {
      if (placed.has(item.id) || depth > 50) continue; // ids repeat only in a broken trace
      placed.add(item.id);
      rows.push(bar(item, depth));
      walk(item.id, depth + 1);
    }
  };
  walk(null, 0);
  const logs = spans.flatMap((s) => (s.logs || []).map((l) => ({ ...l, worker: s.worker })));
  const errors = spans.flatMap((s) => (s.exceptions || []).map((x) => ({ ...x, worker: s.worker })));
  return el("section", { class: "card", id: "trace", "data-trace": trace },
    el("h3", {}, "Trace ", el("span", { class: "mono" }, trace), ` · ${spans.length} call(s) across ${new Set(spans.map((s) => s.worker)).size} worker(s)`),
    el("div", { class: "waterfall" }, rows),
    logs.length ? el("div", {}, el("h3", {}, "Logs"), logs.map((l) => el("pre", { class: "mono log-" + (l.level || "log") }, `[${l.worker}] ${l.level || "log"}: ${logText(l.message)}`))) : null,
    errors.length ? el("div", {}, el("h3", {}, "Exceptions"), errors.map((x) => el("pre", { class: "mono error" }, `[${x.worker}] ${x.stack || x.message}`))) : null);
}

const requestsView = {
  title: "Live requests",
  render(root) {
    const requests = events.filter((e) => e.type === "request").slice(-300).reverse();
    const body = requests.map(requestRow);
    root.append(el("p", { class: "muted" }, "Newest first. Click a request for its trace across workers."));
    if (selectedTrace) root.append(waterfall(selectedTrace));
    const t = table(["Time", "Worker", "Method", "Path", "Status", "Duration", "Trace"], body, "requests");
    root.append(t);
    if (!requests.length) root.append(el("p", { class: "muted empty" }, "No requests yet: send one to a worker."));
    this.tbody = t.querySelector("tbody");
  },
  onEvent(event) {
    if (event.type !== "request") return;
    root().querySelector(".empty")?.remove();
    this.tbody.prepend(requestRow(event));
    while (this.tbody.children.length > 300) this.tbody.lastChild.remove();
    if (event.trace === selectedTrace) {
      const old = document.getElementById("trace");
      if (old) old.replaceWith(waterfall(selectedTrace));
    }
  },
};

// ---------------------------------------------------------------------------- logs
function logLines(event) {
  // Every console line (inside a request or not) and each uncaught exception also arrives as
  // a log event of its own (with its trace id), so request events add nothing here.
  if (event.type === "log" || event.type === "system" || event.type === "load_error") {
    return [{ level: event.level || "log", worker: event.worker || "wranglerpy", message: event.message ?? event.error ?? "" }];
  }
  return [];
}

function logRow(line) {
  return el("tr", { class: "log-" + line.level },
    el("td", {}, line.worker || ""), el("td", {}, line.level), el("td", {}, el("pre", { class: "mono" }, logText(line.message))));
}

const logsView = {
  title: "Logs",
  render(root) {
    const lines = events.flatMap(logLines).slice(-500).reverse();
    const t = table(["Worker", "Level", "Message"], lines.map(logRow), "logs");
    root.append(el("p", { class: "muted" }, "console output of every worker and wranglerpy's own messages, newest first."), t);
    this.tbody = t.querySelector("tbody");
  },
  onEvent(event) {
    for (const line of logLines(event)) this.tbody.prepend(logRow(line));
    while (this.tbody.children.length > 500) this.tbody.lastChild.remove();
  },
};

// -------------------------------------------------------------------------- routing
const views = { workers: workersView, requests: requestsView, logs: logsView, ...stateViews };

function root() { return main; }

async function render() {
  const name = (location.hash || "#requests").slice(1).split("/")[0];
  current = views[name] || requestsView;
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.view === name);
  clear(main);
  const section = el("section", { "data-view": name });
  const heading = el("h2", {}, current.title);
  if (name in stateViews || name === "workers") {
    // State is read when the view opens; requests that finish later may have changed it.
    const refresh = el("button", { class: "refresh", on: { click: render } }, "Refresh");
    heading.append(" ", refresh);
    current.onEvent = (event) => {
      if (event.type === "request") refresh.textContent = "Refresh (requests since)";
    };
  }
  main.append(heading, section);
  try {
    await current.render(section);
  } catch (error) {
    section.append(errorBox(error));
  }
}

window.addEventListener("hashchange", render);
render();
connect();
