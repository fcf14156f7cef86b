import { sleepJob } from '../../src/jobs/catalog.js';
import { defineHandler, sleep } from '../handler.js';

export default defineHandler(sleepJob, async ({ ms, steps }, ctx) => {
  const n = Math.max(steps, 1);
  for (let i = 1; i <= steps; i++) {
    await sleep(ms / n, ctx.signal);
    ctx.progress((100 * i) / steps, `step ${i}/${steps}`);
  }
  if (steps === 0) await sleep(ms, ctx.signal);
  return { slept: ms, steps };
});
