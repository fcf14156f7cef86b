/**
 * Mends dependencies in node_modules. Dependency-free and idempotent; run by npm after every install
 * (`postinstall`) and by scripts/dependencies.mjs before `npm start` and `npm test` (an install with
 * --ignore-scripts). The mends:
 *
 * postgres.js 3.4.9, until a release has the fix (porsager/postgres#1154, #1208; PRs #1168, #1209 unreleased).
 * The driver flushes a small write from a `setImmediate`. When the connection has closed by then (PostgreSQL
 * restarted or cut it while a transaction ran: `sql.begin` writes its ROLLBACK on the dead connection),
 * `socket` is null and `socket.write` throws outside any promise: an uncaught exception that ends the
 * process, and the ROLLBACK stays queued on the connection. `closed()` also clears that timer without
 * forgetting it, so a connection closed with a write pending never flushes a small write again (its next
 * start-up message waits for the connect timeout); and it keeps the query it failed as the one running, so
 * `sql.end()` waits for it until its timeout (for ever without one). The mend: a write with no socket fails
 * the queries it carries with CONNECTION_CLOSED (as the close failed the others); `closed()` and
 * `terminate()` forget the pending write, and a closed connection forgets the query it failed.
 *
 * postgres.js 3.4.9 again (porsager/postgres#1223, open): a connection keeps the error PostgreSQL sent before
 * closing it (57P01 when a restart or `pg_terminate_backend` ends its backend under a statement), and when it
 * reconnects, the first ReadyForQuery of the new backend fails the statement that reconnected it with that
 * old error: after a PostgreSQL restart, the first request on each connection that had one running answered
 * SERVICE_UNAVAILABLE although the server was up. The mend: `closed()` forgets the error; a connection closed
 * while it read the server's types forgets that query too (the new backend reads them again), instead of
 * handing it the new backend's first answer.
 *
 * And (found beside porsager/postgres#1215, unreleased): a connection reset (ECONNRESET: a failover, a cut
 * link) under a transaction's statement failed that statement, but the ROLLBACK the transaction then queued
 * on it stayed queued when the socket closed, and the connection that replaced it waited for that ROLLBACK's
 * answer: one statement went through, every later one on that connection waited for ever. And a statement
 * sent on a connection after its socket's error and before its close (Node emits them in different turns of
 * the event loop: a reset idle connection is still in the pool's open queue meanwhile) was never answered:
 * with the mend above that forgets the failed query, it was dropped, and its caller waited for ever (an
 * API's grouped insert, and every submit behind it). The mend: `closed()` fails whatever is still running
 * or queued on the closed connection with CONNECTION_CLOSED, whether or not the close had an error.
 *
 * And in `sql.begin` (porsager/postgres#1216; PR #1215, unreleased): when a transaction's connection closed,
 * `begin` failed, but its callback went on, and the statements it sent after that went to the same connection
 * object, which the pool had meanwhile reconnected for other work: they ran there outside any transaction and
 * were committed one by one (or inside another caller's transaction), although the transaction had failed.
 * The mend: once its connection has closed, a transaction's statements fail with CONNECTION_CLOSED, those
 * it had queued (waiting for room on the connection) included.
 *
 * And an option of longrun's, `silence_timeout` (seconds; none by default): a connection with statements out and
 * nothing heard from the server for that long is closed, and they fail with CONNECTION_CLOSED at once, as on a
 * reset. The driver has no timeout for an answer: a statement on a link lost without a reset (a NAT or firewall
 * dropping the flow) waited until TCP gave up, many minutes, and every statement queued behind it on that
 * connection as long (DATABASE_SILENCE_TIMEOUT_MS, src/db/client.ts).
 *
 * tsx, which runs every process (`node --import tsx`): it compiles with esbuild's `keepNames`, which wraps
 * every function made at run time in a `__name(fn, "…")` call (an `Object.defineProperty` on each closure, on
 * every call of the function that makes it). Names need no keeping here: tsx does not rename identifiers, and
 * JavaScript names `const f = () => …` itself. Turned off: the worker's CPU per job in a drain fell by about
 * 11 % (docs/performance.md). `test/unit/tsx-names.test.ts` holds it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MARK_1208 = '/* longrun: postgres#1208 */';
