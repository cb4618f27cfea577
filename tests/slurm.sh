#!/bin/sh
# tests/slurm.sh BUILD - every example's --quick study on a real one-node
# Slurm cluster, and the README's GNU parallel line on this machine.
#
# Starts munged, slurmctld and slurmd on localhost under a temporary folder
# with a generated slurm.conf (one node, 2 CPUs), submits the README's job
# script (examples/slurm/study.sbatch, checked to be the README's copy) as an
# sbatch --array of 3 shards per example, merges the shards and checks that
# the report's CSV files equal those of an unsharded run. Every daemon it
# started is stopped at the end, also when a step fails. Needs root (the
# daemons run as root) and sh scripts/deps.sh slurm.
set -eu
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/relunet_slurm_XXXXXX)
daemons=""
jobs=""

# Stops a daemon: TERM, then KILL when it is still there after 10 s.
stop_daemon() {
    kill "$1" 2>/dev/null || return 0
    for wait in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}

# Cancels the jobs and waits for them to end (slurmd cannot stop while its
# job steps run), then stops the daemons, the last started first.
stop() {
    status=$?
    trap - EXIT
    if [ -n "$jobs" ]; then
        scancel $jobs 2>/dev/null || true
        for wait in $(seq 30); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 1; done
    fi
    for pid in $daemons; do stop_daemon "$pid"; done
    if [ "$status" -ne 0 ]; then
        for log in "$tmp"/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 20 "$log"; }; done
        echo "test-slurm: FAILED"
    fi
    if [ -n "${RELUNET_KEEP_TEST_OUTPUT:-}" ]; then echo "output kept in $tmp"; else rm -rf "$tmp"; fi
    exit "$status"
}
trap stop EXIT
trap 'exit 1' HUP INT TERM

fail() { echo "test-slurm: $*" >&2; exit 1; }

# ---- the README's scripts ----------------------------------------------------
# The block after a marker line in README.md, without its fences.
readme_block() {
    awk -v marker="<!-- $1 -->" '$0 == marker { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$root/README.md"
}
readme_block "examples/slurm/study.sbatch" > "$tmp/study.sbatch"
cmp -s "$tmp/study.sbatch" "$root/examples/slurm/study.sbatch" ||
    fail "README.md's job script is not examples/slurm/study.sbatch"
readme_block "gnu parallel" > "$tmp/parallel.sh"
grep -q "parallel -S host1,host2" "$tmp/parallel.sh" || fail "README.md has no GNU parallel line"

# ---- the cluster -------------------------------------------------------------
node=$(hostname -s)
port=$((20000 + $$ % 20000))
mkdir -p "$tmp/state" "$tmp/spool"
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$tmp/munge.key"
munged -F --force --socket="$tmp/munge.socket" --key-file="$tmp/munge.key" \
    --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed" \
    > "$tmp/munged.out.log" 2>&1 &
daemons="$! $daemons"
cat > "$tmp/slurm.conf" <<CONF
ClusterName=relunet
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge.socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$tmp/slurm.conf"
for wait in $(seq 50); do [ -S "$tmp/munge.socket" ] && break; sleep 0.1; done
slurmctld -D -i -f "$SLURM_CONF" > "$tmp/slurmctld.out.log" 2>&1 &
daemons="$! $daemons"
slurmd -D -N "$node" -f "$SLURM_CONF" > "$tmp/slurmd.out.log" 2>&1 &
daemons="$! $daemons"
for wait in $(seq 60); do
    [ "$(sinfo -h -N -o %t 2>/dev/null)" = "idle" ] && break
    sleep 1
done
[ "$(sinfo -h -N -o %t 2>/dev/null)" = "idle" ] || fail "the node never became idle"
echo "test-slurm: slurmctld and slurmd up on $node, ports $port and $((port + 1))"

# ---- the studies ---------------------------------------------------------------
"$build/test_examples" --write-cifar "$tmp/cifar"
cifar="--data $tmp/cifar/cifar-10-batches-bin"

# study PROGRAM SUBFOLDER [OPTIONS...]: 3 shards through the README's job
# script, merged, against one unsharded run.
study() {
    program=$1
    files=$2
    shift 2
    dir="$tmp/$program"
    mkdir -p "$dir"
    "$build/$program" --quick "$@" --out "$dir/whole" > "$dir/whole.log" 2>&1 ||
        fail "$program: the unsharded run failed (see $dir/whole.log)"
    job=$(sbatch --parsable --array=1-3 --chdir="$dir" --output="$dir/slurm-%A_%a.log" \
        "$tmp/study.sbatch" "$build/$program" "$dir/shards" --quick "$@")
    jobs="$jobs $job"
    # --wait would need accounting for the exit codes; each shard's log says how it ended
    while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do sleep 1; done
    for shard in 1 2 3; do
        grep -q "shard $shard/3" "$dir/slurm-${job}_$shard.log" ||
            fail "$program: array task $shard did not finish (see $dir/slurm-${job}_$shard.log)"
    done
    "$build/$program" --quick "$@" --out "$dir/shards" --merge "$dir"/shards/* > "$dir/merge.log" 2>&1 ||
        fail "$program: the merge failed (see $dir/merge.log)"
    "$build/test_examples" --same-csv "$dir/whole" "$dir/shards" ||
        fail "$program: the merged CSV files differ from the unsharded run's"
    if [ -n "$files" ]; then
        "$build/test_examples" --same-csv "$dir/whole" "$dir/shards" "$files" ||
            fail "$program: the merged $files/ differ from the unsharded run's"
    fi
    echo "test-slurm: $program: array job $job, 3 shards merged = the unsharded run"
}

study relu_alpha_sweep runs
study conv_linearization models
# shellcheck disable=SC2086 # the option and its folder are meant to split
study adaptive_mixtures "" $cifar
# shellcheck disable=SC2086
study prelu_study "" $cifar
study rai_moons ""

# ---- the README's GNU parallel line, on this machine (-S :) --------------------
mkdir -p "$tmp/parallel"
sed -e 's/-S host1,host2/-S :/' -e "s|\./relu_alpha_sweep|$build/relu_alpha_sweep --quick|g" \
    "$tmp/parallel.sh" > "$tmp/parallel/run.sh"
(cd "$tmp/parallel" && sh ./run.sh > run.log 2>&1) || fail "the GNU parallel line failed (see $tmp/parallel/run.log)"
"$build/test_examples" --same-csv "$tmp/relu_alpha_sweep/whole" "$tmp/parallel/results/relu_alpha_sweep" ||
    fail "GNU parallel's merged CSV files differ from the unsharded run's"
echo "test-slurm: the README's GNU parallel line (-S :) = the unsharded run"
echo "test-slurm: passed"
