#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need, checks format,
# lints, the dependency boundary of the pure core, runs every test in the Rust workspace,
# then installs (npm ci; Debian's Chromium if missing), type-checks and tests the TypeScript
# packages and the console in a real browser.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python oracles the tests use: the moto server (a real SQS/DynamoDB API on loopback), two
# independent Standard Webhooks verifiers, and Stripe's library (it signs and verifies the
# Stripe requests an inbound source takes).
if ! python3 -c 'import moto, standardwebhooks, svix, stripe' 2>/dev/null || ! command -v moto_server >/dev/null; then
  echo "==> installing test tools (moto[server], standardwebhooks, svix, stripe)"
  python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6' 'standardwebhooks>=1.1' 'svix>=1.40' 'stripe>=7'
fi

echo "==> the SAM template (cfn-lint, sam validate --lint, deploy rules, functions ↔ binaries, tables ↔ adapters)"
scripts/check-template.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> the pure core pulls in no runtime, AWS, HTTP or Lambda crate"
forbidden=$(cargo tree -p authhooks --no-default-features -e normal --prefix none --locked \
  | grep -E '^(tokio|aws-|reqwest|hyper|lambda)' || true)
if [ -n "$forbidden" ]; then
  echo "authhooks --no-default-features depends on: $forbidden" >&2
  exit 1
fi

echo "==> cargo test"
cargo test --workspace --locked

# The console's browser test drives Debian's Chromium (playwright-core, no downloaded browser).
if ! command -v "${CHROMIUM:-chromium}" >/dev/null; then
  echo "==> installing Chromium (Debian) for the console's browser test"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi

echo "==> TypeScript packages: npm ci, strict type-check, tests against the real packages and authhooks dev"
# The packages' tests run the `authhooks` binary of this workspace (target/debug/authhooks).
cargo build -p authhooks-cli --locked
npm ci --no-audit --no-fund
npm test