const MARK_1223 = '/* longrun: postgres#1223 */';
const MARK_RESET = '/* longrun: closed with statements */';
const MARK_TX = '/* longrun: postgres#1215, #1216 */';
const MARK_SILENCE = '/* longrun: silence_timeout */';

/**
 * Each mend's marker and its [unmended text, mended text] pairs; each text must occur exactly once in the
 * file. Applied in order, each once (its marker tells it is there), so a checkout mended by an older version
 * of this script gets the mends added since.
 */
const MENDS = [
  {
    mark: MARK_1208,
    file: 'connection.js',
    what: 'a write on a closed connection fails its queries instead of the process',
    edits: [
      [
        '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n',
        `  function nextWrite(fn) {\n    if (socket === null) ${MARK_1208} {\n` +
          '      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n' +
          '      chunk = nextWriteTimer = null\n' +
          "      const err = Errors.connection('CONNECTION_CLOSED', options)\n" +
          '      query && (queryError(query, err), query = null)\n' +
          '      while (sent.length)\n' +
          '        queryError(sent.shift(), err)\n' +
          '      return false\n' +
          '    }\n' +
          '    const x = socket.write(chunk, fn)\n',
      ],
      [
        '    connectTimer.cancel()\n\n    socket.removeAllListeners()\n    socket = null\n',
        `    connectTimer.cancel()\n\n    socket.removeAllListeners()\n    socket = null\n    chunk = nextWriteTimer = null ${MARK_1208}\n`,
      ],
      [
        "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
        "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n" +
          `    query = null ${MARK_1208}\n`,
      ],
      [
        '    clearImmediate(nextWriteTimer)\n    if (socket) {\n',
        `    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null ${MARK_1208}\n    if (socket) {\n`,
      ],
    ],
  },
  {
    mark: MARK_1223,
    file: 'connection.js',
    what: "a reconnected connection's first statement is not failed with the closed one's error",
    edits: [
      [
        '    if (initial)\n      return reconnect()\n',
        `    errorResponse = null ${MARK_1223}\n    if (initial)\n      return (query = null, reconnect()) ${MARK_1223}\n`,
      ],
    ],
  },
  {
    mark: MARK_RESET,
    file: 'connection.js',
    what: 'statements left on a connection as it closes fail instead of waiting for ever',
    edits: [
      [
        // The close fails them itself, with or without an error (a failed query rejected again is a no-op).
        "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
        `    if (query || sent.length) ${MARK_RESET}\n      error(Errors.connection('CONNECTION_CLOSED', options, socket))\n`,
      ],
    ],
  },
  {
    mark: MARK_TX,
    file: 'index.js',
    what: "a transaction's statements after its connection closed fail instead of running on the reconnected one",
    edits: [
      ['      , prepare = null\n', `      , prepare = null\n      , lost = null ${MARK_TX}\n`],
      [
        '        new Promise((_, reject) => connection.onclose = reject)\n',
        `        new Promise((_, reject) => connection.onclose = (e) => { ${MARK_TX}\n` +
          '          lost = e\n' +
          '          while (queries.length)\n' +
          '            queries.shift().reject(e)\n' +
          '          reject(e)\n' +
          '        })\n',
      ],
      [
        '        q.catch(e => uncaughtError || (uncaughtError = e))\n        c.queue === full\n',
        '        q.catch(e => uncaughtError || (uncaughtError = e))\n' +
          `        if (lost) ${MARK_TX}\n` +
          '          return q.reject(lost)\n' +
          '        c.queue === full\n',
      ],
    ],
  },
  {
    mark: MARK_SILENCE,
    file: 'index.js',
    what: 'the silence_timeout option reaches the connections',
    edits: [['    keep_alive      : 60,\n', `    keep_alive      : 60,\n    silence_timeout : null, ${MARK_SILENCE}\n`]],
  },
  {
    mark: MARK_SILENCE,
    file: 'connection.js',
    what: 'a connection with statements out and nothing heard for silence_timeout seconds is closed',
    edits: [
      [
        '      , connectTimer = timer(connectTimedOut, options.connect_timeout)\n',
        '      , connectTimer = timer(connectTimedOut, options.connect_timeout)\n' +
          `      , silence = (options.silence_timeout || 0) * 1000 ${MARK_SILENCE}\n`,
      ],
      ['    , terminated = false\n', `    , terminated = false\n    , heardAt = 0 ${MARK_SILENCE}\n    , silenceCheck = null\n`],
      ['      q.state = backend\n', `      q.state = backend\n      silence && listen() ${MARK_SILENCE}\n`],
      ['  function data(x) {\n', `  function data(x) {\n    silence && (heardAt = performance.now()) ${MARK_SILENCE}\n`],
      [
        '  function connectTimedOut() {\n',
        `  function listen() { ${MARK_SILENCE}\n` +
          '    query || sent.length || (heardAt = performance.now())\n' +
          '    silenceCheck || (silenceCheck = setTimeout(checkSilence, silence), silenceCheck.unref())\n' +
          '  }\n\n' +
          '  function checkSilence() {\n' +
          '    silenceCheck = null\n' +
          '    if (!socket || !(query || sent.length))\n' +
          '      return\n' +
          '    const quiet = performance.now() - heardAt\n' +
          '    if (quiet < silence)\n' +
          '      return void (silenceCheck = setTimeout(checkSilence, silence - quiet), silenceCheck.unref())\n' +
          '    const s = socket\n' +
          '    closed(true) // what is out fails with CONNECTION_CLOSED at once, and the pool reconnects\n' +
          '    s.destroy()\n' +
          '  }\n\n' +
          '  function connectTimedOut() {\n',
      ],
    ],
  },
];

