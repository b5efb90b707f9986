#!/usr/bin/env bash
# A real Slurm cluster in CI: installs Slurm and MUNGE from Debian's packages if missing,
# starts a one-node cluster on this machine (munged, slurmctld, slurmd; loopback only; all
# state, sockets, pid files and logs in a temporary folder), submits the shipped array job
# deploy/slurm/sweep.sh for a shipped scenario, waits for it, merges the shards and checks
# that every CSV of the merge is byte-identical to one unsharded run. Stops the daemons it
# started on any exit. Also checks the shipped Kubernetes manifest.
#
#   sudo bash .ci/slurm-array.sh          # needs root (the daemons run as root)
#
# Environment: SLURM_CI_TIMEOUT (seconds to wait for the array, default 300),
# SLURM_CI_KEEP=1 keeps the temporary folder. Idempotent: a second run reuses the packages
# and starts from a fresh folder. Exits non-zero on any failure or mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

scenario=scenarios/smoke.toml
# 2 arms x 8 replications = 16 runs, 2 per shard: every shard has work, and the run stays
# well inside CI's budget.
run_flags=(--replications 8)
shards=8 # must match `#SBATCH --array=1-8` and `--shard slurm/8` in deploy/slurm/sweep.sh
timeout=${SLURM_CI_TIMEOUT:-300}

say() { echo "--- slurm-array [${SECONDS}s]: $*"; }
die() {
    echo "slurm-array: error: $*" >&2
    exit 1
}

[[ $(id -u) == 0 ]] || die "must run as root (it installs packages and starts daemons)"

# --- the shipped examples agree with each other -------------------------------------------
grep -q "^#SBATCH --array=1-$shards\$" deploy/slurm/sweep.sh ||
    die "deploy/slurm/sweep.sh does not submit --array=1-$shards"
grep -q -- "--shard slurm/$shards " deploy/slurm/sweep.sh ||
    die "deploy/slurm/sweep.sh does not run --shard slurm/$shards"

if ! python3 -c 'import yaml' 2>/dev/null; then
    say "installing PyYAML to check the Kubernetes manifest"
    python3 -m pip install --quiet --break-system-packages pyyaml
fi
say "checking deploy/kubernetes/indexed-job.yaml"
python3 - deploy/kubernetes/indexed-job.yaml <<'PY'
import re, sys, yaml

path = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
jobs = [d for d in docs if d.get("kind") == "Job"]
assert len(jobs) == 1, f"{path}: expected one Job, found {len(jobs)}"
spec = jobs[0]["spec"]
assert jobs[0]["apiVersion"] == "batch/v1", "the Job must be batch/v1"
assert spec["completionMode"] == "Indexed", "completionMode must be Indexed"
completions = spec["completions"]
assert spec["parallelism"] <= completions, "parallelism exceeds completions"
pod = spec["template"]["spec"]
assert pod["restartPolicy"] in ("Never", "OnFailure"), "a Job needs restartPolicy Never/OnFailure"
(container,) = pod["containers"]
command = " ".join(container["command"] + container.get("args", []))
m = re.search(r"--shard k8s/(\d+)\b", command)
assert m, f"the command does not use --shard k8s/N: {command}"
assert int(m.group(1)) == completions, f"--shard k8s/{m.group(1)} but completions: {completions}"
assert "$JOB_COMPLETION_INDEX" in command, "each shard must write its own folder"
mounts = {v["name"]: v["mountPath"] for v in container["volumeMounts"]}
volumes = {v["name"] for v in pod["volumes"]}
assert set(mounts) <= volumes, f"mounts {sorted(mounts)} but volumes {sorted(volumes)}"
out = re.search(r"--out (\S+)", command).group(1)
assert any(out.startswith(p + "/") for p in mounts.values()), f"--out {out} is not on a volume"
print(f"{path}: Indexed Job of {completions} with --shard k8s/{completions}: ok")
PY

# --- install -----------------------------------------------------------------------------
missing=()
for tool in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    say "installing slurm-wlm and munge (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the packages' own service scripts from starting system-wide daemons: this script
    # starts its own, and leaves nothing running.
    made_policy=
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    apt_rc=0
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; } ||
        apt_rc=$?
    [[ -z $made_policy ]] || rm -f /usr/sbin/policy-rc.d
    ((apt_rc == 0)) || die "apt-get could not install slurm-wlm and munge (exit $apt_rc)"
