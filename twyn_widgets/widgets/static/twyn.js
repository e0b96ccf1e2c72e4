// twyn-widgets' live view: draws the compact model the kernel sends, ticks the elapsed time,
// the ETA and the bar every second by itself, and (opt-in) tells the user when a run ends.
//
// One plain ES module, no framework, no build step, nothing imported. Every string that came
// from the server is set as textContent, never as HTML. The estimate is not computed here: the
// kernel sends anchors ([epoch seconds, progress, eta]) taken from its estimate, and this module
// only interpolates between them.

const TICK_MS = 1000;

// -- numbers and words ----------------------------------------------------------------------

/** A duration in at most two units, rounded down: the same words as the kernel's text face. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "--";
  const total = Math.max(0, Math.floor(seconds));
  if (total < 60) return `${total} s`;
  let minutes = Math.floor(total / 60);
  const secs = total % 60;
  if (minutes < 60) return `${minutes} min` + (secs && minutes < 10 ? ` ${secs} s` : "");
  let hours = Math.floor(minutes / 60);
  minutes %= 60;
  if (hours < 24) return `${hours} h` + (minutes ? ` ${minutes} min` : "");
  const days = Math.floor(hours / 24);
  hours %= 24;
  return `${days} d` + (hours ? ` ${hours} h` : "");
}

/** Progress and ETA at epoch second `t`, linear between the kernel's anchors, held outside. */
export function interpolate(anchors, t) {
  if (!anchors || anchors.length === 0) return { progress: 0, eta: null };
  const first = anchors[0];
  if (anchors.length === 1 || t <= first[0]) return { progress: first[1], eta: first[2] };
  for (let i = 1; i < anchors.length; i++) {
    const [t1, p1, e1] = anchors[i];
    if (t <= t1) {
      const [t0, p0, e0] = anchors[i - 1];
      const f = t1 > t0 ? (t - t0) / (t1 - t0) : 1;
      const eta = e0 === null || e1 === null ? e1 : e0 + (e1 - e0) * f;
      return { progress: p0 + (p1 - p0) * f, eta };
    }
  }
  const last = anchors[anchors.length - 1];
  return { progress: last[1], eta: last[2] };
}

/** What a readout shows for `sim` at epoch second `t`. */
export function readout(sim, t) {
  const { progress, eta } = interpolate(sim.anchors, t);
  const end = sim.ended && sim.finished !== null ? sim.finished : t;
  const elapsed = sim.started === null ? null : Math.max(0, end - sim.started);
  return { progress: Math.max(0, Math.min(1, progress)), eta: sim.ended ? null : eta, elapsed };
}

const now = () => Date.now() / 1000;

// -- the page's style (once per page) ---------------------------------------------------------

