#!/usr/bin/python3
"""The boot-storm benchmark: pxe-pdhcp against dnsmasq, and both against the
ceiling of the packet path itself, in one run on this machine.

It builds a two-host sandbox LAN (two network namespaces joined by a veth
pair; nothing outside them is touched), then runs the same pxe-storm loads
against three servers, one at a time and interleaved (pxe-pdhcp, dnsmasq,
reflector, pxe-pdhcp, ...), each started fresh for every run:

  pxe-pdhcp   one worker, pinned to CPU 0
  dnsmasq     proxy mode (--dhcp-range=...,proxy), pinned to CPU 0
  reflector   bench/pxe-reflector: the least work that still answers a
              client, on the same veth and CPU: the ceiling of the path

pxe-storm, the client side, is pinned to CPU 1. It prints one table
(report.md), a plot of latency against offered rate (latency.png), and keeps
every run's raw figures (runs.jsonl) in the output directory.

Run it as root, through bench/storm-bench.sh (which installs and builds
what it needs). --quick gives a small run in about a minute.
"""

import argparse
import datetime
import gzip
import json
import os
import resource
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

SERVER_ADDRESS = "10.64.0.1"
SERVER_PREFIX = "10.64.0.1/10"
CLIENT_NET = "10.80.0.0/12"  # pxe-storm's clients own these addresses
SEED = 4242                  # the same clients in every run
# Every client type both servers can answer (dnsmasq's proxy mode has no
# UEFI HTTP boot).
MIX = "bios=40,uefi-x64=40,arm64=10,ipxe=10"
SERVER_CPU = "0"     # replaced by the first two CPUs this process may use
CLIENT_CPU = "1"
LOSS_LIMIT_PCT = 0.1  # "sustained": at most this share lost (late > 1 s)
SATURATED_PCT = 20.0  # beyond this loss a server is not tried at higher rates
# pxe-storm behind its schedule by more than this (p99 of its send lag) sends
# in bursts: the load is no longer the steady rate asked for (the same
# threshold at which pxe-storm warns).
LAG_LIMIT_MS = 10.0

# IPv6 clients (EDK2's PXEv6 and HTTPv6 exchanges), run against pxe-pdhcp
# alone: dnsmasq's proxy mode does not answer DHCPv6 PXE, and the reflector
# has no DHCPv6 path.
MIX6 = "uefi-x64-v6=50,http-v6=50"
SERVER6_PREFIX = "fd77::1/64"
HTTP_URL6 = "http://[fd77::1]/boot/syslinux.efi"

SERVERS = ("pxe-pdhcp", "dnsmasq", "reflector")
# Servers that answer through the kernel's stack and so need a neighbour
# entry per client for their 4011 ACKs.
KERNEL_STACK = ("dnsmasq",)
# pxe-pdhcp spinning up to 1 ms on its ring before it sleeps: lower latency
# for a core of its own. In the rate sweep only.
BUSY = "pxe-pdhcp-busy"


class Plan:
    """What to measure: the full benchmark or a quick run."""

    def __init__(self, quick, repeats):
        self.quick = quick
        if quick:
            self.rates = [1000, 5000, 20000]
            self.rate_seconds = 1.0
            self.repeats = repeats or 1
            self.refine_steps = 0
            self.storms = [1000, 5000]
            self.rss_clients = [1000, 10000]
        else:
            self.rates = [1000, 2000, 5000, 10000, 20000, 50000, 100000,
                          150000, 200000, 250000, 300000]
            self.rate_seconds = 2.0
            self.repeats = repeats or 3
            self.refine_steps = 2
            self.storms = [1000, 10000, 50000]
            self.rss_clients = [1000, 10000, 100000]
        # Rates whose latency the table shows (those of the targets first).
        self.latency_rates = [r for r in (1000, 5000, 10000, 20000, 50000,
                                          100000) if r in self.rates]
        # IPv6 clients, pxe-pdhcp alone: a few fixed rates and one storm.
        self.v6_rates = [1000, 5000] if quick else [1000, 5000, 20000,
                                                   50000, 100000]
        self.v6_storm = 1000 if quick else 10000
        self.storm_window = 1.0
        # Long enough for the ROMs' retries at 4 and 8 s: "booted after
        # retries" covers those; later ones count as not booted.
        self.storm_max_seconds = 12.0
        # Below dnsmasq's sustained rate, so both servers really serve
        # every client of the memory runs.
        self.rss_rate = 5000

    def neighbour_clients(self):
        """Clients a kernel-stack server may see: every storm and memory
        run, and rate runs up to 50,000/s (far beyond where dnsmasq
        saturates, so it is not tried at higher rates)."""
        return int(max(min(max(self.rates), 50000) * self.rate_seconds,
                       max(self.storms), max(self.rss_clients)))


def log(text):
    print(text, file=sys.stderr, flush=True)


def run(argv, **kwargs):
    return subprocess.run(argv, check=True, **kwargs)


