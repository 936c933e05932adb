#!/usr/bin/env python3
"""Writes the bad-input corpus: one JSON file per case under ingest/ and admin/.

The files are the corpus (tests/tests/it/bad_input.rs reads them); this script only exists so
that the ~250 cases stay consistent and reviewable in one place. Run it from anywhere:
    python3 tests/corpus/generate.py
It deletes and rewrites ingest/*.json and admin/*.json. See README.md for the format.
"""
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
JSON_CT = {"content-type": "application/json"}
OK_EVENT = {"type": "user.created", "data": {"user_id": "u_1"}}


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


class Corpus:
    def __init__(self, kind):
        self.kind = kind
        self.cases = []

    def add(self, name, status, body=None, fields=None, headers=None, method="POST",
            path=None, local=False, **extra):
        case = {"description": name, "method": method,
                "path": path or ("/v1/events" if self.kind == "ingest" else "/v1/endpoints"),
                "headers": JSON_CT if headers is None else headers}
        if body is not None:
            case["body"] = body
        case.update(extra)
        case["expect"] = {"status": status}
        if fields is not None:
            case["expect"]["fields"] = fields
        if local:
            case["local"] = True
        self.cases.append(case)

    def write(self):
        out = os.path.join(HERE, self.kind)
        os.makedirs(out, exist_ok=True)
        for old in os.listdir(out):
            if old.endswith(".json"):
                os.remove(os.path.join(out, old))
        for n, case in enumerate(self.cases, 1):
            name = f"{n:03d}-{slug(case['description'])}.json"
            with open(os.path.join(out, name), "w") as f:
                json.dump(case, f, indent=2, ensure_ascii=True)
                f.write("\n")
        return len(self.cases)


def ev(**fields):
    event = dict(OK_EVENT)
    for key, value in fields.items():
        if value is DROP:
            event.pop(key, None)
        else:
            event[key] = value
    return event


DROP = object()
WRONG_TYPES = {"number": 42, "float": 1.5, "true": True, "array": ["x"], "object": {"a": 1},
               "null": None, "string": "text"}


