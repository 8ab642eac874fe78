#!/usr/bin/env python3
"""Writes a deterministic, log-like text file for `make demo`.

The lines look like the log of a service that schedules compression jobs on accelerator
cards: timestamps, levels, component names, ids, sizes, durations and checksums, with the
numbers drawn from a fixed-seed generator so that every run writes the same bytes. Such
text compresses to roughly a quarter or a fifth of its size with gzip -1.
"""

import argparse
import random
import sys

LEVELS = ["INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR"]
COMPONENTS = ["scheduler", "worker", "device", "driver", "client", "io"]
PATHS = ["/var/data/ingest", "/srv/archive/2024", "/tmp/spool", "/home/build/out", "/mnt/shared/logs"]
EXTENSIONS = [".log", ".csv", ".json", ".tar", ".bin", ".txt"]
STATUS = ["ok", "ok", "ok", "ok", "ok", "retry", "timeout", "cancelled"]


def lines(seed):
    rng = random.Random(seed)
    bits = rng.getrandbits  # stable across Python versions for a given seed
    millis = 0  # since 2024-06-01T00:00:00Z
    job = 100_000
    while True:
        r = bits(64)
        millis += 1 + (r & 0x3F)
        seconds, ms = divmod(millis, 1000)
        minutes, sec = divmod(seconds, 60)
        hours, minute = divmod(minutes, 60)
        days, hour = divmod(hours, 24)
        stamp = f"2024-{6 + days // 30 % 6:02d}-{1 + days % 30:02d}T{hour:02d}:{minute:02d}:{sec:02d}.{ms:03d}Z"
        level = LEVELS[(r >> 6) & 7]
        component = COMPONENTS[((r >> 9) & 0xFF) % len(COMPONENTS)]
        device = (r >> 17) & 3
        unit = (r >> 19) % 3
        kind = (r >> 21) & 7
        job += (r >> 24) & 1
        size = 1 << (16 + ((r >> 25) & 7))
        r2 = bits(64)
        micros = 50 + (r2 & 0xFFFFF) % 250_000
        if kind < 3:
            text = (
                f"job={job} chunk={(r2 >> 20) & 0xFFF} device=sim{device} cu=xilGzipCompBlock_{unit + 1} "
                f"in={size} out={size * (20 + ((r2 >> 32) & 15)) // 100} took={micros / 1000:.3f}ms "
                f"crc=0x{(r2 >> 24) & 0xFFFFFFFF:08x} status={STATUS[(r2 >> 56) & 7]}"
            )
        elif kind < 5:
            path = PATHS[(r2 >> 20) % len(PATHS)]
            text = (
                f"read {path}/part-{(r2 >> 24) & 0xFFFF:05d}{EXTENSIONS[(r2 >> 40) % len(EXTENSIONS)]} "
                f"offset={((r2 >> 8) & 0xFFFFF) * 4096} length={size} queue={(r2 >> 48) & 31}"
            )
        elif kind == 5:
            text = (
                f"device sim{device} memory bank HBM[{unit}] used={(r2 & 0xFFFF) * 4096} of 268435456 "
                f"runs_in_flight={(r2 >> 16) & 7} temperature={40 + ((r2 >> 20) & 31)}C"
            )
        elif kind == 6:
            text = (
                f"progress job={job} {((r2 >> 8) & 0x3FFFFFFF)} of {1 << 30} bytes "
                f"({((r2 >> 8) & 0x3FFFFFFF) * 100 // (1 << 30)}%) rate={100 + (r2 & 511)}MB/s"
            )
        else:
            text = (
                f"heartbeat worker-{device} pid={1000 + ((r2 >> 4) & 0x7FFF)} "
                f"load={(r2 & 0xFF) / 64:.2f} rss={(r2 >> 32) & 0xFFFF}KiB"
            )
        yield f"{stamp} {level:<5} [{component}] {text}\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256 << 20, help="bytes to write (default 256 MiB)")
    parser.add_argument("--seed", type=int, default=2024, help="generator seed (default 2024)")
    parser.add_argument("--output", required=True, help="file to write, '-' for standard output")
    args = parser.parse_args()

    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    remaining = args.size
    batch = []
    batch_bytes = 0
    for line in lines(args.seed):
        data = line.encode("ascii")
        batch.append(data)
        batch_bytes += len(data)
        if batch_bytes >= 1 << 20 or batch_bytes >= remaining:
            block = b"".join(batch)[:remaining]
            out.write(block)
            remaining -= len(block)
            batch = []
            batch_bytes = 0
            if remaining == 0:
                break
    out.flush()
    if out is not sys.stdout.buffer:
        out.close()


if __name__ == "__main__":
    main()