class Sandbox:
    """Two namespaces and a veth pair; everything started inside them is
    stopped by PID, and the namespaces deleted, on close()."""

    def __init__(self, workdir):
        tag = "pxb%d" % os.getpid()
        self.srv, self.cli = tag + "s", tag + "c"
        self.workdir = workdir
        self.procs = []
        self.made = []
        try:
            for ns in (self.srv, self.cli):
                run(["ip", "netns", "add", ns])
                self.made.append(ns)
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "link", "add", "s0", "netns", self.srv, "type", "veth",
                 "peer", "name", "c0", "netns", self.cli])
            run(["ip", "-n", self.srv, "addr", "add", SERVER_PREFIX, "dev",
                 "s0"])
            # For the IPv6 clients: X in pxe-pdhcp's tftp://[X]/ URLs.
            run(["ip", "netns", "exec", self.srv, "sysctl", "-q", "-w",
                 "net.ipv6.conf.s0.disable_ipv6=0"])
            run(["ip", "-n", self.srv, "-6", "addr", "add", SERVER6_PREFIX,
                 "dev", "s0", "nodad"])
            for ns, dev in ((self.srv, "s0"), (self.cli, "c0")):
                run(["ip", "-n", ns, "link", "set", dev, "up"])
        except BaseException:
            self.close()
            raise

    def seed_neighbours(self, storm_bin, clients):
        """Permanent neighbour entries for the clients' addresses. A kernel
        stack server (dnsmasq) sends its 4011 ACK by IP, so it needs one
        per client; learned entries stop at the host-wide gc_thresh3 (1,024
        by default), which a sandbox cannot raise without touching the
        host, but permanent entries do not count against it."""
        listing = run([storm_bin, "--list-clients", "-n", str(clients),
                       "--seed", str(SEED), "--client-net", CLIENT_NET,
                       "--mix", MIX], capture_output=True, text=True).stdout
        batch = os.path.join(self.workdir, "neighbours.batch")
        with open(batch, "w") as out:
            for line in listing.splitlines():
                _, mac, address, _ = line.split()
                out.write("neigh replace %s lladdr %s dev s0 nud permanent\n"
                          % (address, mac))
        run(["ip", "-n", self.srv, "-batch", batch])
        os.unlink(batch)

    def spawn(self, ns, argv, log_path):
        with open(log_path, "w") as out:
            proc = subprocess.Popen(["ip", "netns", "exec", ns] + argv,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def close(self):
        for proc in list(self.procs):
            self.stop(proc)
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], check=False)
        self.made = []


def server_argv(name, build, workdir):
    if name in ("pxe-pdhcp", BUSY):
        return [os.path.join(build, "tools/pxe-pdhcp"), "--foreground",
                "--workers", "1", "-i", "s0",
                "--boot-file", "uefi-x64=" + FILES["uefi-x64"],
                "--boot-file", "uefi-arm64=" + FILES["uefi-arm64"],
                "--http-url", HTTP_URL6, FILES["bios"]] + (
                    ["--busy-poll", "1000"] if name == BUSY else [])
    if name == "dnsmasq":
        return ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
                "--no-hosts", "--no-resolv", "--interface=s0",
                "--bind-interfaces", "--dhcp-range=10.64.0.0,proxy,255.192.0.0",
                "--pxe-service=x86PC,Boot,pxelinux",
                "--pxe-service=X86-64_EFI,Boot,syslinux.efi",
                "--pxe-service=ARM64_EFI,Boot,grubaa64.efi",
                "--dhcp-leasefile=" + os.path.join(workdir, "dnsmasq.leases"),
                "--pid-file=" + os.path.join(workdir, "dnsmasq.pid"),
                "--user=root", "--log-facility=-", "--quiet-dhcp"]
    return [os.path.join(build, "bench/pxe-reflector"), "-i", "s0", "-a",
            SERVER_ADDRESS]


# What pxe-storm checks in each server's replies beyond the protocol: the
# file for each architecture, as server_argv() configures it (dnsmasq
# names the BIOS file basename.0), and the server's address in option 54
# and siaddr. The reflector hands everyone pxelinux.0.
FILES = {"bios": "pxelinux.0", "uefi-x64": "syslinux.efi",
         "uefi-arm64": "grubaa64.efi"}


def expectations6():
    """The same for IPv6 clients: the file of the 4011 Reply's URL, and the
    HTTPv6 URL."""
    return ["--expect-file", "uefi-x64=" + FILES["uefi-x64"],
            "--expect-http-url6", HTTP_URL6]


def expectations(name):
    files = {"bios": FILES["bios"]} if name == "reflector" else FILES
    argv = ["--expect-server", SERVER_ADDRESS]
    for arch, path in sorted(files.items()):
        argv += ["--expect-file", "%s=%s" % (arch, path)]
    return argv


# What each server prints once it serves (the reflector prints nothing).
READY = {"pxe-pdhcp": "ready, 1 worker",
         BUSY: "ready, 1 worker",
         "dnsmasq": "sockets bound exclusively to interface s0",
         "reflector": "pxe-reflector: answering on s0"}


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def system_busy_seconds():
    """CPU time every CPU has spent busy (user, nice, system, irq,
    softirq), from /proc/stat: the server, pxe-storm and all the kernel's
    work for both, including the receive softirqs that no process is
    charged for."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    """User and system time of this process's reaped children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def server_work_seconds(r):
    """Every CPU's busy time during the run minus pxe-storm's own process
    time: the server, and the kernel's work for both sides that no process
    is charged for (receive softirqs)."""
    if r.get("system_cpu_s") is None or r.get("generator_cpu_s") is None:
        return None
    work = r["system_cpu_s"] - r["generator_cpu_s"]
    # /proc/stat counts in clock ticks, rusage exactly: over a short run the
    # difference can come out below zero, which says only "not measurable".
    return work if work > 0 else None


