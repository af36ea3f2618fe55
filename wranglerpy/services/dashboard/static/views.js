// Read-only browsers of the local state: KV, D1 (with a read-only SQL console), R2, Durable
// Objects, queues and workflows. Every listing is a page with a "Next page" button.
import { el, clear, table, api, json, query, valueView, errorBox } from "./dom.js";

// A two-column browser: the resources on the left, the chosen one's contents on the right.
function browser(root, items, label, open) {
  const list = el("ul", { class: "list resources" });
  const detail = el("div", { class: "detail" });
  for (const item of items) {
    const li = el("li", { "data-name": label(item), on: { click: async () => {
      for (const other of list.children) other.classList.remove("selected");
      li.classList.add("selected");
      clear(detail);
      try { await open(item, detail); } catch (error) { detail.append(errorBox(error)); }
    } } }, label(item));
    list.append(li);
  }
  root.append(el("div", { class: "split" }, el("div", { class: "card" }, items.length ? list : el("p", { class: "muted" }, "Nothing stored yet.")), detail));
}

function pager(detail, loadPage) {
  // loadPage(cursor) -> {node, next}; "Next page" appends the following page.
  const more = el("button", { class: "next" }, "Next page");
  const holder = el("div", {});
  let next = null;
  const load = async (cursor) => {
    more.disabled = true;
    try {
      const page = await loadPage(cursor);
      holder.append(page.node);
      next = page.next;
      more.hidden = next === null || next === undefined;
    } catch (error) {
      holder.append(errorBox(error));
    }
    more.disabled = false;
  };
  more.addEventListener("click", () => load(next));
  detail.append(holder, el("div", { class: "toolbar" }, more));
  return load(null);
}

// ------------------------------------------------------------------------------- KV
const kv = {
  title: "KV namespaces",
  async render(root) {
    const { namespaces } = await api("kv");
    browser(root, namespaces, (n) => n.title === n.id ? n.id : `${n.title} (${n.id})`, (ns, detail) => {
      const prefix = el("input", { type: "text", placeholder: "key prefix", class: "prefix" });
      const results = el("div", {});
      const value = el("div", { class: "card kv-value" });
      const search = () => {
        clear(results);
        return pager(results, async (cursor) => {
          const page = await api("kv/keys?" + query({ ns: ns.id, prefix: prefix.value, cursor, limit: 100 }));
          const rows = page.keys.map((k) => el("tr", { class: "clickable key", on: { click: () => showKey(k.name) } },
            el("td", { class: "mono" }, k.name), el("td", {}, k.expiration ? new Date(k.expiration * 1000).toISOString() : ""),
            el("td", { class: "mono" }, k.metadata === null || k.metadata === undefined ? "" : json(k.metadata))));
          return { node: table(["Key", "Expires", "Metadata"], rows, "keys"), next: page.complete ? null : page.cursor };
        });
      };
      const showKey = async (key) => {
        clear(value);
        try {
          const found = await api("kv/value?" + query({ ns: ns.id, key }));
          value.append(el("h3", { class: "mono" }, found.key), valueView(found.value));
          if (found.metadata !== null) value.append(el("h3", {}, "Metadata"), el("pre", { class: "mono" }, json(found.metadata)));
        } catch (error) { value.append(errorBox(error)); }
      };
      detail.append(el("div", { class: "toolbar" }, prefix, el("button", { on: { click: search } }, "List keys")), value, results);
      return search();
    });
  },
};

// ------------------------------------------------------------------------------- D1
function resultTable(result) {
  const rows = result.rows.map((row) => el("tr", {}, row.map((v) => el("td", { class: "mono" }, v === null ? "NULL" : json(v)))));
  return table(result.columns, rows, "rows");
}

const d1 = {
  title: "D1 databases",
  async render(root) {
    const { databases } = await api("d1");
    browser(root, databases, (d) => d.name === d.id ? d.id : `${d.name} (${d.id})`, async (db, detail) => {
      const { tables } = await api("d1/tables?" + query({ db: db.id }));
      const rowsBox = el("div", { class: "card table-rows" });
      const tableList = el("ul", { class: "list tables" }, tables.map((t) => {
        const li = el("li", { "data-table": t.name, on: { click: () => {
          for (const other of tableList.children) other.classList.remove("selected");
          li.classList.add("selected");
          clear(rowsBox);
          rowsBox.append(el("h3", {}, t.name));
          let offset = 0;
          return pager(rowsBox, async () => {
            const page = await api("d1/rows?" + query({ db: db.id, table: t.name, offset, limit: 50 }));
            offset += page.rows.length;
            return { node: resultTable(page), next: page.complete ? null : offset };
          });
        } } }, `${t.name} (${t.rows} rows)`);
        return li;
      }));
      const sql = el("textarea", { class: "sql", spellcheck: "false" });
      sql.value = tables.length ? `SELECT * FROM "${tables[0].name.replaceAll('"', '""')}" LIMIT 20` : "SELECT sqlite_version()";
      const output = el("div", { class: "console-output" });
      const run = async () => {
        clear(output);
        try {
          const result = await api("d1/query", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ db: db.id, sql: sql.value }) });
          output.append(resultTable(result));
          if (result.truncated) output.append(el("p", { class: "muted" }, "Only the first rows are shown."));
        } catch (error) { output.append(errorBox(error)); }
      };
      detail.append(el("div", { class: "card" }, el("h3", {}, "Tables"), tables.length ? tableList : el("p", { class: "muted" }, "No tables.")), rowsBox,
        el("div", { class: "card" }, el("h3", {}, "SQL console (read-only: one SELECT, WITH, EXPLAIN or VALUES)"), sql,
          el("div", { class: "toolbar" }, el("button", { class: "run", on: { click: run } }, "Run")), output));
    });
  },
};

