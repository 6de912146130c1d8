// HyperFleet fleet console: one module, no dependencies, no build step.
// Talks to the JSON API on the same origin with fetch(); watch streams are read with fetch()
// too (not EventSource) so the bearer token can be sent and Last-Event-ID is ours to set.

const API = "/api/hyperfleet/v1";
const PHASES = ["Pending", "Provisioning", "Ready", "Degraded", "Failed", "Deleting"];
const PAGE_SIZE = 50;
const TOKEN_KEY = "hyperfleet.console.token";
const AUTH_ENABLED =
  document.querySelector('meta[name="hf-auth-enabled"]').content === "true";

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- HTTP

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

class NeedsToken extends Error {}

function authHeaders(extra) {
  const headers = { accept: "application/json", ...extra };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

/** Call the API; `path` is relative to the API base unless it starts with it (an href). */
async function api(path, { method = "GET", body, headers = {} } = {}) {
  const url = path.startsWith(API) ? path : API + path;
  const init = { method, headers: authHeaders(headers) };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(url, init);
  if (resp.status === 401 && AUTH_ENABLED) {
    askForToken("The API refused the token (401). Paste a valid one.");
    throw new NeedsToken();
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return { data, headers: resp.headers };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- watch streams

/**
 * One watch stream (`?watch=true`), reconnecting with Last-Event-ID after a drop.
 * `onEvent({type, object})` for each change; `onRelist()` when the server says the position
 * is gone (the 410 error event) — the caller lists again and starts a new Watch.
 */
class Watch {
  constructor(path, fromId, { onEvent, onRelist }) {
    this.path = path;
    this.lastId = fromId;
    this.onEvent = onEvent;
    this.onRelist = onRelist;
    this.stopped = false;
    this.controller = null;
    this.run().catch(() => {});
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
  }

  async run() {
    let backoff = 500;
    while (!this.stopped) {
      this.controller = new AbortController();
      try {
        const headers = authHeaders({ accept: "text/event-stream" });
        if (this.lastId !== null && this.lastId !== undefined) {
          headers["last-event-id"] = String(this.lastId);
        }
        const resp = await fetch(API + this.path, {
          headers,
          signal: this.controller.signal,
          cache: "no-store",
        });
        if (resp.status === 401 && AUTH_ENABLED) {
          askForToken("The API refused the token (401). Paste a valid one.");
          return;
        }
        if (resp.status === 410) {
          this.relist();
          return;
        }
        if (!resp.ok || !resp.body) throw new Error(`watch answered ${resp.status}`);
        setLive("live");
        backoff = 500;
        await this.read(resp.body);
      } catch {
        // A dropped connection, a refused one, or our own abort: the loop decides.
      }
      if (this.stopped) return;
      setLive("reconnecting");
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 8000);
    }
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    while (!this.stopped) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        this.dispatch(block);
        if (this.stopped) return;
      }
    }
  }

  dispatch(block) {
    let id = null;
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (event === "error") {
      this.relist();
      return;
    }
    if (!data.length) return;
    if (id !== null) this.lastId = id;
    this.onEvent(JSON.parse(data.join("\n")));
  }

  relist() {
    this.stop();
    setLive("reconnecting");
    this.onRelist();
  }
}

let currentWatch = null;

function watchFrom(path, listHeaders, handlers) {
  if (currentWatch) currentWatch.stop();
  const seq = listHeaders.get("x-hyperfleet-change-seq");
  currentWatch = new Watch(path, seq, handlers);
}

function stopWatch() {
  if (currentWatch) currentWatch.stop();
  currentWatch = null;
}

function setLive(state) {
  const live = $("live");
  live.dataset.state = state;
  live.textContent = state;
}