def ingest():
    c = Corpus("ingest")
    # Malformed JSON: 400.
    for name, text in [
        ("empty body", ""), ("whitespace only", "  \n\t "), ("truncated object", '{"type":'),
        ("trailing comma", '{"type":"user.created","data":{},}'), ("single quotes", "{'type':'user.created'}"),
        ("unquoted keys", '{type:"user.created",data:{}}'), ("bare word", "hello"),
        ("two objects", '{"type":"user.created","data":{}}{"type":"user.created","data":{}}'),
        ("nan literal", '{"type":"user.created","data":{"x":NaN}}'),
        ("comment", '{"type":"user.created", /* c */ "data":{}}'),
        ("unterminated string", '{"type":"user.created,"data":{}}'),
        ("lone surrogate escape", '{"type":"user.created","data":{"x":"\\ud800"}}'),
        ("bad escape", '{"type":"user.created","data":{"x":"\\q"}}'),
        ("control char in string", '{"type":"user.created","data":{"x":"a\u0001b"}}'),
        ("number overflow exponent", '{"type":"user.created","data":{"x":1e999}}'),
        ("xml body", "<event><type>user.created</type></event>"),
    ]:
        c.add(f"malformed json: {name}", 400, {"text": text}, local=name in ("empty body", "truncated object", "bare word"))
    for name, value in [("array", [OK_EVENT]), ("string", "user.created"), ("number", 7),
                        ("null", None), ("true", True)]:
        c.add(f"top level is {name}", 400, {"json": value}, local=name == "array")
    c.add("deep nesting in data", 400, {"nest": 10000, "before": '{"type":"user.created","data":', "after": "}"}, local=True)
    c.add("deep nesting at top level", 400, {"nest": 100000})
    c.add("nesting of 200 arrays", 400, {"nest": 200, "before": '{"type":"user.created","data":{"x":', "after": "}}"})
    # Invalid UTF-8: 400.
    for name, raw in [("lone continuation byte", b'{"type":"user.created","data":{"x":"\x80"}}'),
                      ("overlong encoding", b'{"type":"user.created","data":{"x":"\xc0\xaf"}}'),
                      ("truncated sequence", b'{"type":"user.created","data":{"x":"\xe2\x82"}}'),
                      ("utf-16 body", '{"type":"user.created","data":{}}'.encode("utf-16")),
                      ("latin-1 body", '{"type":"user.created","data":{"x":"caf\xe9"}}'.encode("latin-1"))]:
        import base64
        c.add(f"invalid utf-8: {name}", 400, {"base64": base64.b64encode(raw).decode()}, local=name == "lone continuation byte")
    # Wrong types, field by field: 422 naming the field.
    for field in ["type", "event", "id", "timestamp", "data", "origin", "subject", "tenant_id", "correlation_id"]:
        for tname, value in WRONG_TYPES.items():
            if tname == "null" and field not in ("type", "data", "event"):
                continue  # null is "absent" for optional fields
            if tname == "string" and field != "data":
                continue
            if tname == "object" and field == "data":
                continue
            if field == "event":
                body = {"event": value, "data": {}}
            else:
                body = ev(**{field: value})
            c.add(f"wrong type: {field} is {tname}", 422, {"json": body}, [field],
                  local=(field, tname) in (("type", "number"), ("data", "array"), ("id", "object")))
    # Missing required fields.
    c.add("missing type", 422, {"json": {"data": {}}}, ["type"], local=True)
    c.add("missing data", 422, {"json": {"type": "user.created"}}, ["data"])
    c.add("empty object", 422, {"json": {}}, ["type", "data"])
    c.add("type and its alias event together", 422, {"json": ev(event="user.created")}, ["event"])
    # Unknown fields.
    for name in ["payload", "Type", "DATA", "webhook-id", "__proto__", "", "metadata"]:
        c.add(f"unknown field {name!r}", 422, {"json": ev(**{name: 1})}, [name], local=name == "payload")
    c.add("unknown field next to events", 422, {"json": {"events": [OK_EVENT], "extra": 1}}, ["extra"])
    # Event type grammar.
    for name, t in [("empty", ""), ("one segment", "user"), ("uppercase", "User.Created"),
                    ("seven segments", "a.b.c.d.e.f.g"), ("leading dot", ".user.created"),
                    ("trailing dot", "user.created."), ("double dot", "user..created"),
                    ("hyphen", "user.created-now"), ("space", "user. created"), ("wildcard", "user.*"),
                    ("unicode", "usér.created"), ("129 characters", "a." + "b" * 127),
                    ("newline", "user.created\n"), ("nul", "user.\u0000created"),
                    ("emoji", "user.\U0001F600"), ("slash", "user/created")]:
        c.add(f"bad event type: {name}", 422, {"json": ev(type=t)}, ["type"], local=name == "uppercase")
    # Ids.
    for name, i in [("empty", ""), ("space", "evt 1"), ("slash", "evt/1"), ("129 characters", "e" * 129),
                    ("unicode", "évt_1"), ("newline", "evt_1\n"), ("percent", "evt%201"),
                    ("quote", 'evt"1'), ("semicolon", "evt;1")]:
        c.add(f"bad event id: {name}", 422, {"json": ev(id=i)}, ["id"], local=name == "slash")
    # Timestamps.
    for name, ts in [("not a date", "yesterday"), ("date only", "2026-11-22"), ("no timezone", "2026-11-22T10:00:00"),
                     ("unix seconds as string", "1763805600"), ("month 13", "2026-13-01T00:00:00Z"),
                     ("day 32", "2026-01-32T00:00:00Z"), ("hour 25", "2026-11-22T25:00:00Z"),
                     ("empty", ""), ("rfc 2822", "Sun, 22 Nov 2026 10:00:00 +0000"), ("year 10000", "10000-01-01T00:00:00Z")]:
        c.add(f"bad timestamp: {name}", 422, {"json": ev(timestamp=ts)}, ["timestamp"], local=name == "no timezone")
    # Labels.
    for field in ["origin", "subject", "tenant_id", "correlation_id"]:
        c.add(f"{field} empty", 422, {"json": ev(**{field: ""})}, [field])
        c.add(f"{field} with newline", 422, {"json": ev(**{field: "a\r\nX-Injected: 1"})}, [field])
        c.add(f"{field} of 257 characters", 422, {"json": ev(**{field: "x" * 257})}, [field])
    # Several errors at once are all reported.
    c.add("every field wrong at once", 422, {"json": {"type": 1, "id": "a b", "timestamp": 3, "data": [], "origin": "", "x": 1}},
          ["type", "id", "timestamp", "data", "origin", "x"], local=True)
    # Batches.
    c.add("empty batch", 422, {"json": {"events": []}}, ["events"], local=True)
    c.add("batch of 101", 422, {"batch": 101, "event": OK_EVENT}, ["events"], local=True)
    c.add("batch of 5000", 422, {"batch": 5000, "event": OK_EVENT}, ["events"])
    c.add("events is an object", 422, {"json": {"events": OK_EVENT}}, ["events"])
    c.add("events is a string", 422, {"json": {"events": "[]"}}, ["events"])
    c.add("events is null", 422, {"json": {"events": None}}, ["events"])
    c.add("batch item is a string", 422, {"json": {"events": [OK_EVENT, "user.created"]}}, ["events[1]"])
    c.add("batch item is null", 422, {"json": {"events": [None]}}, ["events[0]"])
    c.add("batch item bad type", 422, {"json": {"events": [OK_EVENT, ev(type="X")]}}, ["events[1].type"], local=True)
    c.add("batch duplicate ids", 422, {"json": {"events": [ev(id="evt_1"), ev(id="evt_1")]}}, ["events[1].id"], local=True)
    c.add("batch errors in many items", 422, {"json": {"events": [ev(data=1), ev(type=DROP), ev(x=1)]}},
          ["events[0].data", "events[1].type", "events[2].x"])
    c.add("nested batch", 422, {"json": {"events": [{"events": [OK_EVENT]}]}}, ["events[0].type", "events[0].data", "events[0].events"])
    # Sizes: 413.
    c.add("body over 1 MiB", 413, {"repeat": "a", "times": 1100000, "before": '{"type":"user.created","data":{"x":"', "after": '"}}'}, local=True)
    c.add("huge string of 2 million characters", 413, {"repeat": "a", "times": 2000000, "before": '{"type":"', "after": '","data":{}}'}, local=True)
    c.add("huge whitespace body", 413, {"repeat": " ", "times": 1100000, "before": "", "after": "{}"})
    c.add("single event over 64 KiB", 413, {"repeat": "a", "times": 70000, "before": '{"type":"user.created","data":{"x":"', "after": '"}}'}, local=True)
    c.add("one oversized event in a batch", 413, {"repeat": "a", "times": 70000, "before": '{"events":[{"type":"user.created","data":{}},{"type":"user.created","data":{"x":"', "after": '"}}]}'})
    c.add("escapes that grow when normalized", 413, {"repeat": "\\u0001", "times": 11000, "before": '{"type":"user.created","data":{"x":"', "after": '"}}'})
    # Content types: 415.
    for name, headers in [("missing content-type", {}), ("text/plain", {"content-type": "text/plain"}),
                          ("form", {"content-type": "application/x-www-form-urlencoded"}),
                          ("json with a suffix", {"content-type": "application/jsonp"}),
                          ("problem+json", {"content-type": "application/problem+json"}),
                          ("multipart", {"content-type": "multipart/form-data; boundary=x"}),
                          ("empty content-type", {"content-type": ""})]:
        c.add(f"content type: {name}", 415, {"json": OK_EVENT}, headers=headers, local=name in ("missing content-type", "text/plain"))
    # Signatures: 401.
    for mode in ["missing-all", "missing-id", "missing-timestamp", "missing-signature", "wrong-secret",
                 "stale", "future", "replayed", "replayed-stale", "garbage", "empty", "v2-scheme",
                 "truncated", "timestamp-not-a-number", "timestamp-float", "timestamp-overflow",
                 "other-id", "body-tampered", "whitespace-in-signature"]:
        c.add(f"signature: {mode}", 401, {"json": OK_EVENT}, signature=mode,
              local=mode in ("missing-all", "wrong-secret", "stale", "future", "replayed", "garbage"))
    # An invalid body with a bad signature is refused as unauthorized first: nothing is parsed.
    c.add("bad signature wins over bad body", 401, {"text": "{not json"}, signature="wrong-secret")
    # Routing.
    c.add("GET on events", 405, method="GET", headers={})
    c.add("PUT on events", 405, {"json": OK_EVENT}, method="PUT")
    c.add("DELETE on events", 405, method="DELETE", headers={})
    c.add("unknown path", 404, {"json": OK_EVENT}, path="/v1/event", local=True)
    c.add("trailing slash", 404, {"json": OK_EVENT}, path="/v1/events/")
    c.add("version 2 path", 404, {"json": OK_EVENT}, path="/v2/events")
    # Duplicate keys at any depth: refused naming the key, never read as the last (issue #15).
    for name, text, field in [
        ("type", '{"type":"user.created","type":"user.deleted","data":{}}', "type"),
        ("in data", '{"type":"user.created","data":{"user":{"id":"u_1","id":"u_2"}}}', "data.user.id"),
        ("in an array in data", '{"type":"user.created","data":{"a":[1,{"k":1,"k":2}]}}', "data.a[1].k"),
        ("escaped", '{"type":"user.created","data":{"a":1,"\\u0061":2}}', "data.a"),
        ("events", '{"events":[{"type":"user.created","data":{}}],"events":[]}', "events"),
        ("in a batch", '{"events":[{"type":"user.created","data":{}},{"type":"user.created","data":{},"data":{}}]}',
         "events[1].data"),
    ]:
        c.add(f"duplicate key {name}", 422, {"text": text}, [field], local=name == "in data")
    c.add("lone surrogate in a key", 400, {"text": '{"type":"user.created","data":{"\\udc00":1}}'})
    c.add("number overflow in a batch", 400, {"text": '{"events":[{"type":"user.created","data":{"x":-1E400}}]}'})
    return c