def proc_status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Bench:
    def __init__(self, args, plan, sandbox, runs=None):
        """A run on `sandbox`, or (sandbox None) the figures of an earlier
        run, `runs`, to report on again."""
        self.args, self.plan, self.sb = args, plan, sandbox
        self.storm_bin = os.path.join(args.build, "tools/storm/pxe-storm")
        self.runs = runs or []
        self.raw = open(os.path.join(args.out, "runs.jsonl"), "w") \
            if sandbox else None
        self.counter = 0

    def start_server(self, name):
        # Every run starts from the same neighbour table: the permanent
        # entries only. (Learned entries left by one server's run, up to the
        # host-wide limit, would change what the next server meets.)
        run(["ip", "-n", self.sb.srv, "neigh", "flush", "dev", "s0"])
        self.counter += 1
        log_path = os.path.join(self.args.out, "logs",
                                "%03d-%s.log" % (self.counter, name))
        argv = ["taskset", "-c", SERVER_CPU] + server_argv(
            name, self.args.build, self.args.out)
        proc = self.sb.spawn(self.sb.srv, argv, log_path)
        deadline = time.time() + 10
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("%s exited at start: see %s" %
                                   (name, log_path))
            with open(log_path) as f:
                if READY[name] in f.read():
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("%s did not start: see %s" % (name, log_path))
        return proc, log_path

    def measure(self, name, kind, clients, rate=None, window=None,
                max_seconds=None, ipv6=False):
        """One fresh server, one pxe-storm run against it (with MIX6, the
        IPv6 clients, when `ipv6`)."""
        proc, log_path = self.start_server(name)
        idle_rss = proc_status_kb(proc.pid, "VmRSS")
        cpu_before = proc_cpu_seconds(proc.pid)
        busy_before = system_busy_seconds()
        children_before = children_cpu_seconds()
        argv = ["taskset", "-c", CLIENT_CPU, self.storm_bin, "-i", "c0",
                "-n", str(clients), "--seed", str(SEED), "--client-net",
                CLIENT_NET, "--mix", MIX6 if ipv6 else MIX, "--json",
                "--max-seconds", "%g" % max_seconds] + (
                    expectations6() if ipv6 else expectations(name))
        argv += ["--rate", "%g" % rate] if rate else \
            ["--storm-window", "%g" % window]
        storm = subprocess.run(["ip", "netns", "exec", self.sb.cli] + argv,
                               capture_output=True, text=True,
                               timeout=max_seconds + 60)
        if storm.returncode != 0:
            self.sb.stop(proc)
            raise RuntimeError("pxe-storm failed: " + storm.stderr.strip())
        result = json.loads(storm.stdout)
        if result["received"]["replies"] == 0:
            log("  (%s answered nothing at all: see %s)" % (name, log_path))
        busy = system_busy_seconds() - busy_before
        # pxe-storm is the only child reaped in between (servers are
        # reaped when stopped, after this).
        generator = children_cpu_seconds() - children_before
        cpu = proc_cpu_seconds(proc.pid) - cpu_before
        rss = proc_status_kb(proc.pid, "VmRSS")
        hwm = proc_status_kb(proc.pid, "VmHWM")
        self.sb.stop(proc)
        with open(log_path) as f:
            ring = re.search(r"(\d+) lost in the ring", f.read())
        record = {"server": name, "kind": kind, "clients": clients,
                  "rate": rate, "window": window, "server_cpu_s": cpu,
                  "system_cpu_s": busy, "generator_cpu_s": generator,
                  "idle_rss_kb": idle_rss, "rss_kb": rss, "peak_rss_kb": hwm,
                  "ring_drops": int(ring.group(1)) if ring else None,
                  "storm": result}
        self.raw.write(json.dumps(record) + "\n")
        self.raw.flush()
        self.runs.append(record)
        loss = result["loss"]
        log("  %-9s %-6s %7d clients %-14s loss %.3f%%  offer p99 %.3f ms"
            % (name, kind, clients,
               ("%g/s" % rate) if rate else ("in %g s" % window),
               loss["lost_pct"], result["latency_ms"]["offer"]["p99"]))
        return record

    # ----- the experiments ------------------------------------------------

    def rate_point(self, servers, rate):
        """Every server at `rate`, repeats interleaved."""
        clients = max(int(rate * self.plan.rate_seconds), 200)
        for repeat in range(self.plan.repeats):
            for name in rotated(servers, repeat):
                self.measure(name, "rate", clients, rate=rate,
                             max_seconds=self.plan.rate_seconds + 2.5)

    def rate_sweep(self, servers):
        saturated = set()
        for rate in self.plan.rates:
            # Beyond the seeded neighbour entries a kernel-stack server would
            # be slowed by ARP: not a fair load, so not run.
            if rate * self.plan.rate_seconds > self.plan.neighbour_clients():
                saturated.update(KERNEL_STACK)
            active = [s for s in servers if s not in saturated]
            if not active:
                break
            log("rate %d clients/s" % rate)
            self.rate_point(active, rate)
            for name in active:
                if median(self.at(name, "rate", rate), loss_pct) > SATURATED_PCT:
                    saturated.add(name)
        # Bisect between each server's last passing and first failing rate.
        for _ in range(self.plan.refine_steps):
            probes = {}
            for name in servers:
                lo, hi = self.bracket(name)
                if lo and hi and hi / lo > 1.1:
                    probes[name] = int(round((lo * hi) ** 0.5, -2))
            if not probes:
                break
            for rate in sorted(set(probes.values())):
                log("refine at %d clients/s" % rate)
                self.rate_point([n for n in servers if probes.get(n) == rate],
                                rate)

    def at(self, name, kind, rate=None, clients=None):
        return [r for r in self.runs if r["server"] == name and
                r["kind"] == kind and (rate is None or r["rate"] == rate) and
                (clients is None or r["clients"] == clients)]

    def rates_tried(self, name):
        return sorted({r["rate"] for r in self.at(name, "rate")})

    def sustained(self, name, rate):
        """At most LOSS_LIMIT_PCT lost at (at least 95 % of) this rate, in
        the worst of its runs: one failed run is a failure. A run where
        pxe-storm lagged and sent in bursts still counts when the server
        kept up: bursts are the harder load."""
        runs = self.at(name, "rate", rate)
        return (worst(runs, loss_pct) <= LOSS_LIMIT_PCT and
                least(runs, power_on_rate) >= 0.95 * rate)

    def lagged(self, name, rate):
        """pxe-storm fell behind its schedule at this rate (bursty load) in
        any of its runs."""
        return worst(self.at(name, "rate", rate), send_lag_p99) > LAG_LIMIT_MS

    def bisected(self, name, rate):
        """This rate was a bisection probe for this server: its runs were
        of this server alone, not interleaved with the others."""
        return rate not in self.plan.rates

    def steady_limit(self, name):
        """The highest rate this server sustained while pxe-storm kept to
        its schedule, and whether pxe-storm's lag is what ended the
        steady range (rather than a loss)."""
        best = None
        for rate in self.rates_tried(name):
            if self.lagged(name, rate):
                return best, True
            if not self.sustained(name, rate):
                return best, False
            best = rate
        return best, False

    def bracket(self, name):
        """(highest sustained rate below the first failing one, that
        failing rate); None where there is none."""
        lo = hi = None
        for rate in self.rates_tried(name):
            if self.sustained(name, rate):
                if hi is None:
                    lo = rate
            elif hi is None:
                hi = rate
        return lo, hi

    def requests_rate(self, name, rate):
        """Requests per second at `rate` clients/s (a client sends 1 or 2)."""
        return median(self.at(name, "rate", rate), requests_per_client) * rate

    def generator_bound(self, name, rate):
        return least(self.at(name, "rate", rate), power_on_rate) < 0.95 * rate

    def storms(self, servers):
        for clients in self.plan.storms:
            log("storm of %d clients in %g s" % (clients,
                                                 self.plan.storm_window))
            for repeat in range(self.plan.repeats):
                for name in rotated(servers, repeat):
                    self.measure(name, "storm", clients,
                                 window=self.plan.storm_window,
                                 max_seconds=self.plan.storm_max_seconds)

    def ipv6(self):
        """pxe-pdhcp alone with IPv6 clients: fixed rates, then a storm."""
        for rate in self.plan.v6_rates:
            log("IPv6 clients: rate %d clients/s" % rate)
            clients = max(int(rate * self.plan.rate_seconds), 200)
            for _ in range(self.plan.repeats):
                self.measure("pxe-pdhcp", "rate6", clients, rate=rate,
                             max_seconds=self.plan.rate_seconds + 2.5,
                             ipv6=True)
        log("IPv6 clients: storm of %d clients in %g s"
            % (self.plan.v6_storm, self.plan.storm_window))
        for _ in range(self.plan.repeats):
            self.measure("pxe-pdhcp", "storm6", self.plan.v6_storm,
                         window=self.plan.storm_window,
                         max_seconds=self.plan.storm_max_seconds, ipv6=True)

    def memory(self, servers):
        for clients in self.plan.rss_clients:
            log("memory after %d clients" % clients)
            for name in servers:
                self.measure(name, "memory", clients, rate=self.plan.rss_rate,
                             max_seconds=clients / self.plan.rss_rate + 3)


