#!/usr/bin/env bash
# A real IPFS node for integration tests: js-ipfs 0.66.1 (npm `ipfs`, deprecated but a full node
# with the Kubo RPC API /api/v0/* and a gateway). Everything binds 127.0.0.1 only; no
# bootstrap peers, no MDNS, no NAT port mapping, no preload, no delegates.
#
#   .ci/services/ipfs.sh start      install if needed, init a fresh repo, start, wait for the API
#   .ci/services/ipfs.sh stop       stop it
#   .ci/services/ipfs.sh status     exit 0 when running and answering
#   .ci/services/ipfs.sh env        print the REKAM_IPFS_* variables for tests (eval-able)
#   .ci/services/ipfs.sh selftest   add/cat/pin/ls round trip and the raw-leaf CID == sha256 check
#
# See README.md beside this file for ports, variables and quirks.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$HERE/ipfs
CACHE=${REKAM_SERVICES_DIR:-$HOME/.cache/rekam-services}/ipfs
STATE=${REKAM_SERVICES_STATE:-/tmp/rekam-services}/ipfs
JSIPFS=$CACHE/node_modules/.bin/jsipfs
POLYFILL=$CACHE/with-resolvers.cjs
# The npm project, copied to $CACHE (node_modules stays out of the repo).
NPM_FILES=(package.json package-lock.json with-resolvers.cjs)
PIDFILE=$STATE/ipfs.pid
LOG=$STATE/daemon.log

API_PORT=${REKAM_IPFS_API_PORT:-5101}
GATEWAY_PORT=${REKAM_IPFS_GATEWAY_PORT:-8181}
SWARM_PORT=${REKAM_IPFS_SWARM_PORT:-4101}
READY_TIMEOUT=${REKAM_IPFS_READY_TIMEOUT:-120}
INSTALL_TIMEOUT=${REKAM_IPFS_INSTALL_TIMEOUT:-1200}

export REKAM_IPFS_API="http://127.0.0.1:$API_PORT"
export REKAM_IPFS_GATEWAY="http://127.0.0.1:$GATEWAY_PORT"
API=$REKAM_IPFS_API/api/v0

TAIL_LOG=0 # set once this run's server log exists; die() then shows its tail
NAME=ipfs
PROC_PATTERN=ipfs
# shellcheck source=lib.sh
source "$HERE/lib.sh"
die() {
  echo "ipfs: ERROR: $*" >&2
  if ((TAIL_LOG)) && [[ -f $LOG ]]; then
    echo "ipfs: ---- last 40 lines of $LOG ----" >&2
    tail -n 40 "$LOG" >&2 || true
  fi
  exit 1
}

install() {
  command -v node >/dev/null || die "node not found (Node 20 is needed)"
  command -v npm >/dev/null || die "npm not found"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  ((major >= 18)) || die "node $(node --version) is too old (Node 20 is what this was checked with)"
  local f fresh=1
  for f in "${NPM_FILES[@]}"; do
    cmp -s "$SRC/$f" "$CACHE/$f" || fresh=0
  done
  if ((fresh)) && [[ -x $JSIPFS && -f $CACHE/.installed ]]; then
    return 0
  fi
  say "installing js-ipfs into $CACHE (npm ci from the lock file; ~40 s, ~300 MB)"
  local t0=$SECONDS
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  for f in "${NPM_FILES[@]}"; do
    mkdir -p "$(dirname "$CACHE/$f")"
    cp "$SRC/$f" "$CACHE/$f"
  done
  # --omit=optional: ipfs's only optional deps are the webrtc-star chain (electron-webrtc, wrtc,
  # electron, headless), whose installs download from outside the npm registry; the daemon would
  # only use them to add a webrtc-star transport, which we do not want.
  (cd "$CACHE" && timeout "$INSTALL_TIMEOUT" npm ci --omit=optional --no-audit --no-fund --loglevel=error) \
    || die "npm ci in $CACHE failed"
  [[ -x $JSIPFS ]] || die "npm ci finished but $JSIPFS is missing"
  touch "$CACHE/.installed"
  say "installed in $((SECONDS - t0)) s"
}

# js-ipfs 0.66's dependencies call Promise.withResolvers (Node >= 22): preload a polyfill.
node_env() {
  export IPFS_PATH=$STATE/repo
  export NODE_OPTIONS="--require $POLYFILL${NODE_OPTIONS:+ $NODE_OPTIONS}"
}

# The pid in the pid file, if that process is alive and is our daemon (it retitles itself "ipfs").

answers() { curl -sf -o /dev/null --max-time 5 -X POST "$API/id"; }

write_config() {
  cat >"$1" <<EOF
{
  "Addresses": {
    "Swarm": ["/ip4/127.0.0.1/tcp/$SWARM_PORT"],
    "Announce": [],
    "NoAnnounce": [],
    "API": "/ip4/127.0.0.1/tcp/$API_PORT",
    "Gateway": "/ip4/127.0.0.1/tcp/$GATEWAY_PORT",
    "RPC": "",
    "Delegates": []
  },
  "Bootstrap": [],
  "Discovery": { "MDNS": { "Enabled": false }, "webRTCStar": { "Enabled": false } },
  "Swarm": { "DisableNatPortMap": true }
}
EOF
}