// Colours are JupyterLab's theme variables with fallbacks for front ends that lack them
// (Voila's default template, VS Code): text keeps the theme's content colour in light and dark
// themes, and a state's colour only ever fills a bar or a dot beside the text.
const CSS = `
.twyn-live { color: var(--jp-content-font-color1, #212121); line-height: 1.45;
  font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: var(--jp-ui-font-size1, 13px); }
.twyn-live .twyn-track { background: var(--jp-layout-color3, #e0e0e0); border-radius: 3px; height: 10px; }
.twyn-live .twyn-fill { background: var(--twyn-accent); border-radius: 3px; height: 100%; }
.twyn-watcher .twyn-barline { display: flex; align-items: center; gap: 8px; }
.twyn-watcher .twyn-pct { width: 3em; text-align: right; }
.twyn-watcher .twyn-track { flex: 1; height: 14px; }
.twyn-live .twyn-title { font-weight: 600; }
.twyn-live .twyn-id { display: inline-block; max-width: 8ch; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; vertical-align: bottom; user-select: all;
  color: var(--jp-ui-font-color1, #424242); font-family: var(--jp-code-font-family, monospace); }
.twyn-live .twyn-dot { display: inline-block; width: 0.6em; height: 0.6em; border-radius: 50%;
  background: var(--twyn-accent); margin-right: 0.35em; }
.twyn-live code { color: inherit; background: transparent; }
.twyn-live .twyn-actions { display: flex; gap: 8px; align-items: center; margin-top: 4px; }
.twyn-live button { font: inherit; cursor: pointer; padding: 2px 10px; border-radius: 2px;
  color: var(--jp-ui-font-color1, #212121); background: var(--jp-layout-color2, #eeeeee);
  border: 1px solid var(--jp-border-color1, #bdbdbd); }
.twyn-live button:disabled { cursor: default; opacity: 0.6; }
.twyn-live .twyn-bell-note, .twyn-live .twyn-muted { color: var(--jp-ui-font-color1, #424242); }
.twyn-live .twyn-bell-icon { display: inline-block; position: relative; box-sizing: border-box;
  width: 0.75em; height: 0.7em; margin: 0 0.45em 0 0.1em; vertical-align: -0.02em;
  border: 0.12em solid currentColor; border-radius: 0.4em 0.4em 0.08em 0.08em; }
.twyn-live .twyn-bell-icon::after { content: ""; position: absolute; left: 50%; bottom: -0.32em;
  width: 0.24em; height: 0.24em; margin-left: -0.12em; border-radius: 50%; background: currentColor; }
.twyn-live .twyn-bell[aria-pressed="false"] .twyn-bell-icon::before { content: ""; position: absolute;
  left: -0.3em; top: 0.2em; width: 1.15em; border-top: 0.12em solid currentColor; transform: rotate(-45deg); }
.twyn-board table { border-collapse: collapse; width: 100%; color: inherit; }
.twyn-board th, .twyn-board td { text-align: left; vertical-align: top; padding: 4px 8px 4px 0;
  border-top: 1px solid var(--jp-border-color2, #e0e0e0); }
.twyn-board td.twyn-row-bar-cell { min-width: 140px; padding-top: 8px; }
/* Why a wide title and a narrow outcome: a running row's outcome is one word, and titles
   squeezed by an empty outcome column wrapped onto four lines. */
.twyn-board td.twyn-row-title { min-width: 14em; }
.twyn-board td.twyn-row-outcome { min-width: 8em; max-width: 28em; }
.twyn-board td.twyn-nowrap { white-space: nowrap; }
.twyn-board pre { white-space: pre-wrap; color: inherit; background: transparent; margin: 2px 0; }
`;

function ensureStyle(el) {
  // Why by id, once per root: several views (and both widget kinds) share one page, one
  // <style> serves them all, and a view removed later must not take it away from the others.
  // Why the view's root node: marimo draws each widget inside a shadow root, which a <style>
  // in the document's head does not reach (the bars were 0 px high there).
  const root = el.getRootNode();
  const inShadow = typeof ShadowRoot !== "undefined" && root instanceof ShadowRoot;
  if ((inShadow ? root : document).getElementById("twyn-widgets-style")) return;
  const style = document.createElement("style");
  style.id = "twyn-widgets-style";
  style.textContent = CSS;
  (inShadow ? root : document.head).appendChild(style);
}

function node(tag, cls, text) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}

function setText(el, text) {
  // Why compare first: rewriting an unchanged text node still costs a layout, 200 rows a second.
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

// -- telling the user a run ended (once per simulation per page) ----------------------------

const page = {
  told: new Set(), // simulation ids already announced on this page
  done: 0,
  failed: 0,
  baseTitle: null,
  titleWatch: null,
  watching: false,
};

function away() {
  return document.visibilityState === "hidden" || !document.hasFocus();
}

function marker() {
  const parts = [];
  if (page.done) parts.push(`✓ ${page.done} done`);
  if (page.failed) parts.push(`✗ ${page.failed} ended`);
  return parts.join(" · ");
}

function showMarker() {
  if (page.baseTitle === null) page.baseTitle = document.title;
  document.title = `${marker()} – ${page.baseTitle}`;
  keepMarker();
}

function keepMarker() {
  // Why: JupyterLab rewrites document.title whenever it saves its layout (a panel activated,
  // the workspace stored); the marker must outlive that until the user is back, on top of
  // whatever title the application set last.
  const title = document.querySelector("title");
  if (page.titleWatch || !title || typeof MutationObserver === "undefined") return;
  page.titleWatch = new MutationObserver(() => {
    if (page.baseTitle === null) return;
    const prefix = `${marker()} – `;
    if (document.title.startsWith(prefix)) return;
    page.baseTitle = document.title;
    document.title = prefix + page.baseTitle;
  });
  page.titleWatch.observe(title, { childList: true, characterData: true, subtree: true });
}

function clearMarker() {
  if (page.baseTitle === null) return;
  const base = page.baseTitle;
  page.baseTitle = null;
  page.done = 0;
  page.failed = 0;
  document.title = base;
}

function watchReturn() {
  if (page.watching) return;
  page.watching = true;
  // Why both events: a hidden tab fires visibilitychange when shown again, but a window that
  // only lost focus (another application in front) fires only focus.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && document.hasFocus()) clearMarker();
  });
  window.addEventListener("focus", clearMarker);
}

