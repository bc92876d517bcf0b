"""What the SDK tests share: named checks that report their failures with the trace and are
counted, printing of what calls returned, and the closing "<name>: N passed, M failed" line."""

import sys
import traceback

results = []


def check(name):
    def run(fn):
        try:
            fn()
            results.append((name, True))
            print(f"ok   {name}")
        except Exception:  # any failure is reported with its trace, then counted
            results.append((name, False))
            print(f"FAIL {name}")
            traceback.print_exc()
        return fn
    return run


def show(label, value):
    print(f"     {label}: {value}")


def expect(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def finish(name):
    """Prints the closing line and exits non-zero on any failure (or when nothing ran)."""
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"{name}: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not results else 0)
