#!/usr/bin/env python3
"""Soak test of rocketchat-mock: minutes of mixed traffic from many connections on loopback,
including slow clients, clients that disconnect mid-request, clients whose body never
arrives (answered 408 at --body-timeout) and WebSocket upgrades (answered 404 at once).

Passes when no request is answered 5xx (or with something that is not HTTP), the server's
memory stays flat once warm, and afterwards it still answers a normal request normally.
Bounded: --duration seconds of traffic (default 180), a fixed number of connections.

    tests/soak/run.sh                      # builds the release binary, then runs this
    tests/soak/run.sh --duration 60 --connections 32
"""

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HOST = "127.0.0.1"
ADMIN = ("rbAXPnMktTFbNpwtJ", "RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f")
NO_PERMISSION = ("pL2wQr8YxUsernoP", "user-nina-token")
JOHN = "67487f45e98719b7908d0f29"
BASE = "/api/v1/omnichannel"


def request_bytes(method, path, user=None, body=None, extra=()):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    if user:
        lines += [f"X-User-Id: {user[0]}", f"X-Auth-Token: {user[1]}"]
    payload = b""
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def mixed_request(rng):
    """One request of the mix, and the statuses it may be answered with."""
    session = [f"X-Mock-Session: soak-{rng.randrange(8)}"] if rng.random() < 0.3 else []
    choice = rng.randrange(13)
    if choice == 0:
        return request_bytes("POST", f"{BASE}/contacts.update", ADMIN,
                             {"contactId": JOHN, "name": f"Soak {rng.randrange(10**6)}"},
                             session), {200}
    if choice == 1:
        return request_bytes("GET", f"{BASE}/contacts.get?contactId={JOHN}", ADMIN,
                             extra=session), {200}
    if choice == 2:
        return request_bytes("GET", f"{BASE}/contacts.search?searchText=jo&count=5", ADMIN,
                             extra=session), {200}
    if choice == 3:
        return request_bytes("POST", f"{BASE}/contacts.update", ADMIN,
                             {"contactId": JOHN, "emails": [1, "1"]}, session), {400}
    if choice == 4:
        return request_bytes("POST", f"{BASE}/contacts.update", None, {"contactId": JOHN},
                             session), {401}
    if choice == 5:
        return request_bytes("POST", f"{BASE}/contacts.update", NO_PERMISSION,
                             {"contactId": JOHN}, session), {403}
    if choice == 6:
        return request_bytes("POST", f"{BASE}/contacts.update", ADMIN, b'{"contactId": ',
                             session), {400}
    if choice == 7:
        # Created contacts go to one session that choice 11 resets, so that the state (and
        # the memory) stays bounded however long the soak runs.
        return request_bytes("POST", f"{BASE}/contacts", ADMIN,
                             {"name": f"Soak {rng.randrange(10**6)}",
                              "emails": [f"soak{rng.randrange(10**6)}@example.com"],
                              "phones": [f"+55{rng.randrange(10**9)}"]},
                             ["X-Mock-Session: soak-created"]), {200}
    if choice == 8:
        return request_bytes("GET", f"{BASE}/contacts.checkExistence?email=email@example.com",
                             ADMIN, extra=session), {200}
    if choice == 9:
        return request_bytes("POST", f"{BASE}/contacts.update", ADMIN,
                             bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))),
                             session), {400}
    if choice == 10:
        return request_bytes("GET", "/api/v1/me", ADMIN, extra=session), {200}
    if choice == 11:
        return request_bytes("POST", "/_mock/reset", extra=["X-Mock-Session: soak-created"]), {200}
    return request_bytes("GET", f"{BASE}/contacts.nowhere", ADMIN, extra=session), {404}


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    if not status_line.startswith("HTTP/1.1 "):
        raise ValueError(f"not HTTP: {status_line!r}")
    status = int(status_line.split()[1])
    length = 0
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