/** Permission state for desktop notifications, and why they cannot show when they cannot. */
export function permission() {
  if (typeof Notification === "undefined") {
    return { granted: false, why: "this browser shows no desktop notifications: the tab title will tell" };
  }
  if (Notification.permission === "granted") return { granted: true, why: "" };
  if (window.top !== window.self) {
    // Why: an embedded page (VS Code's and Colab's output frames) may not ask for permission.
    return { granted: false, why: "an embedded page cannot ask for notifications: the tab title will tell" };
  }
  if (Notification.permission === "denied") {
    return { granted: false, why: "notifications are blocked for this site: the tab title will tell" };
  }
  return { granted: false, why: "click the bell to allow desktop notifications" };
}

function outcomeLine(sim) {
  const took = sim.started !== null && sim.finished !== null ? duration(sim.finished - sim.started) : null;
  if (sim.state === "succeeded") return took ? `done in ${took}` : "done";
  const why = sim.detail ? `: ${sim.detail}` : "";
  return `${sim.word}${took ? ` after ${took}` : ""}${why}`;
}

/** A watched simulation just ended in this view: tell the user once, if they look elsewhere. */
function announce(sim, wanted) {
  if (page.told.has(sim.id)) return;
  page.told.add(sim.id);
  if (!wanted || !away()) return;
  if (sim.state === "succeeded") page.done += 1;
  else page.failed += 1;
  watchReturn();
  showMarker();
  if (!permission().granted) return;
  try {
    const note = new Notification(sim.title || sim.id, {
      body: outcomeLine(sim),
      tag: `twyn-${sim.id}`,
    });
    note.onclick = () => {
      window.focus();
      note.close();
    };
  } catch (err) {
    // Why: some browsers (Android Chrome) allow the permission but refuse the constructor.
    console.warn("twyn-widgets: desktop notification refused", err);
  }
}

// -- parts both views share ------------------------------------------------------------------

function bellButton(model, refresh) {
  const bell = node("button", "twyn-bell");
  // Why a bell drawn in CSS: an emoji bell shows as an empty box where no emoji font is
  // installed (minimal Linux desktops, headless browsers).
  const icon = node("span", "twyn-bell-icon");
  icon.setAttribute("aria-hidden", "true");
  const label = node("span");
  bell.append(icon, label);
  const note = node("span", "twyn-bell-note");
  const draw = () => {
    const on = model.get("notify");
    const perm = permission();
    bell.setAttribute("aria-pressed", on ? "true" : "false");
    setText(label, on ? "Notify on" : "Notify off");
    bell.title = on ? "Tell me when a run ends (click to stop)" : "Tell me when a run ends";
    setText(note, on && !perm.granted ? perm.why : "");
  };
  bell.addEventListener("click", async () => {
    const on = !model.get("notify");
    if (on && typeof Notification !== "undefined" && Notification.permission === "default"
        && window.top === window.self) {
      // Why from the click: browsers grant a permission prompt only inside a user gesture.
      try {
        await Notification.requestPermission();
      } catch (err) {
        console.warn("twyn-widgets: permission request failed", err);
      }
    }
    model.set("notify", on);
    model.save_changes();
    draw();
    refresh();
  });
  model.on("change:notify", draw);
  draw();
  return { bell, note, draw };
}

function stopButton(model, label) {
  const stop = node("button", "twyn-stop", label);
  stop.title = "Stop watching (the simulation keeps running on the server)";
  stop.addEventListener("click", () => {
    stop.disabled = true;
    model.send({ type: "stop" });
  });
  return stop;
}

// -- one simulation --------------------------------------------------------------------------

