// The operator dashboard (GET /dashboard), bundled by Vite with GraphiQL (vite.config.ts): queues, the newest
// dead letters and the schedules, read every REFRESH_MS; pause/resume and retry buttons; one job in detail.
// Everything the server sends goes into the page as text (textContent), never as HTML.
import { currentKey, DashboardError, gql, setTypedKey } from './api.js';
import { rateLimitText } from '../jobs/rate-limit-text.js';

const REFRESH_MS = 3000;

const OVERVIEW = `query Dashboard {
  queueStats { type queued scheduled running retrying failed deadLetters throughputLastMinute oldestQueuedAgeSeconds paused rateLimit { max perMs burst overridden } }
  deadLetters(first: 20) { totalCount edges { node { id type attempts maxAttempts error finishedAt } } }
  schedules { name owner type cron timezone nextRunAt lastRunAt runs paused }
}`;

const JOB = `query DashboardJob($id: ID!) {
  job(id: $id) {
    id type state progress progressMessage attempts maxAttempts createdAt startedAt finishedAt nextAttemptAt runAt
    payload result error attemptErrors { attempt message at }
    events(last: 50) { seq state progress message attempt at }
  }
}`;

const USER_ERRORS = 'userErrors { code message }';
const MUTATIONS = {
  pauseType: `mutation($name: String!) { r: pauseJobType(type: $name) { ${USER_ERRORS} } }`,
  resumeType: `mutation($name: String!) { r: resumeJobType(type: $name) { ${USER_ERRORS} } }`,
  retry: `mutation($name: ID!) { r: retryJob(id: $name) { ${USER_ERRORS} } }`,
  pauseSchedule: `mutation($name: String!, $owner: String) { r: pauseSchedule(name: $name, owner: $owner) { ${USER_ERRORS} } }`,
  resumeSchedule: `mutation($name: String!, $owner: String) { r: resumeSchedule(name: $name, owner: $owner) { ${USER_ERRORS} } }`,
};

interface QueueStats {
  type: string;
  queued: number;
  scheduled: number;
  running: number;
  retrying: number;
  failed: number;
  deadLetters: number;
  throughputLastMinute: number;
  oldestQueuedAgeSeconds: number | null;
  paused: boolean;
  rateLimit: { max: number; perMs: number; burst: number; overridden: boolean } | null;
}
interface DeadLetter {
  id: string;
  type: string;
  attempts: number;
  maxAttempts: number;
  error: string | null;
  finishedAt: string | null;
}
interface Schedule {
  name: string;
  owner: string;
  type: string;
  cron: string;
  timezone: string;
  nextRunAt: string | null;
  lastRunAt: string | null;
  runs: number;
  paused: boolean;
}
interface Overview {
  queueStats: QueueStats[];
  deadLetters: { totalCount: number; edges: { node: DeadLetter }[] };
  schedules: Schedule[];
}

const $ = (id: string) => document.getElementById(id)!;

/** An element whose content is `text`, as text; or the given child nodes. */
function el(tag: string, content: string | Node[] = '', className?: string): HTMLElement {
  const e = document.createElement(tag);
  if (typeof content === 'string') e.textContent = content;
  else e.append(...content);
  if (className) e.className = className;
  return e;
}

const num = (n: number | string) => el('td', String(n), 'num');
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

function table(head: string[], rows: HTMLElement[][], empty: string): HTMLElement {
  if (rows.length === 0) return el('p', empty, 'muted');
  return el('table', [el('thead', [el('tr', head.map((h) => el('th', h)))]), el('tbody', rows.map((cells) => el('tr', cells)))]);
}

function showStatus(text: string, error = false): void {
  const s = $('status');
  s.textContent = text;
  s.className = error ? 'error' : '';
}

/** A button that runs a mutation, shows its error or user errors, and refreshes. */
function action(label: string, mutation: keyof typeof MUTATIONS, variables: Record<string, unknown>): HTMLElement {
  const b = el('button', label) as HTMLButtonElement;
  b.type = 'button';
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const { r } = await gql<{ r: { userErrors: { code: string; message: string }[] } }>(MUTATIONS[mutation], variables);
      if (r.userErrors.length) showStatus(`${label}: ${r.userErrors.map((e) => `${e.code}: ${e.message}`).join('; ')}`, true);
      else showStatus(`${label}: done`);
    } catch (e) {
      showStatus(`${label}: ${e instanceof DashboardError ? e.message : String(e)}`, true);
    }
    await refresh();
  });
  return b;
}

/** A job id that opens the job below when clicked. */
function jobLink(id: string): HTMLElement {
  const b = el('button', id, 'link');
  b.addEventListener('click', () => {
    openJobId = id;
    void showJob();
  });
  return el('td', [b]);
}

