#!/usr/bin/env bash
# Hearth and llama.cpp on the same folder, alternated PAIRS times, page cache dropped before every run.
# These machines are shared and noisy (the same streaming read measures 8 to 19 GB/s minute to minute),
# so one pair decides nothing: this prints every pair and the medians of each engine's figures.
#
# usage (as root, for drop_caches): bench/side_by_side.sh [PAIRS=3] [MODEL_DIR=bench/out/20b] [THREADS=2]
set -euo pipefail
pairs=${1:-3}; model=${2:-bench/out/20b}; threads=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp -d)
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
for i in $(seq "$pairs"); do
  drop; python3 "$here/bench_cpu.py" --dir "$model" >"$log/hearth$i" 2>&1 || { cat "$log/hearth$i" >&2; exit 1; }
  drop; "$here/../../shared/bench/llamacpp_anchor.sh" "$model" "$threads" 128 16 >"$log/llama$i" 2>&1 \
    || { cat "$log/llama$i" >&2; exit 1; }
  h_pp=$(awk '/prefill, 128 tokens/ {print $4}' "$log/hearth$i"); h_tg=$(awk '/^  decode  / {print $2}' "$log/hearth$i")
  l_pp=$(sed -n 's/^llama.cpp: prefill \([0-9.]*\) tok\/s, decode \([0-9.]*\).*/\1/p' "$log/llama$i")
  l_tg=$(sed -n 's/^llama.cpp: prefill \([0-9.]*\) tok\/s, decode \([0-9.]*\).*/\2/p' "$log/llama$i")
  echo "pair $i: decode Hearth $h_tg / llama.cpp $l_tg tok/s; prefill-128 Hearth $h_pp / llama.cpp $l_pp tok/s"
  echo "$h_tg $l_tg $h_pp $l_pp" >>"$log/all"
done
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
echo "medians over $pairs pairs ($threads threads):" \
  "decode Hearth $(cut -d' ' -f1 "$log/all" | median) / llama.cpp $(cut -d' ' -f2 "$log/all" | median) tok/s;" \
  "prefill-128 Hearth $(cut -d' ' -f3 "$log/all" | median) / llama.cpp $(cut -d' ' -f4 "$log/all" | median) tok/s"
echo "logs: $log"