// ---------------------------------------------------------------- rendering helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function age(time) {
  if (!time) return "";
  const seconds = Math.max(0, (Date.now() - Date.parse(time)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function ageCell(time) {
  return el("time", { datetime: time, class: "age", title: time, text: age(time) });
}

function refreshAges() {
  for (const node of document.querySelectorAll("time.age")) {
    node.textContent = age(node.getAttribute("datetime"));
  }
}

function phaseOf(resource) {
  return (resource.status && resource.status.phase) || "Pending";
}

function phaseBadge(phase) {
  return el("span", { class: `badge phase-${phase}`, text: phase, dataset: { phase } });
}

function conditionDots(conditions) {
  const wrap = el("span", { class: "dots" });
  for (const c of conditions || []) {
    const tip = `${c.type}: ${c.status} — ${c.reason || ""}${c.message ? ` — ${c.message}` : ""} (${age(
      c.last_transition_time,
    )} ago)`;
    wrap.append(
      // Not focusable: 50 rows of dots would be hundreds of tab stops; the resource view has
      // the same facts as a table.
      el("span", { class: `dot status-${c.status}`, title: tip, "aria-label": tip, role: "img" }),
    );
  }
  return wrap;
}

function adapterList(adapters) {
  const list = el("ul", { class: "adapters" });
  for (const a of adapters || []) {
    const blocked = a.blocked_by && a.blocked_by.length ? ` (waits for ${a.blocked_by.join(", ")})` : "";
    list.append(
      el("li", { class: `adapter state-${a.state}` }, `${a.adapter}: `, el("b", { text: a.state }), blocked),
    );
  }
  return list;
}

function labelChips(labels) {
  const wrap = el("span", { class: "labels" });
  for (const [key, value] of Object.entries(labels || {})) {
    wrap.append(el("span", { class: "chip", text: `${key}=${value}` }));
  }
  return wrap;
}

const pretty = (value) => JSON.stringify(value === undefined ? {} : value, null, 2);

// ---------------------------------------------------------------- token prompt

function askForToken(message) {
  stopWatch();
  showView("token-view");
  $("token-error").textContent = message || "";
  $("token-input").focus();
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token-input").value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token-input").value = "";
  route();
});

$("signout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  askForToken("");
});

// ---------------------------------------------------------------- views

function showView(id) {
  for (const view of ["token-view", "fleet-view", "resource-view"]) $(view).hidden = view !== id;
  $("signout").hidden = !AUTH_ENABLED || id === "token-view";
}

function report(error, target) {
  if (error instanceof NeedsToken) return;
  target.textContent = error.message || String(error);
}

// ---- fleet view

const fleet = { page: 1, total: 0, search: "", phase: "", rows: new Map(), countsTimer: null };

/** The user's search, and the phase filter when asked; alone it is sent as typed, so the
 * positions in the API's parse errors are positions in the search box. */
function withPhase(phase) {
  if (!phase) return fleet.search;
  const filter = `status.phase='${phase}'`;
  return fleet.search ? `(${fleet.search}) and ${filter}` : filter;
}

function fleetSearch() {
  return withPhase(fleet.phase);
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== "" && value !== undefined) search.set(key, value);
  return search.toString();
}

function clusterRow(cluster) {
  const link = el("a", { href: `#/r/${cluster.id}`, text: cluster.name });
  return el(
    "tr",
    { dataset: { id: cluster.id, name: cluster.name } },
    el("td", { class: "name" }, link),
    el("td", {}, phaseBadge(phaseOf(cluster))),
    el("td", {}, conditionDots(cluster.status && cluster.status.conditions)),
    el("td", {}, adapterList(cluster.status && cluster.status.adapters)),
    el("td", {}, labelChips(cluster.labels)),
    el("td", { class: "num generation", text: String(cluster.generation) }),
    el("td", {}, ageCell(cluster.created_time)),
  );
}

function renderFleetRows(items) {
  const body = $("fleet-rows");
  fleet.rows = new Map();
  body.replaceChildren();
  for (const cluster of items) {
    const row = clusterRow(cluster);
    fleet.rows.set(cluster.id, row);
    body.append(row);
  }
  if (!items.length) body.append(el("tr", { class: "empty" }, el("td", { colspan: "7", text: "No clusters." })));
  renderPager();
}

function renderPager() {
  const pages = Math.max(1, Math.ceil(fleet.total / PAGE_SIZE));
  $("page-info").textContent = `Page ${fleet.page} of ${pages} · ${fleet.total} clusters`;
  $("prev-page").disabled = fleet.page <= 1;
  $("next-page").disabled = fleet.page >= pages;
}

