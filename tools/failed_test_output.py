#!/usr/bin/env python3
"""Prints where each failed test's output says why it failed, and the end of that output.

    tools/failed_test_output.py BUILD_DIR     every test ctest's last run failed (LastTest.log)
    tools/failed_test_output.py --log FILE    the saved output of one test program

tools/dev.sh test calls it last, so that the end of a long log shows why each test failed, not only
which: ctest prints a failed test's output where the test ended, often thousands of lines earlier, and a
test's own last lines are often the broker's log, after the assertion that failed.
"""
import pathlib
import re
import sys

# Lines where a failure is first reported: the Python harness and tracebacks, pytest, Catch2, GoogleTest, JUnit
# (Maven Surefire), Go's testing package, and the sanitizers.
FAILURE_MARKERS = re.compile(
    r"^FAIL\b|^FAILED |^=+ FAILURES =+$|^--- FAIL|Traceback \(most recent call last\)|^\S*Error: |FAILED:|\[  FAILED  \]|"
    r"\[ERROR\] (Tests run|Failures|  )|ERROR: (Address|Leak|Thread)Sanitizer|runtime error: |"
    r"^panic: |timed out after")
# Short, because CI keeps only the end of a long log, and several tests may fail.
BEFORE = 6     # lines shown before each failure report (Catch2 names the test case there)
AFTER = 25     # lines shown from each failure report on
REPORTS = 2    # failure reports shown per test
TAIL = 10      # last lines shown


def outputs(log_text):
    """(test name, output lines) of every test in LastTest.log."""
    name, lines, inside = None, [], False
    for line in log_text.splitlines():
        if not inside:
            head, sep, rest = line.partition(" Test: ")
            if sep and "/" in head:
                name = rest
            elif line == "Output:":
                inside, lines = True, []
        elif line == "<end of output>":
            inside = False
            if name is not None:
                yield name, lines
        elif lines or not line.startswith("-" * 20):
            lines.append(line)


def excerpt(lines):
    """The lines around the first failure reports, then the last lines, with elisions marked."""
    ranges = []
    for i, line in enumerate(lines):
        if not FAILURE_MARKERS.search(line):
            continue
        if ranges and i <= ranges[-1][1]:
            continue  # inside the range already shown
        if len(ranges) == REPORTS:
            break
        ranges.append((max(0, i - BEFORE), min(len(lines), i + AFTER)))
    tail_start = max(0, len(lines) - TAIL)
    if ranges and ranges[-1][1] >= tail_start:
        start, _ = ranges.pop()
        tail_start = min(start, tail_start)
    out, shown_to = [], 0
    for start, end in ranges + [(tail_start, len(lines))]:
        start = max(start, shown_to)
        if start > shown_to:
            out.append(f"[... {start - shown_to} lines ...]")
        out.extend(lines[start:end])
        shown_to = end
    return out


def print_excerpt(name, lines):
    print(f"\n== why {name} failed ({len(lines)} lines of output; where failures are reported, and the end)")
    print("\n".join(excerpt(lines)))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--log":
        path = pathlib.Path(sys.argv[2])
        print_excerpt(path.name, path.read_text(errors="replace").splitlines())
        return 0
    build_dir = pathlib.Path(sys.argv[1])
    temporary = build_dir / "Testing" / "Temporary"
    failed_log = temporary / "LastTestsFailed.log"
    if not failed_log.exists():
        return 0
    failed = {line.partition(":")[2] for line in failed_log.read_text(errors="replace").splitlines() if ":" in line}
    log = temporary / "LastTest.log"
    if not failed or not log.exists():
        return 0
    for name, lines in outputs(log.read_text(errors="replace")):
        if name in failed:
            print_excerpt(name, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
