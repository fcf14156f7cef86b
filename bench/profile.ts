/**
 * Summarises `node --cpu-prof` output: self time by module (npm package, our file, node internals, GC) and
 * the top functions.  `node --import tsx bench/profile.ts <file.cpuprofile>...`
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/postgres/…` → `postgres`; our files keep their path; node internals group together. */
export function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const own = /\/(src|workers|bench)\/(.*)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

function summarise(file: string): void {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  let total = 0;
  const byModule = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const mod = moduleOf(url, functionName);
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
    const key = `${functionName || '(anonymous)'} ${mod}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  // Native time (socket writes and the like) attributed to the nearest JavaScript caller's module.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const nativeBy = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    if (node.callFrame.url || node.callFrame.functionName.startsWith('(')) continue;
    let up = parent.get(id);
    let chain: string[] = [];
    while (up !== undefined && chain.length < 3) {
      const f = byId.get(up)!.callFrame;
      if (f.url && !f.url.startsWith('node:')) chain.push(`${f.functionName || '(anonymous)'}@${moduleOf(f.url, f.functionName)}`);
      up = parent.get(up);
    }
    const key = `${node.callFrame.functionName} ← ${chain.join(' ← ') || '?'}`;
    nativeBy.set(key, (nativeBy.get(key) ?? 0) + us);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  console.log(`\n${file}: ${(total / 1000).toFixed(0)} ms on CPU (idle excluded)\nby module:\n${top(byModule, 15).join('\n')}\ntop functions (self):\n${top(byFn, 20).join('\n')}\nnative time by JavaScript caller:\n${top(nativeBy, 12).join('\n')}`);
}

for (const f of process.argv.slice(2)) summarise(f);
