#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need, checks format,
# lints, the dependency boundary of the pure core, then runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python oracles the tests use: the moto server (a real SQS/DynamoDB API on loopback) and
# two independent Standard Webhooks verifiers.
if ! python3 -c 'import moto, standardwebhooks, svix' 2>/dev/null || ! command -v moto_server >/dev/null; then
  echo "==> installing test tools (moto[server], standardwebhooks, svix)"
  python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6' 'standardwebhooks>=1.1' 'svix>=1.40'
fi

echo "==> the SAM template (cfn-lint, functions ↔ binaries, tables ↔ adapters)"
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
