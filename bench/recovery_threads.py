#!/usr/bin/env python3
"""Time from spawn to listening of brook-server after a kill -9, for several num.recovery.threads.per.data.dir.

    BROOK_SERVER=build/bin/brook-server python3 bench/recovery_threads.py [--topics 3] [--partitions 1000]
        [--threads 1,2,4] [--rounds 3]

Creates the topics once, kills the broker (no clean-shutdown marker, so every start recovers every
partition), then starts and kills it again for each thread count in turn, `--rounds` times, alternating the
counts. Prints each time and the median per thread count. Needs confluent-kafka (as the compat tests).
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "compat"))
import brook_harness as h  # noqa: E402
import test_topic_limits as limits  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topics", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=1000, help="per topic")
    parser.add_argument("--threads", default="1,2,4", help="the thread counts to compare")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    times = {t: [] for t in counts}
    with h.brook_server() as srv:
        created = limits.create_topics(srv.port, [(f"bulk-{i}", args.partitions) for i in range(args.topics)],
                                       timeout_s=600)
        failed = {name: code for name, (code, _) in created.items() if code != 0}
        if failed:
            sys.exit(f"creating the topics failed: {failed}")
        srv.kill_quietly()
        for round_number in range(1, args.rounds + 1):
            for threads in counts:
                srv.overrides["num.recovery.threads.per.data.dir"] = str(threads)
                started = time.monotonic()
                srv.start(timeout=600)
                took = time.monotonic() - started
                srv.kill_quietly()
                times[threads].append(took)
                print(f"round {round_number}, {threads} thread(s): listening after {took:.2f} s", flush=True)
    partitions = args.topics * args.partitions
    for threads in counts:
        print(f"{threads} thread(s), {partitions} partitions: median {statistics.median(times[threads]):.2f} s "
              f"({', '.join(f'{t:.2f}' for t in times[threads])})")


if __name__ == "__main__":
    h.require_modules("confluent_kafka")
    main()