# ----- figures ------------------------------------------------------------

def loss_pct(run_record):
    return run_record["storm"]["loss"]["lost_pct"]


def power_on_rate(run_record):
    return run_record["storm"]["loss"]["power_on_per_s"]


def latency(r, kind, p):
    """A percentile in ms; None when nothing was measured (no replies)."""
    h = r["storm"]["latency_ms"][kind]
    return h[p] if h["count"] else None


def offer(p):
    return lambda r: latency(r, "offer", p)


def ack_p99(r):
    return latency(r, "ack", "p99")


def send_lag_p99(r):
    return r["storm"]["self_lag_ms"]["send"]["p99"]


def requests_per_client(r):
    loss = r["storm"]["loss"]
    return loss["timed_requests"] / max(r["storm"]["clients"]["powered_on"], 1)


def rotated(items, n):
    """items, started at the n-th: each repeat puts another server first."""
    n %= len(items)
    return list(items[n:]) + list(items[:n])


def cpu_per_1k(seconds):
    """CPU ms per 1,000 replies, from seconds(run) (None where the run did
    not measure it)."""
    def per_1k(r):
        replies = r["storm"]["received"]["replies"]
        cpu = seconds(r)
        if not replies or cpu is None:
            return None
        return 1000.0 * 1000.0 * cpu / replies
    return per_1k


def first_try_pct(r):
    c = r["storm"]["clients"]
    return 100.0 * c["booted_first_try"] / c["total"]


def values_of(runs, fn):
    return [v for v in (fn(r) for r in runs) if v is not None]


def median(runs, fn):
    values = values_of(runs, fn)
    return statistics.median(values) if values else None


def worst(runs, fn):
    """The highest value (loss, latency) of the runs."""
    values = values_of(runs, fn)
    return max(values) if values else None


def least(runs, fn):
    values = values_of(runs, fn)
    return min(values) if values else None


def spread(runs, fn, digits=2):
    """The median, and the range of the runs beside it when they differ:
    "0.20 (0.18–0.31)"."""
    values = values_of(runs, fn)
    if not values:
        return "–"
    text = fmt(statistics.median(values), digits)
    if len(values) > 1 and min(values) != max(values):
        text += " (%s–%s)" % (fmt(min(values), digits),
                              fmt(max(values), digits))
    return text


def fmt(value, digits=2):
    if value is None:
        return "–"
    if isinstance(value, float) and value >= 100:
        return "{:,.0f}".format(value)
    return "{:,.{}f}".format(value, digits)


def ratio(a, b):
    return a / b if a is not None and b else None


