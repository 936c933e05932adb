#!/usr/bin/env bash
# Validates template.yaml offline: cfn-lint (CloudFormation and SAM rules), `sam validate
# --lint` (the SAM CLI's own transform and lint), the deploy rules of
# scripts/check-template-rules.py (alarms per function and queue, no secret in the
# configuration, the tables' key, names in Outputs), then that the template and the workspace agree — every function's BuildProperties.Binary is a [[bin]]
# of a workspace package under functions/ and every such binary is deployed, and the
# failures indexes and the TTL attribute are the names shared/src/adapters/dynamodb/tables.rs
# uses. No AWS credentials or network needed once cfn-lint is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cfn-lint >/dev/null; then
  echo "==> installing cfn-lint"
  python3 -m pip install --quiet --disable-pip-version-check 'cfn-lint>=1,<2'
fi

echo "==> cfn-lint template.yaml"
# No rule is suppressed: a finding fails the check.
cfn-lint template.yaml

# The AWS SAM CLI: `sam` on PATH, else a venv under ~/.cache installed once (~80 s, then
# nothing); `sam validate --lint` itself takes ~5 s, offline and without credentials.
sam_cli=$(command -v sam || true)
if [ -z "$sam_cli" ]; then
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/authhooks/sam-venv"
  if [ ! -x "$venv/bin/sam" ]; then
    echo "==> installing aws-sam-cli into $venv (once)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'aws-sam-cli>=1.170,<2'
  fi
  sam_cli="$venv/bin/sam"
fi
echo "==> sam validate --lint"
SAM_CLI_TELEMETRY=0 "$sam_cli" validate --lint --template template.yaml

echo "==> deploy rules (alarms, secrets, keys, outputs)"
python3 scripts/check-template-rules.py

echo "==> template functions match the workspace binaries"
cargo metadata --no-deps --format-version 1 --offline \
  | python3 -c '
import json, re, sys
from cfnlint.decode import cfn_yaml

meta = json.load(sys.stdin)
workspace = set()
for pkg in meta["packages"]:
    if "/functions/" not in pkg["manifest_path"].replace("\\", "/"):
        continue
    for target in pkg["targets"]:
        if "bin" in target["kind"]:
            workspace.add(target["name"])

template = cfn_yaml.load("template.yaml")
errors = []
deployed = {}
for name, res in template.get("Resources", {}).items():
    if res.get("Type") != "AWS::Serverless::Function":
        continue
    md = res.get("Metadata") or {}
    binary = (md.get("BuildProperties") or {}).get("Binary")
    if md.get("BuildMethod") != "rust-cargolambda" or not binary:
        errors.append(f"{name}: needs Metadata BuildMethod rust-cargolambda and BuildProperties.Binary")
        continue
    deployed[str(binary)] = name
for binary, name in sorted(deployed.items()):
    if binary not in workspace:
        errors.append(f"{name}: Binary {binary!r} is no [[bin]] of a package under functions/ "
                      f"(those are: {sorted(workspace)})")
for binary in sorted(workspace - set(deployed)):
    errors.append(f"binary {binary!r} (functions/) has no AWS::Serverless::Function in template.yaml")

# The names the code queries by must be the names the template creates.
source = open("shared/src/adapters/dynamodb/tables.rs", encoding="utf-8").read()
consts = dict(re.findall(r"pub const (\w+): &str = \"([^\"]*)\";", source))
tables = template["Resources"]
indexes = {i["IndexName"] for i in tables["FailuresTable"]["Properties"].get("GlobalSecondaryIndexes", [])}
for const in ("FAILURES_BY_TIME", "FAILURES_BY_ENDPOINT"):
    if consts.get(const) not in indexes:
        errors.append(f"FailuresTable has no index {consts.get(const)!r} ({const} in tables.rs)")
source_indexes = {i["IndexName"] for i in tables["SourcesTable"]["Properties"].get("GlobalSecondaryIndexes", [])}
if consts.get("SOURCES_BY_KIND") not in source_indexes:
    errors.append(f"SourcesTable has no index {consts.get('SOURCES_BY_KIND')!r} (SOURCES_BY_KIND in tables.rs)")
expected_ttl = consts.get("TTL_ATTRIBUTE")
for table in ("StateTable", "DeliveryLogTable", "SourcesTable"):
    ttl = tables[table]["Properties"].get("TimeToLiveSpecification", {}).get("AttributeName")
    if ttl != expected_ttl:
        errors.append(f"{table} TTL attribute is {ttl!r}, tables.rs says {expected_ttl!r}")
for table in ("DeliveryLogTable", "SourcesTable"):
    keys = [(k["AttributeName"], k["KeyType"]) for k in tables[table]["Properties"]["KeySchema"]]
    if keys != [("pk", "HASH"), ("sk", "RANGE")]:
        errors.append(f"{table} keys are {keys}, tables.rs makes pk (HASH) and sk (RANGE)")

if errors:
    print("template.yaml does not match the workspace:", file=sys.stderr)
    for e in errors:
        print(f"  - {e}", file=sys.stderr)
    sys.exit(1)
names = ", ".join(sorted(deployed))
print(f"ok: {len(deployed)} functions ({names}), indexes and TTL match")
'
