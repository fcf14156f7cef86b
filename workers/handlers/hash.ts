import { createHash } from 'node:crypto';
import { hashJob } from '../../src/jobs/catalog.js';
import { defineHandler } from '../handler.js';

const MIB = 1024 * 1024;

/** Deterministic pseudo-random data: chunk i is SHA-256 counter-mode output of (seed, i). */
function chunk(seed: string, i: number): Buffer {
  const out = Buffer.allocUnsafe(MIB);
  for (let off = 0, block = 0; off < MIB; off += 32, block++) {
    createHash('sha256').update(`${seed}:${i}:${block}`).digest().copy(out, off);
  }
  return out;
}

export default defineHandler(hashJob, async ({ mib, seed }, ctx) => {
  const hash = createHash('sha256');
  for (let i = 0; i < mib; i++) {
    ctx.signal.throwIfAborted();
    hash.update(chunk(seed, i));
    ctx.progress((100 * (i + 1)) / mib, `${i + 1}/${mib} MiB`);
    await new Promise((r) => setImmediate(r)); // let heartbeats and cancels in
  }
  return { sha256: hash.digest('hex'), bytes: mib * MIB };
});
