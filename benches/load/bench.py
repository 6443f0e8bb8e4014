#!/usr/bin/env python3
"""Load benchmark of rocketchat-mock: requests/s and latency under wrk, start-up time and
memory, on the built-in fixtures and on generated workspaces. Loopback only, bounded in time.

Besides the update and error paths, it measures the routes that scan (contacts.search,
contacts.checkExistence, login), the control API's state writes (PATCH and PUT
/_mock/state, with the latency another session sees meanwhile) and reads (GET /_mock/state,
with the server's RSS growth), and a bare actix-web handler as a baseline
(examples/bare_actix.rs). `--scenarios` picks the groups.

Run it through benches/load/run.sh, which installs wrk and builds the release binaries.
It prints Markdown tables (the ones docs/BENCHMARKS.md holds) and writes the raw figures as
JSON. It never fails on a figure: only a server that does not start or answers a scenario
with the wrong status makes it exit non-zero.
"""

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
LUA = HERE / "request.lua"
BUILT_IN = HERE.parent.parent / "fixtures"

ADMIN = ("rbAXPnMktTFbNpwtJ", "RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f")
# nina.user: logged in, but without update-livechat-contact.
NO_PERMISSION = ("pL2wQr8YxUsernoP", "user-nina-token")

UPDATE = "/api/v1/omnichannel/contacts.update"
CONFLICTS = "/api/v1/omnichannel/contacts.conflicts"

# name -> (path, credentials, body with %s for a contact id, spread over contacts?, status,
#          what the one checked answer must contain)
SCENARIOS = {
    "update (200)": (UPDATE, ADMIN, '{"contactId":"%s","name":"Benchmark Name"}', True, 200,
                     '"success":true'),
    "conflicts (200)": (CONFLICTS, ADMIN, '{"contactId":"%s","name":"Resolved Name"}', True, 200,
                        '"success":true'),
    "invalid body (400)": (UPDATE, ADMIN, '{"name":"Benchmark Name"}', False, 400,
                           '"error":"must have required property \'contactId\' [invalid-params]"'),
    "no credentials (401)": (UPDATE, None, '{"contactId":"%s"}', False, 401,
                             '"status":"error"'),
    "no permission (403)": (UPDATE, NO_PERMISSION, '{"contactId":"%s","name":"X"}', False, 403,
                            '"error":"User does not have the permissions required for this action [error-unauthorized]"'),
}

SIZES = {"default": 0, "1k": 1_000, "100k": 100_000, "1m": 1_000_000}

SEARCH = "/api/v1/omnichannel/contacts.search"
EXISTS = "/api/v1/omnichannel/contacts.checkExistence"
LOGIN = "/api/v1/login"
STATE = "/_mock/state"
LOGIN_BODY = '{"user":"admin","password":"admin-password"}'
# Matches no name, e-mail address or phone number of any workspace here.
NO_MATCH = "zq-no-such-contact-zq"

# --scenarios: the groups of rows, in the order they run on each workspace.
GROUPS = {
    "requests": "update, conflicts and the 400/401/403 paths (wrk)",
    "search": "contacts.search without searchText and with one matching nothing (wrk)",
    "exists": "contacts.checkExistence by e-mail, phone and contactId (wrk)",
    "login": "POST /api/v1/login by username and password (wrk)",
    "get-state": "GET /_mock/state: time to read it, RSS growth of the server",
    "patch": "PATCH /_mock/state with --patch-contacts contacts, and another session meanwhile",
    "put": "PUT /_mock/state of about --put-mb MB, and another session meanwhile",
    "baseline": "the update scenario against examples/bare_actix.rs (needs --baseline)",
}

