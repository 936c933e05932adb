"""What template.yaml must keep so that a deployment pages when it breaks and holds no
secret in its configuration (issue #15). Run by scripts/check-template.sh; offline.

- every function has an Errors and a Throttles alarm, and a public Function URL has a
  5xx alarm (Url5xxCount) and reserved concurrency (a parameter);
- every queue a function consumes jobs from has an ApproximateAgeOfOldestMessage alarm,
  and every dead-letter queue a depth alarm (ApproximateNumberOfMessagesVisible: the age
  metric leaves out a message received three times or more, which is what a dead letter
  the dlq function keeps failing on is);
- the EMF metrics alarmed on (namespace and names) are ones the code writes;
- every alarm notifies the alarm topic;
- no environment variable is filled from Secrets Manager at deploy time;
- no table asks for the billed KMS key by `SSEEnabled: true` alone;
- every function and log group is named in Outputs;
- each function may call what its code calls on the queues and tables it uses (a list
  kept here beside the code: moto does not check IAM, so nothing else would).
"""
import re
import sys

from cfnlint.decode import cfn_yaml

template = cfn_yaml.load("template.yaml")
resources = template["Resources"]
outputs = template.get("Outputs", {})
errors = []


def of_type(kind):
    return {name: res for name, res in resources.items() if res.get("Type") == kind}


def ref_name(value):
    """The resource a Ref or GetAtt names."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else str(target).split(".")[0]
    return None


alarms = of_type("AWS::CloudWatch::Alarm")


def alarms_on(namespace, metric, dimension=None, resource=None):
    found = []
    for name, alarm in alarms.items():
        props = alarm.get("Properties", {})
        if props.get("Namespace") != namespace or props.get("MetricName") != metric:
            continue
        if dimension is not None:
            dims = {d.get("Name"): ref_name(d.get("Value")) for d in props.get("Dimensions", [])}
            if dims.get(dimension) != resource:
                continue
        found.append(name)
    return found


functions = of_type("AWS::Serverless::Function")
for name, fn in functions.items():
    props = fn.get("Properties", {})
    for metric in ("Errors", "Throttles"):
        if not alarms_on("AWS/Lambda", metric, "FunctionName", name):
            errors.append(f"{name} has no {metric} alarm (AWS/Lambda {metric}, FunctionName)")
    url = props.get("FunctionUrlConfig") or {}
    if url.get("AuthType") == "NONE":
        if not alarms_on("AWS/Lambda", "Url5xxCount", "FunctionName", name):
            errors.append(f"{name} has a public URL but no Url5xxCount alarm")
        if "ReservedConcurrentExecutions" not in props:
            errors.append(f"{name} has a public URL but no ReservedConcurrentExecutions")
    for var, value in ((props.get("Environment") or {}).get("Variables") or {}).items():
        if "resolve:secretsmanager" in str(value):
            errors.append(f"{name}: {var} puts a secret's value in the function's configuration; "
                          "pass its ARN and read it at cold start")
for var, value in (((template.get("Globals") or {}).get("Function") or {})
                   .get("Environment", {}).get("Variables", {}).items()):
    if "resolve:secretsmanager" in str(value):
        errors.append(f"Globals: {var} puts a secret's value in every function's configuration")

queues = of_type("AWS::SQS::Queue")
dead_letter_queues = {
    ref_name((q.get("Properties", {}).get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
    for q in queues.values()
} - {None}
for name in queues:
    if name in dead_letter_queues:
        if not alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name):
            errors.append(f"dead-letter queue {name} has no depth alarm "
                          "(ApproximateNumberOfMessagesVisible)")
    elif not alarms_on("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", name):
        errors.append(f"queue {name} has no age alarm (ApproximateAgeOfOldestMessage)")

# The EMF metrics alarmed on must be written by the code, under its namespace.
metrics_rs = open("shared/src/lambda/metrics.rs", encoding="utf-8").read()
namespace = re.search(r'pub const NAMESPACE: &str = "([^"]+)";', metrics_rs).group(1)
for required in ("dead_lettered", "redriven"):
    if not alarms_on(namespace, required):
        errors.append(f"no alarm on the EMF metric {namespace}/{required}")


def metrics_read(props):
    """(namespace, metric) of each metric an alarm reads: its own, or its metric math's."""
    if "Metrics" not in props:
        return [(props.get("Namespace"), props.get("MetricName"))]
    return [(m["MetricStat"]["Metric"].get("Namespace"), m["MetricStat"]["Metric"].get("MetricName"))
            for m in props["Metrics"] if "MetricStat" in m]


for name, alarm in alarms.items():
    for ns, metric in metrics_read(alarm.get("Properties", {})):
        if (ns or "").startswith("AWS/"):
            continue
        if ns != namespace:
            errors.append(f"{name}: namespace {ns!r} is not the code's {namespace!r}")
        elif f'"{metric}"' not in metrics_rs:
            errors.append(f"{name}: no metric {metric!r} in shared/src/lambda/metrics.rs")

for name, alarm in alarms.items():
    if "AlarmTopic" not in str(alarm.get("Properties", {}).get("AlarmActions")):
        errors.append(f"{name} does not notify AlarmTopic")

for name, table in of_type("AWS::DynamoDB::Table").items():
    sse = table.get("Properties", {}).get("SSESpecification")
    # Both branches of an !If.
    choices = sse["Fn::If"][1:] if isinstance(sse, dict) and "Fn::If" in sse else [sse]
    if any(isinstance(c, dict) and c.get("SSEEnabled") is True and "KMSMasterKeyId" not in c
           for c in choices):
        errors.append(f"{name}: SSEEnabled true without a key is the billed AWS managed KMS key; "
                      "use the AWS owned key unless TableKmsKeyArn is set")

