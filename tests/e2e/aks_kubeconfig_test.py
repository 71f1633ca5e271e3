"""End-to-end: AKS kubeconfigs and the clusters' Kubernetes API front door, with the real Azure CLI
and /usr/bin/kubectl.

`az aks get-credentials` (user and --admin) writes a kubeconfig into a KUBECONFIG private to the
test; its server is https://localhost:PORT/k8s/<uniqueId> (byokd's HTTPS port, whose CA the
kubeconfig carries) and its client certificate is issued by the cluster's own client CA.
`kubectl version -o json` then shows the cluster's Kubernetes version (kubectl's dispatcher first
asks GET /version?timeout=5s, over TLS with the client certificate: byokd requests certificates
with an empty CA list, as Go's TLS client needs). A certificate of another cluster, or none, gets
the Kubernetes 401 Status from this cluster's API; a stopped cluster answers 503.

az is slow, so the class shares one server, one login and two clusters.
"""
import base64
import json
import os
import ssl
import urllib.error
import urllib.request

from harness import AzureCli, ByokServerTestCase, run

LOCATION = "eastus"
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")
UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


class AksKubeconfigTest(ByokServerTestCase):

    rg = "rg-kubeconfig"
    clusters = ("kc-one", "kc-two")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.created = {}
        if cls.cli.env is None:
            return
        cls.created["group"] = cls.cli.az("group", "create", "-n", cls.rg, "-l", LOCATION,
                                          "-o", "none")
        for name in cls.clusters:
            cls.created[name] = cls.cli.az(
                "aks", "create", "--name", name, "--resource-group", cls.rg, "--location",
                LOCATION, "--node-count", "1", "--generate-ssh-keys", "-o", "json", timeout=600)

    def setUp(self):
        self.check(self.cli.setup_run)
        for key in ("group",) + self.clusters:
            self.check(self.created[key])

    # --- helpers ---------------------------------------------------------------------------

    def kube_env(self, name):
        """The az environment with KUBECONFIG pointing at a private file `name`."""
        env = dict(self.cli.env)
        env["KUBECONFIG"] = os.path.join(self.tmp, "kube", name)
        return env

    def az_env(self, env, *args):
        return self.check(run(["/usr/bin/az", *args], timeout=180, env=env))

    def get_credentials(self, kubeconfig, cluster, *extra):
        env = self.kube_env(kubeconfig)
        self.az_env(env, "aks", "get-credentials", "--name", cluster, "--resource-group", self.rg,
                    *extra)
        return env

    def kubectl(self, env, *args):
        return run([KUBECTL, *args], timeout=120, env=env)

    def config(self, env):
        """The merged kubeconfig (kubectl config view --raw) as JSON."""
        r = self.check(self.kubectl(env, "config", "view", "--raw", "-o", "json"))
        return json.loads(r.out)

    def cluster_version(self, cluster):
        shown = self.cli.az_json("aks", "show", "--name", cluster, "--resource-group", self.rg)
        return shown["currentKubernetesVersion"]

    def user_files(self, config, user):
        """Writes the client certificate and key of `user` to files; returns (cert, key)."""
        entry = next(u for u in config["users"] if u["name"] == user)["user"]
        paths = []
        for field in ("client-certificate-data", "client-key-data"):
            path = os.path.join(self.tmp, "{}-{}.pem".format(user, field))
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                f.write(base64.b64decode(entry[field]))
            paths.append(path)
        return paths

    def get(self, url, cert=None):
        """GET with Python's ssl (trusting byokd's CA), optionally presenting a client
        certificate; returns (status, body)."""
        ctx = ssl.create_default_context(cafile=self.server.ca)
        if cert:
            ctx.load_cert_chain(cert[0], cert[1])
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    # --- tests -----------------------------------------------------------------------------

    def test_get_credentials_then_kubectl_version(self):
        env = self.get_credentials("user", "kc-one")
        config = self.config(env)
        self.assertEqual(config["current-context"], "kc-one", json.dumps(config))
        [cluster] = config["clusters"]
        self.assertEqual(cluster["name"], "kc-one")
        server = cluster["cluster"]["server"]
        self.assertTrue(server.startswith("https://localhost:{}/k8s/".format(self.server.port)),
                        server)
        [user] = config["users"]
        self.assertEqual(user["name"], "clusterUser_{}_kc-one".format(self.rg))
        self.assertEqual([c["name"] for c in config["contexts"]], ["kc-one"])

        version = self.cluster_version("kc-one")
        r = self.check(self.kubectl(env, "version", "-o", "json"))
        out = json.loads(r.out)
        self.assertEqual(out["serverVersion"]["gitVersion"], "v" + version, r.explain())
        major, minor = version.split(".")[:2]
        self.assertEqual(out["serverVersion"]["major"], major)
        self.assertEqual(out["serverVersion"]["minor"], minor)
        self.assertEqual(out["serverVersion"]["platform"], "linux/amd64")

    def test_admin_credentials(self):
        env = self.get_credentials("admin", "kc-one", "--admin")
        config = self.config(env)
        self.assertEqual(config["current-context"], "kc-one-admin", json.dumps(config))
        self.assertEqual(config["users"][0]["name"], "clusterAdmin_{}_kc-one".format(self.rg))
        r = self.check(self.kubectl(env, "version", "-o", "json"))
        self.assertEqual(json.loads(r.out)["serverVersion"]["gitVersion"],
                         "v" + self.cluster_version("kc-one"))
        # The user credentials merge into the same file (same cluster entry, another user and
        # context); both work.
        self.get_credentials("admin", "kc-one")  # no --admin this time
        config = self.config(env)
        self.assertEqual(sorted(c["name"] for c in config["contexts"]),
                         ["kc-one", "kc-one-admin"])
        self.assertEqual(len(config["clusters"]), 1)
        for context in ("kc-one", "kc-one-admin"):
            self.check(self.kubectl(env, "--context", context, "version", "-o", "json"))

    def test_other_clusters_certificate_is_refused(self):
        env_one = self.get_credentials("one", "kc-one", "--admin")
        env_two = self.get_credentials("two", "kc-two", "--admin")
        one, two = self.config(env_one), self.config(env_two)
        url_one = one["clusters"][0]["cluster"]["server"]
        url_two = two["clusters"][0]["cluster"]["server"]
        self.assertNotEqual(url_one, url_two)
        cert_one = self.user_files(one, "clusterAdmin_{}_kc-one".format(self.rg))
        cert_two = self.user_files(two, "clusterAdmin_{}_kc-two".format(self.rg))

        status, body = self.get(url_one + "/version", cert_one)
        self.assertEqual(status, 200, body)
        status, body = self.get(url_two + "/version", cert_two)
        self.assertEqual(status, 200, body)
        # kc-two's certificate at kc-one's API, and the other way round: 401 Status.
        for url, cert in ((url_one, cert_two), (url_two, cert_one)):
            status, body = self.get(url + "/version", cert)
            self.assertEqual(status, 401, body)
            self.assertEqual(json.loads(body), UNAUTHORIZED)
        # No certificate at all.
        status, body = self.get(url_one + "/version")
        self.assertEqual(status, 401, body)
        self.assertEqual(json.loads(body), UNAUTHORIZED)
        # curl with kc-two's certificate, kubectl with kc-two's credentials aimed at kc-one.
        r = run(["curl", "-sS", "--cacert", self.server.ca, "--cert", cert_two[0], "--key",
                 cert_two[1], url_one + "/version"])
        self.check(r)
        self.assertEqual(json.loads(r.out), UNAUTHORIZED, r.explain())
        r = self.kubectl(env_two, "--server", url_one, "version", "-o", "json")
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertTrue("Unauthorized" in r.err or "logged in" in r.err
                        or "provide credentials" in r.err, r.explain())
        # A kind the API does not serve is a Kubernetes 404.
        status, body = self.get(url_one + "/api/v1/configmaps", cert_one)
        self.assertEqual(status, 404, body)
        self.assertEqual(json.loads(body)["reason"], "NotFound")

    def test_stopped_cluster_api_is_unavailable(self):
        env = self.get_credentials("stopped", "kc-two", "--admin")
        config = self.config(env)
        url = config["clusters"][0]["cluster"]["server"]
        cert = self.user_files(config, "clusterAdmin_{}_kc-two".format(self.rg))
        self.az_env(env, "aks", "stop", "--name", "kc-two", "--resource-group", self.rg)
        try:
            status, body = self.get(url + "/version", cert)
            self.assertEqual(status, 503, body)
            self.assertEqual(json.loads(body)["reason"], "ServiceUnavailable")
            r = self.kubectl(env, "version", "-o", "json")
            self.assertNotEqual(r.code, 0, r.explain())
        finally:
            self.az_env(env, "aks", "start", "--name", "kc-two", "--resource-group", self.rg)
        status, body = self.get(url + "/version", cert)
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    import unittest
    unittest.main()