start() {
  local pid=
  if pid=$(running_pid) && answers; then
    say "already running (pid $pid), API $REKAM_IPFS_API"
    return 0
  fi
  [[ -n $pid ]] && stop
  install
  local p
  for p in "$API_PORT" "$GATEWAY_PORT" "$SWARM_PORT"; do
    [[ $p =~ ^[0-9]+$ ]] && ((p >= 1 && p <= 65535)) || die "bad port number: $p"
    if port_busy "$p"; then die "port 127.0.0.1:$p is already in use (set REKAM_IPFS_*_PORT, see README.md)"; fi
  done

  rm -rf "$STATE"
  mkdir -p "$STATE"
  TAIL_LOG=1
  node_env
  write_config "$STATE/init-config.json"
  # -e: no help files in the fresh repo. "RPC": "" turns off js-ipfs's gRPC-websocket server.
  "$JSIPFS" init -e --defaultConfig "$STATE/init-config.json" >"$LOG" 2>&1 || die "jsipfs init failed"
  say "starting the daemon: API 127.0.0.1:$API_PORT, gateway 127.0.0.1:$GATEWAY_PORT, swarm 127.0.0.1:$SWARM_PORT (log: $LOG)"
  # Online with no bootstrap peers: `daemon --offline` hangs in this version.
  (cd "$STATE" && exec setsid "$JSIPFS" daemon --enable-preload=false) </dev/null >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"

  local t0=$SECONDS
  until answers; do
    running_pid >/dev/null || die "the daemon exited during startup"
    ((SECONDS - t0 < READY_TIMEOUT)) || { stop >/dev/null 2>&1 || true; die "no answer from POST $API/id after ${READY_TIMEOUT} s"; }
    sleep 0.5
  done
  say "ready in $((SECONDS - t0)) s: API $REKAM_IPFS_API, gateway $REKAM_IPFS_GATEWAY (pid $(<"$PIDFILE"))"
}

stop() {
  local pid
  if pid=$(stop_process); then say "stopped (pid $pid)"; else say "not running"; fi
}

# Prints the hex digest in a base32 CIDv1 if it is raw (0x55) + sha2-256, else "not-raw-sha256".
cid_sha256() {
  python3 - "$1" <<'EOF'
import base64, sys
cid = sys.argv[1]
assert cid.startswith("b"), "not a base32 multibase CID: " + cid
s = cid[1:].upper()
b = base64.b32decode(s + "=" * (-len(s) % 8))
print(b[4:].hex() if b[:4] == bytes([0x01, 0x55, 0x12, 0x20]) and len(b) == 36 else "not-raw-sha256")
EOF
}

add() { # file [extra query] -> CID
  local out
  out=$(curl -sS --fail-with-body --max-time 60 -X POST \
    -F "file=@$1;type=application/octet-stream" \
    "$API/add?cid-version=1&cid-base=base32&raw-leaves=true&pin=true${2:-}") || die "add $1 failed: $out"
  python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["Hash"])' <<<"$out"
}

selftest() {
  running_pid >/dev/null || die "not running; run: $0 start"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  head -c 1000 /dev/urandom >"$tmp/small"
  head -c $((300 * 1024)) /dev/urandom >"$tmp/300k"
  head -c $((1024 * 1024)) /dev/urandom >"$tmp/1m"
  local f cid sha ext kind label
  for f in small 300k 1m; do
    for ext in "" "&chunker=size-1048576"; do
      cid=$(add "$tmp/$f" "$ext")
      curl -sS --fail --max-time 60 -X POST "$API/cat?arg=$cid" -o "$tmp/out" || die "cat $cid failed"
      cmp -s "$tmp/$f" "$tmp/out" || die "cat $cid returned other bytes than were added"
      curl -sS --fail --max-time 30 -X POST "$API/pin/ls?arg=$cid&cid-base=base32" | grep -q "\"$cid\"" \
        || die "$cid is not in pin/ls"
      sha=$(sha256sum "$tmp/$f" | cut -c1-64)
      if [[ $(cid_sha256 "$cid") == "$sha" ]]; then kind="raw block, CID digest == sha256"; else kind="dag-pb root (CID != sha256)"; fi
      # what the tests rely on: with chunker=size-1048576, files up to 1 MiB are one raw block
      [[ -z $ext || $kind == raw* ]] || die "$f with$ext did not give a single raw block: $cid"
      label=${ext#&chunker=}
      say "selftest: $f ($(stat -c %s "$tmp/$f") B), chunker ${label:-default}: $cid: add+cat+pin/ls OK, $kind"
    done
  done
  [[ $(cid_sha256 "$(add "$tmp/small")") == "$(sha256sum "$tmp/small" | cut -c1-64)" ]] \
    || die "small file: raw-leaf CID digest != sha256"
  say "selftest passed"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status)
    if pid=$(running_pid) && answers; then say "running (pid $pid), API $REKAM_IPFS_API"; else say "not running"; exit 1; fi
    ;;
  env)
    printf 'export REKAM_IPFS_API=%q\nexport REKAM_IPFS_GATEWAY=%q\n' "$REKAM_IPFS_API" "$REKAM_IPFS_GATEWAY"
    ;;
  selftest) selftest ;;
  *) echo "usage: $0 start|stop|restart|status|env|selftest" >&2; exit 2 ;;
esac
