#!/usr/bin/env python3
"""Runs a shell command N times; prints the median wall time (s) and the peak RSS (KiB)."""
import resource, statistics, subprocess, sys, time

runs = int(sys.argv[1])
cmd = sys.argv[2]
times, peak = [], 0
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run(["bash", "-c", cmd], check=True)
    times.append(time.perf_counter() - t)
    peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(f"{statistics.median(times):.4f} {peak}")
