"""End-to-end: Kubernetes watches (streamed HTTP responses) with the real /usr/bin/kubectl.

An AKS cluster gets a StorageClass of its own with Immediate binding and no disk encryption set
(AKS's managed-csi is WaitForFirstConsumer), so the dynamic provisioner binds a claim as soon as
it sees it. Then:
  - `kubectl get pvc -w --output-watch-events`, started in the background, prints the claim's
    rows as it is created, bound and deleted;
  - `kubectl wait --for=jsonpath='{.status.phase}'=Bound pvc/NAME` returns once the claim is bound;
  - `kubectl delete pvc` (which watches until the object is gone) still works.

`byok clock advance 1s` makes byokd run its scheduler (the provisioner among its tasks) before
returning.
"""
import base64
import json
import os
import subprocess
import threading
import time

from harness import BYOK, AzureCliTestCase, run

LOCATION = "eastus"
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")

STORAGE_CLASS = """\
kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: fast
provisioner: disk.csi.azure.com
parameters:
  skuname: StandardSSD_LRS
reclaimPolicy: Delete
volumeBindingMode: Immediate
"""

CLAIM = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: fast
  resources:
    requests:
      storage: 1Gi
"""


class Background:
    """A kubectl running in the background, its output collected line by line."""

    def __init__(self, argv, env):
        self.argv = argv
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out, self.err = [], []
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._pump, args=(s, sink), daemon=True)
                        for s, sink in ((self.proc.stdout, self.out),
                                        (self.proc.stderr, self.err))]
        for t in self.threads:
            t.start()

    def _pump(self, stream, sink):
        for line in stream:
            with self.cond:
                sink.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for_line(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.out:
                    if predicate(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cond.wait(min(left, 1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for t in self.threads:
            t.join(timeout=5)

    def explain(self):
        return "$ {}\nexit: {}\nstdout:\n{}\nstderr:\n{}".format(
            " ".join(self.argv), self.proc.poll(), "\n".join(self.out), "\n".join(self.err))


class KubeWatchTest(AzureCliTestCase):

    rg = "rg-kwatch"
    cluster = "kwatch"

    @classmethod
    def set_up_az(cls):
        ok = cls.step(cls.cli.az("group", "create", "-n", cls.rg, "-l", LOCATION, "-o", "none"))
        if ok and cls.create_aks_cluster(cls.rg, cls.cluster, LOCATION):
            cls.step(run([KUBECTL, "apply", "-f", "-"], env=cls.kube_env, input=STORAGE_CLASS))

    def kubectl(self, *args, input=None, timeout=120):
        return run([KUBECTL, *args], timeout=timeout, env=self.kube_env, input=input)

    def settle(self):
        """byokd's scheduler tasks (the provisioner's among them) run before this returns."""
        self.check(run([BYOK, "clock", "advance", "1s", "--data-dir", self.data_dir]))

    def background(self, *args):
        bg = Background([KUBECTL, *args], self.kube_env)
        self.addCleanup(bg.stop)
        return bg

    def test_get_watch_prints_the_rows_of_a_claim_created_bound_and_deleted(self):
        watch = self.background("get", "pvc", "-w", "--output-watch-events")
        self.check(self.kubectl("apply", "-f", "-", input=CLAIM.format(name="watched")))
        added = watch.wait_for_line(lambda l: l.startswith("ADDED") and " watched " in l)
        self.assertIsNotNone(added, watch.explain())
        self.settle()
        bound = watch.wait_for_line(lambda l: " watched " in l and " Bound " in l)
        self.assertIsNotNone(bound, watch.explain())
        self.check(self.kubectl("delete", "pvc", "watched", "--timeout=60s"))
        deleted = watch.wait_for_line(lambda l: l.startswith("DELETED") and " watched " in l)
        self.assertIsNotNone(deleted, watch.explain())
        # The table's header came once, first; every row names the claim with its columns.
        self.assertTrue(watch.out[0].split()[:3] == ["EVENT", "NAME", "STATUS"], watch.explain())
        self.assertEqual(sum(1 for l in watch.out if l.split()[:1] == ["EVENT"]), 1,
                         watch.explain())
        self.assertIn("fast", bound, watch.explain())
        self.assertIsNone(watch.proc.poll(), watch.explain())  # still watching

    def test_wait_returns_once_the_claim_is_bound_and_delete_works(self):
        self.check(self.kubectl("apply", "-f", "-", input=CLAIM.format(name="waited")))
        wait = self.background("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/waited",
                               "--timeout=60s")
        self.settle()
        try:
            code = wait.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            code = None
        wait.stop()
        self.assertEqual(code, 0, wait.explain())
        self.assertIn("persistentvolumeclaim/waited condition met", "\n".join(wait.out),
                      wait.explain())

        r = self.check(self.kubectl("delete", "pvc", "waited", "--timeout=60s"))
        self.assertIn('persistentvolumeclaim "waited" deleted', r.out, r.explain())
        r = self.kubectl("get", "pvc", "waited")
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn("NotFound", r.err, r.explain())

    def test_raw_watch_streams_events_until_timeout_seconds(self):
        # The raw stream read with curl (the kubeconfig's URL and client certificate), then with
        # `kubectl get --raw` (which drops the URL's /k8s/{id}: byokd finds the cluster by the
        # certificate).
        config = json.loads(self.check(self.kubectl("config", "view", "--raw", "-o",
                                                    "json")).out)
        server = config["clusters"][0]["cluster"]["server"]
        user = config["users"][0]["user"]
        files = []
        for field in ("client-certificate-data", "client-key-data"):
            path = os.path.join(self.tmp, field + ".pem")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                f.write(base64.b64decode(user[field]))
            files.append(path)
        start = time.monotonic()
        r = self.check(run(["curl", "-sS", "-N", "--fail-with-body", "--cacert", self.server.ca,
                            "--cert", files[0], "--key", files[1],
                            server + "/api/v1/namespaces?watch=1&timeoutSeconds=2"], timeout=60))
        self.assertLess(time.monotonic() - start, 30, r.explain())
        events = [json.loads(line) for line in r.out.splitlines() if line.strip()]
        self.assertIn(("ADDED", "kube-system"),
                      [(e["type"], e["object"]["metadata"]["name"]) for e in events], r.explain())
        self.assertTrue(all(e["object"]["kind"] == "Namespace" for e in events), r.explain())
        r = self.check(self.kubectl("get", "--raw",
                                    "/api/v1/namespaces?watch=1&timeoutSeconds=2"))
        events = [json.loads(line) for line in r.out.splitlines() if line.strip()]
        self.assertIn(("ADDED", "kube-system"),
                      [(e["type"], e["object"]["metadata"]["name"]) for e in events], r.explain())
        # A streaming list (client-go's WatchList): the initial events end with a bookmark.
        r = self.check(self.kubectl(
            "get", "--raw", "/api/v1/namespaces?watch=1&sendInitialEvents=true&"
            "allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=2"))
        events = [json.loads(line) for line in r.out.splitlines() if line.strip()]
        types = [e["type"] for e in events]
        self.assertIn("BOOKMARK", types, r.explain())
        at = types.index("BOOKMARK")
        self.assertEqual(set(types[:at]), {"ADDED"}, r.explain())
        self.assertEqual(events[at]["object"]["metadata"]["annotations"],
                         {"k8s.io/initial-events-end": "true"}, r.explain())
