"""Every answer the integration suite receives from a tokend route, checked
against docs/openapi.json, so the document cannot drift from the code.

Responses are recorded as the suite runs: requests' Session.send, every
other http.client request (harness.raw_request, the tests' own
HTTPConnections), and harness.fcgi_request through harness.RESPONSE_HOOKS;
a path that is no route of the document (content behind the verify path,
/v2/cdn/..., /metrics, Apache's docroot) is skipped. At the end of the session
each one is matched to its operation (path template, method, status) and its
body validated against the response schema (JSON Schema 2020-12, as OpenAPI
3.1 uses). A status the operation does not list, or a body that does not
match, fails the session: conftest.py's pytest_sessionfinish sets the exit
status and prints each mismatch.

TOKEND_OPENAPI_DUMP=<file> also writes every recorded response there (JSON
lines), to see what the suite received."""
import json
import os
import re
import urllib.parse

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENT = os.path.join(ROOT, "docs", "openapi.json")
BASE_URI = "urn:tokend:openapi"


def load_document(path=DOCUMENT):
    with open(path, "rb") as f:
        return json.load(f)


def _registry_validator(doc):
    """A factory: JSON pointer into the document -> a Draft 2020-12 validator
    of the schema there, $refs resolved inside the document."""
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012
        registry = Registry().with_resource(
            BASE_URI, Resource.from_contents(doc, default_specification=DRAFT202012))

        def make(pointer):
            return jsonschema.Draft202012Validator({"$ref": f"{BASE_URI}#{pointer}"},
                                                   registry=registry)
    except ImportError:   # jsonschema < 4.18 (Debian 12's 4.10)
        def make(pointer):
            resolver = jsonschema.RefResolver(BASE_URI, doc, store={BASE_URI: doc})
            return jsonschema.Draft202012Validator({"$ref": f"{BASE_URI}#{pointer}"},
                                                   resolver=resolver)
    return make


def _escape(token):
    return token.replace("~", "~0").replace("/", "~1")


