#!/usr/bin/env python3
"""The journal's memory bound, measured: 300 requests of 1 MB to an unknown path (no
credentials) in each of four sessions, against the binary with its defaults. Prints the
server's RSS after each session and the journal's use from /_mock/health. Reports numbers;
it asserts nothing (docs/SECURITY.md holds the figures).

    cargo build --release && python3 tests/soak/journal_memory.py target/release/rocketchat-mock
"""
import socket, subprocess, time, sys, os
binary = sys.argv[1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
server = subprocess.Popen([binary, "--port", str(port)], stdout=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
time.sleep(0.5)
def rss():
    for l in open(f"/proc/{server.pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) / 1024
start = rss()
body = b"x" * 1_000_000
for session in ["", "s1", "s2", "s3"]:
    for i in range(300):
        c = socket.create_connection(("127.0.0.1", port))
        h = f"POST /api/v1/unknown HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        if session: h += f"X-Mock-Session: {session}\r\n"
        c.sendall(h.encode() + b"\r\n" + body)
        while c.recv(65536): pass
        c.close()
    print(f"after 300 x 1 MB in session {session or 'default'!r}: RSS {rss():.1f} MiB (start {start:.1f})")
import json, urllib.request
print(json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/_mock/health"))["journal"])
server.terminate(); server.wait()
