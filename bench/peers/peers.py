"""The shapes of bench/overhead in Prefect 3 and Dagster: a chain of N no-op tasks, each after
the one before, and a fan-out of N independent ones. Prints one JSON object: per engine and case,
the median milliseconds per task over REPS runs after one warm-up run.

Prefect runs locally against its ephemeral server (SQLite in PREFECT_HOME, started on the first
flow run); its fan-out submits every task at once to the default thread-pool task runner. Dagster
runs each job with execute_in_process (in-process executor, ephemeral instance): ops run one after
another in the calling process, which is Dagster's fastest way and its own test path.
"""

import json
import os
import statistics
import sys
import tempfile
import time

N = int(os.environ.get("STEPS", "100"))
REPS = int(os.environ.get("REPS", "5"))
ENGINES = [e for e in os.environ.get("PEERS", "prefect,dagster").split(",") if e]
CASES = os.environ.get("CASES", "")

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="kiln-peers-prefect-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
# The ephemeral server migrates its SQLite database on first start: slow on 2 busy cores.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")


def per_task_ms(run):
    run()  # warm-up: imports, the ephemeral server, the first plan
    times = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times) / N


def prefect_cases():
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    @task(cache_policy=NO_CACHE, persist_result=False)
    def noop(after=None):
        return True

    @flow(persist_result=False)
    def chain(n: int):
        last = None
        for _ in range(n):
            last = noop(last)
        return n

    @flow(persist_result=False)
    def fan(n: int):
        futures = [noop.submit() for _ in range(n)]
        return sum(1 for f in futures if f.result())

    return {"chain": lambda: chain(N), "fan-out": lambda: fan(N)}


def dagster_cases():
    from dagster import In, Nothing, job, op

    @op(ins={"after": In(Nothing)})
    def noop():
        return True

    @job
    def chain():
        last = noop.alias("s0")()
        for i in range(1, N):
            last = noop.alias(f"s{i}")(after=last)

    @job
    def fan():
        for i in range(N):
            noop.alias(f"s{i}")()

    def run(j):
        # Console logging at WARNING: Dagster's per-event debug lines are not the engine's cost.
        result = j.execute_in_process(run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        assert result.success

    return {"chain": lambda: run(chain), "fan-out": lambda: run(fan)}


def main():
    results = {}
    for engine in ENGINES:
        cases = {"prefect": prefect_cases, "dagster": dagster_cases}[engine]()
        results[engine] = {
            name: per_task_ms(run) for name, run in cases.items() if not CASES or name.startswith(CASES)
        }
        print(f"peers: {engine} {results[engine]}", file=sys.stderr)
    versions = {}
    for engine in ENGINES:
        versions[engine] = __import__(engine).__version__
    print(json.dumps({"steps": N, "reps": REPS, "versions": versions, "ms_per_task": results}))


if __name__ == "__main__":
    main()
