"""Run every ``benchmarks/bench_*.py`` in its own process, then merge their sections into
``docs/benchmarks.md``. ``python -m benchmarks --merge-only`` just re-merges committed sections.

Each script writes ``docs/benchmarks/<thing>.md``; this file only concatenates them under one header
that notes the machine, so the figures stay next to the code that produced them.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ROOT / "docs" / "benchmarks"
OUT = ROOT / "docs" / "benchmarks.md"


def machine_note() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}."
    )


def merge() -> Path:
    parts = [
        "# Benchmarks\n",
        "Measured, not asserted: every figure below was produced by a script in `benchmarks/`,",
        "which compares against the anchor named in its issue in the same run. Re-run with `make bench`.\n",
        machine_note() + " Each section names the run it came from.\n",
    ]
    for section in sorted(SECTIONS.glob("*.md")):
        parts.append(section.read_text().strip() + "\n")
    OUT.write_text("\n".join(parts))
    return OUT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merge-only", action="store_true")
    parser.add_argument("--only", nargs="*", help="names like 'generate' for bench_generate.py")
    args = parser.parse_args()
    failed = []
    if not args.merge_only:
        for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
            name = script.stem.removeprefix("bench_")
            if args.only and name not in args.only:
                continue
            print(f"== {script.name}", flush=True)
            if subprocess.call([sys.executable, str(script)], cwd=ROOT) != 0:
                failed.append(script.name)
    print(f"wrote {merge()}")
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