# The other session's probe during a state write: an authenticated GET /api/v1/me.
OTHER_SESSION = "other"
PROBE_PAUSE = 0.001  # seconds between two probe requests
PROBE_MAX_REQUESTS = 1_000_000
# A search, checkExistence or login run at several connections is skipped when the work it
# would leave queued (connections x the time of one request) exceeds this many seconds (or
# the run's duration, if longer).
MAX_BACKLOG = 60


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=Path, required=True)
    parser.add_argument("--generator", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True,
                        help="folder for the generated workspaces (reused between runs)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--startup-sizes", default="default,100k,1m")
    parser.add_argument("--load-sizes", default="default,1k,100k,1m")
    parser.add_argument("--connections", default="1,32")
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument("--server-args", default="",
                        help="extra flags for every server, e.g. '--journal-size 0'")
    parser.add_argument("--scenarios", default="all",
                        help="comma-separated groups to run, or 'all': "
                        + "; ".join(f"{name}: {what}" for name, what in GROUPS.items()))
    parser.add_argument("--baseline", type=Path,
                        help="the bare actix-web binary (target/release/examples/bare_actix)")
    parser.add_argument("--baseline-connections", default="32")
    parser.add_argument("--patch-contacts", type=int, default=20_000,
                        help="contacts in the PATCH /_mock/state body")
    parser.add_argument("--put-mb", type=float, default=100,
                        help="size of the PUT /_mock/state body, in MB")
    parser.add_argument("--state-runs", type=int, default=3,
                        help="repetitions of each /_mock/state request (the median is shown)")
    parser.add_argument("--state-budget", type=float, default=120,
                        help="seconds after which a /_mock/state row stops repeating")
    parser.add_argument("--request-timeout", type=float, default=600,
                        help="the longest one request may take (state writes, scans on large "
                        "workspaces); a state request that takes longer is reported as such")
    args = parser.parse_args()
    groups = split(args.scenarios)
    args.groups = list(GROUPS) if groups == ["all"] else groups
    unknown = [group for group in args.groups if group not in GROUPS]
    if unknown:
        parser.error(f"unknown --scenarios {', '.join(unknown)}; known: all, {', '.join(GROUPS)}")

    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        sys.exit("bench.py needs two cores: one for the server, one for wrk")
    server_core, client_core = cores[0], cores[1]
    # This script and wrk share the client core, so that the server's core is its own.
    os.sched_setaffinity(0, {client_core})

    env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info")}
    context = Context(args, server_core, client_core, env)
    context.all_cores = cores
    results = {"machine": machine(), "command": " ".join(sys.argv),
               "server_args": args.server_args, "scenarios": args.groups, "startup": {},
               "load": {}}

    for size in split(args.startup_sizes):
        folder = context.workspace(size)
        runs = args.startup_runs if SIZES[size] < 1_000_000 else max(1, args.startup_runs // 2)
        results["startup"][size] = context.startup(folder, runs)
        print(f"start-up {size}: {results['startup'][size]}", file=sys.stderr)

    for size in split(args.load_sizes):
        results["load"][size] = context.load(size, context.workspace(size))

    if "baseline" in args.groups:
        if args.baseline is None:
            print("no --baseline binary: the baseline rows are left out", file=sys.stderr)
        else:
            results["baseline"] = context.baseline(results["load"])

    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))


