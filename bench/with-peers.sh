#!/usr/bin/env bash
# longrun's bench beside the peers harness (shared/peers), interleaved so the machine's drifts hit every
# system alike: RUNS rounds of (each peer once, then `npm run bench` once), into one results directory,
# then the medians of each side; and each round the pickup floor (bench/floor.ts), with its medians.
#
#   cp -r ../shared/peers /tmp/peers && (cd /tmp/peers && npm ci)
#   bench/with-peers.sh                         # RUNS=3 N=20000, peers: bullmq pgboss-wide gw-tuned nats
#   RUNS=1 N=2000 PEERS="bullmq" bench/with-peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
N=${N:-20000}
PEERS_DIR=${PEERS_DIR:-/tmp/peers}
PEERS=${PEERS:-bullmq pgboss-wide gw-tuned nats}
OUT=${OUT:-$PWD/bench/results/$(date -u +%Y-%m-%dT%H%M)-with-peers}
mkdir -p "$OUT"
[ -x "$PEERS_DIR/run.sh" ] || { echo "no peers harness at $PEERS_DIR (copy shared/peers there and npm ci)" >&2; exit 2; }

for r in $(seq 1 "$RUNS"); do
  echo "=== round $r/$RUNS: peers ($PEERS)"
  # shellcheck disable=SC2086
  (cd "$PEERS_DIR" && RUNS=1 N="$N" OUTDIR="$OUT/peers" ./run.sh $PEERS)
  echo "=== round $r/$RUNS: longrun (loadavg $(cut -d' ' -f1-3 /proc/loadavg))"
  npm run --silent bench -- --n "$N" >"$OUT/longrun.run$r.jsonl" 2>"$OUT/longrun.run$r.log" || echo "!! longrun run $r failed (see $OUT/longrun.run$r.log)"
  tail -n 14 "$OUT/longrun.run$r.jsonl"
  echo "=== round $r/$RUNS: pickup floor (bench/floor.ts: the same hops with the least code)"
  { npm run --silent bench:floor && npm run --silent bench:floor -- --no-pg; } >"$OUT/floor.run$r.jsonl" 2>>"$OUT/floor.log" || echo "!! floor run $r failed (see $OUT/floor.log)"
done

(cd "$PEERS_DIR" && node summarize.mjs "$OUT/peers") | tee "$OUT/peers-summary.md"
node --import tsx bench/medians.ts "$OUT"/longrun.run*.jsonl | tee "$OUT/longrun-summary.md"
node --import tsx bench/floor.ts --medians "$OUT"/floor.run*.jsonl | tee "$OUT/floor-summary.md"
