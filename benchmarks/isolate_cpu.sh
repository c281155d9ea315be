#!/bin/bash
# Run a command on a shared Linux machine as if CPU 0 were free: every other process (and
# what it starts meanwhile) is confined to CPU 1 through a cpuset cgroup, and the command runs
# in a cpu cgroup that outweighs them there (cpu.shares). Needs root and cgroup v1 cpuset/cpu
# hierarchies under /sys/fs/cgroup. Everything is put back when the command ends.
#
#     sudo benchmarks/isolate_cpu.sh .venv/bin/python benchmarks/service_latency.py --pin
#
# OTHERS_CPUS=0-1 leaves the other processes on both CPUs, behind the command (which then has
# precedence on both: the soak's two processes, for instance).
#
# With --pin the latency benchmark puts the server alone on CPU 0 and its load generators on
# CPU 1, where they take precedence over the confined processes (docs/PERFORMANCE.md, Service).
set -u
CPUSET=/sys/fs/cgroup/cpuset
CPU=/sys/fs/cgroup/cpu
if [ ! -w "$CPUSET/cgroup.procs" ] || [ ! -d "$CPU" ]; then
  echo "isolate_cpu.sh: needs root and cgroup v1 cpuset and cpu hierarchies" >&2
  exit 2
fi
mkdir -p "$CPUSET/others" "$CPUSET/bench" "$CPU/bench"
echo "${OTHERS_CPUS:-1}" > "$CPUSET/others/cpuset.cpus"
echo 0 > "$CPUSET/others/cpuset.mems"
echo 0-1 > "$CPUSET/bench/cpuset.cpus"
echo 0 > "$CPUSET/bench/cpuset.mems"
echo 200000 > "$CPU/bench/cpu.shares"
echo $$ > "$CPUSET/bench/cgroup.procs"
echo $$ > "$CPU/bench/cgroup.procs"
restore() {
  for pid in $(cat "$CPUSET/others/cgroup.procs"); do
    echo "$pid" > "$CPUSET/cgroup.procs" 2>/dev/null
  done
}
trap restore EXIT
for pid in $(cat "$CPUSET/cgroup.procs"); do  # kernel threads refuse: they stay
  echo "$pid" > "$CPUSET/others/cgroup.procs" 2>/dev/null
done
"$@"
