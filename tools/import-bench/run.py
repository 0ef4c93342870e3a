#!/usr/bin/env python3
"""Times `rbacd import FILE` of a generated environment into a fresh server.

    tools/import-bench/run.py --rbacd target/release/rbacd [--postgres URL] [--assignments 1000000] [--phases]

Writes the document (roles, identities, nodes, assignments; a node tree of
fan-out 10; every assignment a distinct (identity, role, node)), starts
`rbacd serve` on a fresh SQLite file (or a fresh PostgreSQL database created on
the server at URL and dropped afterwards), runs the import through the CLI, and
prints the wall time of the import, the server's CPU time during it and the load.
"""

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid

KEY = "rbacd_import_bench_admin_key_0123456789"


def document(path, roles, identities, nodes, assignments, seed=7):
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("roles:\n")
        for r in range(roles):
            f.write(f"- name: Role{r}\n  permissions:\n  - App{r % 7}:Read\n  - App{r % 5}:Write\n")
        f.write("identities:\n")
        for i in range(identities):
            f.write(f"- email: user{i}@example.com\n  display_name: User {i}\n")
        f.write("nodes:\n")
        for n in range(nodes):
            parent = "root" if n < 10 else f"n{(n - 10) // 10}"
            f.write(f"- key: n{n}\n  parent: {parent}\n")
        f.write("assignments:\n")
        seen = set()
        while len(seen) < assignments:
            t = (rng.randrange(identities), rng.randrange(roles), rng.randrange(nodes))
            if t in seen:
                continue
            seen.add(t)
            i, r, n = t
            f.write(f"- identity: user{i}@example.com\n  node: n{n}\n  role: Role{r}\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def psql(url, sql):
    subprocess.run(["psql", url, "-qc", sql], check=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rbacd", required=True)
    p.add_argument("--postgres", help="a PostgreSQL server URL (its database is used only to create and drop one)")
    p.add_argument("--assignments", type=int, default=1_000_000)
    p.add_argument("--identities", type=int, default=100_000)
    p.add_argument("--nodes", type=int, default=10_000)
    p.add_argument("--roles", type=int, default=50)
    p.add_argument("--file", help="reuse or write the document here")
    p.add_argument("--perf", metavar="FILE",
                   help="run the server under `perf record -g`, writing FILE (its CPU figure is then perf's)")
    p.add_argument("--phases", action="store_true",
                   help="print the client's and the server's debug-level phase timings")
    args = p.parse_args()

    work = tempfile.mkdtemp(prefix="rbacd-import-bench-")
    doc = args.file or os.path.join(work, "env.yaml")
    if not os.path.exists(doc):
        started = time.time()
        document(doc, args.roles, args.identities, args.nodes, args.assignments)
        print(f"document: {os.path.getsize(doc) / 2**20:.0f} MiB written in {time.time() - started:.1f} s")

    dropped = None
    if args.postgres:
        name = "rbacd_import_bench_" + uuid.uuid4().hex[:8]
        psql(args.postgres, f"CREATE DATABASE {name}")
        dropped = name
        url = args.postgres.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite://{work}/rbacd.db?mode=rwc"
    port = free_port()
    log = "warn"
    if args.phases:
        log += ",rbacd::cli::bulk=debug,rbacd::api::bulk=debug,rbacd::store::bulk=debug"
    env = dict(os.environ, RBACD_LOG=log)
    wrapper = ["perf", "record", "-F", "499", "-g", "-o", args.perf, "--"] if args.perf else []
    server = subprocess.Popen(
        wrapper + [args.rbacd, "serve", "--listen", f"127.0.0.1:{port}", "--database-url", url,
         "--bootstrap-api-key", KEY],
        env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        cpu_before = cpu_seconds(server.pid)
        started = time.time()
        out = subprocess.run(
            [args.rbacd, "import", doc, "--server", f"http://127.0.0.1:{port}", "--api-key", KEY],
            env=env, capture_output=True, text=True)
        took = time.time() - started
        cpu = cpu_seconds(server.pid) - cpu_before
        peak = peak_rss_mib(server.pid)
        load = open("/proc/loadavg").read().split()[:3]
        sys.stdout.write(out.stdout + out.stderr)
        database = "PostgreSQL" if args.postgres else "SQLite"
        print(f"import into {database}: {took:.1f} s wall, server CPU {cpu:.1f} s, server peak RSS {peak:.0f} MiB, exit {out.returncode}, load {' '.join(load)}")
    finally:
        server.terminate()
        server.wait()
        if dropped:
            psql(args.postgres, f"DROP DATABASE {dropped}")
        for suffix in ("", "-wal", "-shm"):
            path = os.path.join(work, "rbacd.db" + suffix)
            if os.path.exists(path):
                os.remove(path)


if __name__ == "__main__":
    main()
