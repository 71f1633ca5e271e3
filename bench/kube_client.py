"""bench/kube.sh's client: one kept-alive TLS connection per run, to a cluster's Kubernetes API
(client certificate from the kubeconfig az wrote), to byokd's ARM endpoint (az's token) or to
etcd's v3 JSON gateway. Prints JSON on stdout: latencies in seconds.

  kube_client.py bound KUBECONFIG NAMESPACE PREFIX COUNT CLASS
      COUNT claims one after another: POST, then GET every 2 ms until status.phase is Bound;
      the latency of each is from the POST's response to the first GET that shows Bound.
  kube_client.py create KUBECONFIG NAMESPACE PREFIX COUNT CLASS
  kube_client.py list KUBECONFIG PATH ACCEPT TIMES    wall time of each GET (body read whole)
  kube_client.py arm-put BASE TOKEN CA PATH_PREFIX COUNT BODY_JSON
      COUNT disk PUTs {PATH_PREFIX}-{i}?api-version=2022-07-02, one after another
  kube_client.py etcd-put URL PREFIX KUBECONFIG LIST_PATH   stores the listed objects in etcd
  kube_client.py etcd-range URL PREFIX TIMES                wall time of each prefix range read
"""
import base64
import http.client
import json
import os
import re
import ssl
import sys
import tempfile
import time
import urllib.parse


def kubeconfig(path):
    text = open(path).read()

    def field(name):
        m = re.search(r"^\s*" + re.escape(name) + r":\s*(\S+)\s*$", text, re.M)
        if not m:
            sys.exit(f"kubeconfig {path}: no {name}")
        return m.group(1).strip('"')

    tmp = tempfile.mkdtemp()
    files = {}
    for key in ("certificate-authority-data", "client-certificate-data", "client-key-data"):
        files[key] = os.path.join(tmp, key)
        with open(files[key], "wb") as f:
            f.write(base64.b64decode(field(key)))
    ctx = ssl.create_default_context(cafile=files["certificate-authority-data"])
    ctx.load_cert_chain(files["client-certificate-data"], files["client-key-data"])
    return urllib.parse.urlsplit(field("server")), ctx


class Conn:
    def __init__(self, url, ctx=None, headers=None):
        self.prefix = url.path.rstrip("/")
        if url.scheme == "https":
            self.c = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=120)
        else:
            self.c = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        self.headers = headers or {}

    def call(self, method, path, body=None, accept="application/json"):
        h = dict(self.headers)
        h["Accept"] = accept
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        self.c.request(method, self.prefix + path, body=data, headers=h)
        r = self.c.getresponse()
        return r.status, r.read()


def claim(name, cls):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "4Gi"}}}
    if cls:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": spec}


def must(status, body, want, what):
    if status not in want:
        sys.exit(f"{what}: HTTP {status}: {body[:500]!r}")


def main(argv):
    mode = argv[1]
    if mode in ("bound", "create"):
        _, _, cfg, ns, prefix, count, cls = argv
        url, ctx = kubeconfig(cfg)
        k = Conn(url, ctx)
        out = []
        for i in range(int(count)):
            name = f"{prefix}-{i}"
            st, body = k.call("POST", f"/api/v1/namespaces/{ns}/persistentvolumeclaims",
                              claim(name, cls))
            must(st, body, (201,), "create " + name)
            if mode == "create":
                continue
            t0 = time.monotonic()
            deadline = t0 + 120
            while True:
                st, body = k.call("GET", f"/api/v1/namespaces/{ns}/persistentvolumeclaims/{name}")
                must(st, body, (200,), "get " + name)
                if json.loads(body).get("status", {}).get("phase") == "Bound":
                    out.append(time.monotonic() - t0)
                    break
                if time.monotonic() > deadline:
                    sys.exit(f"{name} not Bound after 120 s: {body[:800]!r}")
                time.sleep(0.002)
        print(json.dumps(out))
    elif mode == "list":
        _, _, cfg, path, accept, times = argv
        url, ctx = kubeconfig(cfg)
        k = Conn(url, ctx)
        out, size = [], 0
        for _ in range(int(times)):
            t0 = time.monotonic()
            st, body = k.call("GET", path, accept=accept)
            out.append(time.monotonic() - t0)
            must(st, body, (200,), "list " + path)
            size = len(body)
        print(json.dumps({"seconds": out, "bytes": size}))
    elif mode == "arm-put":
        _, _, base, token, ca, path_prefix, count, body_json = argv
        url = urllib.parse.urlsplit(base)
        ctx = ssl.create_default_context(cafile=ca)
        a = Conn(url, ctx, {"Authorization": "Bearer " + token})
        body = json.loads(body_json)
        out = []
        for i in range(int(count)):
            t0 = time.monotonic()
            st, text = a.call("PUT", f"{path_prefix}-{i}?api-version=2022-07-02", body)
            out.append(time.monotonic() - t0)
            must(st, text, (200, 201), "disk PUT")
        print(json.dumps(out))
    elif mode == "etcd-put":
        _, _, etcd, prefix, cfg, list_path = argv
        url, ctx = kubeconfig(cfg)
        st, body = Conn(url, ctx).call("GET", list_path)
        must(st, body, (200,), "list " + list_path)
        e = Conn(urllib.parse.urlsplit(etcd))
        items = json.loads(body)["items"]
        for item in items:
            key = prefix + item["metadata"]["namespace"] + "/" + item["metadata"]["name"]
            st, text = e.call("POST", "/v3/kv/put", {
                "key": base64.b64encode(key.encode()).decode(),
                "value": base64.b64encode(json.dumps(item).encode()).decode()})
            must(st, text, (200,), "etcd put")
        print(json.dumps({"stored": len(items)}))
    elif mode == "etcd-range":
        _, _, etcd, prefix, times = argv
        e = Conn(urllib.parse.urlsplit(etcd))
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        req = {"key": base64.b64encode(prefix.encode()).decode(),
               "range_end": base64.b64encode(end.encode()).decode()}
        out, count = [], 0
        for _ in range(int(times)):
            t0 = time.monotonic()
            st, text = e.call("POST", "/v3/kv/range", req)
            out.append(time.monotonic() - t0)
            must(st, text, (200,), "etcd range")
            count = int(json.loads(text).get("count", 0))
        print(json.dumps({"seconds": out, "count": count}))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
