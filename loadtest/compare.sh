#!/usr/bin/env bash
# Runs the scenarios of README "Performance" against two router binaries,
# alternating them round by round on the same machine, and prints one line
# per run (throughput, p99 latency, router CPU per routed message), then per
# scenario and binary the median and the minimum CPU per message over the
# rounds (the minimum is the least disturbed by a noisy machine).
#
#   loadtest/compare.sh OLD_ROUTER NEW_ROUTER [ROUNDS] [LOADGEN]
#
# The router runs on core 0 (1 shard), the generator on core 1.
set -euo pipefail
old=$1 new=$2 rounds=${3:-2}
load=${4:-$(dirname "$0")/../target/release/switchyard-load}
profiles=$(dirname "$0")/../config/loadtest
rs=rs://127.0.0.1:8081
scenarios=(
  "ff|pubsub --url $rs --window 2048"
  "ack|pubsub --url $rs --ack true --window 256"
  "fanout|--profile $profiles/fanout.toml"
  "rpc|rpc --url $rs"
  "open|pubsub --url $rs --rate 100000"
  "connect|--profile $profiles/connect.toml"
)
report=$(mktemp)
lines=$(mktemp)
for round in $(seq "$rounds"); do
  for s in "${scenarios[@]}"; do
    name=${s%%|*} args=${s#*|}
    for bin in "$old" "$new"; do
      taskset -c 0 "$bin" --shards 1 --placement unpinned --log-level warn >/dev/null &
      pid=$!
      sleep 0.5
      # shellcheck disable=SC2086
      taskset -c 1 "$load" $args --duration 4 --quiet --router-pid "$pid" --json "$report" >/dev/null || true
      kill "$pid"; wait "$pid" 2>/dev/null || true
      python3 - "$report" "$round" "$name" "$bin" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r, cpu = d["results"], d.get("router") or {}
rate = r.get("throughput_per_s") or r.get("joins_per_s") or 0
lat = r.get("latency") or r.get("time_to_welcome") or {}
per = cpu.get("cpu_us_per_message") or cpu.get("cpu_us", 0) / max(1, r["counts"]["received"])
print(f"round {sys.argv[2]} {sys.argv[3]:8} {sys.argv[4]:40} "
      f"{rate:>12.0f}/s  p99 {lat.get('p99_us', 0):>9.1f} us  cpu/msg {per:.3f} us")
PY
    done
  done
done | tee "$lines"
python3 - "$lines" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    runs[(f[2], f[3])].append((float(f[-2]), float(f[4].rstrip("/s")), float(f[6])))
print(f"{'scenario':8} {'router':40} {'median cpu/msg':>14} {'min cpu/msg':>11} {'median rate':>12} {'median p99 us':>13}")
for (scenario, router), v in runs.items():
    cpu = [x[0] for x in v]
    print(f"{scenario:8} {router:40} {statistics.median(cpu):14.3f} {min(cpu):11.3f} "
          f"{statistics.median(x[1] for x in v):12.0f} {statistics.median(x[2] for x in v):13.1f}")
PY
rm -f "$report" "$lines"