function renderWatcher(model, el) {
  const root = node("div", "twyn-watcher twyn-live");
  const barline = node("div", "twyn-barline");
  const pct = node("span", "twyn-pct");
  const track = node("div", "twyn-track");
  const fill = node("div", "twyn-fill twyn-bar");
  track.setAttribute("role", "progressbar");
  track.setAttribute("aria-valuemin", "0");
  track.setAttribute("aria-valuemax", "100");
  track.appendChild(fill);
  barline.append(pct, track);
  const head = node("div", "twyn-head");
  const title = node("span", "twyn-title");
  const id = node("code", "twyn-id");
  head.append(title, " ", id);
  const line = node("div", "twyn-line");
  const phase = node("span", "twyn-phase");
  const status = node("span", "twyn-status");
  const code = node("code");
  status.appendChild(code);
  const elapsed = node("span", "twyn-elapsed");
  const etaSep = document.createTextNode(" · ");
  const eta = node("span", "twyn-eta");
  const outcome = node("span", "twyn-outcome");
  const dot = node("span", "twyn-dot");
  dot.setAttribute("aria-hidden", "true");
  const word = node("span", "twyn-word");
  outcome.append(dot, word);
  line.append(phase, " · ", status, " · ", elapsed, etaSep, eta, " · ", outcome);
  const notice = node("div", "twyn-notice");
  const detail = node("div", "twyn-detail");
  const actions = node("div", "twyn-actions");
  const stop = stopButton(model, "Stop");
  let shown = 0; // the bar never steps back within this view
  const tick = () => {
    const sim = model.get("sim");
    if (!sim || !sim.id) return;
    const r = readout(sim, now());
    shown = Math.max(shown, r.progress);
    const percent = `${Math.round(shown * 100)}%`;
    setText(pct, percent);
    fill.style.width = `${(shown * 100).toFixed(1)}%`;
    track.setAttribute("aria-valuenow", String(Math.round(shown * 100)));
    setText(elapsed, `elapsed ${duration(r.elapsed)}`);
    const hasEta = r.eta !== null && r.eta !== undefined;
    setText(eta, hasEta ? `about ${duration(r.eta)} left` : "");
    eta.hidden = !hasEta;
    etaSep.textContent = hasEta ? " · " : "";
  };
  const { bell, note } = bellButton(model, tick);
  actions.append(stop, bell, note);
  root.append(barline, head, line, notice, detail, actions);
  el.appendChild(root);

  let last = model.get("sim");
  const draw = () => {
    const sim = model.get("sim");
    if (!sim || !sim.id) return;
    root.dataset.state = sim.state;
    root.style.setProperty("--twyn-accent", sim.accent);
    setText(title, sim.title);
    title.title = sim.title;
    setText(id, sim.id);
    id.title = sim.id;
    setText(phase, sim.phase || "–");
    setText(code, sim.status || "waiting for first answer");
    setText(word, sim.word);
    setText(notice, sim.notice);
    notice.hidden = !sim.notice;
    setText(detail, sim.detail);
    detail.hidden = !sim.detail;
    stop.hidden = sim.ended;
    if (sim.ended && last && !last.ended) announce(sim, model.get("notify"));
    else if (sim.ended) page.told.add(sim.id); // ended before this view saw it run
    last = sim;
    tick();
  };
  model.on("change:sim", draw);
  draw();
  const timer = setInterval(tick, TICK_MS);
  return () => {
    clearInterval(timer);
    model.off("change:sim", draw);
  };
}

// -- many simulations ------------------------------------------------------------------------

const boardRows = new WeakMap(); // model -> the rows this page has seen