class Soak:
    def __init__(self, port, deadline, seed):
        self.port = port
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.statuses = Counter()
        self.unexpected = []
        self.kinds = Counter()
        self.stall_seconds = []

    async def keep_alive_client(self, rng):
        """Many requests on one connection, as an HTTP client library sends them."""
        reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            while time.monotonic() < self.deadline:
                request, expected = mixed_request(rng)
                writer.write(request)
                await writer.drain()
                status = await asyncio.wait_for(read_response(reader), 30)
                self.record(status, expected, request)
                self.kinds["keep-alive request"] += 1
        finally:
            writer.close()

    async def slow_client(self, rng):
        """Sends a request a few bytes at a time, then reads the answer."""
        reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            request, expected = mixed_request(rng)
            for start in range(0, len(request), 7):
                writer.write(request[start:start + 7])
                await writer.drain()
                await asyncio.sleep(rng.uniform(0.001, 0.05))
            status = await asyncio.wait_for(read_response(reader), 30)
            self.record(status, expected, request)
            self.kinds["slow client"] += 1
        finally:
            writer.close()

    async def disconnecting_client(self, rng):
        """Goes away mid-request: after part of the head, part of the body, or before
        reading the answer."""
        reader, writer = await asyncio.open_connection(HOST, self.port)
        request, _ = mixed_request(rng)
        cut = rng.randrange(1, len(request)) if rng.random() < 0.7 else len(request)
        writer.write(request[:cut])
        await writer.drain()
        await asyncio.sleep(rng.uniform(0, 0.02))
        if rng.random() < 0.5:
            # A reset instead of a polite close.
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.close()
        self.kinds["disconnected mid-request"] += 1

    async def stalled_body_client(self, rng):
        """Announces a body and sends a byte of it: answered 408 when --body-timeout
        passes, and the connection closed."""
        reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            head = request_bytes("POST", f"{BASE}/contacts.update", ADMIN, b"").split(b"\r\n\r\n")[0]
            head = b"\r\n".join(line for line in head.split(b"\r\n")
                                 if not line.lower().startswith(b"content-length"))
            writer.write(head + b"\r\nContent-Length: 100000\r\n\r\n{")
            await writer.drain()
            started = time.monotonic()
            status = await asyncio.wait_for(read_response(reader), 30)
            self.record(status, {408}, head)
            if await reader.read(1) != b"":
                self.unexpected.append(("connection left open after 408", head[:200]))
            self.kinds["stalled body (408)"] += 1
            self.stall_seconds.append(time.monotonic() - started)
        finally:
            writer.close()

    async def upgrade_client(self, rng):
        """Opens the realtime API as Rocket.Chat's clients do: answered at once."""
        reader, writer = await asyncio.open_connection(HOST, self.port)
        try:
            request = (b"GET /websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            writer.write(request)
            await writer.drain()
            status = await asyncio.wait_for(read_response(reader), 5)
            self.record(status, {404}, request)
            self.kinds["websocket upgrade (404)"] += 1
        finally:
            writer.close()

    def record(self, status, expected, request):
        self.statuses[status] += 1
        if status >= 500 or status not in expected:
            self.unexpected.append((status, request[:200]))

    async def worker(self, kind):
        rng = random.Random(self.rng.random())
        while time.monotonic() < self.deadline:
            try:
                if kind == "keep-alive":
                    await self.keep_alive_client(rng)
                elif kind == "slow":
                    await self.slow_client(rng)
                elif kind == "stalled":
                    await self.stalled_body_client(rng)
                elif kind == "upgrade":
                    await self.upgrade_client(rng)
                else:
                    await self.disconnecting_client(rng)
            except (ConnectionError, asyncio.IncompleteReadError) as error:
                if kind != "disconnect":
                    self.unexpected.append((f"connection lost: {error!r}", b""))
            except asyncio.TimeoutError:
                self.unexpected.append((f"{kind}: no answer in time", b""))


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def sample_memory(pid, deadline, samples):
    while time.monotonic() < deadline:
        samples.append((time.monotonic(), rss_kib(pid)))
        await asyncio.sleep(2)


async def main_async(args, port, pid):
    start = time.monotonic()
    deadline = start + args.duration
    soak = Soak(port, deadline, args.seed)
    samples = []
    kinds = (["keep-alive"] * (args.connections * 5 // 8) + ["slow"] * (args.connections // 8)
             + ["disconnect"] * (args.connections // 8) + ["stalled"] * (args.connections // 16)
             + ["upgrade"] * (args.connections // 16))
    await asyncio.gather(sample_memory(pid, deadline, samples),
                         *(soak.worker(kind) for kind in kinds))
    return soak, samples


def check_after(port):
    """A normal request after the soak gets the normal answer."""
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(request_bytes(
            "POST", f"{BASE}/contacts.update", ADMIN, {"contactId": JOHN, "name": "After Soak"},
            ["Connection: close"]))
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    body = json.loads(body)
    return head.startswith(b"HTTP/1.1 200") and body["contact"]["name"] == "After Soak"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, required=True)
    parser.add_argument("--duration", type=int, default=180, help="seconds of traffic")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--body-timeout", type=int, default=2,
                        help="the server's --body-timeout, in seconds (stalled clients wait it out)")
    parser.add_argument("--max-growth-mib", type=float, default=8.0,
                        help="largest RSS growth from the warm first third to the end")
    args = parser.parse_args()

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(args.binary), "--host", HOST, "--port", str(port), "--workers", "2",
         "--body-timeout", f"{args.body_timeout}s"],
        env={**os.environ, "RUST_LOG": "warn"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        soak, samples = asyncio.run(main_async(args, port, server.pid))
        answered_after = check_after(port)
        alive = server.poll() is None
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)

    # Memory: the first third warms up (journal ring, sessions, allocator pools); from then
    # on it must stay flat.
    third = len(samples) // 3
    warm = max(kib for _, kib in samples[third:2 * third] or samples)
    end = max(kib for _, kib in samples[2 * third:] or samples)
    growth_mib = (end - warm) / 1024
    total = sum(soak.statuses.values())
    print(f"requests answered: {total} in {args.duration} s "
          f"({dict(sorted(soak.statuses.items()))})")
    print(f"client kinds: {dict(soak.kinds)}")
    if soak.stall_seconds:
        print(f"stalled bodies answered after {min(soak.stall_seconds):.2f}..."
              f"{max(soak.stall_seconds):.2f} s (--body-timeout {args.body_timeout} s)")
    print(f"RSS: start {samples[0][1] / 1024:.1f} MiB, warm {warm / 1024:.1f} MiB, "
          f"end {end / 1024:.1f} MiB (growth {growth_mib:+.1f} MiB, limit {args.max_growth_mib})")
    print(f"after the soak: server alive {alive}, normal answer {answered_after}")
    failures = []
    if soak.unexpected:
        failures.append(f"{len(soak.unexpected)} unexpected answers, e.g. {soak.unexpected[:3]}")
    if growth_mib > args.max_growth_mib:
        failures.append(f"memory grew {growth_mib:.1f} MiB once warm")
    if not (alive and answered_after):
        failures.append("the server did not answer normally afterwards")
    if "panicked" in stderr:
        failures.append("the server panicked:\n" + stderr[-2000:])
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
