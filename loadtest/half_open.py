#!/usr/bin/env python3
"""Measures what a half-open connection costs a router: N connections from
127.0.0.2 each send the first byte of the RawSocket handshake and stall;
the router's RSS growth divided by N is the memory one such connection
holds. The router runs on core 0 (1 shard) with the per-address limits
off and a handshake timeout long enough to outlast the measurement.

    loadtest/half_open.py ROUTER [N]        # e.g. target/release/switchyard 10000
"""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

router = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1000, n + 1000))
with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as cfg:
    cfg.write("[session]\nmax_handshakes_per_address = 0\nhandshake_timeout_ms = 60000\n")
args = ["taskset", "-c", "0", router, "--config", cfg.name, "--shards", "1",
        "--placement", "unpinned", "--log-level", "warn"]
proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rss():
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


try:
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", 8081)).close()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    time.sleep(0.5)
    before = rss()
    held = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", 8081))
        s.send(b"\x7f")
        held.append(s)
    time.sleep(1.5)
    after = rss()
    print(f"{n} half-open connections: RSS {before / 1e6:.1f} -> {after / 1e6:.1f} MB, "
          f"{(after - before) / n:.0f} bytes each")
finally:
    proc.terminate()
    proc.wait()
    os.unlink(cfg.name)