function applyFleetEvent({ type, object }) {
  if (!object || object.kind !== "Cluster") return;
  const row = fleet.rows.get(object.id);
  const body = $("fleet-rows");
  if (type === "DELETED") {
    // Gone, or no longer matching the search: either way it left the list.
    fleet.total = Math.max(0, fleet.total - 1);
    if (row) {
      row.remove();
      fleet.rows.delete(object.id);
    }
  } else if (row) {
    const fresh = clusterRow(object);
    row.replaceWith(fresh);
    fleet.rows.set(object.id, fresh);
  } else if (type === "ADDED" && fleet.page === 1) {
    // The default order is newest first, so a new cluster belongs at the top of page 1.
    const empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    const fresh = clusterRow(object);
    body.prepend(fresh);
    fleet.rows.set(object.id, fresh);
    fleet.total += 1;
    while (fleet.rows.size > PAGE_SIZE) {
      const last = body.lastElementChild;
      fleet.rows.delete(last.dataset.id);
      last.remove();
    }
  } else if (type === "ADDED") {
    fleet.total += 1;
  }
  renderPager();
  scheduleCounts();
}

function scheduleCounts() {
  if (fleet.countsTimer) return;
  fleet.countsTimer = setTimeout(() => {
    fleet.countsTimer = null;
    loadCounts().catch((error) => report(error, $("search-error")));
  }, 1000);
}

async function loadCounts() {
  const totals = await Promise.all(
    PHASES.map(async (phase) => {
      const search = withPhase(phase);
      const { data } = await api(`/clusters?${query({ search, size: 1, fields: "id" })}`);
      return [phase, data.total];
    }),
  );
  const list = $("counts");
  list.replaceChildren();
  for (const [phase, total] of totals) {
    const button = el(
      "button",
      { type: "button", class: "count", "aria-pressed": String(fleet.phase === phase), dataset: { phase } },
      phaseBadge(phase),
      el("span", { class: "n", text: String(total) }),
    );
    button.addEventListener("click", () => {
      fleet.phase = fleet.phase === phase ? "" : phase;
      $("phase-filter").value = fleet.phase;
      fleet.page = 1;
      loadFleet();
    });
    list.append(el("li", {}, button));
  }
}

async function loadFleet() {
  showView("fleet-view");
  document.title = "Clusters · HyperFleet console";
  const error = $("search-error");
  const input = $("search-input");
  const search = fleetSearch();
  try {
    const { data, headers } = await api(
      `/clusters?${query({ search, page: fleet.page, size: PAGE_SIZE })}`,
    );
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    fleet.total = data.total;
    renderFleetRows(data.items);
    watchFrom(`/clusters?${query({ watch: "true", search })}`, headers, {
      onEvent: applyFleetEvent,
      onRelist: () => loadFleet(),
    });
    await loadCounts();
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) {
      stopWatch();
      input.setAttribute("aria-invalid", "true");
      const named = (err.problem.errors || []).map((e) => e.field).filter(Boolean);
      error.textContent = named.length ? `${err.message} (${named.join(", ")})` : err.message;
      renderFleetRows([]);
      fleet.total = 0;
      renderPager();
    } else {
      report(err, error);
    }
  }
}

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  fleet.search = $("search-input").value.trim();
  fleet.phase = $("phase-filter").value;
  fleet.page = 1;
  loadFleet();
});
$("phase-filter").addEventListener("change", () => {
  fleet.phase = $("phase-filter").value;
  fleet.page = 1;
  loadFleet();
});
$("prev-page").addEventListener("click", () => {
  fleet.page = Math.max(1, fleet.page - 1);
  loadFleet();
});
$("next-page").addEventListener("click", () => {
  fleet.page += 1;
  loadFleet();
});
for (const phase of PHASES) $("phase-filter").append(el("option", { value: phase, text: phase }));

// ---- resource view

const view = { id: null, resource: null, etag: null, reloadTimer: null };

function fact(term, value) {
  return [el("dt", { text: term }), el("dd", {}, value)];
}

