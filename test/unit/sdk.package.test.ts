/**
 * Another Node project can use the SDK: `import { createClient, verifyWebhook } from 'longrun/sdk'` resolves
 * through the package's "exports", type-checks with its types, and runs (under tsx, since the SDK is
 * TypeScript source).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('is importable, typed and runnable from another project', async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'longrun-consumer-'));
  await mkdir(path.join(dir, 'node_modules'));
  await symlink(root, path.join(dir, 'node_modules', 'longrun'), 'dir');
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', lib: ['ES2023', 'DOM'], strict: true, noEmit: true, skipLibCheck: true, types: [] } }),
  );
  await writeFile(
    path.join(dir, 'main.ts'),
    `import { createClient, isLongrunError, verifyWebhook, type JobUpdate, type JobState, type WebhookBody } from 'longrun/sdk';
const state: JobState = 'QUEUED';
const body: WebhookBody['event'] = 'job.FAILED';
console.log(verifyWebhook({ secret: 'a-webhook-secret', header: 't=1,sha256=00', rawBody: Buffer.from('{}') }), body);
const client = createClient({ url: 'http://127.0.0.1:9/graphql', token: 't' });
const update: JobUpdate | null = null;
try {
  await client.queueStats();
} catch (e) {
  console.log(isLongrunError(e) ? e.code : 'other', state, update);
}
`,
  );
  await run(path.join(root, 'node_modules/.bin/tsc'), ['-p', dir]);
  const { stdout } = await run(path.join(root, 'node_modules/.bin/tsx'), ['main.ts'], { cwd: dir });
  expect(stdout.trim()).toBe('false job.FAILED\nNETWORK QUEUED null');
});
