"""Times pandas.read_csv on a file: the floor of bench/data/ingest.ts. Prints JSON seconds per repeat."""
import json
import sys
import time

import pandas

path, repeats = sys.argv[1], int(sys.argv[2])
seconds = []
for _ in range(repeats):
    started = time.perf_counter()
    frame = pandas.read_csv(path)
    seconds.append(time.perf_counter() - started)
print(json.dumps({"pandas": pandas.__version__, "rows": len(frame), "seconds": seconds}))
