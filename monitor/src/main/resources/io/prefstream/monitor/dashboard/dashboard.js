// The dashboard: polls /v1/dashboard every 2 s and redraws. Chart.js comes from the jar's WebJar.
const palette = ['#0969da', '#1a7f37', '#cf222e', '#9a6700', '#8250df', '#bf3989', '#0a3069', '#57606a',
  '#2da44e', '#fb8f44', '#6e7781', '#a475f9', '#e16f24', '#1f6feb'];

function lineChart(id, yTitle) {
  return new Chart(document.getElementById(id), {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      elements: { point: { radius: 0 } },
      scales: { x: { ticks: { maxTicksLimit: 6 } }, y: { beginAtZero: true, title: { display: true, text: yTitle } } },
      plugins: { legend: { position: 'right', labels: { boxWidth: 10 } } }
    }
  });
}

const charts = {
  events: lineChart('events', 'per second'),
  pairs: lineChart('pairs', 'per second'),
  training: lineChart('training', 'accuracy / loss')
};

function setSeries(chart, labels, named) {
  chart.data.labels = labels;
  chart.data.datasets = Object.keys(named).sort().map((name, i) => ({
    label: name, data: named[name], borderColor: palette[i % palette.length],
    backgroundColor: palette[i % palette.length], borderWidth: 1.5, tension: 0.2
  }));
  chart.update();
}

// One bar chart per tenant/model: each arm's share of its scores per bin, on shared bins.
const armColors = { champion: '#0969da', candidate: '#cf222e', shadow: '#8250df' };
const scoreCharts = {};

function renderScores(models) {
  const box = document.getElementById('scores');
  if (models.length === 0) { return; }
  box.querySelector('.none')?.remove();
  models.slice(0, 4).forEach(m => {
    let chart = scoreCharts[m.model];
    if (!chart) {
      const wrap = document.createElement('div');
      wrap.className = 'scores';
      wrap.innerHTML = `<h3>${esc(m.model)}</h3><div class="chart"><canvas></canvas></div><p class="figure"></p>`;
      box.appendChild(wrap);
      chart = new Chart(wrap.querySelector('canvas'), {
        type: 'bar',
        data: { labels: [], datasets: [] },
        options: {
          animation: false, responsive: true, maintainAspectRatio: false,
          scales: { x: { title: { display: true, text: 'normalised score' }, ticks: { maxTicksLimit: 8 } },
            y: { beginAtZero: true, title: { display: true, text: 'share of scores' } } },
          plugins: { legend: { position: 'right', labels: { boxWidth: 10 } } }
        }
      });
      chart.caption = wrap.querySelector('.figure');
      scoreCharts[m.model] = chart;
    }
    chart.data.labels = m.edges.slice(0, -1).map((e, i) => fmt((e + m.edges[i + 1]) / 2, 2));
    chart.data.datasets = Object.entries(m.arms).map(([arm, a]) => ({
      label: `${arm} v${a.version}`, data: a.shares,
      backgroundColor: (armColors[arm] ?? '#57606a') + '99', borderColor: armColors[arm] ?? '#57606a', borderWidth: 1
    }));
    chart.update();
    chart.caption.textContent = Object.entries(m.arms)
      .map(([arm, a]) => `${arm} v${a.version}: mean ${fmt(a.mean, 2)} over ${a.n} scores`).join(' · ');
  });
}

function time(ms) { return new Date(ms).toLocaleTimeString(); }
function fmt(v, digits = 3) { return v == null || Number.isNaN(v) ? '–' : Number(v).toFixed(digits); }
function esc(s) { return String(s ?? '').replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c])); }

function rates(series, field) {
  const names = new Set();
  series.forEach(s => Object.keys(s[field]).forEach(k => names.add(k)));
  const named = {};
  names.forEach(n => { named[n] = series.map(s => s[field][n] ?? 0); });
  return named;
}

