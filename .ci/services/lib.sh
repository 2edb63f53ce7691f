# Shared by ipfs.sh and s3.sh: a loopback service run from a pid file.
# The sourcing script sets NAME (message prefix), PIDFILE, and PROC_PATTERN (a string
# the server's /proc/PID/cmdline must contain, so a recycled pid is never mistaken for it).

say() { echo "$NAME: $*"; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the server's pid when it is alive (a zombie counts as gone: it disappears once
# its parent reaps it); fails otherwise.
running_pid() {
  [[ -f $PIDFILE ]] || return 1
  local pid
  pid=$(<"$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$PROC_PATTERN" || return 1
  echo "$pid"
}

# SIGTERM, up to 15 s of grace, then SIGKILL; removes the pid file. Prints the pid that
# was stopped; fails (printing nothing) when nothing was running.
stop_process() {
  local pid i
  if ! pid=$(running_pid); then
    rm -f "$PIDFILE"
    return 1
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    running_pid >/dev/null || break
    sleep 0.25
  done
  if running_pid >/dev/null; then
    say "still alive after 15 s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  echo "$pid"
}