# What each function's code calls, on which resource: ingest enqueues jobs and fan-out
# tasks; the worker expands tasks (index scan, seen-records read, jobs to either queue),
# retries and dead-letters, and logs each batch's attempts with their tallies; admin reads
# and writes endpoint state (health, recover), lists and replays failures, searches the
# delivery log and reads its tallies; the portal does what admin does for one tenant (no
# attempts, tallies or bulk replay); the dlq function returns redriven fan-out tasks.
NEEDS = {
    "IngestFunction": [
        ("sqs:SendMessage", "DeliveriesQueue"), ("sqs:SendMessage", "OrderedDeliveriesQueue"),
        ("dynamodb:Scan", "EndpointsTable"), ("dynamodb:BatchGetItem", "StateTable"),
        ("dynamodb:GetItem", "SourcesTable"), ("dynamodb:PutItem", "SourcesTable"),
    ],
    "WorkerFunction": [
        ("sqs:SendMessage", "DeliveriesQueue"), ("sqs:SendMessage", "OrderedDeliveriesQueue"),
        ("sqs:SendMessage", "DeadLetterQueue"),
        ("sqs:ChangeMessageVisibility", "OrderedDeliveriesQueue"),
        ("dynamodb:Scan", "EndpointsTable"), ("dynamodb:GetItem", "EndpointsTable"),
        ("dynamodb:PutItem", "EndpointsTable"),
        ("dynamodb:BatchGetItem", "StateTable"), ("dynamodb:UpdateItem", "StateTable"),
        ("dynamodb:PutItem", "StateTable"), ("dynamodb:DeleteItem", "StateTable"),
        ("dynamodb:PutItem", "DeliveryLogTable"), ("dynamodb:UpdateItem", "DeliveryLogTable"),
    ],
    "AdminFunction": [
        ("dynamodb:GetItem", "EndpointsTable"), ("dynamodb:PutItem", "EndpointsTable"),
        ("dynamodb:DeleteItem", "EndpointsTable"), ("dynamodb:Scan", "EndpointsTable"),
        ("dynamodb:BatchGetItem", "StateTable"), ("dynamodb:GetItem", "StateTable"),
        ("dynamodb:PutItem", "StateTable"),
        ("dynamodb:Query", "FailuresTable"), ("dynamodb:GetItem", "FailuresTable"),
        ("dynamodb:UpdateItem", "FailuresTable"),
        ("dynamodb:Query", "DeliveryLogTable"), ("dynamodb:BatchGetItem", "DeliveryLogTable"),
        ("sqs:SendMessage", "DeliveriesQueue"), ("sqs:SendMessage", "OrderedDeliveriesQueue"),
        ("dynamodb:GetItem", "SourcesTable"), ("dynamodb:PutItem", "SourcesTable"),
        ("dynamodb:DeleteItem", "SourcesTable"), ("dynamodb:Query", "SourcesTable"),
    ],
    "PortalFunction": [
        ("secretsmanager:GetSecretValue", "PortalKeySecretArn"),
        ("dynamodb:GetItem", "EndpointsTable"), ("dynamodb:PutItem", "EndpointsTable"),
        ("dynamodb:DeleteItem", "EndpointsTable"), ("dynamodb:Scan", "EndpointsTable"),
        ("dynamodb:GetItem", "StateTable"), ("dynamodb:PutItem", "StateTable"),
        ("dynamodb:Query", "FailuresTable"), ("dynamodb:GetItem", "FailuresTable"),
        ("dynamodb:UpdateItem", "FailuresTable"),
        ("dynamodb:Query", "DeliveryLogTable"),
        ("sqs:SendMessage", "DeliveriesQueue"), ("sqs:SendMessage", "OrderedDeliveriesQueue"),
    ],
    "DlqFunction": [
        ("dynamodb:PutItem", "FailuresTable"),
        ("sqs:SendMessage", "DeliveriesQueue"), ("sqs:SendMessage", "OrderedDeliveriesQueue"),
    ],
}


def allowed(fn):
    """(action, resource) pairs the function's inline policies allow."""
    pairs = set()
    for policy in fn.get("Properties", {}).get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action", [])
            targets = statement.get("Resource", [])
            actions = actions if isinstance(actions, list) else [actions]
            targets = targets if isinstance(targets, list) else [targets]
            pairs |= {(a, ref_name(t)) for a in actions for t in targets}
    return pairs


for name, needs in NEEDS.items():
    granted = allowed(functions.get(name, {}))
    for action, resource in needs:
        if (action, resource) not in granted:
            errors.append(f"{name} may not {action} on {resource}, which its code calls")

named = {ref_name(o.get("Value")) for o in outputs.values()}
for name in list(functions) + list(of_type("AWS::Logs::LogGroup")):
    if name not in named:
        errors.append(f"{name} is not named in Outputs")

if errors:
    print("template.yaml breaks the deploy rules:", file=sys.stderr)
    for e in errors:
        print(f"  - {e}", file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(functions)} functions with Errors and Throttles alarms, {len(queues)} queues "
      f"with age or depth alarms, {len(alarms)} alarms on the topic, no secret in the "
      "configuration, tables on the AWS owned key unless asked, names in Outputs, "
      f"{sum(map(len, NEEDS.values()))} calls the code makes allowed")
