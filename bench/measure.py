#!/usr/bin/env python3
"""Runs a shell command N times; prints the median wall time (s) and the peak RSS (KiB).
With --cpu first: also the median CPU time (user + sys, s) of the command's processes.
  measure.py [--cpu] RUNS COMMAND"""
import resource, statistics, subprocess, sys, time

args = sys.argv[1:]
cpu = args and args[0] == "--cpu"
if cpu:
    args = args[1:]
runs = int(args[0])
cmd = args[1]
times, cpus, peak = [], [], 0
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(["bash", "-c", cmd], check=True)
    times.append(time.perf_counter() - t)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    peak = max(peak, after.ru_maxrss)
print(f"{statistics.median(times):.4f} {peak}" + (f" {statistics.median(cpus):.4f}" if cpu else ""))
