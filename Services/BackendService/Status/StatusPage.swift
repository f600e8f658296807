/// The status page: one HTML document with its style and script inline, so it works offline and needs no build step.
/// It polls `GET /status/data` every 2 s and draws the throughput plots on a canvas. Element ids are what the browser
/// test (`scripts/test/status-page.py`) reads, so keep them.
enum StatusPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Market data — status</title>
    <style>
      :root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
      * { box-sizing: border-box; }
      body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
      header { display: flex; align-items: baseline; gap: 1rem; padding: .8rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
      header h1 { font-size: 1.1rem; margin: 0; }
      header .muted { color: var(--muted); }
      main { display: grid; grid-template-columns: repeat(auto-fit, minmax(400px, 1fr)); gap: 1rem; padding: 1rem 1.2rem; }
      section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; overflow-x: auto; }
      section h2 { font-size: .95rem; margin: 0 0 .6rem; }
      table { border-collapse: collapse; width: 100%; }
      th, td { text-align: left; padding: .25rem .35rem; border-bottom: 1px solid #eaeef2; font-variant-numeric: tabular-nums; font-size: 13px; }
      th { color: var(--muted); font-weight: 600; white-space: nowrap; }
      .big { font-size: 1.8rem; font-weight: 600; font-variant-numeric: tabular-nums; }
      .tiles { display: flex; gap: 1.5rem; flex-wrap: wrap; }
      .tile .label { color: var(--muted); }
      .state { font-weight: 600; }
      .state.ok, .state.streaming { color: var(--ok); }
      .state.connecting, .state.backoff, .state.stale, .state.idle, .state.degraded { color: var(--warn); }
      .state.stalled, .state.forbidden, .state.credentials_rejected, .state.failed, .state.unreachable { color: var(--bad); }
      #banner { display: none; padding: .5rem 1.2rem; background: #ffebe9; color: var(--bad); border-bottom: 1px solid #ffcecb; }
      canvas { width: 100%; height: 140px; display: block; }
      .bar { height: 8px; background: #eaeef2; border-radius: 4px; overflow: hidden; }
      .bar > div { height: 100%; background: #0969da; width: 0; }
      .empty { color: var(--muted); font-style: italic; }
    </style>
    </head>
    <body>
    <header>
      <h1>Market data platform</h1>
      <span class="muted">environment <b id="environment">…</b></span>
      <span class="muted">updated <span id="updated-at">never</span></span>
    </header>
    <div id="banner"></div>
    <main>
      <section id="overview">
        <h2>Overview</h2>
        <div class="tiles">
          <div class="tile"><div class="label">active subscriptions</div><div class="big" id="subscriptions-count">–</div></div>
          <div class="tile"><div class="label">streaming instruments</div><div class="big" id="streaming-count">–</div></div>
          <div class="tile"><div class="label">outbox pending</div><div class="big" id="outbox-pending">–</div></div>
          <div class="tile"><div class="label">ticker</div><div class="big state" id="ticker-status">–</div></div>
        </div>
      </section>
      <section>
        <h2>Broker connections</h2>
        <table id="connections">
          <thead><tr><th>account</th><th>conn.</th><th>state</th><th>instr.</th><th>last message</th></tr></thead>
          <tbody></tbody>
        </table>
      </section>
      <section>
        <h2>Ticks per second</h2>
        <canvas id="ticks-plot" width="800" height="140"></canvas>
        <div class="muted" id="ticks-now"></div>
      </section>
      <section>
        <h2>Events per second</h2>
        <canvas id="events-plot" width="800" height="140"></canvas>
        <div class="muted" id="events-now"></div>
      </section>
      <section>
        <h2>Streams</h2>
        <table id="streams">
          <thead><tr><th>stream</th><th>group</th><th>lag</th><th>pending</th><th>cons.</th></tr></thead>
          <tbody></tbody>
        </table>
      </section>
      <section>
        <h2>Backfill</h2>
        <div class="tiles">
          <div class="tile"><div class="label">queued</div><div class="big" id="backfill-queued">–</div></div>
          <div class="tile"><div class="label">running</div><div class="big" id="backfill-running">–</div></div>
          <div class="tile"><div class="label">completed</div><div class="big" id="backfill-completed">–</div></div>
          <div class="tile"><div class="label">failed</div><div class="big" id="backfill-failed">–</div></div>
        </div>
        <p id="backfill-cycle" class="muted"></p>
        <div class="bar"><div id="backfill-progress"></div></div>
        <h2 style="margin-top: .8rem">Recent failures</h2>
        <table id="backfill-failures">
          <thead><tr><th>instrument</th><th>when</th><th>error</th></tr></thead>
          <tbody></tbody>
        </table>
      </section>
      <section>
        <h2>Dependencies</h2>
        <table id="dependencies">
          <thead><tr><th>service</th><th>dependency</th><th>state</th></tr></thead>
          <tbody></tbody>
        </table>
      </section>
    </main>
    <script>
    "use strict";
    const $ = (id) => document.getElementById(id);
    const text = (value) => (value === null || value === undefined) ? "–" : String(value);

    function row(cells, attributes) {
      const tr = document.createElement("tr");
      for (const [key, value] of Object.entries(attributes || {})) tr.setAttribute(key, value);
      for (const cell of cells) {
        const td = document.createElement("td");
        if (cell && typeof cell === "object") { td.textContent = cell.text; td.className = cell.className || ""; }
        else td.textContent = text(cell);
        tr.appendChild(td);
      }
      return tr;
    }

    function fill(tableId, rows, emptyText, columns) {
      const body = $(tableId).querySelector("tbody");
      body.replaceChildren(...rows);
      if (rows.length === 0) {
        const tr = document.createElement("tr");
        const td = document.createElement("td");
        td.colSpan = columns; td.className = "empty"; td.textContent = emptyText;
        tr.appendChild(td); body.appendChild(tr);
      }
    }

    function age(lastMessageAt) {
      if (lastMessageAt === null || lastMessageAt === undefined) return "never";
      const seconds = Math.max(0, Date.now() / 1000 - lastMessageAt);
      return seconds < 60 ? seconds.toFixed(1) + " s ago" : Math.round(seconds / 60) + " min ago";
    }

    function plot(canvasId, samples, key, color) {
      const canvas = $(canvasId);
      const context = canvas.getContext("2d");
      // Draw at the size the canvas is shown, in device pixels, so text and lines stay sharp.
      const ratio = window.devicePixelRatio || 1;
      const width = canvas.clientWidth || 400, height = canvas.clientHeight || 140, left = 40, bottom = 18, top = 8;
      if (canvas.width !== Math.round(width * ratio)) { canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio); }
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.clearRect(0, 0, width, height);
      const values = samples.map((sample) => sample[key]);
      const known = values.filter((value) => value !== null);
      const max = Math.max(1, ...known) * 1.1;
      context.strokeStyle = "#d0d7de"; context.fillStyle = "#57606a"; context.font = "11px system-ui";
      for (const fraction of [0, 0.5, 1]) {
        const y = top + (height - bottom - top) * (1 - fraction) + 0.5;
        context.beginPath(); context.moveTo(left, y); context.lineTo(width, y); context.stroke();
        context.fillText((max * fraction).toFixed(max < 10 ? 1 : 0), 2, y + 4);
      }
      const span = samples.length * (window.statusInterval || 5);
      context.fillText(samples.length ? "last " + (span < 120 ? span + " s" : Math.round(span / 60) + " min") : "collecting…", left, height - 4);
      if (values.length < 2) return;
      context.strokeStyle = color; context.lineWidth = 2; context.beginPath();
      let drawing = false;
      values.forEach((value, index) => {
        if (value === null) { drawing = false; return; }
        const x = left + (width - left) * index / (values.length - 1);
        const y = top + (height - bottom - top) * (1 - value / max);
        if (drawing) context.lineTo(x, y); else context.moveTo(x, y);
        drawing = true;
      });
      context.stroke();
    }

    function render(data) {
      $("environment").textContent = data.environment;
      $("updated-at").textContent = new Date(data.generated_at).toLocaleTimeString();
      const health = data.ticker.health;
      const ticker = health ? health.ticker : null;
      $("ticker-status").textContent = data.ticker.reachable ? health.status : "unreachable";
      $("ticker-status").className = "big state " + (data.ticker.reachable ? health.status : "unreachable");
      $("subscriptions-count").textContent = text(ticker ? ticker.active_subscriptions : null);
      $("streaming-count").textContent = text(ticker ? ticker.streaming_instruments : null);
      $("outbox-pending").textContent = text(data.outbox_pending);
      const banner = $("banner");
      banner.style.display = data.ticker.reachable ? "none" : "block";
      banner.textContent = data.ticker.reachable ? "" : "TickerService does not answer: " + data.ticker.error;

      const connections = (ticker ? ticker.connections : []).map((c) => row([
        c.account_id, c.connection_id, { text: c.state, className: "state " + c.state }, c.instruments, age(c.last_message_at),
      ], { "data-state": c.state, "data-account": c.account_id }));
      fill("connections", connections, "no connection is open (nothing subscribed)", 5);

      fill("streams", data.streams.map((s) => row([s.stream, s.group, s.lag, s.pending, s.consumers])), "no consumer group yet", 5);

      const backfill = data.backfill;
      $("backfill-queued").textContent = backfill.queue.queued;
      $("backfill-running").textContent = backfill.queue.running_count;
      $("backfill-completed").textContent = backfill.queue.completed;
      $("backfill-failed").textContent = backfill.queue.failed;
      const cycle = backfill.current_cycle || backfill.last_cycle;
      const running = backfill.current_cycle !== null;
      if (cycle) {
        const total = Math.max(cycle.instruments_total, 0);
        const done = cycle.instruments_done;
        $("backfill-cycle").textContent = (running ? "periodic cycle running: " : "last periodic cycle: ") +
          done + " of " + total + " instruments, " + cycle.gaps_found + " gaps, " + cycle.bars_written + " bars, " +
          cycle.failures + " failures" + (cycle.error ? " (" + cycle.error + ")" : "");
        $("backfill-progress").style.width = (total ? Math.min(100, 100 * done / total) : (running ? 0 : 100)) + "%";
      } else {
        $("backfill-cycle").textContent = backfill.flags.subscription_aware ? "no periodic cycle has run yet" : "periodic backfill is off";
        $("backfill-progress").style.width = "0%";
      }
      fill("backfill-failures", backfill.recent_failures.map((f) => row([f.instrument_token, new Date(f.at).toLocaleTimeString(), f.error])), "none", 3);

      const dependencies = [];
      for (const [name, state] of Object.entries(data.dependencies)) {
        dependencies.push(row(["backend", name, { text: state, className: "state " + (state === "ok" ? "ok" : "failed") }]));
      }
      if (health) {
        for (const [name, state] of Object.entries(health.dependencies)) {
          const value = typeof state === "string" ? state : state.status;
          dependencies.push(row(["ticker", name, { text: value, className: "state " + (value === "ok" ? "ok" : "failed") }]));
        }
      }
      fill("dependencies", dependencies, "none", 3);

      window.statusInterval = data.throughput.interval_seconds;
      const samples = data.throughput.samples;
      plot("ticks-plot", samples, "ticks_per_second", "#0969da");
      plot("events-plot", samples, "events_per_second", "#8250df");
      const last = samples.length ? samples[samples.length - 1] : null;
      $("ticks-now").textContent = last && last.ticks_per_second !== null ? "now " + last.ticks_per_second.toFixed(1) + " ticks/s" : "";
      $("events-now").textContent = last && last.events_per_second !== null ? "now " + last.events_per_second.toFixed(2) + " events/s" : "";
    }

    async function refresh() {
      try {
        const response = await fetch("status/data", { cache: "no-store" });
        render(await response.json());
      } catch (error) {
        const banner = $("banner");
        banner.style.display = "block";
        banner.textContent = "BackendService does not answer: " + error;
      }
    }
    refresh();
    setInterval(refresh, 2000);
    </script>
    </body>
    </html>
    """#
}