def engine_figures(build, quick):
    """Google Benchmark medians of the engine's stages, in ns."""
    argv = [os.path.join(build, "bench/engine_bench"),
            "--benchmark_format=json",
            "--benchmark_repetitions=%d" % (1 if quick else 5),
            "--benchmark_min_time=%g" % (0.05 if quick else 0.2)]
    if not quick:
        argv.append("--benchmark_report_aggregates_only=true")
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    figures = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        if quick or b.get("aggregate_name") == "median":
            name = b.get("run_name", b["name"])
            figures[name] = b["real_time"]
    return figures


def report(bench, plan, engine, started, elapsed, kernel=None):
    """The report; `elapsed` None and `kernel` given for one re-rendered
    from the raw figures of an earlier run on that kernel."""
    servers = [s for s in SERVERS + (BUSY,) if bench.at(s, "rate")]
    lines = []
    add = lines.append
    add("# Boot-storm benchmark: pxe-pdhcp vs dnsmasq (proxy mode)")
    add("")
    if elapsed is None:
        add("%s, %s; %s run. Reported again from its raw figures "
            "(%s) with the rules below." % (
                started, kernel, "quick" if plan.quick else "full",
                os.path.basename(bench.args.report_from)))
    else:
        add("%s, %s, %d CPUs; %s run took %.0f s."
            % (started, os.uname().release, len(os.sched_getaffinity(0)),
               "quick" if plan.quick else "full", elapsed))
    add("")
    add("- Runs: %d per point, each server started fresh for each run. On "
        "the ladder of rates and in the storms the servers' runs are "
        "interleaved (the order rotates: A B C, B C A, ...). Bisection "
        "probes between a server's last passing and first failing rate "
        "(marked †) run that server alone, its %d runs in a row. Memory "
        "figures are single runs." % (plan.repeats, plan.repeats))
    add("- A rate is sustained when every one of its runs lost at most "
        "%g %% (the worst run decides). Figures are medians with the range "
        "of the runs in brackets where they differ." % LOSS_LIMIT_PCT)
    add("- Servers pinned to CPU %s with one worker (pxe-pdhcp --workers 1); "
        "pxe-storm pinned to CPU %s. The kernel's receive work for a frame "
        "runs on the sender's CPU (veth), so each server's cost is partly "
        "on pxe-storm's CPU and pxe-storm's partly on the server's."
        % (SERVER_CPU, CLIENT_CPU))
    add("- Client mix %s. Rate: new clients per second. Each client sends a "
        "DISCOVER; a REQUEST to 4011 follows when the offer names no boot "
        "file: UEFI and ARM64 clients with pxe-pdhcp (1.5 requests per "
        "client in this mix), every client with dnsmasq, whose proxy offers "
        "never name one (2 per client)." % MIX)
    add("- Loss: first requests not answered within 1 s. Wrong answers: "
        "replies pxe-storm would not boot from, each checked against the "
        "file for the client's architecture and the server address as the "
        "server was configured (%s; the reflector gives every client %s)."
        % (", ".join("%s=%s" % kv for kv in sorted(FILES.items())),
           FILES["bios"]))
    add("- dnsmasq %s, with permanent neighbour entries for the clients so "
        "that its 4011 ACKs need no ARP." % dnsmasq_version())
    add("- reflector: the least work that answers a client, on the same "
        "veth and CPU: the ceiling of the path.")
    add("- %s: pxe-pdhcp with --busy-poll 1000 (rate sweep only)." % BUSY)
    add("")

    add("## Sustained rate (loss ≤ %g %%)" % LOSS_LIMIT_PCT)
    add("")
    add("pxe-storm keeps a steady rate up to a point (its send lag p99 "
        "≤ %g ms); beyond it, it falls behind and catches up in bursts, a "
        "harder load. \"Steady\" is the highest rate sustained before "
        "that point; \"max\" includes the bursty rates."
        % LAG_LIMIT_MS)
    add("")
    add("Ratios put like against like: steady against steady, and max "
        "against max only where both servers were also run under pxe-storm's "
        "bursts (a server whose max is its steady rate was not).")
    add("")
    add("| server | steady clients/s | max clients/s | requests/s at max "
        "| steady vs reflector's steady | max vs reflector's max "
        "| steady vs dnsmasq's steady (clients) | (requests) "
        "| first failing rate |")
    add("|---|---|---|---|---|---|---|---|---|")
    best = {name: bench.bracket(name)[0] for name in servers}
    steadies = {name: bench.steady_limit(name)[0] for name in servers}
    bursty = {name: best[name] for name in servers
              if best[name] and best[name] != steadies[name]}
    reqs = {name: bench.requests_rate(name, best[name])
            for name in servers if best[name]}
    steady_reqs = {name: bench.requests_rate(name, steadies[name])
                   for name in servers if steadies[name]}

    def rate_text(name, rate):
        return fmt(rate, 0) + (" †" if bench.bisected(name, rate) else "")

    for name in servers:
        lo, hi = bench.bracket(name)
        steady, lag_ended = bench.steady_limit(name)
        failing = "none up to %d" % max(bench.rates_tried(name)) \
            if hi is None else (
            "%s (%s)" % (rate_text(name, hi),
                         "pxe-storm could not send that fast"
                         if bench.generator_bound(name, hi) else
                         "%s %% lost in the worst run%s" % (
                             fmt(worst(bench.at(name, "rate", hi), loss_pct),
                                 2),
                             ", bursty load" if bench.lagged(name, hi)
                             else "")))
        add("| %s | %s%s | %s | %s | %s | %s | %s | %s | %s |"
            % (name, rate_text(name, steady) if steady else "–",
               " (pxe-storm's limit)" if lag_ended else "",
               rate_text(name, lo) if lo else "below %d" % min(plan.rates),
               fmt(reqs.get(name), 0),
               fmt(ratio(steady, steadies.get("reflector"))),
               fmt(ratio(bursty.get(name), bursty.get("reflector"))),
               fmt(ratio(steady, steadies.get("dnsmasq")), 1),
               fmt(ratio(steady_reqs.get(name), steady_reqs.get("dnsmasq")),
                   1), failing))
    add("")

    add("## Latency at fixed rates (ms, offer: send to reply on the wire)")
    add("")
    add("CPU, in ms per 1,000 replies: \"server process\" is the server's "
        "own time (its system calls included); \"system minus pxe-storm\" "
        "is every CPU's busy time during the run less pxe-storm's own "
        "process time: the server and the kernel's work that no process is "
        "charged for, such as the receive softirqs that fill pxe-pdhcp's "
        "and the reflector's rings on pxe-storm's CPU. The second counts "
        "the same work for every server, and anything else the machine "
        "ran meanwhile: it needs a quiet machine.")
    add("")
    add("| rate/s | server | loss % | offer p50 | p90 | p99 | p99.9 | max "
        "| ack p99 | CPU: server process | CPU: system minus pxe-storm |")
    add("|---|---|---|---|---|---|---|---|---|---|---|")
    for rate in plan.latency_rates:
        for name in servers:
            runs = bench.at(name, "rate", rate)
            if not runs:
                add("| %d | %s | not run (saturated at a lower rate) "
                    "||||||||| " % (rate, name))
                continue
            add("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                % (rate, name, spread(runs, loss_pct, 3),
                   fmt(median(runs, offer("p50")), 3),
                   fmt(median(runs, offer("p90")), 3),
                   spread(runs, offer("p99"), 3),
                   fmt(median(runs, offer("p99_9")), 3),
                   fmt(worst(runs, offer("max")), 3),
                   spread(runs, ack_p99, 3),
                   spread(runs, cpu_per_1k(lambda r: r["server_cpu_s"]), 1),
                   spread(runs, cpu_per_1k(server_work_seconds), 1)))
    add("")
    add("max: the highest of the runs.")
    add("")

    add("## Boot storms: all clients power on within %g s"
        % plan.storm_window)
    add("")
    add("| clients | server | first try %% | after retries %% | not booted "
        "by %g s | offer p99 ms | wrong answers | ring drops |"
        % plan.storm_max_seconds)
    add("|---|---|---|---|---|---|---|---|")
    for clients in plan.storms:
        for name in servers:
            runs = bench.at(name, "storm", clients=clients)
            if not runs:
                continue
            add("| %d | %s | %s | %s | %s | %s | %s | %s |"
                % (clients, name, spread(runs, first_try_pct, 2),
                   fmt(median(runs, lambda r: 100.0 * r["storm"]["clients"][
                       "booted_after_retries"] / clients), 2),
                   fmt(median(runs, lambda r: clients - r["storm"]["clients"][
                       "booted_first_try"] - r["storm"]["clients"][
                       "booted_after_retries"]), 0),
                   spread(runs, offer("p99"), 3),
                   fmt(max(r["storm"]["wrong_answers"]["total"] for r in runs),
                       0),
                   fmt(median(runs, lambda r: r["ring_drops"]), 0)))
    add("")

    add("## Memory: server RSS after N clients (at %d clients/s)"
        % plan.rss_rate)
    add("")
    add("Each cell: RSS of a fresh server when ready → after serving N "
        "clients, MiB.")
    add("")
    add("| server | " + " | ".join(
        "%s clients" % fmt(n, 0) for n in plan.rss_clients) + " | peak |")
    add("|---|" + "---|" * (len(plan.rss_clients) + 1))
    for name in ("pxe-pdhcp", "dnsmasq"):
        runs = bench.at(name, "memory")
        if not runs:
            continue
        add("| %s | %s | %s |" % (
            name, " | ".join("%.1f → %.1f" % (r["idle_rss_kb"] / 1024.0,
                                              r["rss_kb"] / 1024.0)
                             for r in runs),
            fmt(max(r["peak_rss_kb"] for r in runs) / 1024.0, 1)))
    add("")

    add("## IPv6 clients (pxe-pdhcp alone)")
    add("")
    add("Client mix %s: EDK2's PXEv6 exchange (Solicit, Advertise, Request "
        "to [X]:4011, Reply: 2 requests per client) and its HTTPv6 one "
        "(Solicit, Advertise with the URL: 1), 1.5 requests per client. "
        "Neither dnsmasq's proxy mode nor the reflector answers DHCPv6 PXE, "
        "so there is nothing to compare against here. Wrong answers: the "
        "client ID, no IA, the file of the Reply's URL (%s) and the HTTPv6 "
        "URL (%s) checked in every answer."
        % (MIX6, FILES["uefi-x64"], HTTP_URL6))
    add("")
    v6_rates = sorted({r["rate"] for r in bench.at("pxe-pdhcp", "rate6")})
    if v6_rates:
        add("| clients/s | runs | loss, worst run (%) | offer p99 (ms) "
            "| ack p99 (ms) | pxe-storm send lag p99 (ms) | wrong answers |")
        add("|---|---|---|---|---|---|---|")
        for rate in v6_rates:
            runs = bench.at("pxe-pdhcp", "rate6", rate)
            add("| %d | %d | %s | %s | %s | %s | %d |" % (
                rate, len(runs), fmt(worst(runs, loss_pct), 3),
                spread(runs, offer("p99"), 3), spread(runs, ack_p99, 3),
                spread(runs, send_lag_p99, 3),
                sum(r["storm"]["wrong_answers"]["total"] for r in runs)))
        add("")
    storms6 = bench.at("pxe-pdhcp", "storm6")
    if storms6:
        add("| clients within %g s | runs | booted on the first try (%%) "
            "| never booted | offer p99 (ms) | wrong answers |"
            % plan.storm_window)
        add("|---|---|---|---|---|---|")
        for clients in sorted({r["clients"] for r in storms6}):
            runs = bench.at("pxe-pdhcp", "storm6", clients=clients)
            add("| %d | %d | %s | %d | %s | %d |" % (
                clients, len(runs), spread(runs, first_try_pct, 2),
                max(r["storm"]["clients"]["never"] for r in runs),
                spread(runs, offer("p99"), 3),
                sum(r["storm"]["wrong_answers"]["total"] for r in runs)))
        add("")
    if not v6_rates and not storms6:
        add("Not run.")
        add("")

    add("## Engine (Google Benchmark, median ns per frame)")
    add("")
    if engine:
        add("| benchmark | ns |")
        add("|---|---|")
        for name, ns in engine.items():
            add("| %s | %.1f |" % (name, ns))
    else:
        add("Not measured in this report (re-rendered from earlier runs).")
    add("")

    add("## Targets")
    add("")
    for line in targets(bench, plan, best):
        add("- " + line)
    add("")
    add("Raw figures of every run: runs.jsonl; plot: latency.png.")
    return "\n".join(lines) + "\n"