class Context:
    def __init__(self, args, server_core, client_core, env):
        self.args = args
        self.server_core = server_core
        self.client_core = client_core
        self.env = env
        self.put_state = None  # the PUT /_mock/state body, built on first use

    def workspace(self, size):
        """The fixtures folder of a size (None: the built-in fixtures), generated once."""
        count = SIZES[size]
        if count == 0:
            return None
        folder = self.args.work / f"contacts-{size}"
        marker = folder / "generated"
        if marker.exists() and marker.read_text() == str(count):
            return folder
        print(f"generating {count} contacts into {folder}", file=sys.stderr)
        subprocess.run([str(self.args.generator), "--contacts", str(count), "--out", str(folder),
                        "--force"], check=True, timeout=600)
        marker.write_text(str(count))
        return folder

    def start(self, folder, pinned=True):
        """The server on `folder`: pinned to its core with one worker for the load rows, or
        as a user starts it (every core, the default workers) for the start-up rows."""
        port = free_port()
        command = [str(self.args.binary), "--host", HOST, "--port", str(port),
                   *self.args.server_args.split()]
        if pinned:
            command = ["taskset", "-c", str(self.server_core), *command, "--workers", "1"]
        else:
            # Every core: this script pinned itself to the client core, which a child
            # would otherwise inherit.
            command = ["taskset", "-c", ",".join(map(str, self.all_cores)), *command]
        if folder is not None:
            command += ["--fixtures", str(folder)]
        started = time.perf_counter()
        process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        answered = wait_answered(port, process, timeout=60)
        return Server(process, port, answered - started)

    def startup(self, folder, runs):
        times, idle = [], []
        for _ in range(runs):
            server = self.start(folder, pinned=False)
            try:
                times.append(server.startup_seconds)
                time.sleep(1)
                idle.append(server.memory()["rss_kib"])
            finally:
                server.stop()
        return {"runs": runs, "median_ms": round(statistics.median(times) * 1000, 1),
                "min_ms": round(min(times) * 1000, 1), "max_ms": round(max(times) * 1000, 1),
                "idle_rss_mib": round(statistics.median(idle) / 1024, 1)}

    def load(self, size, folder):
        server = self.start(folder)
        contacts = SIZES[size]
        groups = self.args.groups
        figures = {"contacts": contacts, "idle_rss_mib": None, "runs": {}}
        try:
            time.sleep(1)
            figures["idle_rss_mib"] = round(server.memory()["rss_kib"] / 1024, 1)
            if "requests" in groups:
                self.requests(server, size, contacts, figures["runs"])
            lookups = [row for row in lookup_scenarios(folder, contacts) if row[0] in groups]
            if lookups:
                figures["lookups"] = self.lookups(server, size, lookups)
            # Before the state rows, which hold whole states: the figures of the requests.
            memory = server.memory()
            figures["rss_after_mib"] = round(memory["rss_kib"] / 1024, 1)
            figures["peak_rss_mib"] = round(memory["hwm_kib"] / 1024, 1)
            try:
                if "get-state" in groups:
                    self.read_state(server, size, figures)
                if "patch" in groups:
                    self.write_state(server, size, "PATCH", self.patch_body(folder, contacts),
                                     figures)
                if "put" in groups:
                    self.write_state(server, size, "PUT", self.put_body(), figures)
            except StateTimeout as timeout:
                print(f"{size}: {timeout}; the remaining state rows of {size} are left out",
                      file=sys.stderr)
        finally:
            server.stop()
        return figures

    def requests(self, server, size, contacts, runs):
        """The update, conflicts and error-path rows."""
        for name, (path, user, body, spread, status, expected) in SCENARIOS.items():
            if contacts == 0 and path == CONFLICTS:
                continue  # the built-in fixtures have one contact with conflicts
            for connections in split(self.args.connections):
                server.reset()
                server.check(path, user, body.replace("%s", first_id(contacts)), status,
                             expected)
                run = self.wrk(server.port, path, user, body, contacts if spread else 0,
                               first_id(contacts), int(connections), status)
                runs.setdefault(name, {})[connections] = run
                print(f"{size} {name} c={connections}: {run}", file=sys.stderr)

    def lookups(self, server, size, scenarios):
        """The search, checkExistence and login rows. These routes may scan the workspace: a
        request can take seconds on a large one, so no request may time out within a run, a
        run at several connections is skipped when it would queue more than MAX_BACKLOG
        seconds of work, and the server is let finish what wrk left queued before the next
        row."""
        rows = {}
        for _, name, method, path, user, body, status, expected in scenarios:
            for connections in split(self.args.connections):
                server.reset()
                seconds = server.check(path, user, body, status, expected, method=method,
                                       timeout=self.args.request_timeout)
                run = {"first_ms": round(seconds * 1000, 3)}
                backlog = seconds * int(connections)
                if int(connections) > 1 and backlog > max(MAX_BACKLOG, self.args.duration):
                    run["skipped"] = (f"one request took {seconds * 1000:.0f} ms: "
                                      f"{connections} connections would queue {backlog:.0f} s "
                                      "of work")
                else:
                    run.update(self.wrk(server.port, path, user, body, 0, "", int(connections),
                                        status, method=method, timeout=self.args.duration + 10))
                    server.wait_idle(self.args.request_timeout)
                rows.setdefault(name, {})[connections] = run
                print(f"{size} {name} c={connections}: {run}", file=sys.stderr)
        server.reset()
        return rows

    def read_state(self, server, size, figures):
        """GET /_mock/state: the time to read the whole body, and the server's RSS growth
        while it is built and sent (VmRSS sampled every 10 ms; peak minus before)."""
        times, growths, before_rss, length = [], [], [], 0
        row = figures["get_state"] = {"runs": 0}
        started = time.perf_counter()
        for _ in range(max(1, self.args.state_runs)):
            if times and time.perf_counter() - started > self.args.state_budget:
                break
            server.reset()
            before = server.memory()["rss_kib"]
            with RssSampler(server.process.pid, self.args.request_timeout) as sampler:
                began = time.perf_counter()
                try:
                    status, head, length = server.read_all(STATE, self.args.request_timeout)
                except TimeoutError:
                    row["timed_out_after_s"] = self.args.request_timeout
                    raise StateTimeout(f"GET {STATE} took more than "
                                       f"{self.args.request_timeout} s")
                seconds = time.perf_counter() - began
            if status != 200 or '"users":[' not in head:
                sys.exit(f"GET {STATE} answered {status} {head[:300]}; expected 200 with "
                         f'"users":[')
            times.append(seconds)
            growths.append(max(sampler.samples, default=before) - before)
            before_rss.append(before)
            row.update(summary_ms(times), bytes=length,
                       rss_before_mib=round(statistics.median(before_rss) / 1024, 1),
                       rss_growth_mib=round(max(growths) / 1024, 1),
                       rss_growth_runs_mib=[round(g / 1024, 1) for g in growths])
            print(f"{size} GET {STATE} run {len(times)}: {seconds * 1000:.1f} ms, {length:,} "
                  f"bytes, RSS +{growths[-1] / 1024:.1f} MiB", file=sys.stderr)
        server.reset()

    def write_state(self, server, size, method, body, figures):
        """PATCH or PUT /_mock/state: the wall time of the request, and the latency of
        another session's requests meanwhile. Each run starts from a reset."""
        times, during = [], []
        row = figures[method.lower()] = {"runs": 0, "contacts_sent": body["contacts"],
                                         "updated": body["updated"], "inserted": body["inserted"],
                                         "bytes": len(body["bytes"])}
        started = time.perf_counter()
        for _ in range(max(1, self.args.state_runs)):
            if times and time.perf_counter() - started > self.args.state_budget:
                break
            held = server.reset()["contacts"]
            after = body["contacts"] if method == "PUT" else held + body["inserted"]
            expected = ('"success":true', f'"contacts":{after}')
            with OtherSession(server.port, self.args.request_timeout) as other:
                began = time.perf_counter()
                try:
                    status, answer = server.request(method, STATE, body=body["bytes"],
                                                    timeout=self.args.request_timeout)
                except TimeoutError:
                    row["timed_out_after_s"] = self.args.request_timeout
                    raise StateTimeout(f"{method} {STATE} took more than "
                                       f"{self.args.request_timeout} s")
                ended = time.perf_counter()
            if status != 200 or not all(part in answer for part in expected):
                sys.exit(f"{method} {STATE} answered {status} {answer[:300]}; expected 200 "
                         f"with {' and '.join(expected)}")
            times.append(ended - began)
            latencies = other.during(began, ended)
            values, idle = latencies or [0.0], other.before(began) or [0.0]
            during.append({"requests": len(latencies), "connections_dropped": other.dropped,
                           "p50_ms": round(statistics.median(values) * 1000, 3),
                           "max_ms": round(max(values) * 1000, 3),
                           "idle_p50_ms": round(statistics.median(idle) * 1000, 3)})
            row.update(summary_ms(times), other_session_runs=during,
                       other_requests=statistics.median_low(d["requests"] for d in during),
                       other_p50_ms=statistics.median(d["p50_ms"] for d in during),
                       other_max_ms=max(d["max_ms"] for d in during),
                       other_idle_p50_ms=statistics.median(d["idle_p50_ms"] for d in during),
                       other_connections_dropped=sum(d["connections_dropped"] for d in during))
            print(f"{size} {method} {STATE} run {len(times)}: {times[-1] * 1000:.1f} ms; other "
                  f"session: {during[-1]}", file=sys.stderr)
        server.reset()

    def patch_body(self, folder, contacts):
        """`{"contacts": [...]}` of --patch-contacts documents: the workspace's first ones,
        renamed, then (on a smaller workspace) new ones to make up the count. Reads
        contacts.json a line at a time (one contact per line), only as far as needed."""
        wanted = self.args.patch_contacts
        documents = []
        if folder is not None and contacts > 0:
            with (folder / "contacts.json").open(encoding="utf-8") as file:
                for line in file:
                    if len(documents) >= wanted:
                        break
                    if line.startswith("{"):
                        document = json.loads(line.rstrip().rstrip(","))
                        document["name"] = f"Patched {document['name']}"
                        documents.append(compact(document))
        updated = len(documents)
        generator = random.Random(2)
        documents += [compact(generated_contact(index, generator))
                      for index in range(contacts, contacts + wanted - updated)]
        text = '{"contacts":[' + ",".join(documents) + "]}"
        return {"bytes": text.encode(), "contacts": len(documents), "updated": updated,
                "inserted": len(documents) - updated}

    def put_body(self):
        """A whole state of about --put-mb MB: the built-in users, permissions and custom
        fields, and as many generated contacts as make up the size. Built once a run."""
        if self.put_state is not None:
            return self.put_state
        target = int(self.args.put_mb * 1_000_000)
        fixture = lambda name: compact(json.loads((BUILT_IN / name).read_text(encoding="utf-8")))
        head = (f'{{"users":{fixture("users.json")},"permissions":'
                f'{fixture("permissions.json")},"contacts":[').encode()
        tail = f'],"customFields":{fixture("custom-fields.json")}}}'.encode()
        generator = random.Random(3)
        parts, total = [], len(head) + len(tail)
        while total < target and len(parts) < 10_000_000:
            part = compact(generated_contact(len(parts), generator)).encode()
            parts.append(part)
            total += len(part) + 1
        self.put_state = {"bytes": head + b",".join(parts) + tail, "contacts": len(parts),
                          "updated": 0, "inserted": len(parts)}
        print(f"PUT body: {len(parts):,} contacts, {total / 1e6:.1f} MB", file=sys.stderr)
        return self.put_state

    def baseline(self, load):
        """The update scenario against the bare actix-web handler, pinned and with one worker
        as the mock is: with one fixed body (as on the built-in fixtures) and with a body per
        contact (as on the generated workspaces); and the mock's figures as a share of it."""
        port = free_port()
        command = ["taskset", "-c", str(self.server_core), str(self.args.baseline), "--port",
                   str(port), "--workers", "1"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = Server(process, port, 0)
        path, user, body, _, status, expected = SCENARIOS["update (200)"]
        figures = {"runs": {}, "ratios": {}}
        try:
            server.wait_ready(path, body.replace("%s", first_id(0)), timeout=30)
            for mode, contacts in (("fixed", 0), ("spread", 1_000)):
                for connections in split(self.args.baseline_connections):
                    server.check(path, user, body.replace("%s", first_id(0)), status, expected,
                                 reset=False)
                    run = self.wrk(port, path, user, body, contacts, first_id(0),
                                   int(connections), status)
                    figures["runs"].setdefault(mode, {})[connections] = run
                    print(f"baseline {mode} c={connections}: {run}", file=sys.stderr)
        finally:
            server.stop()
        for size, workspace in load.items():
            mode = "fixed" if workspace["contacts"] == 0 else "spread"
            for connections, run in workspace["runs"].get("update (200)", {}).items():
                base = figures["runs"][mode].get(connections)
                if base and base["rps"]:
                    figures["ratios"].setdefault(size, {})[connections] = round(
                        run["rps"] / base["rps"], 3)
        return figures

    def wrk(self, port, path, user, body, contacts, fixed_id, connections, status,
            method="POST", timeout=5):
        """One wrk run; the body names generated contacts in turn, or `fixed_id` when
        `contacts` is 0."""
        env = {**os.environ, "BENCH_METHOD": method, "BENCH_PATH": path, "BENCH_BODY": body,
               "BENCH_USER": ":".join(user) if user else "", "BENCH_CONTACTS": str(contacts)}
        if contacts == 0:
            env["BENCH_BODY"] = body.replace("%s", fixed_id)
        command = ["taskset", "-c", str(self.client_core), "wrk", "-t1", f"-c{connections}",
                   f"-d{self.args.duration}s", "--timeout", f"{timeout}s", "-s", str(LUA),
                   f"http://{HOST}:{port}{path}"]
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True,
                                timeout=self.args.duration + timeout + 60).stdout
        line = next(l for l in output.splitlines() if l.startswith("BENCH_RESULT "))
        raw = json.loads(line.removeprefix("BENCH_RESULT "))
        wrong = raw["requests"] - raw["non_2xx"] if status >= 300 else raw["non_2xx"]
        if wrong or raw["socket_errors"]:
            sys.exit(f"{method} {path} at {connections} connections: {wrong} answers were not "
                     f"{status}, {raw['socket_errors']} socket errors\n{output}")
        rps = raw["requests"] / raw["seconds"]
        return {"requests": raw["requests"], "rps": round(rps) if rps >= 100 else round(rps, 1),
                "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
                "max_ms": raw["max_us"] / 1000}


