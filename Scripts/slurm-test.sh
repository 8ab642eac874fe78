#!/usr/bin/env bash
# The Slurm deployment sample against a real Slurm: a single-node cluster
# (Scripts/slurm-cluster.sh), then `sbatch Samples/Deploy/slurm/fpga-compress.sbatch`, which
# starts two fpga-workers through srun and compresses a file across them with
# `--workers slurm:7070,slurm:7071`. Checks the output with gzip -t and against the input, and
# that both workers served chunks. Prints "skipped: ..." and succeeds where Slurm cannot run.
#
#   FPGA_WORKER, FPGA_COMPRESS   the release binaries (built by `make test-slurm`)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${FPGA_WORKER:?set FPGA_WORKER}" "${FPGA_COMPRESS:?set FPGA_COMPRESS}"
work=$(realpath -m .build/slurm-test)
rm -rf "$work"
mkdir -p "$work/bin"
cp "$FPGA_WORKER" "$FPGA_COMPRESS" "$work/bin/"

status=0
setup=$(Scripts/slurm-cluster.sh start "$work/cluster") || status=$?
if [ "$status" = 3 ]; then exit 0; fi  # slurm-cluster.sh printed "skipped: ..."
if [ "$status" != 0 ]; then exit "$status"; fi
eval "$setup"
cleanup() {
    scancel --quiet --full --name=fpga-compress 2>/dev/null || true
    Scripts/slurm-cluster.sh stop "$work/cluster"
}
trap cleanup EXIT

head -c 32 /dev/urandom | base64 >"$work/token"
chmod 600 "$work/token"
python3 Scripts/make-demo-input.py --size $((48 << 20)) --output "$work/input"

# --wait makes sbatch return the job's exit status; the watchdog ends a job that hangs.
started=$SECONDS
job_status=0
FPGA_BIN=$work/bin FPGA_TOKEN_FILE=$work/token FPGA_PORT=17070 FPGA_METRICS_PORT=19470 \
    timeout --kill-after=10 600 sbatch --wait --nodes=1 --ntasks-per-node=2 --output="$work/job.out" \
    Samples/Deploy/slurm/fpga-compress.sbatch "$work/input" "$work/input.gz" || job_status=$?
echo "--- job output ($((SECONDS - started)) s)"
cat "$work/job.out"
echo "---"
if [ "$job_status" != 0 ]; then
    echo "slurm test: the batch job failed (status $job_status)" >&2
    exit 1
fi
gzip -t "$work/input.gz"
gzip -dc "$work/input.gz" | cmp - "$work/input"
host=$(hostname -s)
for port in 17070 17071; do
    if ! grep -Eq "$host:$port/sim0=[1-9]" "$work/job.out"; then
        echo "slurm test: the worker on $host:$port served no chunk" >&2
        exit 1
    fi
done
echo "slurm test: OK (two workers through srun, $(stat -c %s "$work/input") bytes, output checked)"
