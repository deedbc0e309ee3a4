#!/usr/bin/env python3
"""Prints the end of each failed ctest test's output, read from ctest's LastTest.log.

    tools/failed_test_output.py BUILD_DIR [LINES]

tools/dev.sh test calls it last, so that the end of a long log shows why each test failed, not only
which (ctest prints a failed test's output where the test ended, often thousands of lines earlier).
"""
import pathlib
import sys


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


def main():
    build_dir = pathlib.Path(sys.argv[1])
    keep = int(sys.argv[2]) if len(sys.argv) > 2 else 80
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
            print(f"\n== the end of the output of {name} ({len(lines)} lines in all)")
            print("\n".join(lines[-keep:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
