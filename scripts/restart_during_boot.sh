#!/usr/bin/env bash
# kill -9 of the daemon while it boots N `respawn` jobs, then a new daemon on the same state dir:
# prints, per kill time, how many job processes ran at the kill and, once things settle, how many
# run and are running per `initctl list`, how many jobs run twice, and what a clean stop leaves.
#   bash scripts/restart_during_boot.sh [N_JOBS] [KILL_AFTER_S...]   (default: 300 0.2 0.3 ... 1.0)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-300}; shift || true
times=("$@"); [ ${#times[@]} -gt 0 ] || times=(0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0)
d=$(mktemp -d /tmp/upkeep-boot-kill-XXXXXX)
mark=$((100000 + RANDOM))   # each job's command, unique to this run: sleep $mark
upkeep=(deno run -A "$root/main.ts")
count() { pgrep -fc "^sleep $mark$"; }
for after in "${times[@]}"; do
  rm -rf "$d/w"; mkdir -p "$d/w/conf" "$d/w/s" "$d/w/l"
  for ((i = 1; i <= n; i++)); do printf 'start on startup\nrespawn\nexec sleep %s\n' "$mark" >"$d/w/conf/j$i.conf"; done
  args=(daemon --conf-dir "$d/w/conf" --state-dir "$d/w/s" --log-dir "$d/w/l" --socket "$d/w/sock")
  "${upkeep[@]}" "${args[@]}" 2>/dev/null & p=$!
  sleep "$after"; kill -9 "$p"; wait "$p" 2>/dev/null
  at_kill=$(count)
  "${upkeep[@]}" "${args[@]}" 2>"$d/w/daemon2.log" & p2=$!
  last=-1; stable=0
  for ((k = 0; k < 120; k++)); do
    c=$(count); if [ "$c" = "$last" ]; then stable=$((stable + 1)); [ $stable -ge 4 ] && break; else stable=0; fi
    last=$c; sleep 0.5
  done
  running=$("${upkeep[@]}" initctl --socket "$d/w/sock" list 2>/dev/null | grep -c start/running)
  twice=$(for pid in $(pgrep -f "^sleep $mark$"); do tr '\0' '\n' <"/proc/$pid/environ" | grep '^UPSTART_JOB='; done | sort | uniq -d | wc -l)
  kill -TERM "$p2"; wait "$p2"
  left=$(count); [ "$left" = 0 ] || pkill -f "^sleep $mark$"
  echo "kill at ${after}s: ${at_kill} running at the kill; after: ${last} processes, ${running}/${n} running, ${twice} twice, ${left} left after stop; $(grep -c 'taken over' "$d/w/daemon2.log") taken over"
done
rm -rf "$d"
