// The report page: keyword list at /, keyword report at /keywords/{keyword}. Every string that
// came from a marketplace page is set with textContent, never parsed as HTML.
"use strict";

const API = "/api/v1";
const SORTS = ["sales", "rating", "price", "reviews", "position"];
const DEFAULT_DESC = { sales: true, rating: true, price: false, reviews: true, position: false };
const $ = (id) => document.getElementById(id);

const state = {
  keyword: null, rows: [], facets: null, charts: {}, analysisId: null, ws: null, wsAttempt: 0,
  reloadTimer: null, selectedAsin: null,
};

// el creates an element with text content and attributes.
function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function money(minor, currency) {
  if (minor === undefined || minor === null) return "—";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(minor / 100);
  } catch (e) {
    return (minor / 100).toFixed(2);
  }
}
const num = (v, d) => (v === undefined || v === null ? "—" : Number(v).toLocaleString(undefined, { maximumFractionDigits: d || 0 }));

function apiKey() {
  try { return localStorage.getItem("mip-api-key") || ""; } catch (e) { return ""; }
}

// takeKeyFromHash keeps a key given as #key=... (the demo prints such a URL) and removes it from the address bar.
function takeKeyFromHash() {
  const m = location.hash.match(/^#key=([A-Za-z0-9._~-]+)$/);
  if (!m) return;
  try { localStorage.setItem("mip-api-key", m[1]); } catch (e) {}
  history.replaceState(null, "", location.pathname + location.search);
}

async function getJSON(path) {
  const r = await fetch(API + path, { headers: { Accept: "application/json" } });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

// ---------- theme ----------
function setupTheme() {
  const btn = $("theme");
  const show = () => {
    const dark = document.documentElement.getAttribute("data-theme") === "dark";
    btn.setAttribute("aria-pressed", String(dark));
    btn.textContent = dark ? "Light mode" : "Dark mode";
  };
  btn.addEventListener("click", () => {
    const next = document.documentElement.getAttribute("data-theme") === "dark" ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try { localStorage.setItem("mip-theme", next); } catch (e) {}
    show();
    renderCharts();
  });
  show();
}

// ---------- live updates ----------
function setConn(s, text) {
  const c = $("conn");
  c.dataset.state = s;
  c.textContent = text || s;
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const q = state.keyword ? "?keyword=" + encodeURIComponent(state.keyword) : "";
  const ws = new WebSocket(proto + "//" + location.host + API + "/ws" + q);
  state.ws = ws;
  setConn("connecting", "connecting");
  ws.onmessage = (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch (e) { return; }
    if (ev.kind === "hello") {
      const again = state.wsAttempt > 0;
      state.wsAttempt = 0;
      setConn("live", "live");
      if (again) scheduleReload(0); // messages may have been missed while away
      return;
    }
    if (ev.kind === "analysis" && ev.analysis) { showAnalysis(ev.analysis); return; }
    if (ev.kind === "generation") { scheduleReload(0); return; }
    if (ev.kind === "keyword" || ev.kind === "window" || ev.kind === "anomaly") scheduleReload(250);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    const delay = Math.min(10000, 500 * 2 ** state.wsAttempt) * (0.75 + Math.random() / 2);
    state.wsAttempt++;
    setConn("reconnecting", "reconnecting in " + Math.ceil(delay / 1000) + " s");
    setTimeout(connect, delay);
  };
}

function scheduleReload(ms) {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = setTimeout(() => (state.keyword ? loadReport() : loadHome()), ms);
}

// ---------- home ----------
async function loadHome() {
  const data = await getJSON("/keywords?limit=1000");
  const list = (data && data.keywords) || [];
  const tbody = $("keywords");
  tbody.replaceChildren();
  for (const k of list) {
    const tr = el("tr");
    const a = el("a", k.keyword, { href: "/keywords/" + encodeURIComponent(k.keyword) });
    const td = el("td");
    td.append(a);
    const st = (k.window && k.window.stats) || {};
    tr.append(td, el("td", num(k.products), { class: "num" }), el("td", num(st.competitor_count), { class: "num" }),
      el("td", money(st.price_median_minor, st.currency), { class: "num" }), el("td", num(st.rating_mean, 2), { class: "num" }),
      el("td", new Date(k.updated_at).toLocaleString()));
    tbody.append(tr);
  }
  $("home-empty").hidden = list.length > 0;
  fillDatalist(list);
}

function fillDatalist(list) {
  const dl = $("keyword-list");
  dl.replaceChildren(...list.map((k) => el("option", null, { value: k.keyword })));
}

// ---------- report ----------
function params() {
  return new URLSearchParams(location.search);
}

// readControls applies the URL's choices to the controls.
function readControls() {
  const p = params();
  const sort = SORTS.includes(p.get("sort")) ? p.get("sort") : "sales";
  $("sort").value = sort;
  $("order").value = p.get("order") === "asc" || p.get("order") === "desc" ? p.get("order") : "";
  $("prime").checked = p.get("prime") === "true";
  $("q").value = p.get("q") || "";
}

// writeURL keeps the choices in the address (no reload).
function writeURL() {
  const p = new URLSearchParams();
  if ($("sort").value !== "sales") p.set("sort", $("sort").value);
  if ($("order").value) p.set("order", $("order").value);
  if ($("prime").checked) p.set("prime", "true");
  if ($("q").value.trim()) p.set("q", $("q").value.trim());
  const lo = Number($("price-min").value), hi = Number($("price-max").value);
  if (state.facets && state.facets.price_min_minor !== undefined) {
    if (lo > state.facets.price_min_minor) p.set("price_min", String(lo));
    if (hi < state.facets.price_max_minor) p.set("price_max", String(hi));
  }
  for (const c of selectedCategories()) p.append("category", c);
  const qs = p.toString();
  history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
}

function selectedCategories() {
  return [...document.querySelectorAll("#categories input:checked")].map((i) => i.value);
}

const scoreOf = {
  sales: (r) => (r.sales ? r.sales.units : undefined),
  rating: (r) => r.rating,
  price: (r) => r.price_minor,
  reviews: (r) => r.review_count,
  position: (r) => r.position,
};

// view returns the rows passing the filters in the chosen order (rows without the value last),
// as the API orders them.
function view() {
  const sort = $("sort").value;
  const desc = $("order").value ? $("order").value === "desc" : DEFAULT_DESC[sort];
  const lo = Number($("price-min").value), hi = Number($("price-max").value);
  const usePrice = state.facets && state.facets.price_min_minor !== undefined &&
    (lo > state.facets.price_min_minor || hi < state.facets.price_max_minor);
  const cats = selectedCategories();
  const prime = $("prime").checked;
  const q = $("q").value.trim().toLowerCase();
  const out = state.rows.filter((r) => {
    if (usePrice && (r.price_minor === undefined || r.price_minor < lo || r.price_minor > hi)) return false;
    if (prime && !r.prime) return false;
    if (cats.length && !cats.includes(r.category)) return false;
    if (q && !(r.title || "").toLowerCase().includes(q)) return false;
    return true;
  });
  const f = scoreOf[sort];
  out.sort((a, b) => {
    const x = f(a), y = f(b);
    const hx = x !== undefined && x !== null, hy = y !== undefined && y !== null;
    if (hx !== hy) return hx ? -1 : 1;
    let c = hx ? (x < y ? -1 : x > y ? 1 : 0) : 0;
    if (c === 0) c = a.asin < b.asin ? -1 : a.asin > b.asin ? 1 : 0;
    return desc && hx ? -c : c;
  });
  return out;
}

function render() {
  const rows = view();
  const tbody = $("rows");
  tbody.replaceChildren();
  rows.forEach((r, i) => {
    const tr = el("tr", null, { "data-asin": r.asin, tabindex: "0" });
    const title = el("td");
    title.append(el("span", r.title || r.asin, { class: "t" }), el("div", r.asin + (r.sponsored ? " · sponsored" : ""), { class: "muted" }));
    tr.append(el("td", i + 1, { class: "num" }), title, el("td", r.brand || "—"), el("td", money(r.price_minor, r.currency), { class: "num" }),
      el("td", num(r.rating, 1), { class: "num" }), el("td", num(r.review_count), { class: "num" }),
      el("td", r.sales ? num(r.sales.units) : "—", { class: "num" }), el("td", r.prime ? "Prime" : "—"));
    tr.addEventListener("click", () => loadProduct(r.asin));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") loadProduct(r.asin); });
    tbody.append(tr);
  });
  $("count").textContent = rows.length + " of " + state.rows.length + " products";
  $("price-min-out").textContent = money(Number($("price-min").value), state.facets && state.facets.currency);
  $("price-max-out").textContent = money(Number($("price-max").value), state.facets && state.facets.currency);
  renderCharts(rows);
}

function setupFacets(f, keepChoices) {
  const p = params();
  const lo = f.price_min_minor === undefined ? 0 : f.price_min_minor;
  const hi = f.price_max_minor === undefined ? 0 : f.price_max_minor;
  const prevLo = Number($("price-min").value), prevHi = Number($("price-max").value);
  const oldF = state.facets;
  for (const id of ["price-min", "price-max"]) {
    $(id).min = String(lo);
    $(id).max = String(hi);
  }
  let wantLo = p.has("price_min") ? Number(p.get("price_min")) : lo;
  let wantHi = p.has("price_max") ? Number(p.get("price_max")) : hi;
  if (keepChoices && oldF) {
    wantLo = prevLo > (oldF.price_min_minor || 0) ? prevLo : lo;
    wantHi = prevHi < (oldF.price_max_minor || 0) ? prevHi : hi;
  }
  $("price-min").value = String(Math.max(lo, Math.min(hi, wantLo)));
  $("price-max").value = String(Math.max(lo, Math.min(hi, wantHi)));
  const chosen = keepChoices ? selectedCategories() : p.getAll("category");
  const box = $("categories");
  box.replaceChildren();
  f.categories.forEach((c, i) => {
    const id = "cat-" + i;
    const input = el("input", null, { type: "checkbox", id: id });
    input.value = c.category;
    input.checked = chosen.includes(c.category);
    input.addEventListener("change", () => { writeURL(); render(); });
    const label = el("label", null, { for: id, class: "check" });
    label.append(input, document.createTextNode(c.category + " (" + c.count + ")"));
    box.append(label);
  });
  state.facets = f;
}

function card(label, value) {
  const d = el("div", null, { class: "card" });
  d.append(el("div", value, { class: "v" }), el("div", label, { class: "k" }));
  return d;
}

function renderCards(windows, total) {
  const w = windows.find((x) => x.series === "sliding:1h") || windows.find((x) => x.series === "sliding:1d") || windows[0];
  const st = (w && w.stats) || {};
  const cards = $("cards");
  cards.replaceChildren(card("Products in report", num(total)), card("Competitors" + (w ? " (" + w.series + ")" : ""), num(st.competitor_count)),
    card("Median price", money(st.price_median_minor, st.currency)), card("Mean rating", num(st.rating_mean, 2)),
    card("Prime share", st.prime_share === undefined ? "—" : Math.round(st.prime_share * 100) + "%"),
    card("Est. sales / month", num(st.estimated_sales_total)));
}

function renderAnomalies(list) {
  const ul = $("anomalies");
  ul.replaceChildren();
  for (const a of list) {
    const li = el("li", null, { "data-severity": a.severity });
    li.append(el("strong", a.kind.replace(/_/g, " ")), document.createTextNode(" · " + a.severity + " · " + new Date(a.time).toLocaleString()),
      el("div", (a.title || a.asin) + ": " + a.explanation));
    ul.append(li);
  }
  $("anomalies-empty").hidden = list.length > 0;
}

async function loadReport() {
  const kw = state.keyword;
  const [rep, wins, anomalies] = await Promise.all([
    getJSON("/keywords/" + encodeURIComponent(kw) + "/report?sort=position&limit=500"),
    getJSON("/keywords/" + encodeURIComponent(kw) + "/windows"),
    getJSON("/anomalies?limit=20&keyword=" + encodeURIComponent(kw)),
  ]);
  const first = state.facets === null;
  state.rows = rep ? rep.items : [];
  $("kw-missing").hidden = !!rep;
  setupFacets(rep ? rep.facets : { categories: [], prime: 0 }, !first);
  renderCards((wins && wins.windows) || [], state.rows.length);
  renderAnomalies((anomalies && anomalies.anomalies) || []);
  render();
  document.body.dataset.loads = String(Number(document.body.dataset.loads || 0) + 1);
}

async function loadProduct(asin) {
  const p = await getJSON("/products/" + encodeURIComponent(asin));
  const sec = $("product");
  sec.hidden = false;
  if (!p) {
    $("product-title").textContent = asin;
    $("product-meta").textContent = "No product page observed yet.";
    return;
  }
  const f = p.fields;
  $("product-title").textContent = f.title || asin;
  $("product-meta").textContent = [asin, f.brand, money(f.price_minor ? Number(f.price_minor) : undefined, f.currency),
    f.rank ? "#" + f.rank + " in " + (f.rank_category || "") : null].filter(Boolean).join(" · ");
  chart("history", "chart-history", {
    type: "line",
    data: {
      labels: p.history.map((h) => new Date(h.time).toLocaleString()),
      datasets: [{ label: "Price", data: p.history.map((h) => (h.price_minor === undefined ? null : h.price_minor / 100)), tension: 0.2 }],
    },
    options: { animation: false, plugins: { legend: { display: false } } },
  });
}

// ---------- charts ----------
function chart(name, canvasId, config) {
  if (!window.Chart) return;
  const color = getComputedStyle(document.documentElement).getPropertyValue("--fg").trim();
  window.Chart.defaults.color = color;
  if (state.charts[name]) state.charts[name].destroy();
  config.options = Object.assign({ maintainAspectRatio: false }, config.options);
  state.charts[name] = new window.Chart($(canvasId), config);
}

function renderCharts(rows) {
  rows = rows || view();
  const prime = rows.filter((r) => r.prime).length;
  chart("prime", "chart-prime", {
    type: "doughnut",
    data: { labels: ["Prime", "Standard"], datasets: [{ data: [prime, rows.length - prime] }] },
    options: { animation: false },
  });
  chart("scatter", "chart-scatter", {
    type: "scatter",
    data: { datasets: [{ label: "Products", data: rows.filter((r) => r.price_minor !== undefined && r.rating !== undefined)
      .map((r) => ({ x: r.price_minor / 100, y: r.rating })) }] },
    options: { animation: false, plugins: { legend: { display: false } }, scales: { x: { title: { display: true, text: "Price" } }, y: { title: { display: true, text: "Rating" } } } },
  });
  const top = rows.filter((r) => r.sales).sort((a, b) => b.sales.units - a.sales.units).slice(0, 10);
  chart("top", "chart-top", {
    type: "bar",
    data: { labels: top.map((r) => (r.title || r.asin).slice(0, 30)), datasets: [{ label: "Units / month", data: top.map((r) => r.sales.units) }] },
    options: { animation: false, indexAxis: "y", plugins: { legend: { display: false } } },
  });
}

// ---------- analysis ----------
function showAnalysis(st) {
  if (!state.analysisId || st.id !== state.analysisId) return;
  const bar = $("analysis-progress");
  bar.hidden = false;
  bar.value = Math.round((st.progress || 0) * 100);
  let text = st.step + " " + bar.value + "%";
  if (st.done) text = st.failed ? "failed: " + (st.reason || "") + (st.stale ? " (last result shown)" : "") : "completed";
  $("analysis-status").textContent = text;
  if (st.done) {
    $("analyze").disabled = false;
    scheduleReload(0);
  }
}

async function startAnalysis() {
  let key = apiKey();
  if (!key) {
    key = window.prompt("API key (the demo prints a link that carries it):") || "";
    if (!key) return;
    try { localStorage.setItem("mip-api-key", key); } catch (e) {}
  }
  $("analyze").disabled = true;
  $("analysis-status").textContent = "starting";
  const r = await fetch(API + "/analyses", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": key },
    body: JSON.stringify({ keyword: state.keyword }),
  });
  const body = await r.json().catch(() => ({}));
  if (r.status !== 202) {
    $("analyze").disabled = false;
    $("analysis-status").textContent = "could not start: " + (body.message || r.status);
    if (r.status === 401) try { localStorage.removeItem("mip-api-key"); } catch (e) {}
    return;
  }
  state.analysisId = body.id;
  $("analyze").dataset.analysisId = body.id;
  showAnalysis({ id: body.id, step: "requested", progress: 0 });
  pollAnalysis(body.id);
}

// pollAnalysis asks for the status now and then, in case a WebSocket message is missed.
async function pollAnalysis(id) {
  while (state.analysisId === id) {
    const st = await getJSON("/analyses/" + id).catch(() => null);
    if (st) showAnalysis(st);
    if (st && st.done) return;
    await new Promise((res) => setTimeout(res, 2000));
  }
}

// ---------- start ----------
function start() {
  takeKeyFromHash();
  setupTheme();
  $("search").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = $("search-input").value.trim();
    if (v) location.href = "/keywords/" + encodeURIComponent(v);
  });
  const m = location.pathname.match(/^\/keywords\/(.+)$/);
  if (m) {
    state.keyword = decodeURIComponent(m[1]);
    document.title = state.keyword + " · Market Insights Pro";
    $("kw-title").textContent = state.keyword;
    $("report").hidden = false;
    readControls();
    for (const id of ["sort", "order", "prime"]) $(id).addEventListener("change", () => { writeURL(); render(); });
    for (const id of ["q", "price-min", "price-max"]) $(id).addEventListener("input", () => {
      if (Number($("price-min").value) > Number($("price-max").value)) {
        if (id === "price-min") $("price-max").value = $("price-min").value; else $("price-min").value = $("price-max").value;
      }
      writeURL();
      render();
    });
    $("analyze").addEventListener("click", startAnalysis);
    loadReport().catch((e) => { $("count").textContent = "could not load: " + e.message; });
    getJSON("/keywords?limit=1000").then((d) => fillDatalist((d && d.keywords) || [])).catch(() => {});
  } else {
    $("home").hidden = false;
    loadHome().catch(() => {});
  }
  connect();
}

document.addEventListener("DOMContentLoaded", start);
