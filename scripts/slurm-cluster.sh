#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm end-to-end test (tests/it/e2e/slurm.rs).
#
#   scripts/slurm-cluster.sh install   # slurm-wlm and munge from Debian's packages (apt-get; root)
#   scripts/slurm-cluster.sh start     # munge key, a minimal slurm.conf, munged, slurmctld, slurmd
#   scripts/slurm-cluster.sh status    # sinfo
#   scripts/slurm-cluster.sh stop      # cancels every job, stops the three daemons
#
# The configuration is the least Slurm runs with: one node (this host, at 127.0.0.1), one
# partition, no cgroups (proctrack/linuxproc, task/none), no accounting database. The node
# declares 16 CPUs whatever the machine has (SlurmdParameters=config_overrides), so that the
# README's array script (4 CPUs per task) runs 4 tasks at once on a small machine; the tasks then
# share its real cores. State and logs go to $SLURM_TEST_DIR (default /var/lib/embedlab-slurm).
# Must run as root (the daemons run as root; munged as the munge user).
set -euo pipefail

DIR=${SLURM_TEST_DIR:-/var/lib/embedlab-slurm}
CONF=/etc/slurm/slurm.conf
HOST=$(hostname -s)

log() { echo "slurm-cluster: $*" >&2; }

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

write_conf() {
    mkdir -p /etc/slurm "$DIR/ctld" "$DIR/d"
    cat >"$CONF" <<EOF
# Written by scripts/slurm-cluster.sh: a one-node test cluster.
ClusterName=embedlab-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
SlurmdParameters=config_overrides
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
MinJobAge=600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=16 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    if [ ! -s /etc/munge/munge.key ]; then
        if command -v mungekey >/dev/null; then
            mungekey --create --force
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        fi
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 755 /run/munge
    if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
        runuser -u munge -- /usr/sbin/munged
        for _ in $(seq 50); do
            munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return
            sleep 0.1
        done
        log "munged did not start"
        exit 1
    fi
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    install
    write_conf
    start_munge
    pid_alive "$DIR/slurmctld.pid" || slurmctld -c
    pid_alive "$DIR/slurmd.pid" || slurmd
    for _ in $(seq 100); do
        state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
        case "$state" in
            idle*|mixed*|allocated*) sinfo; return ;;
            down*|drain*) scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
        esac
        sleep 0.2
    done
    log "the node did not come up (state: ${state:-none}); logs in $DIR"
    tail -n 20 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
    exit 1
}

stop_pid() {
    if pid_alive "$1"; then
        local pid
        pid=$(cat "$1")
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
}

stop() {
    scancel --user=root 2>/dev/null || true
    stop_pid "$DIR/slurmd.pid"
    stop_pid "$DIR/slurmctld.pid"
    stop_pid /run/munge/munged.pid
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    status) sinfo ;;
    stop) stop ;;
    *) echo "usage: $0 install|start|status|stop" >&2; exit 2 ;;
esac
