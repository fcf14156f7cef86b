/**
 * Job ids: UUID version 7 (RFC 9562), the submit time in milliseconds (48 bits, this process's clock) then 74
 * random bits. Ids made one after another are near each other in the `jobs` primary key, so a submit adds to
 * its newest leaf pages and a claim or completion of recent jobs finds them in the same few pages, where random
 * (version 4) ids touch a page anywhere in the index for each job: with them, 100,000 jobs inserted, claimed
 * and completed across checkpoints wrote 13 % more WAL and took about a sixth more of PostgreSQL's time
 * (bench/job-ids.pg.ts, docs/performance.md). 74 random bits stay unguessable; the time
 * they show is the job's `createdAt` to within the clocks' difference.
 */
import { randomFillSync } from 'node:crypto';

/** Random bytes drawn for this many ids at once (one `randomFillSync` call per batch of submits). */
const POOL_IDS = 256;
const pool = Buffer.allocUnsafe(16 * POOL_IDS);
let used = POOL_IDS;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A fresh job id made at `now` (milliseconds since the epoch). */
export function newJobId(now: number = Date.now()): string {
  if (used === POOL_IDS) {
    randomFillSync(pool);
    used = 0;
  }
  const r = 16 * used++;
  const high = Math.floor(now / 2 ** 16); // the upper 32 of the 48 bits
  const h = (n: number) => HEX[n & 0xff]!;
  return (
    h(high >>> 24) + h(high >>> 16) + h(high >>> 8) + h(high) + '-' +
    h(now >>> 8) + h(now) + '-' +
    h(0x70 | (pool[r]! & 0x0f)) + h(pool[r + 1]!) + '-' +
    h(0x80 | (pool[r + 2]! & 0x3f)) + h(pool[r + 3]!) + '-' +
    h(pool[r + 4]!) + h(pool[r + 5]!) + h(pool[r + 6]!) + h(pool[r + 7]!) + h(pool[r + 8]!) + h(pool[r + 9]!)
  );
}
