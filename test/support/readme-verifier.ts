/**
 * The README's verifier of `Longrun-Signature-V2` (Notifications → Webhooks), loaded from the README itself:
 * a test that verifies with it proves the code a receiver copies.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `now` in ms since the epoch (the receiver's clock). */
export type VerifyLongrunWebhook = (rawBody: string | Buffer, header: string | string[] | undefined, secret: string, now?: number) => boolean;

/** The README's `verifyLongrunWebhook`, from its js block that exports it. */
export async function readmeVerifier(): Promise<VerifyLongrunWebhook> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('export function verifyLongrunWebhook('));
  if (!block) throw new Error('README.md has no js block exporting verifyLongrunWebhook');
  const dir = await mkdtemp(join(tmpdir(), 'longrun-readme-'));
  try {
    const file = join(dir, 'verify.mjs');
    await writeFile(file, block);
    const m = (await import(pathToFileURL(file).href)) as { verifyLongrunWebhook: VerifyLongrunWebhook };
    return m.verifyLongrunWebhook;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