function render(d) {
  const labels = d.series.map(s => time(s.at));
  const events = rates(d.series, 'events_per_s');
  events['dead letters'] = d.series.map(s => s.dead_letters_per_s);
  setSeries(charts.events, labels, events);
  setSeries(charts.pairs, labels, rates(d.series, 'pairs_per_s'));
  const last = d.series[d.series.length - 1];
  if (last) {
    const total = o => Object.values(o).reduce((a, b) => a + b, 0);
    document.getElementById('events-now').textContent =
      `now ${fmt(total(last.events_per_s), 1)} events/s, ${fmt(last.dead_letters_per_s, 1)} dead letters/s`;
    const explicit = (d.pairs_total.rating || 0) + (d.pairs_total.thumb || 0);
    const revised = total(d.pair_revisions || {});
    document.getElementById('pairs-now').textContent = `now ${fmt(total(last.pairs_per_s), 1)} pairs/s` +
      (explicit > 0 ? `; ${revised} of ${explicit} rating and thumb pairs revised (${fmt(100 * revised / explicit, 1)}%)` : '');
  }
  renderScores(d.scores);
  const cps = d.checkpoints;
  setSeries(charts.training, cps.map(c => `${c.tenant} v${c.version}`), {
    prequential: cps.map(c => c.metrics.prequential_accuracy ?? null),
    holdout: cps.map(c => c.metrics.holdout_accuracy ?? null),
    loss: cps.map(c => c.metrics.loss ?? null)
  });
  const lag = l => l ? `${l.pairs} pairs, ${fmt(l.seconds, 1)} s` : '–';
  document.getElementById('models').innerHTML = '<tr><th>tenant/model</th><th>champion</th><th>candidate</th><th>phase</th><th>weight</th><th>champion behind</th><th>candidate behind</th></tr>' +
    d.models.map(m => `<tr><td>${esc(m.tenant)}/${esc(m.model)}</td><td>v${m.champion ?? '–'}</td><td>${m.candidate ? 'v' + m.candidate : '–'}</td><td>${esc(m.phase)}</td><td>${fmt(m.candidate_weight * 100, 0)}%</td><td class="lag">${lag((m.lag || {}).champion)}</td><td class="lag">${lag((m.lag || {}).candidate)}</td></tr>`).join('');
  document.getElementById('drift').innerHTML = '<tr><th>tenant/model</th><th>metric</th><th>value</th><th>warn</th><th>alert</th><th>level</th><th>n</th><th>window end</th></tr>' +
    d.drift.map(r => `<tr><td>${esc(r.tenant_id)}/${esc(r.model)}${r.version ? ' v' + r.version : ''}</td><td>${esc(r.metric)}</td><td>${fmt(r.value)}</td><td>${fmt(r.warn_threshold, 2)}</td><td>${fmt(r.alert_threshold, 2)}</td><td class="${r.level}">${r.level}</td><td>${r.sample_size}</td><td>${esc(r.window_end)}</td></tr>`).join('');
  document.getElementById('decisions').innerHTML = '<tr><th>at</th><th>tenant/model</th><th>action</th><th>version</th><th>weight</th><th>by</th><th>reason</th></tr>' +
    d.decisions.slice().sort((a, b) => b.at.localeCompare(a.at)).slice(0, 30).map(x => `<tr><td>${esc(x.at)}</td><td>${esc(x.tenant)}/${esc(x.model)}</td><td>${esc(x.action)}</td><td>v${x.version}</td><td>${fmt(x.weight * 100, 0)}%</td><td>${esc(x.actor)}</td><td>${esc(x.reason)}</td></tr>`).join('');
  const alerts = document.getElementById('alerts');
  alerts.innerHTML = d.alerts.length === 0 ? '<li class="none">none</li>' :
    d.alerts.map(a => `<li class="${a.level}">${a.level} ${esc(a.tenant_id)}/${esc(a.model)} ${esc(a.metric)} = ${fmt(a.value)} (threshold ${fmt(a.level === 'ALERT' ? a.alert_threshold : a.warn_threshold, 2)}, window ending ${esc(a.window_end)})</li>`).join('');
}

// The API key: a tenant's shows that tenant, an operator's every tenant. Taken once from the
// address (#key=...; a fragment is never sent to a server) or the form, kept for this tab only.
const KEY = 'prefstream-key';
function apiKey() {
  const m = location.hash.match(/key=([^&]+)/);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem(KEY);
}
function askForKey(why) {
  const form = document.getElementById('key-form');
  form.hidden = false;
  const status = document.getElementById('status');
  status.textContent = why; status.className = 'down';
}
document.getElementById('key-form').addEventListener('submit', e => {
  e.preventDefault();
  sessionStorage.setItem(KEY, document.getElementById('key').value.trim());
  document.getElementById('key-form').hidden = true;
  poll();
});

async function poll() {
  const status = document.getElementById('status');
  const key = apiKey();
  if (!key) {
    askForKey('API key needed');
    return;
  }
  try {
    const r = await fetch('/v1/dashboard', {headers: {'Authorization': 'Bearer ' + key}});
    if (r.status === 401) {
      sessionStorage.removeItem(KEY);
      askForKey('API key refused: ' + (await r.json()).reason);
      return;
    }
    const d = await r.json();
    render(d);
    document.getElementById('viewer').textContent = d.viewer === 'operator' ? 'all tenants' : 'tenant ' + d.viewer;
    status.textContent = 'live'; status.className = 'ok';
    document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    status.textContent = 'monitor unreachable'; status.className = 'down';
  }
}
poll();
setInterval(poll, 2000);