function renderOverview(o: Overview): void {
  $('queues').replaceChildren(
    table(
      ['type', 'queued', 'scheduled', 'running', 'retrying', 'failed', 'dead letters', 'done last min', 'oldest queued', 'paused', 'rate limit', ''],
      o.queueStats.map((q) => [
        el('td', q.type),
        num(q.queued),
        num(q.scheduled),
        num(q.running),
        num(q.retrying),
        num(q.failed),
        num(q.deadLetters),
        num(q.throughputLastMinute),
        num(q.oldestQueuedAgeSeconds === null ? '—' : `${Math.round(q.oldestQueuedAgeSeconds)} s`),
        el('td', q.paused ? 'paused' : ''),
        el('td', rateLimitText(q.rateLimit, '')),
        el('td', [q.paused ? action(`Resume ${q.type}`, 'resumeType', { name: q.type }) : action(`Pause ${q.type}`, 'pauseType', { name: q.type })]),
      ]),
      'No job types.',
    ),
  );
  const dead = o.deadLetters.edges.map((e) => e.node);
  $('dead-letters').replaceChildren(
    el('p', `${o.deadLetters.totalCount} in all; the newest ${dead.length}:`, 'muted'),
    table(
      ['job', 'type', 'attempts', 'error', 'failed at', ''],
      dead.map((j) => [
        jobLink(j.id),
        el('td', j.type),
        num(`${j.attempts}/${j.maxAttempts}`),
        el('td', j.error ?? '', 'error'),
        el('td', when(j.finishedAt)),
        el('td', [action(`Retry ${j.id}`, 'retry', { name: j.id })]),
      ]),
      'No dead letters.',
    ),
  );
  $('schedules').replaceChildren(
    table(
      ['name', 'owner', 'type', 'cron', 'timezone', 'next run', 'last run', 'runs', 'paused', ''],
      o.schedules.map((s) => [
        el('td', s.name),
        el('td', s.owner),
        el('td', s.type),
        el('td', s.cron),
        el('td', s.timezone),
        el('td', when(s.nextRunAt)),
        el('td', when(s.lastRunAt)),
        num(s.runs),
        el('td', s.paused ? 'paused' : ''),
        el('td', [
          s.paused
            ? action(`Resume ${s.name}`, 'resumeSchedule', { name: s.name, owner: s.owner })
            : action(`Pause ${s.name}`, 'pauseSchedule', { name: s.name, owner: s.owner }),
        ]),
      ]),
      'No schedules.',
    ),
  );
}

let openJobId: string | null = null;

async function showJob(): Promise<void> {
  const id = openJobId;
  if (!id) return;
  const target = $('job');
  try {
    const { job } = await gql<{ job: Record<string, unknown> & { events: Record<string, unknown>[] } | null }>(JOB, { id });
    if (id !== openJobId) return;
    if (!job) return void target.replaceChildren(el('p', `No job ${id} (deleted, or not visible to this key).`, 'error'));
    const { payload, result, error, attemptErrors, events, ...fields } = job;
    target.replaceChildren(
      table(['field', 'value'], Object.entries(fields).map(([k, v]) => [el('th', k), el('td', v === null ? '—' : String(v))]), ''),
      el('h3', 'Error'),
      el('pre', error === null ? '—' : String(error)),
      el('h3', 'Result'),
      el('pre', JSON.stringify(result, null, 2)),
      el('h3', 'Payload'),
      el('pre', JSON.stringify(payload, null, 2)),
      el('h3', 'Attempt errors'),
      el('pre', JSON.stringify(attemptErrors, null, 2)),
      el('h3', 'History (newest 50)'),
      table(
        ['seq', 'state', 'progress', 'attempt', 'message', 'at'],
        events.map((e) => [num(String(e.seq)), el('td', String(e.state)), num(String(e.progress)), num(String(e.attempt)), el('td', String(e.message ?? '')), el('td', when(e.at as string))]),
        'No history.',
      ),
    );
  } catch (e) {
    target.replaceChildren(el('p', `job ${id}: ${e instanceof Error ? e.message : String(e)}`, 'error'));
  }
}

let refreshing = false;

async function refresh(): Promise<void> {
  if (refreshing) return;
  refreshing = true;
  try {
    renderOverview(await gql<Overview>(OVERVIEW));
    if ($('status').className === 'error' && $('status').textContent?.startsWith('Refresh')) showStatus('');
  } catch (e) {
    showStatus(`Refresh failed: ${e instanceof Error ? e.message : String(e)}`, true);
  } finally {
    refreshing = false;
  }
  await showJob();
}

function showKeySource(): void {
  const { source } = currentKey();
  $('key-source').textContent =
    source === 'typed' ? 'using the key typed here (kept for this tab)' : source === 'development' ? 'using the development key' : 'no key: type one';
}

$('key-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $('key') as HTMLInputElement;
  setTypedKey(input.value.trim() || null);
  input.value = '';
  showKeySource();
  void refresh();
});
$('forget-key').addEventListener('click', () => {
  setTypedKey(null);
  showKeySource();
  void refresh();
});

showKeySource();
void refresh();
setInterval(() => void refresh(), REFRESH_MS);
