#!/usr/bin/env bash
# A single-node Slurm cluster for tests: munged, slurmctld and slurmd on this host, with a
# configuration of their own under STATE_DIR (nothing in /etc/slurm is read or changed).
#
#   Scripts/slurm-cluster.sh start STATE_DIR   prints `export SLURM_CONF=...` once the node is idle
#   Scripts/slurm-cluster.sh stop STATE_DIR
#
# Needs root (slurmd runs jobs as their users; munged as its own user) and Debian's slurmctld,
# slurmd and munge. Exits 3 with a "skipped:" line where the daemons cannot start.
set -euo pipefail

command=${1:?usage: slurm-cluster.sh start|stop STATE_DIR}
state=$(realpath -m "${2:?usage: slurm-cluster.sh start|stop STATE_DIR}")
conf=$state/slurm.conf

skip() {
    echo "skipped: $*" >&2
    exit 3
}

stop() {
    for daemon in slurmd slurmctld; do
        if [ -f "$state/$daemon.pid" ]; then
            kill -TERM "$(cat "$state/$daemon.pid")" 2>/dev/null || true
        fi
    done
    if [ -f "$state/munged.pid" ]; then kill -TERM "$(cat "$state/munged.pid")" 2>/dev/null || true; fi
}

case $command in
stop)
    stop
    exit 0
    ;;
start) ;;
*)
    echo "usage: slurm-cluster.sh start|stop STATE_DIR" >&2
    exit 2
    ;;
esac

[ "$(id -u)" = 0 ] || skip "a Slurm cluster needs root (slurmd runs jobs as their users)"
for tool in munged slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
    command -v "$tool" >/dev/null || skip "$tool is not installed (Debian: slurmctld slurmd munge slurm-client)"
done

mkdir -p "$state/spool" "$state/ctld"
host=$(hostname -s)
cpus=$(nproc)

# munge: the key Debian's package made, or one made here; a munged already running is used.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -f /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 600 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- munged --pid-file="$state/munged.pid" >"$state/munged.log" 2>&1 ||
        skip "munged does not start: $(tail -1 "$state/munged.log")"
    for _ in $(seq 100); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.1
    done
    munge -n | unmunge >/dev/null 2>&1 || skip "munge does not answer"
fi

cat >"$conf" <<CONF
ClusterName=fpgacluster-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF

export SLURM_CONF=$conf
slurmctld -f "$conf" || skip "slurmctld does not start: $(tail -1 "$state/slurmctld.log" 2>/dev/null)"
slurmd -f "$conf" || { stop; skip "slurmd does not start: $(tail -1 "$state/slurmd.log" 2>/dev/null)"; }
for _ in $(seq 300); do
    if [ "$(sinfo --noheader --nodes="$host" --format=%T 2>/dev/null)" = idle ]; then
        echo "export SLURM_CONF=$conf"
        exit 0
    fi
    sleep 0.1
done
stop
skip "the Slurm node did not become idle within 30 s: $(tail -1 "$state/slurmd.log" 2>/dev/null)"
