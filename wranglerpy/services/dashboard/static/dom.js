// DOM helpers. Everything that comes from the server (keys, values, log lines, paths) is
// set as text (textContent) or as an attribute value, never parsed as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "on") {
      for (const [kind, handler] of Object.entries(value)) node.addEventListener(kind, handler);
    } else if (name === "style") {
      for (const [prop, v] of Object.entries(value)) node.style.setProperty(prop, String(v));
    } else {
      node.setAttribute(name, String(value));
    }
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function table(headers, rows, cls = "") {
  return el("table", { class: cls },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows));
}

// A stored value as the API sends it: {text} or {hex}, with size and truncated.
export function valueView(value) {
  if (value === null || value === undefined) return el("span", { class: "muted" }, "(none)");
  if (typeof value === "object" && "size" in value && ("text" in value || "hex" in value)) {
    const note = `${value.size} bytes` + (value.truncated ? ", shown in part" : "") +
      ("hex" in value ? ", not UTF-8: hex" : "");
    return el("div", {}, el("div", { class: "muted" }, note),
      el("pre", { class: "mono value" }, "text" in value ? value.text : value.hex));
  }
  return el("pre", { class: "mono value" }, json(value));
}

export function json(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

export async function api(path, options = {}) {
  const response = await fetch("api/" + path, options);
  let body;
  try { body = await response.json(); } catch { body = { error: `HTTP ${response.status}` }; }
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") search.set(k, v);
  return search.toString();
}

export function errorBox(error) {
  return el("p", { class: "error" }, String(error.message || error));
}