class Server:
    def __init__(self, process, port, startup_seconds):
        self.process = process
        self.port = port
        self.startup_seconds = startup_seconds

    def request(self, method, path, user=None, body=None, timeout=30, headers=None):
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        headers = {"Content-Type": "application/json", **(headers or {})}
        if user:
            headers["X-User-Id"], headers["X-Auth-Token"] = user
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def read_all(self, path, timeout):
        """GET `path`, reading the body as it comes without keeping it: the status, the
        body's first 64 KiB, and its length."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            head, length = b"", 0
            while chunk := response.read(1 << 20):
                if len(head) < 1 << 16:
                    head += chunk[:(1 << 16) - len(head)]
                length += len(chunk)
            return response.status, head.decode(errors="replace"), length
        finally:
            connection.close()

    def reset(self):
        """POST /_mock/reset; the collections' counts it answers."""
        status, body = self.request("POST", "/_mock/reset", timeout=120)
        if status != 200:
            sys.exit(f"POST /_mock/reset answered {status}: {body}")
        return json.loads(body)["counts"]

    def check(self, path, user, body, status, expected, method="POST", timeout=30, reset=True):
        """One request, whose status and answer must be the expected ones (`expected`: one
        substring or a tuple of them); the seconds it took."""
        expected = (expected,) if isinstance(expected, str) else expected
        began = time.perf_counter()
        got, answer = self.request(method, path, user, body, timeout=timeout)
        seconds = time.perf_counter() - began
        if got != status or not all(part in answer for part in expected):
            sys.exit(f"{method} {path} {body} answered {got} {answer[:300]}; expected {status} "
                     f"with {' and '.join(expected)}")
        if reset:
            self.reset()
        return seconds

    def wait_idle(self, timeout):
        """Waits until the server has answered whatever a wrk run left queued. While it is
        busy, actix answers a new connection's request 408 (or drops it) once its request
        timeout has passed unread; that is retried."""
        deadline = time.perf_counter() + timeout
        while True:
            try:
                status, body = self.request("GET", "/_mock/health", timeout=timeout)
                if status == 200:
                    return
                if status != 408:
                    sys.exit(f"GET /_mock/health answered {status}: {body}")
            except (ConnectionError, http.client.RemoteDisconnected):
                pass
            if time.perf_counter() > deadline:
                sys.exit(f"the server was still busy after {timeout} s")
            time.sleep(0.1)

    def wait_ready(self, path, body, timeout):
        """Waits for a server without /_mock/ (the baseline) to answer `path`."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.process.args} exited with {self.process.returncode}")
            try:
                self.request("POST", path, body=body, timeout=5)
                return
            except (OSError, http.client.HTTPException):
                time.sleep(0.005)
        sys.exit(f"{self.process.args} did not answer within {timeout} s")

    def memory(self):
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return {"rss_kib": fields["VmRSS"], "hwm_kib": fields["VmHWM"]}

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class StateTimeout(Exception):
    """A /_mock/state request took longer than --request-timeout."""


class OtherSession:
    """Authenticated GET /api/v1/me requests to session `other`, one after the other on one
    keep-alive connection, from a thread, while the main thread sends a state request to the
    default session. Each answer must be 200. Bounded in count and time.

    A server that was busy for longer than its keep-alive time may close the idle-looking
    connection with the next request unread (a reset): the request is then sent again on a
    new connection, once, its latency counted from the first attempt, and the drop counted."""

    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.samples = []  # (start, seconds)
        self.dropped = 0
        self.error = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def once(self):
        try:
            self.exchange()
        except (ConnectionError, http.client.RemoteDisconnected):
            self.dropped += 1
            self.connection.close()
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            self.exchange()

    def exchange(self):
        self.connection.request("GET", "/api/v1/me", headers={
            "X-User-Id": ADMIN[0], "X-Auth-Token": ADMIN[1], "X-Mock-Session": OTHER_SESSION})
        response = self.connection.getresponse()
        answer = response.read().decode()
        if response.status != 200 or '"success":true' not in answer:
            raise RuntimeError(f"GET /api/v1/me in session {OTHER_SESSION!r} answered "
                               f"{response.status} {answer[:300]}")

    def loop(self):
        deadline = time.perf_counter() + self.timeout + 60
        try:
            while (not self.stopping.is_set() and len(self.samples) < PROBE_MAX_REQUESTS
                   and time.perf_counter() < deadline):
                began = time.perf_counter()
                self.once()
                self.samples.append((began, time.perf_counter() - began))
                time.sleep(PROBE_PAUSE)
        except Exception as error:  # reported by __exit__
            self.error = error

    def __enter__(self):
        self.once()  # opens the session (from the fixtures) before anything is timed
        self.thread.start()
        time.sleep(0.05)  # a few requests before: their latency is the idle one
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.thread.join(self.timeout + 10)
        self.connection.close()
        if self.error is not None:
            sys.exit(str(self.error))

    def during(self, began, ended):
        """The latencies of the requests that were in flight during [began, ended]."""
        return [seconds for start, seconds in self.samples
                if start < ended and start + seconds > began]

    def before(self, began):
        return [seconds for start, seconds in self.samples if start + seconds <= began]


class RssSampler:
    """VmRSS of a process, sampled every 10 ms from a thread, in KiB."""

    def __init__(self, pid, timeout):
        self.path = Path(f"/proc/{pid}/status")
        self.timeout = timeout
        self.samples = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def sample(self):
        for line in self.path.read_text().splitlines():
            if line.startswith("VmRSS:"):
                self.samples.append(int(line.split()[1]))

    def loop(self):
        deadline = time.perf_counter() + self.timeout + 60
        while not self.stopping.wait(0.01) and time.perf_counter() < deadline:
            self.sample()

    def __enter__(self):
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopping.set()
        self.thread.join(10)
        self.sample()


def wait_answered(port, process, timeout):
    """The time of the first 200 to an authenticated Rocket.Chat request (GET /api/v1/me)."""
    request = (f"GET /api/v1/me HTTP/1.1\r\nHost: {HOST}\r\nX-User-Id: {ADMIN[0]}\r\n"
               f"X-Auth-Token: {ADMIN[1]}\r\nConnection: close\r\n\r\n").encode()
    deadline = time.perf_counter() + timeout
    # Polled every 0.5 ms at first, backing off to 20 ms: a tight loop of connection
    # attempts takes most of a core, which a loading server on this 2-core machine needs
    # (it made a million contacts' start-up measure 7 s instead of 4).
    delay = 0.0005
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited with {process.returncode} before answering")
        try:
            with socket.create_connection((HOST, port), timeout=5) as connection:
                connection.sendall(request)
                head = connection.recv(64)
                if head.startswith(b"HTTP/1.1 200"):
                    return time.perf_counter()
        except OSError:
            time.sleep(delay)
            delay = min(delay * 1.25, 0.02)
    process.kill()
    sys.exit(f"the server did not answer within {timeout} s")


def lookup_scenarios(folder, contacts):
    """(group, name, method, path, user, body, status, expected) of the rows that read: search,
    checkExistence and login. checkExistence looks for the workspace's last contact."""
    last = last_contact(folder, contacts)
    query = lambda **params: urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    listed = ('"total":', '"success":true') if contacts == 0 else (f'"total":{contacts}',)
    exists = '{"exists":true,"success":true}'
    return [
        ("search", "search, no text (200)", "GET", f"{SEARCH}?count=50", ADMIN, "", 200, listed),
        ("search", "search, text matching nothing (200)", "GET",
         f"{SEARCH}?{query(searchText=NO_MATCH, count=50)}", ADMIN, "", 200,
         ('"contacts":[]', '"total":0')),
        ("exists", "checkExistence, email (200)", "GET", f"{EXISTS}?{query(email=last['email'])}",
         ADMIN, "", 200, exists),
        ("exists", "checkExistence, phone (200)", "GET", f"{EXISTS}?{query(phone=last['phone'])}",
         ADMIN, "", 200, exists),
        ("exists", "checkExistence, contactId (200)", "GET",
         f"{EXISTS}?{query(contactId=last['_id'])}", ADMIN, "", 200, exists),
        ("login", "login, username and password (200)", "POST", LOGIN, None, LOGIN_BODY, 200,
         '"status":"success"'),
    ]