fi
say "$(slurmctld -V), $(munge --version 2>&1 | awk '{print $1; exit}')"

# --- build -------------------------------------------------------------------------------
say "cargo build --release"
cargo build --release --quiet
blastsim=${CARGO_TARGET_DIR:-$repo/target}/release/blastsim
[[ -x $blastsim ]] || die "no binary at $blastsim"

# --- a one-node cluster in a temporary folder -----------------------------------------------
tmp=$(mktemp -d /tmp/blastsim-slurm.XXXXXX)
chmod 700 "$tmp"
mkdir -p "$tmp"/{munge,run,log,state,spool,work}
pids=()
jobid=

# This cluster's processes, by id: the daemons and the job are started with this marker in
# their environment (inherited by the job scripts and blastsim, not by this script and its
# subshells), and slurmstepd, which slurmd starts with a fresh environment, keeps the
# slurmd log open. Nothing else on the machine has either.
marker=BLASTSIM_SLURM_CI=$tmp
cluster_pids() {
    local dir kv
    {
        for dir in /proc/[0-9]*; do
            while IFS= read -r -d '' kv; do
                if [[ $kv == "$marker" ]]; then
                    echo "${dir#/proc/}"
                    break
                fi
            done 2>/dev/null <"$dir/environ"
        done
        find /proc/[0-9]*/fd -maxdepth 1 -lname "$tmp/log/slurmd.log" 2>/dev/null | cut -d/ -f3
    } | sort -un | grep -vx "$$"
}
cleanup() {
    local rc=$?
    set +e
    if [[ -n $jobid ]]; then
        scancel "$jobid" 2>/dev/null
    fi
    # Let job steps finish reporting to slurmd (bounded) before it goes: each running
    # slurmstepd has a socket NODE_JOB.STEP in the spool folder.
    for _ in $(seq 20); do
        compgen -G "$tmp/spool/${node:-}_[0-9]*.[0-9]*" >/dev/null || break
        sleep 0.5
    done
    # Reverse start order: slurmd, slurmctld, then munged (the others authenticate with it).
    local i left=()
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null
        for _ in $(seq 50); do
            kill -0 "${pids[i]}" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    # Whatever of the cluster is still there after a grace period (a step that ignored
    # its daemon going away) is stopped by id.
    for _ in $(seq 10); do
        mapfile -t left < <(cluster_pids)
        ((${#left[@]} == 0)) && break
        sleep 0.5
    done
    if ((${#left[@]})); then
        echo "slurm-array: stopping leftover processes ${left[*]}" >&2
        ps -o pid,args -p "$(IFS=,; echo "${left[*]}")" >&2
        kill "${left[@]}" 2>/dev/null
        sleep 1
        mapfile -t left < <(cluster_pids)
        ((${#left[@]} == 0)) || kill -9 "${left[@]}" 2>/dev/null
    fi
    if ((rc != 0)); then
        for log in "$tmp"/log/*; do
            [[ -s $log ]] || continue
            echo "--- slurm-array: last lines of $log" >&2
            tail -n 25 "$log" >&2
        done
    fi
    if [[ ${SLURM_CI_KEEP:-} == 1 ]]; then
        echo "slurm-array: kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "slurm-array: interrupted" >&2; exit 130' INT TERM

node=$(hostname -s)
addr=127.0.0.1
cpus=$(nproc)
socket=$tmp/munge/munge.socket.2

say "starting munged"
if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$tmp/munge/munge.key"
else
    dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$tmp/munge/munge.key"
env "$marker" munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$socket" \
    --pid-file="$tmp/run/munged.pid" --log-file="$tmp/log/munged.log" \
    --seed-file="$tmp/munge/munged.seed" >"$tmp/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    [[ -S $socket ]] && break
    kill -0 "${pids[0]}" 2>/dev/null || die "munged exited"
    sleep 0.1
done
munge -n -S "$socket" | unmunge -S "$socket" >/dev/null || die "munge cannot authenticate"

export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<EOF
# One-node test cluster written by .ci/slurm-array.sh; everything talks over loopback.
ClusterName=blastsim-ci
SlurmctldHost=$node($addr)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
# Bind to the address the host name resolves to (loopback here, checked below) rather
# than to every interface; NoCtldInAddrAny is the same for slurmctld.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups, accounting database or MPI on a throwaway node.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# Finished jobs stay visible to scontrol long enough to read their exit codes.
MinJobAge=600
NodeName=$node NodeAddr=$addr CPUs=$cpus State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

say "starting slurmctld and slurmd (node $node, $cpus CPUs, $addr)"
env "$marker" slurmctld -D -i -f "$SLURM_CONF" >"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
env "$marker" slurmd -D -N "$node" -f "$SLURM_CONF" >"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)

state=
for _ in $(seq 60); do
    state=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
    [[ $state == idle ]] && break
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || die "a daemon exited (pid $pid) before the node came up"
    done
    sleep 1
done
[[ $state == idle ]] || die "node $node is not idle after 60 s (sinfo says '${state:-nothing}')"
say "node $node is idle"
if command -v ss >/dev/null; then
    # The daemons' ports (Slurm's defaults, 6817 and 6818) must be bound to loopback only.
    listening=$(ss -Hltn | awk '{print $4}' | grep -E ':681[78]$' || true)
    say "slurmctld and slurmd listen on: ${listening//$'\n'/ }"
    if grep -qvE '^(127\.|\[::1\])' <<<"$listening"; then
        die "a Slurm daemon listens beyond loopback"
    fi
fi

# --- the array job -------------------------------------------------------------------------
work=$tmp/work
cd "$work"
jobid=$(env "$marker" BLASTSIM="$blastsim" SHARD_DIR=shards sbatch --parsable \
    "$repo/deploy/slurm/sweep.sh" "$repo/$scenario" "${run_flags[@]}")
jobid=${jobid%%;*}
say "submitted array job $jobid: deploy/slurm/sweep.sh $scenario ${run_flags[*]}"

waited=0
while [[ -n $(squeue -h -j "$jobid" -o %i 2>/dev/null) ]]; do
    ((waited < timeout)) || die "array job $jobid not finished after $timeout s: $(squeue -j "$jobid")"
    sleep 2
    waited=$((waited + 2))
done
jobid_done=$jobid
jobid= # nothing left to cancel

tasks=$(scontrol -o show job "$jobid_done")
completed=$(grep -c 'JobState=COMPLETED .*ExitCode=0:0' <<<"$tasks" || true)
if ((completed != shards)); then
    sed -E 's/.*(ArrayTaskId=[^ ]+).*(JobState=[^ ]+).*(ExitCode=[^ ]+).*/\1 \2 \3/' <<<"$tasks" >&2
    for out in "$work"/slurm-*.out; do
        echo "--- $out" >&2
        cat "$out" >&2
    done
    die "only $completed of $shards array tasks completed"
fi
say "all $shards array tasks completed in about ${waited} s"

# --- merge and compare ---------------------------------------------------------------------
"$blastsim" merge shards/* --out merged
# Shards never run the [sensitivity] analysis and merge does not make one, so the
# reference run skips it too (README "Scale-out").
"$blastsim" run "$repo/$scenario" "${run_flags[@]}" --quiet --no-charts --no-sensitivity --out single

for required in runs.csv summary.csv incidents.csv timeline.csv; do
    [[ -f single/$required ]] || die "the unsharded run wrote no $required"
done
mismatch=0
compared=0
while IFS= read -r -d '' file; do
    rel=${file#single/}
    if [[ ! -f merged/$rel ]]; then
        echo "slurm-array: merged/$rel is missing" >&2
        mismatch=1
    elif ! cmp "single/$rel" "merged/$rel"; then
        mismatch=1
    fi
    compared=$((compared + 1))
done < <(find single -name '*.csv' -print0 | sort -z)
extra=$(comm -13 <(cd single && find . -name '*.csv' | sort) <(cd merged && find . -name '*.csv' | sort))
[[ -z $extra ]] || {
    echo "slurm-array: only in the merge: $extra" >&2
    mismatch=1
}
((mismatch == 0)) || die "the merged shards differ from the unsharded run"
say "merged = unsharded: $compared CSV files byte-identical ($(cd single && ls -- *.csv | tr '\n' ' ')and the journal)"
say "ok"
