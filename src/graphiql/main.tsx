// GraphiQL for longrun, bundled locally by Vite (see vite.config.ts): no CDN at run time.
// The API serves this page at GET /graphql (browser navigation) and its assets under /graphiql/.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { createRoot } from 'react-dom/client';

/** Injected by the server (src/http/graphiql.ts) as an inline script before this bundle runs. */
interface LongrunConfig {
  /** Headers pre-filled in the Headers tab, e.g. a development API key. */
  defaultHeaders?: Record<string, string>;
}

declare global {
  interface Window {
    LONGRUN?: LongrunConfig;
  }
}

const config: LongrunConfig = window.LONGRUN ?? {};
const defaultHeaders = config.defaultHeaders && Object.keys(config.defaultHeaders).length > 0 ? config.defaultHeaders : undefined;
const headersText = defaultHeaders ? JSON.stringify(defaultHeaders, null, 2) : undefined;

const url = `${location.origin}/graphql`;
const fetcher = createGraphiQLFetcher({
  url,
  subscriptionUrl: url.replace(/^http/, 'ws'),
  // Baseline for every request; the Headers tab is merged on top (and wins on conflicts).
  // For subscriptions the toolkit sends `{ ...wsConnectionParams, ...headersTab }` as graphql-ws
  // connectionParams. It spreads the value, so it must be a plain object (a function is dropped).
  ...(defaultHeaders ? { headers: defaultHeaders, wsConnectionParams: defaultHeaders } : {}),
});

// Tab titles come from the operation names (GraphiQL derives them; they cannot contain spaces).
// The input is inline rather than in variables: graphiql 5.4 does not load the first default
// tab's `variables` into the editor on first load (provider uses only initialVariables/storage).
const SUBMIT_JOB = `# Submit a job: demo.sleep runs 5 s in 10 progress steps.
# Run it (Ctrl/Cmd+Enter), copy job.id from the response,
# then open the "Watch" tab.
mutation SubmitJob {
  submitJob(input: { type: "demo.sleep", payload: { ms: 5000, steps: 10 } }) {
    job { id state }
    userErrors { code field message }
  }
}
`;

const WATCH = `# Watch progress: the job's current state first, then every
# change until it finishes.
# Paste the id returned by SubmitJob (tab 1) into "id" in the
# Variables below, then run.
subscription Watch($id: ID!) {
  jobProgress(id: $id) {
    seq
    state
    progress
    message
    attempt
    result
    error
  }
}
`;

const WATCH_VARIABLES = JSON.stringify({ id: 'paste-the-job-id-from-tab-1' }, null, 2);

const rootElement = document.getElementById('graphiql');
if (!rootElement) throw new Error('#graphiql element is missing');

createRoot(rootElement).render(
  <GraphiQL
    fetcher={fetcher}
    // Used only when no tab state is stored in localStorage yet.
    defaultTabs={[
      { query: SUBMIT_JOB, headers: headersText ?? null },
      { query: WATCH, variables: WATCH_VARIABLES, headers: headersText ?? null },
    ]}
    // Shown in the Headers tab of new tabs, and of stored tabs (headers are not persisted).
    {...(headersText ? { defaultHeaders: headersText } : {})}
  />,
);
