"""Times pandas.read_csv on a file: the floor of bench/data/ingest.ts. Prints JSON seconds (wall and CPU) per repeat."""
import json
import sys
import time

import pandas

path, repeats = sys.argv[1], int(sys.argv[2])
seconds = []
cpu = []
for _ in range(repeats):
    started, cpu_started = time.perf_counter(), time.process_time()
    frame = pandas.read_csv(path)
    seconds.append(time.perf_counter() - started)
    cpu.append(time.process_time() - cpu_started)
print(json.dumps({"pandas": pandas.__version__, "rows": len(frame), "seconds": seconds, "cpu": cpu}))