def last_contact(folder, contacts):
    """The _id, e-mail address and phone number of the workspace's last contact (John on the
    built-in fixtures), read from the end of contacts.json."""
    if folder is None:
        return {"_id": first_id(0), "email": "email@example.com", "phone": "+123383883838"}
    with (folder / "contacts.json").open("rb") as file:
        file.seek(max(0, file.seek(0, os.SEEK_END) - (1 << 16)))
        lines = file.read().decode(errors="replace").splitlines()
    document = json.loads(next(l for l in reversed(lines) if l.startswith("{")).rstrip(","))
    if document["_id"] != "%024x" % contacts:
        sys.exit(f"{folder}/contacts.json ends with {document['_id']}, not contact {contacts}")
    return {"_id": document["_id"], "email": document["emails"][0]["address"],
            "phone": document["phones"][0]["phoneNumber"]}


# The shapes of src/bin/rocketchat-mock-fixtures.rs, for contacts the workspace lacks.
FIRST_NAMES = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Felipe", "Gabriela", "Hugo", "Isabel",
               "João", "Karin", "Luis", "Marta", "Nuno", "Olivia", "Pedro"]
LAST_NAMES = ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Almeida", "Ferreira",
              "Rocha", "Lima", "Gomes", "Martins"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"]
MANAGERS = ["9sLvmAcQk4EAGdi6e", "rbAXPnMktTFbNpwtJ"]


