#!/usr/bin/env python3
"""Times a fixed single-threaded workload (a pure-Python loop, three runs, seconds each) to tell this machine's fast
and slow phases apart: training step rates from different hours are only comparable when this reads the same.
Stop other work first (kill -STOP PID; kill -CONT PID after), or it measures the sharing too."""
import time
def run():
    t=time.perf_counter(); s=0
    for i in range(3_000_000): s+=i*i
    return time.perf_counter()-t
print(' '.join(f'{run():.3f}' for _ in range(3)))