async function loadResource(id) {
  showView("resource-view");
  if (view.id !== id) {
    view.id = id;
    $("resource-message").textContent = "";
  }
  try {
    const resp = await api(`/resources/${encodeURIComponent(id)}`);
    const resource = resp.data;
    view.resource = resource;
    view.etag = resp.headers.get("etag");
    const [statuses, history, children] = await Promise.all([
      api(`${resource.href}/statuses?size=100`),
      api(`${resource.href}/phase-history?size=100`),
      resource.kind === "Cluster"
        ? api(`${resource.href}/nodepools?size=100`)
        : Promise.resolve(null),
    ]);
    renderResource(resource, statuses.data.items, history.data.items, children && children.data.items);
    if (!currentWatch || currentWatch.stopped || !currentWatch.path.includes(id)) {
      const search = `id='${id}' or owner_id='${id}'`;
      watchFrom(`/resources?${query({ watch: "true", search })}`, resp.headers, {
        onEvent: (event) => {
          if (event.type === "DELETED" && event.object.id === id) {
            markGone(`${resource.kind} ${resource.name} is gone.`);
            return;
          }
          scheduleResourceReload(id);
        },
        onRelist: () => loadResource(id),
      });
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      markGone("This resource does not exist (any more).");
    } else {
      report(err, $("resource-message"));
    }
  }
}

/** The viewed resource no longer exists: say so, stop following it, offer no actions. */
function markGone(message) {
  stopWatch();
  $("resource-message").textContent = message;
  $("resource-view").dataset.gone = "true";
  for (const id of ["edit-resource", "new-nodepool", "delete-resource", "force-delete-resource"]) {
    $(id).disabled = true;
  }
}

function scheduleResourceReload(id) {
  if (view.reloadTimer || $("resource-view").dataset.gone) return;
  view.reloadTimer = setTimeout(() => {
    view.reloadTimer = null;
    if (view.id === id && !$("resource-view").hidden) loadResource(id);
  }, 300);
}

function renderResource(resource, statuses, history, children) {
  const isCluster = resource.kind === "Cluster";
  delete $("resource-view").dataset.gone;
  document.title = `${resource.name} · HyperFleet console`;
  $("resource-title").textContent = `${resource.kind} ${resource.name}`;
  $("resource-phase").replaceChildren(phaseBadge(phaseOf(resource)));

  const crumbs = $("crumbs");
  crumbs.replaceChildren(el("a", { href: "#/", text: "Clusters" }));
  if (resource.owner_references) {
    crumbs.append(" › ", el("a", { href: `#/r/${resource.owner_references.id}`, text: `parent ${resource.owner_references.kind}` }));
  }
  crumbs.append(" › ", resource.name);

  const facts = $("resource-facts");
  facts.replaceChildren(
    ...fact("ID", el("code", { text: resource.id })),
    ...fact("Generation", el("span", { id: "resource-generation", text: String(resource.generation) })),
    ...fact("Created", ageCell(resource.created_time)),
    ...fact("Updated", ageCell(resource.updated_time)),
    ...fact("Phase reason", (resource.status && resource.status.phase_reason) || ""),
  );
  if (resource.deleted_time) facts.append(...fact("Deleted", ageCell(resource.deleted_time)));

  $("resource-spec").textContent = pretty(resource.spec);
  $("resource-labels").textContent = pretty(resource.labels || {});
  $("resource-raw").textContent = pretty(resource);

  const conditions = $("resource-conditions");
  conditions.replaceChildren();
  for (const c of (resource.status && resource.status.conditions) || []) {
    conditions.append(
      el(
        "tr",
        {},
        el("td", { text: c.type }),
        el("td", {}, el("span", { class: `dot status-${c.status}`, "aria-hidden": "true" }), ` ${c.status}`),
        el("td", { text: c.reason || "" }),
        el("td", { text: c.message || "" }),
        el("td", { class: "num", text: String(c.observed_generation ?? "") }),
        el("td", {}, ageCell(c.last_transition_time)),
      ),
    );
  }

  const summary = new Map(((resource.status && resource.status.adapters) || []).map((a) => [a.adapter, a]));
  const adapters = $("resource-adapters");
  adapters.replaceChildren();
  for (const s of statuses) {
    const info = summary.get(s.adapter) || {};
    const blocked = info.blocked_by && info.blocked_by.length ? `waits for ${info.blocked_by.join(", ")}` : "";
    const rows = (s.conditions || []).map((c) =>
      el("li", {}, el("span", { class: `dot status-${c.status}`, "aria-hidden": "true" }), ` ${c.type} ${c.status} — ${c.reason || ""} ${c.message || ""}`),
    );
    adapters.append(
      el(
        "article",
        { class: "adapter-card" },
        el("h3", {}, `${s.adapter} `, el("span", { class: `state state-${s.state || info.state}`, text: s.state || info.state || "" })),
        el("p", { class: "muted", text: `observed generation ${s.observed_generation} · reported ${age(s.last_report_time)} ago ${blocked}` }),
        el("ul", { class: "plain" }, ...rows),
        el("pre", { text: pretty(s.data || {}) }),
      ),
    );
  }
  if (!statuses.length) adapters.append(el("p", { class: "muted", text: "No adapter has reported yet." }));

  $("children-section").hidden = !isCluster;
  $("new-nodepool").hidden = !isCluster;
  if (isCluster) {
    const body = $("resource-children");
    body.replaceChildren();
    for (const np of children || []) {
      body.append(
        el(
          "tr",
          { dataset: { id: np.id } },
          el("td", {}, el("a", { href: `#/r/${np.id}`, text: np.name })),
          el("td", {}, phaseBadge(phaseOf(np))),
          el("td", { class: "num", text: String(np.generation) }),
          el("td", {}, ageCell(np.created_time)),
        ),
      );
    }
    if (!(children || []).length) body.append(el("tr", {}, el("td", { colspan: "4", text: "No node pools." })));
  }

  const timeline = $("resource-history");
  timeline.replaceChildren();
  for (const h of history) {
    timeline.append(
      el(
        "li",
        {},
        el("time", { datetime: h.time, text: new Date(h.time).toLocaleString() }),
        " ",
        h.from_phase ? phaseBadge(h.from_phase) : "",
        h.from_phase ? " → " : "",
        phaseBadge(h.to_phase),
        el("span", { class: "muted", text: ` gen ${h.generation} · ${h.reason || ""}` }),
      ),
    );
  }

  for (const button of ["new-nodepool", "delete-resource", "force-delete-resource"]) $(button).disabled = false;
  $("edit-resource").disabled = Boolean(resource.deleted_time);
  $("delete-resource").hidden = Boolean(resource.deleted_time);
  $("force-delete-resource").hidden = !resource.deleted_time;
}

