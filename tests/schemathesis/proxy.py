"""A signing proxy between Schemathesis and the escrow server, for the schema-driven check in CI.

Schemathesis generates requests from /openapi.json; this proxy adds what each operation's `security`
asks for, computed over the exact bytes that go out: the partner signature (X-Api-Key, X-Timestamp,
X-Signature over METHOD + PATH_AND_QUERY + key + timestamp + BODY), a member token, the admin key, and an
Idempotency-Key where one is required. At start it makes its own members through the hosted signup page,
as a partner's integration would. Standard library only.

Usage: proxy.py SERVER_BASE SANDBOX_JSON LISTEN_PORT
"""

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import re
import sys
import threading
import time
import urllib.parse
import uuid

SERVER = sys.argv[1].rstrip("/")
SANDBOX = json.load(open(sys.argv[2]))
PORT = int(sys.argv[3])
TARGET = urllib.parse.urlsplit(SERVER)
API_KEY = SANDBOX["partnerApiKey"]
API_SECRET = SANDBOX["partnerApiSecret"].encode()
ADMIN_KEY = SANDBOX["adminKey"]
LOCK = threading.Lock()
LAST_MS = [0]


def timestamp_ms():
    # A distinct timestamp per request, so two identical requests are not refused as replays.
    with LOCK:
        now = max(int(time.time() * 1000), LAST_MS[0] + 1)
        LAST_MS[0] = now
        return str(now)


def partner_headers(method, path_and_query, body):
    ts = timestamp_ms()
    message = method.encode() + path_and_query.encode() + API_KEY.encode() + ts.encode() + body
    signature = base64.b64encode(hmac.new(API_SECRET, message, hashlib.sha256).digest()).decode()
    return {"X-Api-Key": API_KEY, "X-Timestamp": ts, "X-Signature": signature}


def send(method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection(TARGET.hostname, TARGET.port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


def signed(method, path, payload=None):
    body = json.dumps(payload).encode() if payload is not None else b""
    headers = partner_headers(method, path, body)
    if payload is not None:
        headers["Content-Type"] = "application/json"
    status, _, data = send(method, path, body, headers)
    return status, json.loads(data or b"null")


def member(user):
    """Signs `user` up through the hosted page and returns a member token."""
    status, session = signed("POST", "/api/v1/members/signup", {"partnerUserId": user, "returnUrl": SERVER + "/done"})
    assert status == 201, (status, session)
    url = urllib.parse.urlsplit(session["signupUrl"])
    sig = urllib.parse.parse_qs(url.query)["sig"][0]
    form = urllib.parse.urlencode({
        "sig": sig, "term_SERVICE": "2024-01", "term_PRIVACY": "2024-01", "term_EFINANCE": "2024-01",
        "name": "테스트", "birthDate": "1990-01-01", "phone": "0109" + str(abs(hash(user)) % 10**7).zfill(7),
        "nationality": "KR",
    }).encode()
    status, _, data = send("POST", url.path, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303, (status, data[:300])
    status, done = signed("GET", "/api/v1/members/signup/" + session["signupSessionId"])
    assert status == 200 and done.get("memberKey"), (status, done)
    status, token = signed("POST", "/api/v1/auth/token", {"partnerUserId": user, "memberKey": done["memberKey"]})
    assert status == 200, (status, token)
    return token["accessToken"]


def operations():
    """(method, compiled path regex) -> security scheme names, from the OpenAPI document."""
    status, _, data = send("GET", "/openapi.json")
    doc = json.loads(data)
    table = []
    for path, item in doc["paths"].items():
        regex = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", re.escape(path).replace(r"\{", "{").replace(r"\}", "}")) + "$")
        for method, op in item.items():
            schemes = [name for requirement in op.get("security", []) for name in requirement]
            table.append((method.upper(), regex, schemes))
    return table


SELLER_TOKEN = member("st-seller-" + uuid.uuid4().hex[:8])
BUYER_TOKEN = member("st-buyer-" + uuid.uuid4().hex[:8])
status, _, _ = send("PUT", "/api/v1/products", json.dumps({
    "partnerProductId": "st-" + uuid.uuid4().hex[:8], "name": "스키마 검사 상품", "price": 10000,
    "paymentMethods": ["CARD", "BANK_TRANSFER", "VIRTUAL_ACCOUNT"],
}).encode(), {"Authorization": "Bearer " + SELLER_TOKEN, "Content-Type": "application/json"})
assert status == 201, status
OPERATIONS = operations()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path_only = urllib.parse.urlsplit(self.path).path
        managed = ("host", "connection", "content-length", "x-api-key", "x-timestamp", "x-signature", "x-admin-key")
        schemes = next((s for m, rx, s in OPERATIONS if m == self.command and rx.match(path_only)), [])
        if "member_token" in schemes:
            managed += ("authorization",)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in managed}
        if "partner_signature" in schemes:
            headers.update(partner_headers(self.command, self.path, body))
        if "member_token" in schemes:
            headers["Authorization"] = "Bearer " + BUYER_TOKEN
        if "admin_key" in schemes:
            headers["X-Admin-Key"] = ADMIN_KEY
        if self.command == "POST" and path_only == "/api/v1/checkouts" and not any(k.lower() == "idempotency-key" for k in headers):
            headers["Idempotency-Key"] = str(uuid.uuid4())
        try:
            status, answer_headers, data = send(self.command, self.path, body, headers)
        except Exception as e:  # the server did not answer: report it as a gateway failure
            status, answer_headers, data = 502, {"Content-Type": "text/plain"}, str(e).encode()
        self.send_response(status)
        for k, v in answer_headers.items():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def __getattr__(self, name):
        # Every method, the unusual ones (TRACE, QUERY …) included, goes to the server as it is.
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    def log_message(self, *args):
        pass


print("proxy ready", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Proxy).serve_forever()
