#!/usr/bin/env bash
# What a long idle costs: a daemon with one `respawn` job and ten sleeping ones idles IDLE_S
# seconds, then `initctl status` runs three times and the respawn job is killed three times (1.2 s
# apart). Prints each status's wall time and each respawn's latency (kill to the new process's own
# start stamp). On a host that reclaims unmapped page cache (this VM: a DAMON scheme that pages
# out file pages unmapped for a minute), the first of each pays for the code read back from disk.
#   bash scripts/cold_after_idle.sh [IDLE_S]          (default 100; UPKEEP_DIR: another checkout)
set -u
root=${UPKEEP_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
idle=${1:-100}
d=$(mktemp -d /tmp/upkeep-cold-XXXXXX)
mkdir -p "$d/c" "$d/l"
now_ns() { date +%s%N; }
# The job stamps its own start, then becomes a sleep.
printf 'start on startup\nrespawn\nrespawn limit unlimited\nexec sh -c %s\n' \
  "'date +%s%N >> $d/marks; exec sleep 100323'" >"$d/c/r.conf"
for i in $(seq 1 10); do printf 'start on startup\nexec sleep 100322\n' >"$d/c/j$i.conf"; done
upkeep=(deno run -A "$root/main.ts")
"${upkeep[@]}" daemon --conf-dir "$d/c" --state-dir "$d/s" --log-dir "$d/l" --socket "$d/sock" \
  >/dev/null 2>&1 &
daemon=$!
sleep "$idle"
for k in 1 2 3; do
  s=$(now_ns)
  "${upkeep[@]}" initctl --socket "$d/sock" status j1 >/dev/null
  echo "after ${idle} s idle: status #$k $((($(now_ns) - s) / 1000000)) ms"
done
for k in 1 2 3; do
  pid=$(pgrep -f "^sleep 100323$" | head -1)
  lines=$(wc -l <"$d/marks")
  t0=$(now_ns)
  kill -9 "$pid"
  for _ in $(seq 1 5000); do [ "$(wc -l <"$d/marks")" -gt "$lines" ] && break; sleep 0.001; done
  echo "after ${idle} s idle: respawn #$k $((($(tail -1 "$d/marks") - t0) / 1000)) us (job's sh and date included)"
  sleep 1.2
done
kill "$daemon"
wait "$daemon" 2>/dev/null
rm -rf "$d"