def verdict(ok):
    return "**met**" if ok else "**missed**"


def targets(bench, plan, best):
    out = []
    pd, dm, rf = (best.get(n) for n in ("pxe-pdhcp", "dnsmasq", "reflector"))
    pd_steady, dm_steady = (bench.steady_limit(n)[0]
                            for n in ("pxe-pdhcp", "dnsmasq"))
    if pd and rf:
        rf_fail = bench.bracket("reflector")[1]
        # Where the reflector stopped for pxe-storm's sake, or only under
        # pxe-storm's bursts, its real ceiling is unknown (higher).
        unknown = (rf_fail is None or bench.generator_bound("reflector",
                                                            rf_fail) or
                   bench.lagged("reflector", rf))
        line = ("sustained rate ≥ 80 %% of the reflector's: %s/s is %.0f %% "
                "of %s/s" % (fmt(pd, 0), 100.0 * pd / rf, fmt(rf, 0)))
        if rf_fail is None:
            line += (", the top of the rates tried, which the reflector "
                     "sustained: its ceiling is higher and unknown, so "
                     "**not proven**")
        elif unknown:
            line += (", the highest rate the reflector was seen to sustain, "
                     "where pxe-storm could no longer offer a steady load: "
                     "the reflector's ceiling is higher and unknown, so "
                     "**not proven**")
        else:
            line += " " + verdict(pd >= 0.8 * rf)
        out.append(line)
    if pd_steady and dm_steady:
        by_clients = pd_steady / dm_steady
        by_requests = ratio(bench.requests_rate("pxe-pdhcp", pd_steady),
                            bench.requests_rate("dnsmasq", dm_steady))
        out.append("steady sustained rate ≥ 5× dnsmasq's steady rate: %.1f× "
                   "in clients/s, %.1f× in requests/s %s"
                   % (by_clients, by_requests,
                      verdict(min(by_clients, by_requests) >= 5)))
    for rate, other, factor, text in (
            (5000, "dnsmasq", 0.5, "half of dnsmasq's"),
            (50000, "reflector", 1.5, "1.5× the reflector's")):
        ours = median(bench.at("pxe-pdhcp", "rate", rate), offer("p99"))
        theirs = median(bench.at(other, "rate", rate), offer("p99"))
        if ours is None or theirs is None:
            continue
        out.append("offer p99 at %s/s ≤ %s: %.3f vs %.3f ms %s"
                   % (fmt(rate, 0), text, ours, theirs,
                      verdict(ours <= factor * theirs)))
    storm10k = bench.at("pxe-pdhcp", "storm", clients=10000)
    if storm10k:
        worst = min(first_try_pct(r) for r in storm10k)
        out.append("10,000-client storm: 100 %% on the first try: %.2f %% in "
                   "the worst of %d runs %s"
                   % (worst, len(storm10k), verdict(worst == 100.0)))
    mem = bench.at("pxe-pdhcp", "memory")
    if mem:
        last = mem[-1]
        out.append("flat memory: serving %s clients took RSS from %.1f to "
                   "%.1f MiB (rings and tables are allocated at start)"
                   % (fmt(last["clients"], 0), last["idle_rss_kb"] / 1024.0,
                      last["rss_kb"] / 1024.0))
    ours = [r for r in bench.runs if r["server"] in ("pxe-pdhcp", BUSY)]
    wrong = sum(r["storm"]["wrong_answers"]["total"] for r in ours)
    out.append("wrong answers from pxe-pdhcp: %d in %d runs" % (wrong,
                                                               len(ours)))
    return out