// ---------------------------------------------------------------- actions

const editor = { mode: null, target: null, etag: null };

function clearFieldErrors() {
  for (const id of ["error-name", "error-labels", "error-spec", "error-form"]) $(id).textContent = "";
  for (const id of ["edit-name", "edit-labels", "edit-spec"]) $(id).removeAttribute("aria-invalid");
}

function fieldError(field, message) {
  const key = field === "name" ? "name" : field.startsWith("labels") ? "labels" : field.startsWith("spec") ? "spec" : null;
  if (!key) {
    $("error-form").textContent += `${field}: ${message} `;
    return;
  }
  $(`error-${key}`).textContent += `${message} `;
  $(`edit-${key}`).setAttribute("aria-invalid", "true");
}

function openEditor(mode, target) {
  editor.mode = mode;
  editor.target = target;
  editor.etag = mode === "edit" ? view.etag : null;
  clearFieldErrors();
  const creating = mode !== "edit";
  $("field-name").hidden = !creating;
  $("edit-name").value = "";
  $("edit-title").textContent =
    mode === "cluster" ? "New cluster" : mode === "nodepool" ? `New node pool in ${target.name}` : `Edit ${target.kind} ${target.name}`;
  $("edit-submit").textContent = creating ? "Create" : "Save";
  $("edit-labels").value = pretty(creating ? {} : target.labels || {});
  $("edit-spec").value = pretty(creating ? {} : target.spec);
  $("edit-dialog").showModal();
  (creating ? $("edit-name") : $("edit-labels")).focus();
}

function parseObject(id, field) {
  const text = $(id).value.trim() || "{}";
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      fieldError(field, "must be a JSON object");
      return undefined;
    }
    return value;
  } catch (err) {
    fieldError(field, `not valid JSON: ${err.message}`);
    return undefined;
  }
}