def generated_contact(index, generator):
    """Contact number `index` in the generator's shape (with conflicts, as its default)."""
    first, last = generator.choice(FIRST_NAMES), generator.choice(LAST_NAMES)
    created = 1_704_067_200 + generator.randrange(63_072_000)
    updated = created + generator.randrange(86_400 * 30)
    return {
        "_id": "%024x" % (index + 1),
        "createdAt": iso(created),
        "name": f"{first} {last}",
        "emails": [{"address": f"{first.lower()}.{last.lower()}.{index}@example.com"}],
        "phones": [{"phoneNumber": "+55%011d" % index}],
        "contactManager": MANAGERS[index % 2],
        "channels": [{
            "name": "widget",
            "visitor": {"visitorId": "%024x" % generator.getrandbits(48),
                        "source": {"type": "widget"}},
            "blocked": False,
            "verified": False,
            "details": {"type": "widget", "destination": "example.com"},
        }],
        "customFields": {"company": generator.choice(COMPANIES)},
        "unknown": False,
        "conflictingFields": [
            {"field": "name", "value": f"{generator.choice(FIRST_NAMES)} {last}"},
            {"field": "customFields.company", "value": generator.choice(COMPANIES)},
        ],
        "_updatedAt": iso(updated),
    }


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(seconds))


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def summary_ms(times):
    return {"runs": len(times), "median_ms": round(statistics.median(times) * 1000, 1),
            "min_ms": round(min(times) * 1000, 1), "max_ms": round(max(times) * 1000, 1)}


