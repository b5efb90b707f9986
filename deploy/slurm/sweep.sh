#!/usr/bin/env bash
# One shard of a blastsim sweep as a Slurm array task; the array is the sweep.
#
#   sbatch deploy/slurm/sweep.sh SCENARIO.toml [blastsim run flags...]
#   # once every task is done (squeue shows none left):
#   blastsim merge shards/* --out results/NAME
#
# Each task runs `--shard slurm/8`: blastsim takes its shard from SLURM_ARRAY_TASK_ID
# (counted from SLURM_ARRAY_TASK_MIN, so --array=0-7 works too) and refuses an array that
# is not 8 tasks. Change the 8 in both places to resize the sweep. A failed task is
# resumed by resubmitting it with its shard given explicitly, e.g. for task 3:
#   sbatch --array=3 --wrap 'blastsim run SCENARIO.toml --quiet --no-charts \
#       --shard 3/8 --out shards/3'
# (journaled runs are skipped, so the result is what an uninterrupted task writes).
#
# Environment: BLASTSIM (the binary, default `blastsim` on PATH), SHARD_DIR (default
# `shards`, relative to the submission folder). This is the script CI submits to a real
# one-node cluster (.ci/slurm-array.sh), so it is the tested one.
#SBATCH --job-name=blastsim-sweep
#SBATCH --array=1-8
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: sbatch $0 SCENARIO.toml [blastsim run flags...]" >&2
    exit 2
fi
scenario=$1
shift

shard_dir=${SHARD_DIR:-shards}
mkdir -p "$shard_dir"
# One thread per task: Slurm gives each task --cpus-per-task cores and the array
# supplies the parallelism.
exec "${BLASTSIM:-blastsim}" run "$scenario" --quiet --no-charts --threads 1 \
    --shard slurm/8 --out "$shard_dir/${SLURM_ARRAY_TASK_ID}" "$@"
