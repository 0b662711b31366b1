#!/usr/bin/env python3
"""What ran in tools/test.sh's ctest runs, and the verdict.

  tools/test-summary.py [--require-all] [--fuzz passed|failed]
                        SUITE=BUILD_DIR...

For each SUITE (e.g. release=build), BUILD_DIR holds what tools/test.sh left
there: ctest-tests.json (`ctest --show-only=json-v1`: every test and its
labels), ctest-junit.xml (`ctest --output-junit`: what became of each test)
and ctest-exit-status. Prints one line per suite and label,

  release integration: ran 54, skipped 1, failed 0 (of 55); the kernel ...

then one verdict line that counts ran / skipped / failed per suite. A test
ran when it passed or failed; it was skipped when ctest did not run it to
the end (a GoogleTest skip, exit 77, no result at all).

Exits 1 when a test failed, a suite has no results, ctest itself failed, the
fuzzers failed, or, with --require-all (root, CI), an integration test
skipped for any reason but a kernel feature the machine lacks: those say
"kernel lacks FEATURE:" (PXE_SKIP_KERNEL_LACKS), and are named in the
verdict.
"""

import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ElementTree

KERNEL_LACKS = re.compile(r"kernel lacks ([^:\s]+):")
LABELS = ("unit", "integration")
MAX_NAMES = 10


def names(tests):
    shown = ", ".join(tests[:MAX_NAMES])
    if len(tests) > MAX_NAMES:
        shown += f", ... ({len(tests) - MAX_NAMES} more)"
    return shown


def test_labels(json_path):
    """{test name: label} from `ctest --show-only=json-v1`."""
    with open(json_path) as f:
        info = json.load(f)
    labels = {}
    for test in info.get("tests", []):
        label = "other"
        for prop in test.get("properties", []):
            if prop.get("name") == "LABELS":
                found = [v for v in prop.get("value", []) if v in LABELS]
                if found:
                    label = found[0]
        labels[test["name"]] = label
    return labels


def test_outcomes(junit_path):
    """{test name: (outcome, kernel feature or None)} from ctest's JUnit."""
    outcomes = {}
    for case in ElementTree.parse(junit_path).getroot().iter("testcase"):
        status = case.get("status")
        if status == "run":
            outcome = "passed"
        elif status == "fail" or case.find("failure") is not None:
            outcome = "failed"
        else:  # notrun (skipped), ignored (disabled)
            outcome = "skipped"
        feature = None
        if outcome == "skipped":
            match = KERNEL_LACKS.search(case.findtext("system-out") or "")
            feature = match.group(1) if match else None
        outcomes[case.get("name")] = (outcome, feature)
    return outcomes


def read_exit_status(build_dir):
    try:
        with open(os.path.join(build_dir, "ctest-exit-status")) as f:
            return int(f.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def summarize(name, build_dir, require_all):
    """Prints the suite's lines; returns (counts, kernel skips, problems)."""
    counts = {"ran": 0, "skipped": 0, "failed": 0}
    kernel_skips = []  # "test (feature)"
    problems = []  # why this suite fails the run
    try:
        labels = test_labels(os.path.join(build_dir, "ctest-tests.json"))
        outcomes = test_outcomes(os.path.join(build_dir, "ctest-junit.xml"))
    except (OSError, ValueError, ElementTree.ParseError) as e:
        print(f"{name}: no test results ({e})")
        return counts, kernel_skips, [f"{name}: no test results"]
    for label in LABELS + ("other",):
        tests = sorted(t for t, l in labels.items() if l == label)
        if not tests:
            continue
        failed, skipped, kernel, ran = [], [], [], 0
        for test in tests:
            # A test without a result (ctest stopped early) did not run.
            outcome, feature = outcomes.get(test, ("skipped", None))
            if outcome == "skipped" and feature:
                kernel.append(f"{test} ({feature})")
            elif outcome == "skipped":
                skipped.append(test)
            else:
                ran += 1
                if outcome == "failed":
                    failed.append(test)
        counts["ran"] += ran
        counts["skipped"] += len(skipped) + len(kernel)
        counts["failed"] += len(failed)
        kernel_skips += kernel
        line = (f"{name} {label}: ran {ran}, skipped "
                f"{len(skipped) + len(kernel)}, failed {len(failed)} "
                f"(of {len(tests)})")
        if failed:
            line += f"; failed: {names(failed)}"
            problems.append(f"{name} {label}: {len(failed)} failed")
        if kernel:
            line += f"; the kernel lacks: {names(kernel)}"
        if skipped:
            line += f"; skipped: {names(skipped)}"
            if require_all and label == "integration":
                line += " (must run here)"
                problems.append(
                    f"{name} integration: ran {ran} of {len(tests)}, "
                    f"{len(kernel)} skipped for want of a kernel feature")
        print(line)
    status = read_exit_status(build_dir)
    if status != 0 and counts["failed"] == 0:
        problems.append(f"{name}: ctest exited {status}")
    return counts, kernel_skips, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--require-all", action="store_true",
                        help="an integration test that skips fails the run, "
                        "unless its kernel lacks a feature")
    parser.add_argument("--fuzz", choices=("passed", "failed"))
    parser.add_argument("suites", nargs="+", metavar="SUITE=BUILD_DIR")
    args = parser.parse_args()

    parts, kernel, problems = [], set(), []
    for spec in args.suites:
        name, sep, build_dir = spec.partition("=")
        if not sep:
            parser.error(f"not SUITE=BUILD_DIR: {spec}")
        counts, kernel_skips, suite_problems = summarize(
            name, build_dir, args.require_all)
        parts.append(f"{name} ran {counts['ran']}, skipped "
                     f"{counts['skipped']}, failed {counts['failed']}")
        kernel.update(kernel_skips)
        problems += suite_problems
    if args.fuzz:
        parts.append(f"fuzzers {args.fuzz}")
        if args.fuzz == "failed":
            problems.append("a fuzzer failed")
    if kernel:
        parts.append(f"skipped, the kernel lacks: {', '.join(sorted(kernel))}")
    line = ("FAILED" if problems else "PASSED") + ": " + "; ".join(parts)
    if problems:
        line += " -- " + "; ".join(problems)
    print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