def first_id(contacts):
    """A contact of the workspace: John of the built-in fixtures, or generated contact 0."""
    return "67487f45e98719b7908d0f29" if contacts == 0 else "%024x" % 1


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def split(text):
    return [part for part in text.split(",") if part]


def machine():
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(memory) / 2**20, 1),
            "kernel": platform.release(),
            "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if shutil.which("wrk") else None}


def markdown(results):
    lines = []
    if any(figures["runs"] for figures in results["load"].values()):
        lines += ["### Requests", "",
                  "| workspace | scenario | connections | requests/s | p50 ms | p99 ms | max ms |",
                  "|---|---|---:|---:|---:|---:|---:|"]
    for size, figures in results["load"].items():
        for name, runs in figures["runs"].items():
            for connections, run in runs.items():
                lines.append(f"| {size} | {name} | {connections} | {run['rps']:,} | "
                             f"{run['p50_ms']:.3f} | {run['p99_ms']:.3f} | {run['max_ms']:.3f} |")
    if results["startup"]:
        lines += ["", "### Start-up and memory", "",
                  "| workspace | start-up to first answer, median ms (min-max) | idle RSS MiB | "
                  "peak RSS under load MiB |", "|---|---|---:|---:|"]
    for size, startup in results["startup"].items():
        peak = results["load"].get(size, {}).get("peak_rss_mib", "")
        lines.append(f"| {size} | {startup['median_ms']} ({startup['min_ms']}-{startup['max_ms']},"
                     f" {startup['runs']} runs) | {startup['idle_rss_mib']} | {peak} |")
    lines += markdown_lookups(results) + markdown_state(results) + markdown_baseline(results)
    return "\n".join(lines).lstrip("\n")


