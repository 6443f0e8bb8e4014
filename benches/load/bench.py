#!/usr/bin/env python3
"""Load benchmark of rocketchat-mock: requests/s and latency under wrk, start-up time and
memory, on the built-in fixtures and on generated workspaces. Loopback only, bounded in time.

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
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
LUA = HERE / "request.lua"

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
    args = parser.parse_args()

    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        sys.exit("bench.py needs two cores: one for the server, one for wrk")
    server_core, client_core = cores[0], cores[1]
    # This script and wrk share the client core, so that the server's core is its own.
    os.sched_setaffinity(0, {client_core})

    env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info")}
    context = Context(args, server_core, client_core, env)
    results = {"machine": machine(), "command": " ".join(sys.argv),
               "server_args": args.server_args, "startup": {}, "load": {}}

    for size in split(args.startup_sizes):
        folder = context.workspace(size)
        runs = args.startup_runs if SIZES[size] < 1_000_000 else max(1, args.startup_runs // 2)
        results["startup"][size] = context.startup(folder, runs)
        print(f"start-up {size}: {results['startup'][size]}", file=sys.stderr)

    for size in split(args.load_sizes):
        results["load"][size] = context.load(size, context.workspace(size))

    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))


class Context:
    def __init__(self, args, server_core, client_core, env):
        self.args = args
        self.server_core = server_core
        self.client_core = client_core
        self.env = env

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

    def start(self, folder):
        port = free_port()
        command = ["taskset", "-c", str(self.server_core), str(self.args.binary), "--host", HOST,
                   "--port", str(port), "--workers", "1", *self.args.server_args.split()]
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
            server = self.start(folder)
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
        figures = {"contacts": contacts, "idle_rss_mib": None, "runs": {}}
        try:
            time.sleep(1)
            figures["idle_rss_mib"] = round(server.memory()["rss_kib"] / 1024, 1)
            for name, (path, user, body, spread, status, expected) in SCENARIOS.items():
                if contacts == 0 and path == CONFLICTS:
                    continue  # the built-in fixtures have one contact with conflicts
                for connections in split(self.args.connections):
                    server.reset()
                    server.check(path, user, body.replace("%s", first_id(contacts)), status,
                                 expected)
                    run = self.wrk(server.port, path, user, body, contacts if spread else 0,
                                   first_id(contacts), int(connections), status)
                    figures["runs"].setdefault(name, {})[connections] = run
                    print(f"{size} {name} c={connections}: {run}", file=sys.stderr)
            memory = server.memory()
            figures["rss_after_mib"] = round(memory["rss_kib"] / 1024, 1)
            figures["peak_rss_mib"] = round(memory["hwm_kib"] / 1024, 1)
        finally:
            server.stop()
        return figures

    def wrk(self, port, path, user, body, contacts, fixed_id, connections, status):
        """One wrk run; the body names generated contacts in turn, or `fixed_id` when
        `contacts` is 0."""
        env = {**os.environ, "BENCH_PATH": path, "BENCH_BODY": body,
               "BENCH_USER": ":".join(user) if user else "", "BENCH_CONTACTS": str(contacts)}
        if contacts == 0:
            env["BENCH_BODY"] = body.replace("%s", fixed_id)
        command = ["taskset", "-c", str(self.client_core), "wrk", "-t1", f"-c{connections}",
                   f"-d{self.args.duration}s", "--timeout", "5s", "-s", str(LUA),
                   f"http://{HOST}:{port}{path}"]
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True,
                                timeout=self.args.duration + 60).stdout
        line = next(l for l in output.splitlines() if l.startswith("BENCH_RESULT "))
        raw = json.loads(line.removeprefix("BENCH_RESULT "))
        wrong = raw["requests"] - raw["non_2xx"] if status >= 300 else raw["non_2xx"]
        if wrong or raw["socket_errors"]:
            sys.exit(f"{path} at {connections} connections: {wrong} answers were not {status}, "
                     f"{raw['socket_errors']} socket errors\n{output}")
        return {"requests": raw["requests"],
                "rps": round(raw["requests"] / raw["seconds"]),
                "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
                "max_ms": raw["max_us"] / 1000}


class Server:
    def __init__(self, process, port, startup_seconds):
        self.process = process
        self.port = port
        self.startup_seconds = startup_seconds

    def request(self, method, path, user=None, body=None):
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if user:
            headers["X-User-Id"], headers["X-Auth-Token"] = user
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.status, response.read().decode()
        connection.close()
        return answer

    def reset(self):
        status, body = self.request("POST", "/_mock/reset")
        if status != 200:
            sys.exit(f"POST /_mock/reset answered {status}: {body}")

    def check(self, path, user, body, status, expected):
        got, answer = self.request("POST", path, user, body)
        if got != status or expected not in answer:
            sys.exit(f"POST {path} {body} answered {got} {answer[:300]}; expected {status} "
                     f"with {expected}")
        self.reset()

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


def wait_answered(port, process, timeout):
    """The time of the first 200 to an authenticated Rocket.Chat request (GET /api/v1/me)."""
    request = (f"GET /api/v1/me HTTP/1.1\r\nHost: {HOST}\r\nX-User-Id: {ADMIN[0]}\r\n"
               f"X-Auth-Token: {ADMIN[1]}\r\nConnection: close\r\n\r\n").encode()
    deadline = time.perf_counter() + timeout
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
            time.sleep(0.0005)
    process.kill()
    sys.exit(f"the server did not answer within {timeout} s")


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
    lines = ["### Requests", "",
             "| workspace | scenario | connections | requests/s | p50 ms | p99 ms | max ms |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for size, figures in results["load"].items():
        for name, runs in figures["runs"].items():
            for connections, run in runs.items():
                lines.append(f"| {size} | {name} | {connections} | {run['rps']:,} | "
                             f"{run['p50_ms']:.3f} | {run['p99_ms']:.3f} | {run['max_ms']:.3f} |")
    lines += ["", "### Start-up and memory", "",
              "| workspace | start-up to first answer, median ms (min-max) | idle RSS MiB | "
              "peak RSS under load MiB |", "|---|---|---:|---:|"]
    for size, startup in results["startup"].items():
        peak = results["load"].get(size, {}).get("peak_rss_mib", "")
        lines.append(f"| {size} | {startup['median_ms']} ({startup['min_ms']}-{startup['max_ms']},"
                     f" {startup['runs']} runs) | {startup['idle_rss_mib']} | {peak} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