$("edit-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors();
  const labels = parseObject("edit-labels", "labels");
  const spec = parseObject("edit-spec", "spec");
  if (labels === undefined || spec === undefined) return;
  $("edit-submit").disabled = true;
  try {
    if (editor.mode === "edit") {
      const headers = editor.etag ? { "if-match": editor.etag } : {};
      await api(editor.target.href, { method: "PATCH", body: { labels, spec }, headers });
      $("resource-message").textContent = "Saved.";
      $("edit-dialog").close();
      loadResource(editor.target.id);
    } else {
      const name = $("edit-name").value.trim();
      const isPool = editor.mode === "nodepool";
      const path = isPool ? `${editor.target.href}/nodepools` : "/clusters";
      const body = { kind: isPool ? "NodePool" : "Cluster", name, labels, spec };
      await api(path, { method: "POST", body });
      $("edit-dialog").close();
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 412) {
      $("error-form").textContent =
        "This resource changed meanwhile (someone else saved first). Close, look at the current version, and edit again.";
    } else if (err instanceof ApiError && (err.problem.errors || []).length) {
      for (const e of err.problem.errors) fieldError(e.field || "", e.message || err.message);
    } else if (!(err instanceof NeedsToken)) {
      $("error-form").textContent = err.message;
    }
  } finally {
    $("edit-submit").disabled = false;
  }
});
$("edit-cancel").addEventListener("click", () => $("edit-dialog").close());

$("new-cluster").addEventListener("click", () => openEditor("cluster", null));
$("new-nodepool").addEventListener("click", () => openEditor("nodepool", view.resource));
$("edit-resource").addEventListener("click", () => openEditor("edit", view.resource));

const confirmation = { force: false };

function openConfirm(force) {
  const r = view.resource;
  confirmation.force = force;
  $("confirm-title").textContent = force ? `Force delete ${r.name}` : `Delete ${r.name}`;
  $("confirm-text").textContent = force
    ? `Removes ${r.kind} ${r.name} and all its descendants at once, without waiting for the adapters to finalize. Say why.`
    : `Delete ${r.kind} ${r.name}? The adapters finalize it and its children before it disappears.`;
  $("field-reason").hidden = !force;
  $("confirm-reason").value = "";
  $("error-reason").textContent = "";
  $("error-confirm").textContent = "";
  $("confirm-submit").textContent = force ? "Force delete" : "Delete";
  $("confirm-dialog").showModal();
  (force ? $("confirm-reason") : $("confirm-cancel")).focus();
}

$("confirm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const r = view.resource;
  try {
    if (confirmation.force) {
      const reason = $("confirm-reason").value.trim();
      if (!reason) {
        $("error-reason").textContent = "A reason is required.";
        return;
      }
      await api(`${r.href}/force-delete`, { method: "POST", body: { reason } });
    } else {
      await api(r.href, { method: "DELETE" });
    }
    $("confirm-dialog").close();
    if (confirmation.force) {
      markGone(`${r.kind} ${r.name} was force-deleted.`);
    } else {
      $("resource-message").textContent = `Deleting ${r.name}…`;
      loadResource(r.id);
    }
  } catch (err) {
    if (err instanceof ApiError && (err.problem.errors || []).some((e) => e.field === "reason")) {
      $("error-reason").textContent = err.message;
    } else if (!(err instanceof NeedsToken)) {
      $("error-confirm").textContent = err.message;
    }
  }
});
$("confirm-cancel").addEventListener("click", () => $("confirm-dialog").close());
$("delete-resource").addEventListener("click", () => openConfirm(false));
$("force-delete-resource").addEventListener("click", () => openConfirm(true));

// ---------------------------------------------------------------- routing

function route() {
  if (AUTH_ENABLED && !sessionStorage.getItem(TOKEN_KEY)) {
    askForToken("");
    return;
  }
  const match = location.hash.match(/^#\/r\/([^/]+)$/);
  if (match) {
    loadResource(decodeURIComponent(match[1]));
  } else {
    view.id = null;
    loadFleet();
  }
}

window.addEventListener("hashchange", () => {
  stopWatch();
  route();
});
setInterval(refreshAges, 5000);
route();
