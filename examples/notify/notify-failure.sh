# The script of examples/init/notify-failure.conf, also kept as examples/notify/notify-failure.sh
# (a test keeps the two identical). Runs under `/bin/sh -e` with the event's variables:
#   stopped RESULT=failed:  JOB INSTANCE RESULT PROCESS and EXIT_STATUS or EXIT_SIGNAL
#   unhealthy:              JOB INSTANCE REASON
#   respawn-failed:         JOB INSTANCE and REASON / EXIT_STATUS / EXIT_SIGNAL
# Delivery, first that applies: NOTIFY_COMMAND (reads the mail on stdin), `sendmail -t` to
# NOTIFY_TO, a POST to NOTIFY_URL with curl, else the notice goes to this job's own log.
# It always exits 0: a notice that cannot be sent is logged, never a new failure to notify.
job="${JOB:-unknown}"
instance="${INSTANCE:-}"
reason=""
for var in RESULT PROCESS EXIT_STATUS EXIT_SIGNAL REASON; do
    eval "value=\${$var:-}"
    if [ -n "$value" ]; then reason="$reason${reason:+ }$var=$value"; fi
done
reason="${reason:-no reason given}"
host="$(uname -n 2>/dev/null || echo localhost)"
log_name="$(printf '%s' "$job" | tr / _)"
if [ -n "$instance" ]; then log_name="$log_name-$(printf '%s' "$instance" | tr / _)"; fi
log="${UPKEEP_LOG_DIR:-/var/log/upstart}/$log_name.log"
summary="$(printf '[upkeep] %s%s on %s: %s' "$job" "${instance:+ ($instance)}" "$host" \
    "$reason" | tr '\r\n' '  ')"

# The daemon writes a job's output to its log a moment after the job wrote it (and makes the
# file only then): let the log appear and settle (its size unchanged for 0.1 s; at most 2 s)
# before reading its end.
tries=0 last=-1
while [ "$tries" -lt 20 ]; do
    tries=$((tries + 1))
    if [ -r "$log" ]; then
        size=$(wc -c < "$log" 2>/dev/null || echo 0)
        [ "$size" = "$last" ] && break
        last=$size
    fi
    sleep 0.1
done

body() {
    printf '%s\n\n' "$summary"
    printf 'Job:      %s\n' "$job"
    printf 'Instance: %s\n' "$instance"
    printf 'Host:     %s\n' "$host"
    printf 'Time:     %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ' 2>/dev/null || true)"
    printf 'Event:    %s\n' "${UPSTART_EVENTS:-}"
    printf 'Reason:   %s\n' "$reason"
    printf 'Log:      %s\n\n' "$log"
    if [ -r "$log" ]; then
        printf 'Last 20 lines of the log:\n'
        tail -n 20 "$log" 2>&1 || true
    else
        printf '(no readable log at %s)\n' "$log"
    fi
}

mail_message() {
    printf 'To: %s\n' "${NOTIFY_TO:-root}"
    printf 'Subject: %s\n' "$summary"
    printf 'Content-Type: text/plain; charset=utf-8\n\n'
    body
}

undelivered() {
    echo "notify-failure: $1; the notice follows"
    body
}

sendmail="$(command -v sendmail 2>/dev/null || true)"
if [ -n "${NOTIFY_COMMAND:-}" ]; then
    if mail_message | /bin/sh -c "$NOTIFY_COMMAND"; then
        echo "notify-failure: notice about $job handed to NOTIFY_COMMAND"
    else
        undelivered "NOTIFY_COMMAND failed"
    fi
elif [ -n "$sendmail" ] && [ -n "${NOTIFY_TO:-}" ]; then
    if mail_message | "$sendmail" -t; then
        echo "notify-failure: notice about $job mailed to $NOTIFY_TO"
    else
        undelivered "$sendmail -t failed"
    fi
elif [ -n "${NOTIFY_URL:-}" ] && command -v curl >/dev/null 2>&1; then
    if body | curl -fsS -m 10 -X POST -H 'Content-Type: text/plain; charset=utf-8' \
        -H "X-Upkeep-Job: $job" --data-binary @- "$NOTIFY_URL"; then
        echo "notify-failure: notice about $job posted to $NOTIFY_URL"
    else
        undelivered "POST to $NOTIFY_URL failed"
    fi
else
    undelivered "no NOTIFY_COMMAND, sendmail or NOTIFY_URL with curl"
fi
exit 0