def markdown_lookups(results):
    rows = [(size, name, connections, run) for size, figures in results["load"].items()
            for name, runs in figures.get("lookups", {}).items()
            for connections, run in runs.items()]
    if not rows:
        return []
    lines = ["", "### Search, checkExistence and login", "",
             "| workspace | scenario | connections | requests | requests/s | p50 ms | p99 ms | "
             "max ms | first request ms |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    skipped = False
    for size, name, connections, run in rows:
        if "skipped" in run:
            skipped = True
            lines.append(f"| {size} | {name} | {connections} | skipped* | | | | | "
                         f"{run['first_ms']:.3f} |")
        elif run["requests"] == 0:
            lines.append(f"| {size} | {name} | {connections} | 0 | | | | | "
                         f"{run['first_ms']:.3f} |")
        else:
            lines.append(f"| {size} | {name} | {connections} | {run['requests']:,} | "
                         f"{run['rps']:,} | {run['p50_ms']:.3f} | {run['p99_ms']:.3f} | "
                         f"{run['max_ms']:.3f} | {run['first_ms']:.3f} |")
    lines += ["", "checkExistence looks for the workspace's last contact. \"first request\" is the "
              "checked request before the run, alone on the server. A run with few requests "
              "(one request takes about as long as the run) gives rough figures; 0 requests "
              "leaves only the first request's time."]
    if skipped:
        lines.append(f"\\* Skipped: connections x the first request's time is more than "
                     f"{MAX_BACKLOG} s of queued work.")
    return lines


def markdown_state(results):
    lines = []
    reads = [(size, figures["get_state"]) for size, figures in results["load"].items()
             if "get_state" in figures]
    if reads:
        lines += ["", "### Reading the state: GET /_mock/state", "",
                  "| workspace | body MB | runs | time to read it, median ms (min-max) | "
                  "RSS before MiB | RSS growth during it, MiB (max of runs) |",
                  "|---|---:|---:|---|---:|---:|"]
        for size, row in reads:
            if "timed_out_after_s" in row and not row.get("median_ms"):
                lines.append(f"| {size} | | | more than {row['timed_out_after_s']:.0f} s | | |")
                continue
            lines.append(f"| {size} | {row['bytes'] / 1e6:.3f} | {row['runs']} | "
                         f"{row['median_ms']} ({row['min_ms']}-{row['max_ms']}) | "
                         f"{row['rss_before_mib']} | {row['rss_growth_mib']} |")
    writes = [(size, method, figures[key]) for size, figures in results["load"].items()
              for method, key in (("PATCH", "patch"), ("PUT", "put")) if key in figures]
    if writes:
        lines += ["", "### Writing the state, and another session meanwhile", "",
                  "| workspace | request | contacts sent (updated + new) | body MB | runs | "
                  "wall time, median ms (min-max) | other session: requests during it | "
                  "p50 ms | max ms | p50 ms when idle | connections dropped |",
                  "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
        for size, method, row in writes:
            sent = (f"{row['contacts_sent']:,} ({row['updated']:,} + {row['inserted']:,})"
                    if method == "PATCH" else f"{row['contacts_sent']:,}")
            start = f"| {size} | {method} /_mock/state | {sent} | {row['bytes'] / 1e6:.3f} |"
            if not row.get("median_ms"):
                lines.append(f"{start} | more than {row.get('timed_out_after_s', 0):.0f} s | | | "
                             "| | |")
                continue
            lines.append(f"{start} {row['runs']} | {row['median_ms']} ({row['min_ms']}-"
                         f"{row['max_ms']}) | {row['other_requests']:,} | "
                         f"{row['other_p50_ms']:.3f} | {row['other_max_ms']:.3f} | "
                         f"{row['other_idle_p50_ms']:.3f} | {row['other_connections_dropped']} |")
        lines += ["", f"The other session (`X-Mock-Session: {OTHER_SESSION}`) sends GET "
                  "/api/v1/me, one request after another, from a thread of bench.py; its "
                  "figures are the medians of the runs, max the largest; a request whose "
                  "keep-alive connection the server dropped is sent again on a new one (counted "
                  "in \"connections dropped\", latency from the first attempt). Each run starts "
                  "from a reset. PATCH sends the workspace's first contacts, renamed (and new "
                  "ones where it has fewer)."]
    return lines


def markdown_baseline(results):
    baseline = results.get("baseline")
    if not baseline:
        return []
    lines = ["", "### Against a bare actix-web handler (examples/bare_actix.rs)", "",
             "| baseline body | connections | requests/s | p50 ms | p99 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for mode, runs in baseline["runs"].items():
        for connections, run in runs.items():
            lines.append(f"| {'one fixed body' if mode == 'fixed' else 'a body per contact'} | "
                         f"{connections} | {run['rps']:,} | {run['p50_ms']:.3f} | "
                         f"{run['p99_ms']:.3f} | {run['max_ms']:.3f} |")
    if not baseline["ratios"]:
        return lines
    lines += ["", "| workspace | connections | mock update requests/s | baseline requests/s | "
              "mock / baseline |", "|---|---:|---:|---:|---:|"]
    for size, ratios in baseline["ratios"].items():
        mode = "fixed" if results["load"][size]["contacts"] == 0 else "spread"
        for connections, ratio in ratios.items():
            mock = results["load"][size]["runs"]["update (200)"][connections]["rps"]
            base = baseline["runs"][mode][connections]["rps"]
            lines.append(f"| {size} | {connections} | {mock:,} | {base:,} | {ratio:.2f} |")
    lines += ["", "The built-in fixtures are compared with the fixed body, the generated "
              "workspaces with a body per contact (wrk's Lua builds each request)."]
    return lines


if __name__ == "__main__":
    main()