class Checker:
    """Matches a response to its operation and validates it."""

    def __init__(self, doc):
        self.doc = doc
        self.make_validator = _registry_validator(doc)
        self.validators = {}
        self.valid = set()   # (schema pointer, body) already found valid: many answers repeat
        self.templates = []
        for template in doc["paths"]:
            rx = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            self.templates.append((re.compile(rx), template))
        # literal paths first: /v1/spaces/x never shadows a fixed segment
        self.templates.sort(key=lambda t: t[1].count("{"))

    def _resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            node = self.doc
            for part in ref.lstrip("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    @staticmethod
    def route_path(target):
        """The path tokend routes on: no query, escapes decoded, empty
        segments and a trailing slash dropped (as tokend's router does)."""
        path = urllib.parse.urlsplit(target).path if "://" in target else target.split("?")[0]
        segs = [urllib.parse.unquote(s, errors="replace") for s in path.split("/") if s]
        return "/" + "/".join(segs)

    def template_of(self, path):
        for rx, template in self.templates:
            if rx.match(path):
                return template
        return None

    def _validator(self, pointer):
        v = self.validators.get(pointer)
        if v is None:
            v = self.validators[pointer] = self.make_validator(pointer)
        return v

    def check(self, method, target, status, content_type, body):
        """None when the response is no tokend route or agrees with the
        document; else a sentence saying how it does not."""
        path = self.route_path(target)
        template = self.template_of(path)
        if template is None:
            return None
        item = self.doc["paths"][template]
        method = method.upper()
        op_name = "get" if method == "HEAD" else method.lower()
        what = f"{method} {target} -> {status}"
        if op_name in item:
            op = item[op_name]
            op_pointer = f"/paths/{_escape(template)}/{op_name}"
        else:
            # an undocumented method: answered as any other operation of the
            # path answers a method it does not serve (405 and the generic ones)
            op_name = next(m for m in ("get", "post", "put", "patch", "delete") if m in item)
            op = item[op_name]
            op_pointer = f"/paths/{_escape(template)}/{op_name}"
            if status not in (400, 405, 411, 413, 414, 431, 501, 503):
                return f"{what}: {method} is not an operation of {template} and the status is not 405"
        responses = op.get("responses", {})
        key = str(status)
        if key not in responses:
            key = f"{status // 100}XX"
            if key not in responses:
                return f"{what}: status {status} is not documented for {op_name.upper()} {template}"
        response = self._resolve(responses[key])
        content = response.get("content")
        if method == "HEAD" or body is None:
            return None
        if not content:
            if body:
                return f"{what}: the document says no body, got {body[:200]!r}"
            return None
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in content:
            return (f"{what}: Content-Type {content_type!r} is not one the document lists "
                    f"({', '.join(content)})")
        if media != "application/json" and not media.endswith("+json"):
            return None
        pointer = (f"{op_pointer}/responses/{_escape(key)}" if "$ref" not in responses[key]
                   else responses[key]["$ref"].lstrip("#"))
        pointer += f"/content/{_escape(media)}/schema"
        if (pointer, body) in self.valid:
            return None
        try:
            value = json.loads(body)
        except ValueError as e:
            return f"{what}: body is not JSON ({e}): {body[:200]!r}"
        if "schema" not in content[media]:
            return None
        validator = self._validator(pointer)
        if validator.is_valid(value):
            self.valid.add((pointer, body))
            return None
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = "/".join(map(str, e.absolute_path)) or "(top)"
            return (f"{what}: body does not match the {op_name.upper()} {template} {key} schema "
                    f"at {where}: {e.message[:300]} — body {body[:300]!r}")
        return None


class Recorder:
    """What the suite received from tokend routes, checked at the end."""

    def __init__(self):
        self.responses = []
        self.dump = os.environ.get("TOKEND_OPENAPI_DUMP")

    def add(self, method, target, status, headers, body, test=None):
        """body None: not read (yet); the status is checked, not the body."""
        if isinstance(body, str):
            body = body.encode()
        ctype = headers.get("content-type") if headers else None
        entry = [method, target, status, ctype, body, test]
        self.responses.append(entry)
        return entry

    def failures(self, checker=None):
        checker = checker or Checker(load_document())
        out = []
        dump = open(self.dump, "w") if self.dump else None
        try:
            for method, target, status, ctype, body, test in self.responses:
                problem = checker.check(method, target, status, ctype, body)
                if dump:
                    dump.write(json.dumps({"method": method, "target": target, "status": status,
                                           "ctype": ctype,
                                           "body": None if body is None else body.decode("utf-8", "replace"),
                                           "test": test, "problem": problem}) + "\n")
                if problem:
                    out.append(f"{problem}  [{test}]")
        finally:
            if dump:
                dump.close()
        return out


RECORDER = Recorder()
_current_test = [None]


def _requests_hook():
    import requests

    original = requests.Session.send

    def send(self, request, **kwargs):
        r = original(self, request, **kwargs)
        try:
            body = b"" if kwargs.get("stream") else r.content
            RECORDER.add(request.method, request.url, r.status_code,
                         {k.lower(): v for k, v in r.headers.items()}, body, _current_test[0])
        except Exception:   # a broken answer is the test's to judge
            pass
        return r

    requests.Session.send = send


def _http_client_hook():
    """Plain http.client requests (not urllib3's, which requests' hook sees):
    the status when the answer arrives, the body once it has been read."""
    import http.client
    import urllib3

    putrequest = http.client.HTTPConnection.putrequest
    getresponse = http.client.HTTPConnection.getresponse
    read = http.client.HTTPResponse.read

    def put(self, method, url, *args, **kwargs):
        self._openapi_request = (method, url)
        return putrequest(self, method, url, *args, **kwargs)

    def get(self, *args, **kwargs):
        r = getresponse(self, *args, **kwargs)
        req = getattr(self, "_openapi_request", None)
        if req is not None and not isinstance(self, urllib3.connection.HTTPConnection):
            try:
                r._openapi_entry = RECORDER.add(req[0], req[1], r.status,
                                                {k.lower(): v for k, v in r.getheaders()},
                                                b"" if req[0] == "HEAD" else None,
                                                _current_test[0])
                r._openapi_chunks = []
            except Exception:
                pass
        return r

    def rd(self, amt=None):
        data = read(self, amt)
        entry = getattr(self, "_openapi_entry", None)
        if entry is not None:
            self._openapi_chunks.append(data)
            if amt is None or not data or self.isclosed():
                entry[4] = b"".join(self._openapi_chunks)
                self._openapi_entry = None
        return data

    http.client.HTTPConnection.putrequest = put
    http.client.HTTPConnection.getresponse = get
    http.client.HTTPResponse.read = rd


def install():
    import harness
    _requests_hook()
    _http_client_hook()
    harness.RESPONSE_HOOKS.append(
        lambda m, t, s, h, b: RECORDER.add(m, t, s, h, b, _current_test[0]))


def set_current_test(nodeid):
    _current_test[0] = nodeid


def session_failures():
    # a session that ran no test of a tokend route (a -k selection) has nothing to check
    if not RECORDER.responses:
        return []
    return RECORDER.failures()
