#!/usr/bin/env python3
"""Benchmark of the action's image: its build, the size it adds to its base, its start-up.

Usage (from the repository root, with the project's Python, as root or in the
docker group):

    python -m bench.image [--runs N] [--no-cache] [--quick] [--max-added-mb MB] [--image NAME]

It needs a Docker engine and the base image: scripts/docker-engine and
scripts/stand-in-base provide them (scripts/test runs both). It builds the image
from the Dockerfile (`docker build --network host`, timed; `--no-cache` for a
cold build), then prints:

1. the size the image adds to its base (the sum of its own layers: the base's
   are shared with every other image on it), and the largest packages in it;
2. start-up: over N runs of `docker run --network host` of the action (an
   experiment whose first task is an `http` task against a loopback target),
   the time from `docker run` to the target's first request, next to the time
   of an empty container (`docker run ... true`), which Docker itself costs.

`--quick`: one start-up run (the test suite's smoke run). `--max-added-mb`: exit 1
when the image adds more than that. `--image NAME`: measure that image (built from
the same base) instead of building one, e.g. an older commit's for a comparison.
Figures on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.servers.targets import Target

IMAGE = "iter8-py-action:bench"
MB = 1_000_000
EXPERIMENT = """\
spec:
- task: http
  with: {{url: "{url}/", numRequests: 1}}
"""
PACKAGES = (
    "import importlib.metadata as m, pathlib\n"
    "sizes = {}\n"
    "for d in m.distributions():\n"
    "    files = [pathlib.Path(d.locate_file(f)) for f in (d.files or [])]\n"
    "    sizes[d.metadata['Name']] = sum(f.stat().st_size for f in files if f.is_file())\n"
    "for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:8]:\n"
    "    print(f'{name} {size}')\n"
)


def docker(*args: str, timeout: float = 900) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"docker {args[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def base_of(dockerfile: Path) -> str:
    lines = [line.split() for line in dockerfile.read_text().splitlines()]
    return [words[1] for words in lines if words[:1] == ["FROM"]][-1]


def layer_ids(image: str) -> list[str]:
    return list(json.loads(docker("image", "inspect", image))[0]["RootFS"]["Layers"])


def added_bytes(image: str, base: str) -> int:
    """Bytes of the image's layers that its base does not have."""
    history = json.loads(docker("image", "inspect", image))[0]["Size"]
    base_size = json.loads(docker("image", "inspect", base))[0]["Size"]
    assert layer_ids(image)[: len(layer_ids(base))] == layer_ids(base), "base layers differ"
    return int(history) - int(base_size)


def first_request_seconds(image: str, workspace: Path) -> tuple[float, float]:
    """(docker run to the target's first request, docker run to exit), in seconds."""
    with Target() as target:
        (workspace / "experiment.yaml").write_text(EXPERIMENT.format(url=target.url))
        env = {**os.environ, "INPUT_COMMENT": "never", "INPUT_REPORT-FORMATS": "none"}
        args = ["docker", "run", "--rm", "--network", "host", "--workdir", "/github/workspace"]
        args += ["-e", "INPUT_COMMENT", "-e", "INPUT_REPORT-FORMATS", "-e", "GITHUB_ACTIONS"]
        args += ["-v", f"{workspace}:/github/workspace", image]
        started = time.monotonic()
        process = subprocess.Popen(
            args,
            env={**env, "GITHUB_ACTIONS": "true"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        first = None
        while process.poll() is None:
            if first is None and target.requests:
                first = time.monotonic() - started
            time.sleep(0.002)
        ended = time.monotonic() - started
        output = process.stdout.read().decode() if process.stdout else ""
        if process.returncode != 0 or not target.requests:
            raise SystemExit(f"the action exited {process.returncode}:\n{output[-2000:]}")
        return (first if first is not None else ended), ended


def empty_container_seconds(image: str) -> float:
    started = time.monotonic()
    docker("run", "--rm", "--network", "host", "--entrypoint", "true", image)
    return time.monotonic() - started


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.2f} s (min {min(values):.2f}, "
        f"max {max(values):.2f}, {len(values)} runs)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="start-up runs (default 5)")
    parser.add_argument("--quick", action="store_true", help="one start-up run (a smoke run)")
    parser.add_argument("--no-cache", action="store_true", help="a cold build")
    parser.add_argument("--max-added-mb", type=float, help="exit 1 when the image adds more")
    parser.add_argument("--image", help="measure this image instead of building one")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs

    base = base_of(ROOT / "Dockerfile")
    image = args.image or IMAGE
    if not args.image:
        build = ["build", "--network", "host", "-t", IMAGE, str(ROOT)]
        started = time.monotonic()
        docker(*build, *(["--no-cache"] if args.no_cache else []))
        built = time.monotonic() - started
        cache = "without cache" if args.no_cache else "with the layer cache"
        print(f"build: {built:.1f} s ({cache})")

    added = added_bytes(image, base)
    print(f"added to the base ({base}): {added / MB:.0f} MB")
    top = docker("run", "--rm", "--entrypoint", "python", image, "-c", PACKAGES).splitlines()
    print("largest packages: " + ", ".join(
        f"{name} {int(size) / MB:.0f} MB" for name, size in (line.split() for line in top)
    ))  # fmt: skip

    empty = [empty_container_seconds(image) for _ in range(runs)]
    firsts, totals = [], []
    with tempfile.TemporaryDirectory(prefix="iter8-bench-image-") as workspace:
        for _ in range(runs):
            first, total = first_request_seconds(image, Path(workspace))
            firsts.append(first)
            totals.append(total)
    print(f"empty container (docker run ... true): {summary(empty)}")
    print(f"docker run to the first request: {summary(firsts)}")
    print(f"docker run to exit (one request): {summary(totals)}")
    if args.max_added_mb is not None and added > args.max_added_mb * MB:
        print(f"the image adds {added / MB:.0f} MB, more than {args.max_added_mb:g} MB")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