/** The driver's two builds: each file a mend names is in both. */
const BUILDS = ['src', 'cjs/src'];

/** @param {string} root the repository root @param {(line: string) => void} say */
export function patchDependencies(root, say) {
  mendPostgres(root, say);
  mendTsx(root, say);
}

/** @param {string} root @param {(line: string) => void} say */
function mendPostgres(root, say) {
  const dir = join(root, 'node_modules/postgres');
  if (!existsSync(dir)) return;
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const build of BUILDS) {
    for (const mend of MENDS) {
      const file = `${build}/${mend.file}`;
      const path = join(dir, file);
      if (!existsSync(path)) continue;
      const text = readFileSync(path, 'utf8');
      if (text.includes(mend.mark)) continue;
      if (mend.edits.some(([from]) => text.split(from).length !== 2)) {
        // Another release: it may have its own fix. test/integration/postgres-driver.test.ts tells.
        say(`postgres ${version}: ${file} is not the code this mend knows; left as it is (${mend.what})`);
        continue;
      }
      writeFileSync(path, mend.edits.reduce((t, [from, to]) => t.replace(from, () => to), text));
      say(`postgres ${version}: ${file} mended (${mend.what})`);
    }
  }
}

/** tsx's esbuild options, as its bundles spell them (minified), with `keepNames` on and off. */
const TSX_KEEP_NAMES = 'minifyWhitespace:!0,keepNames:!0}';
const TSX_NO_KEEP_NAMES = 'minifyWhitespace:!0,keepNames:!1}';

/** @param {string} root @param {(line: string) => void} say */
function mendTsx(root, say) {
  const dir = join(root, 'node_modules/tsx/dist');
  if (!existsSync(dir)) return;
  const { version } = JSON.parse(readFileSync(join(dir, '../package.json'), 'utf8'));
  const files = readdirSync(dir).filter((f) => /\.(mjs|cjs)$/.test(f));
  const texts = files.map((f) => readFileSync(join(dir, f), 'utf8'));
  if (!texts.some((t) => t.includes(TSX_KEEP_NAMES))) {
    // Mended already, or another release (test/unit/tsx-names.test.ts tells).
    if (!texts.some((t) => t.includes(TSX_NO_KEEP_NAMES))) say(`tsx ${version}: not the code this mend knows; left as it is`);
    return;
  }
  files.forEach((f, i) => {
    if (texts[i].includes(TSX_KEEP_NAMES)) writeFileSync(join(dir, f), texts[i].split(TSX_KEEP_NAMES).join(TSX_NO_KEEP_NAMES));
  });
  say(`tsx ${version}: mended (compiles without esbuild's keepNames: no __name call per closure made)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  patchDependencies(join(fileURLToPath(new URL('.', import.meta.url)), '..'), (line) => console.log(`longrun: ${line}`));
}