def dnsmasq_version():
    out = subprocess.run(["dnsmasq", "--version"], capture_output=True,
                         text=True).stdout
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else "?"


def plot(bench, out_dir):
    """latency.png: offer p50 and p99 against the offered rate."""
    data = os.path.join(out_dir, "latency.dat")
    with open(data, "w") as f:
        for name in SERVERS + (BUSY,):
            f.write("# %s: rate achieved_rate p50 p99 loss_pct\n" % name)
            for rate in bench.rates_tried(name):
                runs = bench.at(name, "rate", rate)
                f.write("%g %g %g %g %g\n" % (
                    rate, median(runs, power_on_rate),
                    median(runs, offer("p50")), median(runs, offer("p99")),
                    median(runs, loss_pct)))
            f.write("\n\n")
    script = os.path.join(out_dir, "latency.gp")
    with open(script, "w") as f:
        f.write("""set terminal pngcairo size 1000,640 noenhanced
set output '%s'
set title 'Offer latency vs offered rate (pxe-storm; server on one pinned core)'
set xlabel 'offered rate (new clients per second)'
set ylabel 'offer latency (ms)'
set logscale xy
set grid
set key top left
names = '%s'
plot for [i=0:%d] '%s' index i using 1:4 with linespoints lw 2 lc i+1 \\
       title word(names, i+1).' p99', \\
     for [i=0:%d] '%s' index i using 1:3 with linespoints dt 2 lc i+1 \\
       title word(names, i+1).' p50'
""" % (os.path.join(out_dir, "latency.png"), " ".join(SERVERS + (BUSY,)),
       len(SERVERS), data, len(SERVERS), data))
    subprocess.run(["gnuplot", script], check=True)