// ------------------------------------------------------------------------------- R2
const r2 = {
  title: "R2 buckets",
  async render(root) {
    const { buckets } = await api("r2");
    browser(root, buckets, (b) => b.name, (bucket, detail) => {
      const prefix = el("input", { type: "text", placeholder: "prefix", class: "prefix" });
      const results = el("div", {});
      const objectBox = el("div", { class: "card r2-object" });
      const list = () => {
        clear(results);
        return pager(results, async (cursor) => {
          const page = await api("r2/objects?" + query({ bucket: bucket.name, prefix: prefix.value, cursor, limit: 100 }));
          const folders = page.prefixes.map((p) => el("tr", { class: "clickable folder", on: { click: () => { prefix.value = p; list(); } } },
            el("td", { class: "mono" }, p), el("td", {}, "folder"), el("td", {}, "")));
          const objects = page.objects.map((o) => el("tr", { class: "clickable object", on: { click: () => show(o.key) } },
            el("td", { class: "mono" }, o.key), el("td", {}, `${o.size} bytes`), el("td", {}, o.uploaded)));
          return { node: table(["Key", "Size", "Uploaded"], [...folders, ...objects], "objects"), next: page.complete ? null : page.cursor };
        });
      };
      const show = async (key) => {
        clear(objectBox);
        try {
          const o = await api("r2/object?" + query({ bucket: bucket.name, key }));
          objectBox.append(el("h3", { class: "mono" }, o.key), el("p", { class: "muted" }, `etag ${o.etag} · uploaded ${o.uploaded}`),
            el("pre", { class: "mono" }, json({ httpMetadata: o.httpMetadata, customMetadata: o.customMetadata })), valueView(o.value));
        } catch (error) { objectBox.append(errorBox(error)); }
      };
      detail.append(el("div", { class: "toolbar" }, prefix, el("button", { on: { click: list } }, "List")), objectBox, results);
      return list();
    });
  },
};

// -------------------------------------------------------------------- Durable Objects
const durableObjects = {
  title: "Durable Objects",
  async render(root) {
    const { namespaces } = await api("do");
    browser(root, namespaces, (n) => `${n.namespace} (${n.objects})`, (ns, detail) => {
      const keysBox = el("div", { class: "card do-keys" });
      let offset = 0;
      return pager(detail, async () => {
        const page = await api("do/objects?" + query({ ns: ns.namespace, offset, limit: 50 }));
        offset += page.objects.length;
        const rows = page.objects.map((o) => el("tr", { class: "clickable object", on: { click: () => {
          clear(keysBox);
          keysBox.append(el("h3", { class: "mono" }, o.name === null ? o.id : `${o.name} (${o.id})`));
          return pager(keysBox, async (cursor) => {
            const keys = await api("do/keys?" + query({ ns: ns.namespace, id: o.id, cursor, limit: 100 }));
            const rows = keys.keys.map((k) => el("tr", {}, el("td", { class: "mono" }, k.key), el("td", {}, valueView(k.value))));
            return { node: table(["Key", "Value"], rows), next: keys.complete ? null : keys.cursor };
          });
        } } }, el("td", { class: "mono" }, o.id), el("td", {}, o.name ?? ""), el("td", {}, String(o.keys)), el("td", {}, `${o.size} bytes`)));
        if (offset === page.objects.length) detail.append(keysBox);
        return { node: table(["Id", "Name", "Keys", "Size"], rows), next: offset < page.total ? offset : null };
      });
    });
  },
};

// ------------------------------------------------------------------------- queues
const queues = {
  title: "Queues",
  async render(root) {
    const { queues: found } = await api("queues");
    browser(root, found, (q) => `${q.name} (${q.ready} ready)`, async (q, detail) => {
      detail.append(el("p", { class: "muted" }, `${q.ready} ready, ${q.delayed} delayed, ${q.in_flight} in flight · producers: ${q.producers.join(", ") || "-"} · consumers: ${q.consumers.join(", ") || "-"}`));
      const { messages } = await api("queues/messages?" + query({ queue: q.name, limit: 50 }));
      const rows = messages.map((m) => el("tr", {}, el("td", { class: "mono" }, m.id), el("td", {}, m.sent), el("td", {}, m.state),
        el("td", {}, String(m.attempts)), el("td", {}, el("pre", { class: "mono" }, json(m.body)))));
      detail.append(el("p", { class: "muted" }, "The oldest 50 messages, not consumed by looking."), table(["Id", "Sent", "State", "Attempts", "Body"], rows, "messages"));
    });
  },
};

// ---------------------------------------------------------------------- workflows
const workflows = {
  title: "Workflows",
  async render(root) {
    const { workflows: found } = await api("workflows");
    browser(root, found, (w) => `${w.name} (${w.instances})`, async (w, detail) => {
      const { instances } = await api("workflows/instances?" + query({ workflow: w.name, limit: 50 }));
      const rows = instances.map((i) => el("tr", {}, el("td", { class: "mono" }, i.id), el("td", {}, i.status), el("td", {}, i.created_on),
        el("td", {}, el("pre", { class: "mono" }, i.error ?? i.output ?? "")),
        el("td", {}, i.steps.map((s) => el("div", {}, `${s.name}: ${s.state} (${s.attempts})`)))));
      detail.append(el("p", { class: "muted" }, "The newest 50 instances."), table(["Id", "Status", "Created", "Output / error", "Steps"], rows, "instances"));
    });
  },
};

export const stateViews = { kv, d1, r2, do: durableObjects, queues, workflows };
