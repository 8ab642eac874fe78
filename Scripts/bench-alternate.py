#!/usr/bin/env python3
"""Times shell commands against each other: alternating runs, medians of wall and CPU seconds.

    Scripts/bench-alternate.py [--runs N] [--output FILE] NAME=COMMAND ...

Each round runs every command once, so drift in the machine's speed falls on all of them
alike, starting one command further along the list each round, so that no command always runs
right after the same one (on a virtual machine, which command ran just before moved short runs
by more than the changes measured). CPU seconds are user + system of the command and its children
(`wait4`'s resource usage). With --output, FILE is removed and `sync` runs before every
command, so that no command pays for unlinking or writing back another's output. The first
command is the baseline of the ratios: speed is its wall time over the command's (above 1 is
faster), CPU the command's CPU seconds over its. Exits non-zero if a command fails. Used for
the figures in the DocsSite's Benchmarks article that no bench-*.sh script prints.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds of alternating runs (default 5)")
    parser.add_argument("--output", help="a file the commands write: removed, then sync, before each run")
    parser.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args()
    commands = []
    for argument in args.commands:
        name, separator, command = argument.partition("=")
        if not separator or not name or not command:
            parser.error(f"not NAME=COMMAND: {argument}")
        commands.append((name, command))
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    samples = {name: [] for name, _ in commands}
    for round_index in range(args.runs):
        start = round_index % len(commands)
        for name, command in commands[start:] + commands[:start]:
            if args.output:
                try:
                    os.remove(args.output)
                except FileNotFoundError:
                    pass
                subprocess.run(["sync"], check=True)
            started = time.perf_counter()
            child = subprocess.Popen(command, shell=True)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - started
            if status != 0:
                sys.exit(f"bench-alternate: {name} failed ({command}), wait status {status}")
            samples[name].append((wall, usage.ru_utime + usage.ru_stime))

    print(f"medians of {args.runs} alternating runs; ratios against {commands[0][0]}")
    print(f"{'command':24} {'wall ms':>9} {'CPU ms':>9} {'speed':>7} {'CPU':>7}  every run's wall ms")
    baseline = None
    for name, _ in commands:
        wall = statistics.median(sample[0] for sample in samples[name])
        cpu = statistics.median(sample[1] for sample in samples[name])
        baseline = baseline or (wall, cpu)
        walls = " ".join(f"{sample[0] * 1000:.0f}" for sample in samples[name])
        print(
            f"{name:24} {wall * 1000:9.1f} {cpu * 1000:9.1f} {baseline[0] / wall:6.3f}x {cpu / baseline[1]:6.3f}x  {walls}"
        )


if __name__ == "__main__":
    main()