def report_again(args):
    """The report of an earlier run, from its raw figures, as this version
    of the harness reports (e.g. after the report's rules changed)."""
    opener = gzip.open if args.report_from.endswith(".gz") else open
    with opener(args.report_from, "rt") as f:
        runs = [json.loads(line) for line in f if line.strip()]
    if not runs:
        sys.exit("storm-bench: no runs in %s" % args.report_from)
    # A quick run tries no rate above 20,000/s.
    quick = max(r["rate"] or 0 for r in runs) <= 20000
    repeats = max(len([r for r in runs if r["kind"] == "rate" and
                       r["server"] == runs[0]["server"] and
                       r["rate"] == runs[0]["rate"]]), 1)
    plan = Plan(quick, repeats)
    args.out = args.out or os.path.dirname(os.path.abspath(args.report_from))
    bench = Bench(args, plan, None, runs)
    # When, and on which kernel, from the run's own report where there is
    # one (its third line: "DATE TIME, KERNEL, ...").
    started = datetime.datetime.fromtimestamp(
        os.path.getmtime(args.report_from)).strftime("%Y-%m-%d %H:%M")
    kernel = "kernel unknown"
    engine = {}
    old = os.path.join(args.out, "report.md")
    if os.path.exists(old):
        with open(old) as f:
            text = f.read()
        m = re.search(r"^(\d{4}-\d\d-\d\d \d\d:\d\d), ([^,;]+)", text,
                      re.M)
        if m:
            started, kernel = m.group(1), m.group(2)
        # Its engine figures, which runs.jsonl does not keep.
        section = text.split("## Engine", 1)[-1].split("\n## ", 1)[0]
        for name, ns in re.findall(r"^\| (\S+) \| ([0-9.]+) \|$", section,
                                   re.M):
            engine[name] = float(ns)
    text = report(bench, plan, engine, started, None, kernel)
    with open(old, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default="build",
                        help="the build directory (default: build)")
    parser.add_argument("--out", help="output directory (default: "
                        "BUILD/storm-bench/DATE-TIME)")
    parser.add_argument("--quick", action="store_true",
                        help="a small run (about a minute)")
    parser.add_argument("--repeats", type=int, default=0,
                        help="runs per point (default 3; 1 with --quick)")
    parser.add_argument("--report-from", metavar="RUNS",
                        help="no run: write the report (to --out, or the "
                        "directory of RUNS) from the raw figures of an "
                        "earlier one, runs.jsonl or runs.jsonl.gz")
    args = parser.parse_args()
    if args.report_from:
        return report_again(args)
    if os.geteuid() != 0:
        sys.exit("storm-bench: needs root (network namespaces, raw sockets)")
    for tool in ("ip", "taskset", "dnsmasq", "gnuplot"):
        if not shutil.which(tool):
            sys.exit("storm-bench: %s is not installed "
                     "(tools/install-deps.sh --all)" % tool)
    global SERVER_CPU, CLIENT_CPU
    cpus = sorted(os.sched_getaffinity(0))
    SERVER_CPU, CLIENT_CPU = str(cpus[0]), str(cpus[min(1, len(cpus) - 1)])
    if len(cpus) < 2:
        log("storm-bench: one CPU only: server and clients share it")
    started = datetime.datetime.now()
    args.out = args.out or os.path.join(
        args.build, "storm-bench", started.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    plan = Plan(args.quick, args.repeats)

    # Stop the servers and remove the namespaces also on Ctrl-C, SIGTERM
    # or SIGHUP (SystemExit and KeyboardInterrupt unwind through close()).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _: sys.exit(128 + signum))
    sandbox = Sandbox(args.out)
    try:
        bench = Bench(args, plan, sandbox)
        log("storm-bench: seeding %d neighbour entries"
            % plan.neighbour_clients())
        sandbox.seed_neighbours(bench.storm_bin, plan.neighbour_clients())
        t0 = time.time()
        bench.rate_sweep(SERVERS + (BUSY,))
        bench.storms(SERVERS)
        bench.memory(("pxe-pdhcp", "dnsmasq"))
        bench.ipv6()
        log("engine benchmarks")
        engine = engine_figures(args.build, plan.quick)
        text = report(bench, plan, engine,
                      started.strftime("%Y-%m-%d %H:%M"), time.time() - t0)
    finally:
        sandbox.close()
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(text)
    plot(bench, args.out)
    sys.stdout.write(text)
    log("storm-bench: report, plot and raw figures in %s" % args.out)
    wrong = [r for r in bench.runs if r["server"] in ("pxe-pdhcp", BUSY) and
             r["storm"]["wrong_answers"]["total"] > 0]
    if wrong:
        log("storm-bench: pxe-pdhcp gave wrong answers in %d runs (see "
            "runs.jsonl)" % len(wrong))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
