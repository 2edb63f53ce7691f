#!/usr/bin/env bash
# The test command (README): starts the real services the suite needs on 127.0.0.1 (an
# IPFS node and an S3 server that checks signatures; both installed on first use), runs
# every test in the workspace, and stops the services again. The local validator is
# started by the tests themselves from the `rekam` binary.
#   bash tests/run.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

export REKAM_IPFS_API_PORT=${REKAM_IPFS_API_PORT:-5101}
export REKAM_S3_PORT=${REKAM_S3_PORT:-8333}
export REKAM_S3_ACCESS_KEY=${REKAM_S3_ACCESS_KEY:-rekam-test}
export REKAM_S3_SECRET_KEY=${REKAM_S3_SECRET_KEY:-rekam-test-secret}
export REKAM_S3_BUCKET=${REKAM_S3_BUCKET:-rekam-test}

started=()
stop_services() {
  for service in "${started[@]}"; do bash ".ci/services/$service.sh" stop || true; done
}
trap stop_services EXIT

for service in s3 ipfs; do
  bash ".ci/services/$service.sh" start
  started+=("$service")
done

# Outside oracles the tests compare against (FHIR.js, the OpenWallet SD-JWT library, jose),
# pinned by .ci/oracles/package-lock.json.
if [ ! -d .ci/oracles/node_modules/fhir ] || [ ! -d .ci/oracles/node_modules/@sd-jwt/core ] \
   || [ ! -d .ci/oracles/node_modules/jose ]; then
  npm ci --prefix .ci/oracles --no-audit --no-fund --loglevel=error
fi
export REKAM_TEST_ORACLES="$PWD/.ci/oracles/node_modules"

export REKAM_TEST_IPFS_API="http://127.0.0.1:$REKAM_IPFS_API_PORT"
export REKAM_TEST_S3_ENDPOINT="http://127.0.0.1:$REKAM_S3_PORT"
export REKAM_TEST_S3_BUCKET="$REKAM_S3_BUCKET"
export REKAM_TEST_S3_ACCESS_KEY="$REKAM_S3_ACCESS_KEY"
export REKAM_TEST_S3_SECRET_KEY="$REKAM_S3_SECRET_KEY"

# An independent implementation of record format 2 (Python's `cryptography`, no Rekam
# code) checks every value of the known-answer vectors the Rust tests reproduce.
python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install --quiet 'cryptography>=42'
python3 client/core/tests/vectors/record_v2_vectors.py

cargo test --workspace --locked "$@"

# The stateful fuzzer: a short seeded run (tests/fuzz/README.md; long runs are manual).
cargo run --locked -p rekam-fuzz -- --instructions 50000 --seed 1
