// The VitaSync console: a page over the public API, signed in with an API key kept in this
// tab's sessionStorage (never a cookie, never the URL). Every value from the API is put in the
// page as text, never as markup.

const KEY = 'vitasync.key';
const main = document.getElementById('main');

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    node.append(child instanceof Node ? child : document.createTextNode(child ?? ''));
  }
  return node;
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

const when = (value, timeZone) => (value ? new Date(value).toLocaleString(undefined, timeZone ? { timeZone } : {}) : '—');
const status = (value) => el('span', { class: `status-${value}` }, value);
let caller = null;
const mayWrite = () => caller && caller.scopes.some((scope) => scope === 'write' || scope === 'admin');
const isAdmin = () => caller && caller.scopes.includes('admin');

/// A button that does `work`, then shows the view again (or the error).
function action(label, name, work) {
  return el('button', {
    type: 'button', class: 'quiet', 'data-action': name,
    onclick: async () => {
      try { await work(); } catch (error) { failure(error); }
    },
  }, label);
}


function table(headings, rows, empty) {
  if (!rows.length) return el('p', { class: 'empty' }, empty);
  return el('div', { class: 'table' },
    el('table', {},
      el('thead', {}, el('tr', {}, headings.map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', {}, c)))))));
}

/// Puts a view on the page, unless the page has moved on (another view asked for) since the
/// view started loading: an answer that arrives late never covers a newer view.
let shown = 0;
function show(...content) {
  main.replaceChildren(...content);
}
function viewer() {
  const mine = ++shown;
  return (...content) => {
    if (mine === shown) show(...content);
  };
}

function failure(error) {
  if (error instanceof ApiError && error.status === 401) return signOut('Your key is no longer accepted.');
  viewer()(el('p', { class: 'error', role: 'alert' }, error.message));
}

function signIn(message) {
  const input = el('input', { type: 'password', name: 'key', placeholder: 'vs_live_…', autocomplete: 'off', required: true, 'aria-label': 'API key' });
  viewer()(
    el('h1', {}, 'Sign in'),
    el('p', { class: 'note' }, 'With an API key of your workspace. It stays in this tab only and is forgotten when the tab closes.'),
    message ? el('p', { class: 'error', role: 'alert' }, message) : '',
    el('form', {
      class: 'inline',
      onsubmit: async (event) => {
        event.preventDefault();
        sessionStorage.setItem(KEY, input.value.trim());
        try {
          await start();
        } catch (error) {
          sessionStorage.removeItem(KEY);
          signIn(error instanceof ApiError && error.status === 401 ? 'That key is not valid.' : error.message);
        }
      },
    }, input, el('button', { type: 'submit' }, 'Sign in')),
  );
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  caller = null;
  document.getElementById('workspace').textContent = '';
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  signIn(message);
}

async function start() {
  caller = await api('GET', '/v1/workspace');
  const access = mayWrite() ? caller.scopes.join(', ') : 'read only';
  document.getElementById('workspace').textContent = `${caller.workspace.name} (${access})`;
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  if (!location.hash.startsWith('#/')) location.hash = '#/users';
  else route();
}

async function users(query) {
  const put = viewer();
  const params = new URLSearchParams(query);
  const externalId = params.get('externalId') || '';
  const search = el('input', { type: 'search', name: 'externalId', value: externalId, placeholder: 'externalId', 'aria-label': 'externalId' });
  const form = el('form', {
    class: 'inline',
    onsubmit: (event) => {
      event.preventDefault();
      location.hash = search.value.trim() ? `#/users?externalId=${encodeURIComponent(search.value.trim())}` : '#/users';
    },
  }, search, el('button', { type: 'submit' }, 'Find'));
  const wanted = new URLSearchParams({ limit: '20' });
  if (externalId) wanted.set('externalId', externalId);
  if (params.get('cursor')) wanted.set('cursor', params.get('cursor'));
  const page = await api('GET', `/v1/users?${wanted}`);
  const rows = page.data.map((user) => [
    el('a', { href: `#/users/${encodeURIComponent(user.id)}`, 'data-user': user.externalId }, user.externalId),
    user.displayName || user.email || '',
    when(user.createdAt),
  ]);
  const next = page.nextCursor
    ? el('p', {}, el('a', { href: `#/users?${new URLSearchParams({ ...(externalId ? { externalId } : {}), cursor: page.nextCursor })}` }, 'Next page →'))
    : '';
  put(el('h1', {}, 'Users'), form, table(['externalId', 'name', 'created'], rows, externalId ? 'No user has this externalId.' : 'No users yet.'), next);
}

async function user(id) {
  const put = viewer();
  const [who, connections, jobs] = await Promise.all([
    api('GET', `/v1/users/${encodeURIComponent(id)}`),
    api('GET', `/v1/users/${encodeURIComponent(id)}/connections`),
    api('GET', `/v1/users/${encodeURIComponent(id)}/sync-jobs`),
  ]);
  const link = el('output', { hidden: true, 'aria-live': 'polite' });
  const connectionRows = connections.data.map((c) => [
    c.providerId,
    status(c.status),
    c.statusReason || '',
    c.scopes.join(' '),
    when(c.lastSyncedAt),
    when(c.tokenExpiresAt),
    mayWrite()
      ? el('span', {},
        el('button', {
          type: 'button', class: 'quiet', 'data-action': 'sync', 'data-connection': c.id,
          onclick: async () => {
            try {
              await api('POST', `/v1/users/${encodeURIComponent(id)}/connections/${encodeURIComponent(c.id)}/sync`, {});
              await user(id);
            } catch (error) { failure(error); }
          },
        }, 'Sync now'), ' ',
        el('button', {
          type: 'button', class: 'quiet', 'data-action': 'reconnect',
          onclick: async () => {
            try {
              const made = await api('POST', `/v1/users/${encodeURIComponent(id)}/connect-links`, { providerId: c.providerId });
              link.textContent = `Send the user this link (valid until ${when(made.expiresAt)}): ${made.url}`;
              link.hidden = false;
            } catch (error) { failure(error); }
          },
        }, 'Reconnect link'))
      : '',
  ]);
  const jobRows = jobs.data.map((j) => [
    j.connectionId ? (connections.data.find((c) => c.id === j.connectionId)?.providerId ?? '') : '',
    status(j.status),
    Object.entries(j.counts || {}).map(([type, n]) => `${type} ${n.written}/${n.fetched}`).join(', '),
    j.error ? `${j.error.code}: ${j.error.message}` : '',
    String(j.attempts ?? ''),
    when(j.createdAt),
  ]);
  // The user's zone where a provider told it, else this browser's; the pick is kept in the tab.
  const usersZone = connections.data.map((c) => c.timeZone).find(Boolean);
  const zone = sessionStorage.getItem('vitasync.zone') || usersZone || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const range = sessionStorage.getItem('vitasync.range') || 'week';
  const picker = (name, options, value, key) => el('select', {
    name, 'aria-label': name,
    onchange: (event) => { sessionStorage.setItem(key, event.target.value); user(id); },
  }, options.map((option) => el('option', { value: option, selected: option === value }, option)));
  const zones = ZONES.includes(zone) ? ZONES : [zone, ...ZONES];
  const charts = await userData(id, connections.data, zone, range);
  put(
    el('p', {}, el('a', { href: '#/users' }, '← Users')),
    el('h1', {}, who.displayName || who.externalId),
    el('p', { class: 'note' }, `externalId ${who.externalId} · id ${who.id}`),
    el('h2', {}, 'Connections'),
    table(['provider', 'status', 'reason', 'scopes', 'last sync', 'token expires', ''], connectionRows,
      'No connection yet: send the user a connect link.'),
    link,
    el('h2', {}, 'Sync jobs'),
    table(['provider', 'status', 'written/fetched', 'error', 'attempts', 'created'], jobRows, 'No sync has run yet.'),
    el('h2', {}, 'Data'),
    el('form', { class: 'inline' }, picker('zone', zones, zone, 'vitasync.zone'), picker('range', Object.keys(RANGES), range, 'vitasync.range'),
      el('span', { class: 'note' }, 'Drag across a chart to zoom; double-click to zoom out.')),
    charts,
  );
}

/// The workspace's keys; `revealed` is a secret just issued, shown this once.
async function keys(revealed) {
  const put = viewer();
  const listed = await api('GET', '/v1/api-keys');
  const secret = revealed
    ? el('output', { 'aria-live': 'polite', 'data-secret': true }, `${revealed.what}: `, el('code', {}, revealed.secret),
      ' (shown this once: keep it now)')
    : '';
  const name = el('input', { name: 'name', placeholder: 'name', required: true, 'aria-label': 'name' });
  const scope = el('select', { name: 'scope', 'aria-label': 'scope' },
    ['read', 'write', 'admin'].map((s) => el('option', { value: s }, s)));
  const create = el('form', {
    class: 'inline',
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const issued = await api('POST', '/v1/api-keys', { name: name.value.trim(), scopes: [scope.value] });
        await keys({ what: `New key ${issued.name}`, secret: issued.secret });
      } catch (error) { failure(error); }
    },
  }, name, scope, el('button', { type: 'submit' }, 'Create key'));
  const rows = listed.data.map((key) => [
    key.name, key.prefix, key.scopes.join(', '), when(key.createdAt), when(key.rotatedAt),
    !isAdmin() ? '' : el('span', {},
      action('Rotate', 'rotate', async () => {
        const issued = await api('POST', `/v1/api-keys/${encodeURIComponent(key.id)}/rotate`);
        await keys({ what: `New secret of ${key.name}`, secret: issued.secret });
      }), ' ',
      action('Revoke', 'revoke', async () => {
        await api('DELETE', `/v1/api-keys/${encodeURIComponent(key.id)}`);
        await keys();
      })),
  ]);
  put(el('h1', {}, 'API keys'), isAdmin() ? create : el('p', { class: 'note' }, 'Only admin keys create, rotate or revoke keys.'), secret,
    table(['name', 'prefix', 'scopes', 'created', 'rotated', ''], rows, 'No keys.'));
}

async function webhooks() {
  const put = viewer();
  const listed = await api('GET', '/v1/webhooks');
  const rows = listed.data.map((hook) => [
    el('a', { href: `#/webhooks/${encodeURIComponent(hook.id)}` }, hook.url),
    hook.events.join(', '),
    hook.enabled ? status(hook.status) : 'disabled',
    when(hook.createdAt),
  ]);
  put(el('h1', {}, 'Webhooks'), table(['url', 'events', 'status', 'created'], rows,
    'No endpoint yet: POST /v1/webhooks.'));
}

async function webhook(id) {
  const put = viewer();
  const [hook, deliveries] = await Promise.all([
    api('GET', `/v1/webhooks/${encodeURIComponent(id)}`),
    api('GET', `/v1/webhooks/${encodeURIComponent(id)}/deliveries`),
  ]);
  const payload = el('pre', { hidden: true, class: 'payload' });
  const rows = deliveries.data.map((delivery) => [
    delivery.eventType,
    status(delivery.status),
    el('span', {}, delivery.attempts.map((a) =>
      el('span', { class: 'attempt' }, `${a.statusCode ?? a.error ?? '—'} in ${a.latencyMs} ms at ${when(a.at)}`, el('br')))),
    when(delivery.createdAt),
    el('span', {},
      el('button', {
        type: 'button', class: 'quiet', 'data-view': 'payload',
        onclick: () => {
          payload.textContent = JSON.stringify(delivery.payload, null, 2);
          payload.hidden = false;
        },
      }, 'Payload'), ' ',
      !isAdmin() ? '' : action('Resend', 'resend', async () => {
        await api('POST', `/v1/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(delivery.id)}/resend`);
        await webhook(id);
      })),
  ]);
  put(
    el('p', {}, el('a', { href: '#/webhooks' }, '← Webhooks')),
    el('h1', {}, hook.url),
    el('p', { class: 'note' }, `${hook.events.join(', ')} · ${hook.enabled ? hook.status : 'disabled'}`),
    isAdmin() ? el('p', {}, action('Send a test event', 'test', async () => {
      await api('POST', `/v1/webhooks/${encodeURIComponent(id)}/test`);
      await webhook(id);
    })) : '',
    el('h2', {}, 'Deliveries'),
    table(['event', 'status', 'attempts', 'created', ''], rows, 'Nothing delivered yet.'),
    payload,
  );
}

// ---- A user's data, as charts (uPlot, served from here) ----

const ZONES = ['UTC', 'Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Los_Angeles', 'Asia/Kathmandu', 'Asia/Tokyo'];
const RANGES = { day: 1, week: 7, month: 30 };
const STAGE_LEVEL = { deep: 0, light: 1, rem: 2, awake: 3 };
const seconds = (rfc3339) => Date.parse(rfc3339) / 1000;
const dayOf = (date) => Date.parse(`${date}T00:00:00Z`) / 1000;

/// A chart, or the reason there is none. `series` is [{label, values, stroke, bars?, stepped?}].
function chart(title, xs, series, { zone = 'UTC', empty, yLabels, height = 200 } = {}) {
  const box = el('section', { class: 'chart', 'data-chart': title, 'data-points': String(xs.length) }, el('h3', {}, title));
  if (!xs.length) {
    box.append(el('p', { class: 'empty' }, empty));
    return box;
  }
  const width = Math.max(280, Math.min(main.clientWidth - 32, 1060));
  const opts = {
    width,
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
    cursor: { drag: { x: true, y: false } },
    // Labelled levels (sleep stages) get one tick each and room above and below.
    scales: { x: { time: true }, ...(yLabels ? { y: { range: [-0.5, yLabels.length - 0.5] } } : {}) },
    axes: [{}, yLabels
      ? { size: 64, splits: () => yLabels.map((_, n) => n), values: (_, ticks) => ticks.map((t) => yLabels[t] ?? '') }
      : { size: 64 }],
    series: [{}, ...series.map((one) => ({
      label: one.label,
      stroke: one.stroke,
      fill: one.bars ? one.stroke : undefined,
      paths: one.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : one.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
      points: { show: false },
      spanGaps: false,
    }))],
  };
  // eslint-disable-next-line no-new
  new uPlot(opts, [xs, ...series.map((one) => one.values)], box);
  return box;
}

/// Daily rows as aligned series: dates on x, one array per metric.
function daily(rows, metrics) {
  const dates = [...new Set(rows.filter((r) => metrics.includes(r.metricType)).map((r) => r.date))].sort();
  const values = metrics.map((metric) => dates.map((date) => rows.find((r) => r.date === date && r.metricType === metric)?.value ?? null));
  return { xs: dates.map(dayOf), values };
}

async function userData(id, connections, zone, range) {
  const section = el('div', { class: 'data' });
  if (!connections.length) {
    section.append(el('p', { class: 'empty' }, 'No data: the user has no connection yet.'));
    return section;
  }
  if (!connections.some((c) => c.lastSyncedAt)) {
    section.append(el('p', { class: 'empty' }, 'No data yet: the first sync has not finished.'));
    return section;
  }
  const base = `/v1/users/${encodeURIComponent(id)}`;
  const to = new Date();
  const from = new Date(to.getTime() - RANGES[range] * 86400e3);
  const days = new Date(to.getTime() - Math.max(RANGES[range], 30) * 86400e3);
  const q = (params) => new URLSearchParams(params).toString();
  const [hr, rows, sleeps, workouts, weight, pressure, glucose] = await Promise.all([
    api('GET', `${base}/health/timeseries?${q({ metricType: 'heart_rate', bucket: range === 'day' ? 'minute' : 'hour', agg: 'avg', tz: zone, from: from.toISOString(), to: to.toISOString() })}`),
    api('GET', `${base}/health/daily-summaries?${q({ from: days.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10), metricTypes: 'steps,distance,active_calories,resting_heart_rate,heart_rate_variability,glucose' })}`),
    api('GET', `${base}/events?${q({ eventType: 'sleep', limit: '14' })}`),
    api('GET', `${base}/events?${q({ eventType: 'workout', limit: '10' })}`),
    api('GET', `${base}/health?${q({ metricType: 'weight', limit: '100' })}`),
    api('GET', `${base}/health?${q({ metricType: 'blood_pressure', limit: '100' })}`),
    api('GET', `${base}/health/timeseries?${q({ metricType: 'glucose', bucket: range === 'day' ? 'minute' : 'hour', agg: 'avg', tz: zone, from: from.toISOString(), to: to.toISOString() })}`),
  ]);
  const notRecorded = 'None in this range (not recorded, or not granted to this app).';
  section.append(chart(`Heart rate (${hr.unit}, ${range})`, hr.data.map((b) => seconds(b.start)),
    [{ label: 'avg', values: hr.data.map((b) => b.value), stroke: '#b3261e' }], { zone, empty: notRecorded }));
  const activity = daily(rows.data, ['steps', 'distance', 'active_calories']);
  for (const [n, [label, stroke]] of [['steps', '#1f5fbf'], ['distance (m)', '#0b7a3e'], ['active energy (kcal)', '#a05a00']].entries()) {
    section.append(chart(`Daily ${label}`, activity.xs, [{ label, values: activity.values[n], stroke, bars: true }], { empty: notRecorded, height: 160 }));
  }
  section.append(chart(`Glucose (${glucose.unit}, ${range})`, glucose.data.map((b) => seconds(b.start)),
    [{ label: 'avg', values: glucose.data.map((b) => b.value), stroke: '#a05a00' }], { zone, empty: notRecorded }));
  const glucoseDays = rows.data.filter((r) => r.metricType === 'glucose');
  section.append(chart('Glucose time in range (70–180 mg/dL, %)', glucoseDays.map((r) => dayOf(r.date)), [
    { label: 'in range', values: glucoseDays.map((r) => r.glucose?.timeInRangePercent ?? null), stroke: '#0b7a3e', bars: true },
  ], { empty: notRecorded, height: 160 }));
  const trends = daily(rows.data, ['resting_heart_rate', 'heart_rate_variability']);
  section.append(chart('Resting heart rate and HRV', trends.xs, [
    { label: 'resting HR (bpm)', values: trends.values[0], stroke: '#b3261e' },
    { label: 'HRV (ms)', values: trends.values[1], stroke: '#6a3fb5' },
  ], { empty: notRecorded }));
  const wanted = sessionStorage.getItem('vitasync.night');
  const night = sleeps.data.find((s) => s.id === wanted) ?? sleeps.data[0];
  const stages = night?.stages ?? [];
  if (sleeps.data.length > 1) {
    section.append(el('form', { class: 'inline' }, el('select', {
      name: 'night', 'aria-label': 'night',
      onchange: (event) => { sessionStorage.setItem('vitasync.night', event.target.value); user(id); },
    }, sleeps.data.map((s) => el('option', { value: s.id, selected: s.id === night.id }, `Night of ${s.date}`)))));
  }
  const hypnogram = chart(night ? `Night of ${night.date}` : 'Sleep', stages.length ? [...stages.map((s) => seconds(s.start)), seconds(stages.at(-1).end)] : [],
    [{ label: 'stage', values: [...stages.map((s) => STAGE_LEVEL[s.stage] ?? null), STAGE_LEVEL[stages.at(-1)?.stage] ?? null], stroke: '#6a3fb5', stepped: true }],
    { zone, empty: 'No sleep with stages recorded.', yLabels: ['deep', 'light', 'REM', 'awake'], height: 160 });
  hypnogram.setAttribute('data-stages', String(stages.length));
  section.append(hypnogram);
  section.append(el('h3', {}, 'Workouts'), table(['sport', 'start', 'duration', 'distance', 'avg HR'], workouts.data.map((w) => [
    w.sport, when(w.start, zone), `${Math.round((w.durationSeconds ?? 0) / 60)} min`,
    w.distanceMeters != null ? `${(w.distanceMeters / 1000).toFixed(2)} km` : '—',
    w.heartRate?.avg != null ? `${Math.round(w.heartRate.avg)} bpm` : '—',
  ]), notRecorded));
  const byTime = (list) => [...list.data].sort((a, b) => seconds(a.at) - seconds(b.at));
  const weights = byTime(weight);
  section.append(chart('Weight (kg)', weights.map((r) => seconds(r.at)), [{ label: 'kg', values: weights.map((r) => r.value), stroke: '#0b7a3e' }], { zone, empty: notRecorded }));
  const pressures = byTime(pressure);
  section.append(chart('Blood pressure (mmHg)', pressures.map((r) => seconds(r.at)), [
    { label: 'systolic', values: pressures.map((r) => r.value), stroke: '#b3261e' },
    { label: 'diastolic', values: pressures.map((r) => r.secondaryValue ?? null), stroke: '#1f5fbf' },
  ], { zone, empty: notRecorded }));
  return section;
}

async function route() {
  if (!sessionStorage.getItem(KEY)) return signIn();
  const [path, query] = location.hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean);
  try {
    if (parts[0] === 'users' && parts[1]) await user(decodeURIComponent(parts[1]));
    else if (parts[0] === 'keys') await keys();
    else if (parts[0] === 'webhooks' && parts[1]) await webhook(decodeURIComponent(parts[1]));
    else if (parts[0] === 'webhooks') await webhooks();
    else await users(query || '');
  } catch (error) {
    failure(error);
  }
}

document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => { if (caller) route(); });
if (sessionStorage.getItem(KEY)) start().catch(() => signOut('Sign in again.'));
else signIn();
