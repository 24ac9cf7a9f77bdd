#!/usr/bin/env bash
# Measures what closing many sessions at once costs a router: N WebSocket
# sessions join (pings on, so every connection has a liveness deadline),
# then the generator is killed, so the kernel closes every connection at
# once; the router's CPU time from just before the kill until it is idle
# again is the cost of the close storm.
#
#   loadtest/close_storm.sh ROUTER SESSIONS [LOADGEN]
#
# The router runs on core 0 (1 shard), the generator on core 1.
set -euo pipefail
router=$1 sessions=$2
load=${3:-$(dirname "$0")/../target/release/switchyard-load}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
taskset -c 0 "$router" --shards 1 --placement unpinned --log-level warn >/dev/null &
rp=$!
sleep 0.5
taskset -c 1 "$load" connect --url ws://127.0.0.1:8080/ws --sessions "$sessions" \
  --concurrency 256 --sources 64 --hold 600 --quiet >/dev/null 2>&1 &
lp=$!
# Joined when the router's RSS stops growing for a second.
prev=0
while :; do
  sleep 1
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$rp/status")
  [ "$rss" = "$prev" ] && break
  prev=$rss
done
before=$(cpu "$rp")
kill -9 "$lp"
# Closed when the router's CPU time stops moving for a second.
prev=-1
while :; do
  sleep 1
  now=$(cpu "$rp")
  [ "$now" = "$prev" ] && break
  prev=$now
done
ticks=$((now - before))
hz=$(getconf CLK_TCK)
echo "$router: $sessions sessions closed at once: $((ticks * 1000 / hz)) ms router CPU" \
  "($((ticks * 1000000 / hz / sessions)) us per session)"
kill "$rp"; wait "$rp" 2>/dev/null || true