def admin():
    c = Corpus("admin")
    EP = "/v1/endpoints"
    ONE = "/v1/endpoints/{endpoint}"
    base = {"url": "https://hooks.example.com/in", "event_types": ["user.*"]}

    def new(**fields):
        body = dict(base)
        for key, value in fields.items():
            if value is DROP:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    # Auth: 401.
    for mode in ["missing", "wrong", "basic", "lowercase-scheme", "empty-token", "token-with-suffix"]:
        c.add(f"auth {mode} on create", 401, {"json": base}, auth=mode, local=mode in ("missing", "wrong"))
    c.add("auth missing on list", 401, method="GET", headers={}, auth="missing", local=True)
    c.add("auth wrong on delete", 401, method="DELETE", path=ONE, headers={}, auth="wrong")
    c.add("auth missing on replay", 401, path="/v1/failures/replay", headers={}, auth="missing")
    # Body format.
    c.add("create without content-type", 415, {"json": base}, headers={}, local=True)
    c.add("create as text/plain", 415, {"json": base}, headers={"content-type": "text/plain"})
    c.add("patch as form", 415, {"json": {"enabled": False}}, method="PATCH", path=ONE,
          headers={"content-type": "application/x-www-form-urlencoded"})
    c.add("create with malformed json", 400, {"text": '{"url":'}, local=True)
    c.add("create with empty body", 400, {"text": ""})
    c.add("create with invalid utf-8", 400, {"base64": "eyJ1cmwiOiKA"})
    c.add("create with deep nesting", 400, {"nest": 10000, "before": '{"url":"https://a.example/","event_types":["*"],"description":', "after": "}"}, local=True)
    c.add("create with a 3 MB body", 413, {"repeat": "a", "times": 3000000, "before": '{"url":"https://a.example/","event_types":["*"],"description":"', "after": '"}'}, local=True)
    c.add("create body is an array", 422, {"json": [base]}, [""])
    c.add("create body is a string", 422, {"json": "https://a.example/"}, [""])
    c.add("patch body is null", 422, {"json": None}, [""], method="PATCH", path=ONE)
    # Required fields.
    c.add("create without url", 422, {"json": new(url=DROP)}, ["url"], local=True)
    c.add("create without event_types", 422, {"json": new(event_types=DROP)}, ["event_types"])
    c.add("create empty object", 422, {"json": {}}, ["url", "event_types"])
    # Wrong types for every field, on create and on patch.
    fields = {"url": [1, None, ["https://a.example/"]], "event_types": ["*", {"a": 1}, None],
              "tenant_id": [1, True], "origin": [[], 2.5], "description": [{}, 7], "enabled": ["true", 1, None],
              "headers": [["x-a: 1"], "x-a: 1", None], "timeout_ms": ["1000", 1.5, -1, None],
              "rate_limit": [5, "fast"], "circuit": [[], 3, None], "retry": ["fast", [], None]}
    for field, values in fields.items():
        for value in values:
            label = json.dumps(value)
            c.add(f"create {field} = {label}", 422, {"json": new(**{field: value})}, [field],
                  local=(field, label) in (("enabled", '"true"'), ("timeout_ms", '"1000"')))
            if not (field in ("tenant_id", "origin", "description") and value is None):
                c.add(f"patch {field} = {label}", 422, {"json": {field: value}}, [field], method="PATCH", path=ONE)
    c.add("create secret is a number", 422, {"json": new(secret=5)}, ["secret"])
    c.add("create secret too short", 422, {"json": new(secret="whsec_c2hvcnQ=")}, ["secret"])
    c.add("create secret not base64", 422, {"json": new(secret="whsec_!!!")}, ["secret"])
    c.add("patch secret", 422, {"json": {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}, ["secret"], method="PATCH", path=ONE)
    for ro in ["id", "created_at", "updated_at", "disabled_reason"]:
        c.add(f"create read-only {ro}", 422, {"json": new(**{ro: "x"})}, [ro])
    c.add("create unknown field", 422, {"json": new(urls=["x"])}, ["urls"], local=True)
    c.add("patch unknown field", 422, {"json": {"name": "x"}}, ["name"], method="PATCH", path=ONE)
    # Out-of-range values.
    for name, value in [("0", 0), ("99", 99), ("30001", 30001), ("huge", 2**64 - 1)]:
        c.add(f"create timeout_ms {name}", 422, {"json": new(timeout_ms=value)}, ["timeout_ms"])
    c.add("patch timeout_ms 99", 422, {"json": {"timeout_ms": 99}}, ["timeout_ms"], method="PATCH", path=ONE)
    c.add("event_types empty", 422, {"json": new(event_types=[])}, ["event_types"])
    c.add("event_types 101 patterns", 422, {"json": new(event_types=[f"a.b{i}" for i in range(101)])}, ["event_types"])
    c.add("event_types duplicate", 422, {"json": new(event_types=["user.*", "user.*"])}, ["event_types[1]"])
    for name, pattern in [("uppercase", "User.*"), ("bare prefix star", "user*"), ("double star", "**"),
                          ("empty", ""), ("star in middle", "user.*.created"), ("number", 5)]:
        c.add(f"event_types pattern {name}", 422, {"json": new(event_types=[pattern])}, ["event_types[0]"])
    for field, limit in [("tenant_id", 256), ("origin", 256), ("description", 1024)]:
        c.add(f"{field} too long", 422, {"json": new(**{field: "x" * (limit + 1)})}, [field])
        c.add(f"{field} empty", 422, {"json": new(**{field: ""})}, [field])
        c.add(f"{field} with control characters", 422, {"json": new(**{field: "a\u0000b"})}, [field])
    c.add("rate_limit missing burst", 422, {"json": new(rate_limit={"requests_per_second": 5})}, ["rate_limit.burst_size"])
    c.add("rate_limit zero rps", 422, {"json": new(rate_limit={"requests_per_second": 0, "burst_size": 1})}, ["rate_limit.requests_per_second"])
    c.add("rate_limit negative rps", 422, {"json": new(rate_limit={"requests_per_second": -1, "burst_size": 1})}, ["rate_limit.requests_per_second"])
    c.add("rate_limit burst too big", 422, {"json": new(rate_limit={"requests_per_second": 1, "burst_size": 2**33})}, ["rate_limit.burst_size"])
    c.add("rate_limit unknown key", 422, {"json": new(rate_limit={"requests_per_second": 1, "burst_size": 1, "x": 1})}, ["rate_limit.x"])
    c.add("circuit unknown key", 422, {"json": new(circuit={"threshold": 3})}, ["circuit.threshold"])
    c.add("circuit threshold string", 422, {"json": new(circuit={"failure_threshold": "3"})}, ["circuit.failure_threshold"])
    c.add("circuit threshold negative", 422, {"json": new(circuit={"failure_threshold": -3})}, ["circuit.failure_threshold"])
    c.add("retry unknown form", 422, {"json": new(retry={"attempts": 3})}, ["retry"])
    c.add("retry schedule not array", 422, {"json": new(retry={"schedule_secs": 5})}, ["retry.schedule_secs"])
    c.add("retry schedule negative", 422, {"json": new(retry={"schedule_secs": [1, -5]})}, ["retry.schedule_secs[1]"])
    c.add("retry schedule with extra key", 422, {"json": new(retry={"schedule_secs": [1], "max_retries": 2})}, ["retry.max_retries"])
    c.add("retry exponential missing fields", 422, {"json": new(retry={"initial_delay_ms": 100})},
          ["retry.backoff_multiplier", "retry.max_delay_ms", "retry.max_retries"])
    # Header injection.
    for name, headers, field in [
        ("CRLF in value", {"x-tenant": "a\r\nx-evil: 1"}, "headers.x-tenant"),
        ("LF in value", {"x-tenant": "a\nb"}, "headers.x-tenant"),
        ("NUL in value", {"x-tenant": "a\u0000b"}, "headers.x-tenant"),
        ("non-ascii value", {"x-tenant": "caf\u00e9"}, "headers.x-tenant"),
        ("CRLF in name", {"x-a\r\nx-b": "1"}, "headers.x-a\\r\\nx-b"),
        ("space in name", {"x a": "1"}, "headers.x a"),
        ("colon in name", {"x-a:": "1"}, "headers.x-a:"),
        ("empty name", {"": "1"}, "headers."),
        ("webhook-signature", {"webhook-signature": "v1,forged"}, "headers.webhook-signature"),
        ("Webhook-Id mixed case", {"Webhook-Id": "evt_1"}, "headers.Webhook-Id"),
        ("webhook-timestamp", {"webhook-timestamp": "1"}, "headers.webhook-timestamp"),
        ("content-type", {"content-type": "text/plain"}, "headers.content-type"),
        ("Host", {"Host": "internal.example"}, "headers.Host"),
        ("content-length", {"content-length": "0"}, "headers.content-length"),
        ("transfer-encoding", {"transfer-encoding": "chunked"}, "headers.transfer-encoding"),
        ("connection", {"connection": "close"}, "headers.connection"),
        ("proxy-authorization", {"proxy-authorization": "Basic x"}, "headers.proxy-authorization"),
        ("value of 1025 characters", {"x-a": "v" * 1025}, "headers.x-a"),
        ("name of 65 characters", {"x" * 65: "1"}, "headers." + "x" * 65),
        ("value not a string", {"x-a": 1}, "headers.x-a"),
        ("duplicate ignoring case", {"X-A": "1", "x-a": "2"}, "headers.x-a"),
    ]:
        c.add(f"header injection: {name}", 422, {"json": new(headers=headers)}, [field],
              local=name in ("CRLF in value", "webhook-signature"))
    c.add("21 headers", 422, {"json": new(headers={f"x-h{i}": "1" for i in range(21)})}, ["headers"])
    c.add("patch header injection", 422, {"json": {"headers": {"x-a": "1\r\n\r\nGET / HTTP/1.1"}}}, ["headers.x-a"], method="PATCH", path=ONE)
    # URLs that are not valid destinations, and SSRF (the deployment policy: https, public only).
    for name, url in [
        ("plain http", "http://hooks.example.com/in"), ("ftp", "ftp://hooks.example.com/"),
        ("file", "file:///etc/passwd"), ("no host", "https://"), ("relative", "/hooks"),
        ("credentials", "https://user:pass@hooks.example.com/"), ("fragment", "https://hooks.example.com/#x"),
        ("javascript", "javascript:alert(1)"), ("empty", ""), ("spaces", "https://hooks example.com/"),
        ("too long", "https://hooks.example.com/" + "a" * 2048),
        ("loopback", "https://127.0.0.1/"), ("loopback high", "https://127.255.255.254/"),
        ("ten slash eight", "https://10.0.0.1/"), ("172.16", "https://172.16.0.1/"), ("172.31", "https://172.31.255.255/"),
        ("192.168", "https://192.168.1.1/"), ("metadata", "https://169.254.169.254/latest/meta-data/"),
        ("ecs metadata", "https://169.254.170.2/"), ("link-local", "https://169.254.1.1/"),
        ("cgnat", "https://100.64.0.1/"), ("zero", "https://0.0.0.0/"), ("broadcast", "https://255.255.255.255/"),
        ("ipv6 loopback", "https://[::1]/"), ("ipv6 unique local", "https://[fd00::1]/"),
        ("ipv6 unique local fc", "https://[fc00::1]/"), ("ipv6 link-local", "https://[fe80::1]/"),
        ("ipv6 unspecified", "https://[::]/"), ("ipv4-mapped loopback", "https://[::ffff:127.0.0.1]/"),
        ("ipv4-mapped metadata", "https://[::ffff:169.254.169.254]/"), ("ipv4-mapped private hex", "https://[::ffff:a00:1]/"),
        ("nat64 private", "https://[64:ff9b::10.0.0.1]/"), ("6to4 loopback", "https://[2002:7f00:1::]/"),
        ("aws imds ipv6", "https://[fd00:ec2::254]/"),
        ("decimal loopback", "https://2130706433/"), ("octal loopback", "https://0177.0.0.1/"),
        ("hex loopback", "https://0x7f.0.0.1/"), ("hex whole loopback", "https://0x7f000001/"),
        ("short loopback", "https://127.1/"), ("decimal metadata", "https://2852039166/"),
        ("octal private", "https://012.0.0.1/"), ("mixed spelling private", "https://0xc0.168.1.1/"),
        ("localhost", "https://localhost/"), ("localhost dot", "https://localhost./"),
        ("LOCALHOST", "https://LOCALHOST:8443/"), ("sub.localhost", "https://api.localhost/"),
        ("localhost with port", "https://localhost:3000/hook"),
    ]:
        c.add(f"url: {name}", 422, {"json": new(url=url)}, ["url"])
    c.add("patch url to metadata", 422, {"json": {"url": "https://169.254.169.254/"}}, ["url"], method="PATCH", path=ONE)
    c.add("patch url to loopback", 422, {"json": {"url": "https://[::1]:8080/"}}, ["url"], method="PATCH", path=ONE)
    c.add("local mode url ftp", 422, {"json": new(url="ftp://127.0.0.1/")}, ["url"], local=True)
    # Unknown ids: 404.
    missing = "ep_01JD8Z0000000000000000000Z"
    c.add("get unknown endpoint", 404, method="GET", path=f"/v1/endpoints/{missing}", headers={}, local=True)
    c.add("get malformed endpoint id", 404, method="GET", path="/v1/endpoints/not%20an%20id", headers={})
    c.add("patch unknown endpoint", 404, {"json": {"enabled": False}}, method="PATCH", path=f"/v1/endpoints/{missing}")
    c.add("delete unknown endpoint", 404, method="DELETE", path=f"/v1/endpoints/{missing}", headers={}, local=True)
    c.add("rotate unknown endpoint", 404, method="POST", path=f"/v1/endpoints/{missing}/rotate-secret", headers={})
    c.add("test unknown endpoint", 404, method="POST", path=f"/v1/endpoints/{missing}/test", headers={}, local=True)
    c.add("endpoint id with invalid utf-8 escape", 400, method="GET", path="/v1/endpoints/%FF%FE", headers={})
    c.add("attempts of unknown event", 404, method="GET", path="/v1/events/evt_01JD8Z3K4M5N6P7Q8R9S0T1V2W/attempts", headers={})
    c.add("attempts of malformed event id", 404, method="GET", path="/v1/events/a%20b/attempts", headers={})
    c.add("replay unknown failure", 404, method="POST", path="/v1/failures/fail_unknown/replay", headers={}, local=True)
    c.add("replay failure with odd id", 404, method="POST", path="/v1/failures/..%2F..%2Fetc/replay", headers={})
    # Query parameters.
    for q in ["limit=0", "limit=abc", "limit=-1", "limit=101", "limit=1.5", "limit=", "limit=99999999999999999999999"]:
        c.add(f"list endpoints {q}", 400, method="GET", path=f"/v1/endpoints?{q}", headers={}, fields=["limit"],
              local=q in ("limit=0", "limit=abc"))
    c.add("list failures limit=0", 400, method="GET", path="/v1/failures?limit=0", headers={}, fields=["limit"])
    c.add("query with invalid utf-8", 400, method="GET", path="/v1/endpoints?limit=%FF", headers={})
    for name, q, field in [("bad endpoint id", "endpoint_id=a%20b", "endpoint_id"),
                           ("failed_after not a date", "failed_after=yesterday", "failed_after"),
                           ("failed_before without zone", "failed_before=2026-11-22T10:00:00", "failed_before")]:
        c.add(f"failures filter {name}", 422, method="GET", path=f"/v1/failures?{q}", headers={}, fields=[field], local=field == "failed_after")
    c.add("failures filter all wrong", 422, method="GET", path="/v1/failures?endpoint_id=%2F&failed_after=x&failed_before=y",
          headers={}, fields=["endpoint_id", "failed_after", "failed_before"])
    # Bulk replay body.
    R = "/v1/failures/replay"
    c.add("bulk replay unknown field", 422, {"json": {"endpoint": "ep_1"}}, ["endpoint"], path=R)
    c.add("bulk replay endpoint_id number", 422, {"json": {"endpoint_id": 1}}, ["endpoint_id"], path=R)
    c.add("bulk replay bad date", 422, {"json": {"failed_after": "soon"}}, ["failed_after"], path=R, local=True)
    c.add("bulk replay array body", 422, {"json": []}, [""], path=R)
    c.add("bulk replay malformed", 400, {"text": "{"}, path=R)
    c.add("bulk replay text/plain", 415, {"text": "{}"}, path=R, headers={"content-type": "text/plain"})
    # Routing.
    c.add("PUT on endpoints", 405, {"json": base}, method="PUT", local=True)
    c.add("DELETE on endpoints collection", 405, method="DELETE", headers={})
    c.add("GET on replay", 405, method="GET", path=R, headers={})
    c.add("unknown admin path", 404, method="GET", path="/v1/endpoint", headers={})
    c.add("admin path under events", 404, method="GET", path="/v1/events/evt_1", headers={})
    # `ordering`: "subject" or "none" and nothing else (last, so earlier cases keep their numbers).
    for label, value in [("fifo", "fifo"), ("uppercase", "Subject"), ("null", None), ("number", 1),
                         ("array", ["subject"])]:
        c.add(f"create ordering {label}", 422, {"json": new(ordering=value)}, ["ordering"], local=label == "fifo")
    c.add("patch ordering fifo", 422, {"json": {"ordering": "fifo", "enabled": False}}, ["ordering"],
          method="PATCH", path=ONE, local=True)
    c.add("patch ordering null", 422, {"json": {"ordering": None}}, ["ordering"], method="PATCH", path=ONE)
    # Tampered list cursors: 400 naming `cursor`, never a 503 (issue #15).
    for name, path in [("failures garbage", "/v1/failures?cursor=garbage"),
                       ("failures unknown record", "/v1/failures?limit=1&cursor=fail_unknown.0"),
                       ("failures of an endpoint", "/v1/failures?endpoint_id={endpoint}&cursor=garbage"),
                       ("failures in a time range", "/v1/failures?failed_after=2026-01-01T00:00:00Z&cursor=%23%23"),
                       ("failures empty", "/v1/failures?cursor="),
                       ("endpoints with a space", "/v1/endpoints?cursor=a%20b"),
                       ("endpoints with slashes", "/v1/endpoints?limit=2&cursor=..%2F..%2Fetc"),
                       ("endpoints empty", "/v1/endpoints?cursor=")]:
        c.add(f"list cursor {name}", 400, method="GET", path=path, headers={}, fields=["cursor"],
              local=name in ("failures garbage", "endpoints with a space"))
    # Header names with `_`, which CGI-style receivers read as `-` (issue #15).
    for name in ["webhook_signature", "Webhook_Id", "x_team"]:
        c.add(f"header name with underscore {name}", 422, {"json": new(headers={name: "v1,forged"})},
              [f"headers.{name}"], local=name == "webhook_signature")
    c.add("patch header name with underscore", 422, {"json": {"headers": {"webhook_timestamp": "1"}}},
          ["headers.webhook_timestamp"], method="PATCH", path=ONE)
    # Duplicate keys in admin bodies (issue #15).
    for name, text, field, method, path in [
        ("create url", '{"url":"https://hooks.example.com/a","url":"https://hooks.example.com/b","event_types":["*"]}',
         "url", "POST", EP),
        ("create header", '{"url":"https://hooks.example.com/a","event_types":["*"],"headers":{"x-a":"1","x-a":"2"}}',
         "headers.x-a", "POST", EP),
        ("patch enabled", '{"enabled":false,"enabled":true}', "enabled", "PATCH", ONE),
        ("bulk replay", '{"endpoint_id":"ep_a","endpoint_id":"ep_b"}', "endpoint_id", "POST", "/v1/failures/replay"),
    ]:
        c.add(f"duplicate key {name}", 422, {"text": text}, [field], method=method, path=path,
              local=name == "create url")
    return c


if __name__ == "__main__":
    i = ingest().write()
    a = admin().write()
    print(f"ingest: {i} cases, admin: {a} cases")