function renderBoard(model, el) {
  const root = node("div", "twyn-board twyn-live");
  const counts = node("div", "twyn-counts");
  const table = node("table", "twyn-board-table");
  const headRow = node("tr");
  for (const h of ["#", "Title", "Phase", "Progress", "Elapsed", "Outcome"]) headRow.appendChild(node("th", null, h));
  const thead = node("thead");
  thead.appendChild(headRow);
  const tbody = node("tbody");
  table.append(thead, tbody);
  const actions = node("div", "twyn-actions");
  const stop = stopButton(model, "Stop all");
  const rows = []; // {sim, tr, cells..., shown}
  // Why a page-wide cache: rows arrive as messages, not as the trait, so a second view of the
  // same board (shown twice, or re-rendered) starts from what the page has seen, not from the
  // rows the model had when it opened. A reload asks the kernel, which sends them all.
  if (!boardRows.has(model)) boardRows.set(model, (model.get("rows") || []).slice());
  const sims = boardRows.get(model);

  const makeRow = (n) => {
    const tr = node("tr", "twyn-row");
    const num = node("td", null, n + 1);
    const titleCell = node("td", "twyn-row-title");
    const name = node("span", "twyn-row-name");
    const id = node("code", "twyn-id");
    titleCell.append(name, node("br"), id);
    const phase = node("td", "twyn-row-phase twyn-nowrap");
    const barCell = node("td", "twyn-row-bar-cell");
    const track = node("div", "twyn-track");
    const fill = node("div", "twyn-fill twyn-row-bar");
    track.appendChild(fill);
    barCell.appendChild(track);
    const elapsed = node("td", "twyn-row-elapsed twyn-nowrap");
    const outcome = node("td", "twyn-row-outcome");
    const dot = node("span", "twyn-dot");
    dot.setAttribute("aria-hidden", "true");
    const word = node("span", "twyn-word");
    const extra = node("div", "twyn-muted");
    outcome.append(dot, word, extra);
    tr.append(num, titleCell, phase, barCell, elapsed, outcome);
    tbody.appendChild(tr);
    return { tr, name, id, phase, fill, elapsed, word, extra, shown: 0, sim: null };
  };

  const drawExtra = (row, sim) => {
    // The failed row's error_log: its first line, and the whole log folded under it.
    row.extra.replaceChildren();
    row.extra.className = "twyn-muted";
    if (sim.state === "failed" && sim.log) {
      row.extra.className = "twyn-row-error";
      if (sim.log.trim() === sim.detail) {
        row.extra.textContent = sim.log;
      } else {
        const details = node("details");
        details.append(node("summary", null, sim.detail), node("pre", null, sim.log));
        row.extra.appendChild(details);
      }
    } else if (sim.detail) {
      row.extra.className = "twyn-row-error";
      row.extra.textContent = sim.detail;
    } else if (sim.notice && !sim.ended) {
      row.extra.className = "twyn-row-notice twyn-muted";
      row.extra.textContent = sim.notice;
    }
  };

  const tickRow = (row, t) => {
    const r = readout(row.sim, t);
    row.shown = Math.max(row.shown, r.progress);
    row.fill.style.width = `${(row.shown * 100).toFixed(1)}%`;
    setText(row.elapsed, duration(r.elapsed));
  };

  const drawCounts = () => {
    let running = 0, done = 0, failed = 0, other = 0;
    for (const row of rows) {
      const s = row.sim.state;
      if (!row.sim.ended) running += 1;
      else if (s === "succeeded") done += 1;
      else if (s === "failed" || s === "error") failed += 1;
      else other += 1;
    }
    counts.replaceChildren(node("b", null, `${rows.length} simulations`),
      `: ${running} running, ${done} done, ${failed} failed` + (other ? `, ${other} stopped or timed out` : ""));
    stop.hidden = running === 0;
  };

  const drawRow = (n, sim, live) => {
    while (rows.length <= n) rows.push(makeRow(rows.length));
    const row = rows[n];
    const before = row.sim;
    row.sim = sim;
    row.tr.dataset.state = sim.state;
    row.tr.style.setProperty("--twyn-accent", sim.accent);
    setText(row.name, sim.title);
    row.name.title = sim.title;
    setText(row.id, sim.id);
    row.id.title = sim.id;
    setText(row.phase, sim.phase || "–");
    // A failed row names the phase that failed, as the static outcome does ("failed in the
    // Analyst"): a front end that keeps the live view at the end (Voila, marimo) says the same.
    const where = sim.state === "failed" && sim.phase ? ` in the ${sim.phase.split(",")[0]}` : "";
    setText(row.word, sim.word + where);
    drawExtra(row, sim);
    tickRow(row, now());
    if (sim.ended && live && before && !before.ended) announce(sim, model.get("notify"));
    else if (sim.ended) page.told.add(sim.id);
  };

  const tick = () => {
    const t = now();
    for (const row of rows) if (!row.sim.ended) tickRow(row, t);
  };
  const { bell, note } = bellButton(model, tick);
  actions.append(stop, bell, note);
  root.append(counts, table, actions);
  el.appendChild(root);
  sims.forEach((sim, n) => drawRow(n, sim, false));
  drawCounts();

  // Why custom messages: a trait is sent whole, and 200 rows a change would cost what the old
  // board cost; the kernel sends the rows that changed as {rows: [[index, sim], ...]}.
  const onMessage = (msg) => {
    if (!msg || !Array.isArray(msg.rows)) return;
    for (const [n, sim] of msg.rows) {
      sims[n] = sim;
      drawRow(n, sim, true);
    }
    drawCounts();
  };
  model.on("msg:custom", onMessage);
  const timer = setInterval(tick, TICK_MS);
  return () => {
    clearInterval(timer);
    model.off("msg:custom", onMessage);
  };
}

export default {
  render({ model, el }) {
    ensureStyle(el);
    return model.get("kind") === "board" ? renderBoard(model, el) : renderWatcher(model, el);
  },
};
