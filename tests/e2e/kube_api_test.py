"""End-to-end: each AKS cluster's Kubernetes API with the real /usr/bin/kubectl.

After `az aks get-credentials`, kubectl works against byokd as against AKS for the storage objects:
- `kubectl apply -f byok-azure-disk.yaml` (the seed's StorageClass, with a real DES id) prints
  `storageclass.storage.k8s.io/byok created`, applying it again `unchanged`; a changed parameter
  is refused with the apiserver's words (parameters are immutable);
- `kubectl get sc` lists AKS's built-in classes (default marked "(default)") and byok with the
  usual columns; `kubectl explain storageclass.parameters` answers from the OpenAPI documents;
- `kubectl get nodes` shows the pool's nodes Ready;
- a PVC on a class whose provisioner is not Azure's stays Pending (`kubectl get pvc`), and
  `kubectl delete pvc` removes it; server-side apply works;
- namespaces: create, list, delete (with what is in them); errors are the apiserver's
  (NotFound, AlreadyExists).

az is slow, so the class shares one server, one login and one cluster.
"""
import json
import os

from harness import AzureCli, ByokServerTestCase, credentials, run

LOCATION = "eastus"
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")


class KubeApiTest(ByokServerTestCase):

    rg = "rg-kubeapi"
    vault = "kv-kubeapi"
    cluster = "kube-api"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub = credentials(cls.data_dir)["subscription"]
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.failed = None
        cls.env = None
        if cls.cli.env is not None:
            cls.failed = cls.prepare()

    @classmethod
    def prepare(cls):
        """A group, a vault, a key, a DES (whose id the StorageClass names), a 2-node cluster and
        its admin kubeconfig. Returns the first failed Run, or None."""
        az = cls.cli.az
        steps = [
            ("group", "create", "-n", cls.rg, "-l", LOCATION, "-o", "none"),
            ("keyvault", "create", "--name", cls.vault, "--resource-group", cls.rg, "--location",
             LOCATION, "--enable-purge-protection", "true", "-o", "none"),
            ("keyvault", "key", "create", "--vault-name", cls.vault, "--name", "cmk",
             "--protection", "software", "-o", "none"),
        ]
        for step in steps:
            r = az(*step)
            if r.code != 0:
                return r
        vault_id = az("keyvault", "show", "--name", cls.vault, "--query", "[id]", "-o", "tsv")
        key_url = az("keyvault", "key", "show", "--vault-name", cls.vault, "--name", "cmk",
                     "--query", "[key.kid]", "-o", "tsv")
        for r in (vault_id, key_url):
            if r.code != 0:
                return r
        r = az("disk-encryption-set", "create", "--name", "des-kube", "--location", LOCATION,
               "--resource-group", cls.rg, "--source-vault", vault_id.out.strip(), "--key-url",
               key_url.out.strip(), "-o", "none")
        if r.code != 0:
            return r
        r = az("aks", "create", "--name", cls.cluster, "--resource-group", cls.rg, "--location",
               LOCATION, "--node-count", "2", "--generate-ssh-keys", "-o", "none", timeout=600)
        if r.code != 0:
            return r
        env = dict(cls.cli.env)
        env["KUBECONFIG"] = os.path.join(cls.tmp, "kube", "config")
        r = run(["/usr/bin/az", "aks", "get-credentials", "--name", cls.cluster,
                 "--resource-group", cls.rg, "--admin"], timeout=180, env=env)
        if r.code != 0:
            return r
        cls.env = env
        return None

    def setUp(self):
        self.check(self.cli.setup_run)
        if self.failed is not None:
            self.check(self.failed)

    # --- helpers ---------------------------------------------------------------------------

    def des_id(self):
        return ("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/"
                "diskEncryptionSets/des-kube").format(self.sub, self.rg)

    def kubectl(self, *args, input=None):
        return run([KUBECTL, *args], timeout=120, env=self.env, input=input)

    def ok(self, *args, input=None):
        """kubectl that must succeed; returns its stdout."""
        return self.check(self.kubectl(*args, input=input)).out

    def fails(self, *args, needle, input=None):
        r = self.kubectl(*args, input=input)
        self.assertNotEqual(r.code, 0, "expected a failure\n" + r.explain())
        self.assertIn(needle, r.out + r.err, r.explain())
        return r

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def table(self, out):
        """kubectl's printed table as a list of rows (lists of cells split on 2+ spaces)."""
        rows = []
        for line in out.splitlines():
            if line.strip():
                rows.append([c.strip() for c in line.split("  ") if c.strip()])
        return rows

    def storage_class(self, skuname="StandardSSD_LRS"):
        return self.write("byok-azure-disk.yaml", """kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: byok
provisioner: disk.csi.azure.com
parameters:
  skuname: {}
  kind: managed
  diskEncryptionSetID: "{}"
""".format(skuname, self.des_id()))

    # --- tests -----------------------------------------------------------------------------

    def test_apply_seed_storage_class(self):
        path = self.storage_class()
        out = self.ok("apply", "-f", path)
        self.assertEqual(out.strip(), "storageclass.storage.k8s.io/byok created")
        out = self.ok("apply", "-f", path)
        self.assertEqual(out.strip(), "storageclass.storage.k8s.io/byok unchanged")
        shown = json.loads(self.ok("get", "storageclass", "byok", "-o", "json"))
        self.assertEqual(shown["parameters"]["diskEncryptionSetID"], self.des_id())
        self.assertEqual(shown["reclaimPolicy"], "Delete")
        self.assertEqual(shown["volumeBindingMode"], "Immediate")
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration",
                      shown["metadata"]["annotations"])
        # Parameters are immutable, as in Kubernetes.
        r = self.fails("apply", "-f", self.storage_class("Premium_LRS"),
                       needle="parameters: Forbidden: updates to parameters are forbidden.")
        # (kubectl renders the Invalid Status from its details: 'The StorageClass "byok" is
        # invalid: ...', as against AKS.)
        self.assertIn('The StorageClass "byok" is invalid', r.err, r.explain())
        # Creating it again is AlreadyExists.
        self.fails("create", "-f", self.storage_class(),
                   needle='storageclasses.storage.k8s.io "byok" already exists')

        rows = self.table(self.ok("get", "sc"))
        self.assertEqual(rows[0], ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE",
                                   "ALLOWVOLUMEEXPANSION", "AGE"], rows)
        by_name = {r[0]: r for r in rows[1:]}
        for name in ("default (default)", "managed-csi", "managed-csi-premium", "azurefile-csi"):
            self.assertIn(name, by_name, rows)
        self.assertEqual(by_name["default (default)"][1:5],
                         ["disk.csi.azure.com", "Delete", "WaitForFirstConsumer", "true"])
        self.assertEqual(by_name["byok"][1:5],
                         ["disk.csi.azure.com", "Delete", "Immediate", "false"])

    def test_explain_storage_class_parameters(self):
        out = self.ok("explain", "storageclass.parameters")
        self.assertIn("parameters", out)
        self.assertIn("StorageClass", out)

    def test_nodes_are_ready(self):
        rows = self.table(self.ok("get", "nodes"))
        self.assertEqual(rows[0][:3], ["NAME", "STATUS", "ROLES"], rows)
        self.assertEqual(len(rows), 3, rows)
        for row in rows[1:]:
            self.assertTrue(row[0].startswith("aks-nodepool1-"), row)
            self.assertEqual(row[1], "Ready", row)
        node = json.loads(self.ok("get", "node", rows[1][0], "-o", "json"))
        self.assertEqual(node["metadata"]["labels"]["agentpool"], "nodepool1")

    def test_pvc_pending_then_deleted(self):
        self.ok("apply", "-f", self.write("plain-class.yaml", """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: plain
provisioner: example.com/none
"""))
        claim = self.write("claim.yaml", """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: plain
  resources:
    requests:
      storage: 5Gi
""")
        out = self.ok("apply", "-f", claim)
        self.assertEqual(out.strip(), "persistentvolumeclaim/data created")
        rows = self.table(self.ok("get", "pvc"))
        self.assertEqual(rows[0][:2], ["NAME", "STATUS"], rows)
        self.assertEqual(rows[1][:2], ["data", "Pending"], rows)
        self.assertIn("plain", rows[1], rows)
        shown = json.loads(self.ok("get", "pvc", "data", "-o", "json"))
        self.assertEqual(shown["spec"]["volumeMode"], "Filesystem")
        self.assertEqual(shown["status"]["phase"], "Pending")
        # The spec is immutable while unbound.
        self.fails("patch", "pvc", "data", "-p", '{"spec":{"storageClassName":"other"}}',
                   needle="spec is immutable after creation")
        out = self.ok("delete", "pvc", "data")
        self.assertEqual(out.strip(), 'persistentvolumeclaim "data" deleted')
        self.fails("get", "pvc", "data", needle='persistentvolumeclaims "data" not found')
        r = self.check(self.kubectl("get", "pvc"))
        self.assertIn("No resources found in default namespace.", r.out + r.err)

    def test_server_side_apply(self):
        manifest = self.write("ssa.yaml", """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ssa
  labels:
    app: one
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: plain-ssa
  resources:
    requests:
      storage: 1Gi
""")
        out = self.ok("apply", "--server-side", "-f", manifest)
        self.assertEqual(out.strip(), "persistentvolumeclaim/ssa serverside-applied")
        shown = json.loads(self.ok("get", "pvc", "ssa", "-o", "json", "--show-managed-fields"))
        managers = [m["manager"] for m in shown["metadata"]["managedFields"]]
        self.assertIn("kubectl", managers)
        self.assertEqual(shown["metadata"]["labels"], {"app": "one"})
        self.ok("delete", "pvc", "ssa")

    def test_namespaces(self):
        out = self.ok("create", "-f", self.write("team-a.yaml", """apiVersion: v1
kind: Namespace
metadata:
  name: team-a
"""))
        self.assertEqual(out.strip(), "namespace/team-a created")
        rows = self.table(self.ok("get", "namespaces"))
        names = {r[0]: r[1] for r in rows[1:]}
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "team-a"):
            self.assertEqual(names.get(ns), "Active", rows)
        self.ok("apply", "-n", "team-a", "-f", self.write("team-claim.yaml", """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: team-data
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: plain-team
  resources:
    requests:
      storage: 1Gi
"""))
        rows = self.table(self.ok("get", "pvc", "-A"))
        self.assertIn(["team-a", "team-data", "Pending"], [r[:3] for r in rows], rows)
        out = self.ok("delete", "namespace", "team-a")
        self.assertEqual(out.strip(), 'namespace "team-a" deleted')
        self.fails("get", "namespace", "team-a", needle='namespaces "team-a" not found')
        rows = self.table(self.ok("get", "pvc", "-A"))
        self.assertNotIn("team-data", [c for r in rows for c in r], rows)
        # A claim in a namespace that does not exist.
        self.fails("create", "-n", "nowhere", "-f", os.path.join(self.tmp, "team-claim.yaml"),
                   needle='namespaces "nowhere" not found')

    def test_create_namespace_sends_protobuf(self):
        # kubectl's typed client posts the Namespace in the protobuf encoding.
        r = self.check(self.kubectl("create", "namespace", "team-pb", "-v=8"))
        self.assertIn("namespace/team-pb created", r.out)
        self.assertIn("Content-Type: application/vnd.kubernetes.protobuf", r.err, r.explain())
        ns = json.loads(self.ok("get", "namespace", "team-pb", "-o", "json"))
        self.assertEqual(ns["metadata"]["name"], "team-pb")
        self.assertEqual(ns["status"]["phase"], "Active")
        self.fails("create", "namespace", "team-pb",
                   needle='namespaces "team-pb" already exists')
        self.fails("create", "namespace", "Bad_Name", needle="Invalid value")
        self.ok("delete", "namespace", "team-pb")

    def test_get_raw(self):
        # kubectl get --raw PATH drops the server URL's /k8s/{uniqueId}: byokd finds the cluster
        # by the kubeconfig's client certificate.
        ns = json.loads(self.ok("get", "--raw", "/api/v1/namespaces/default"))
        self.assertEqual((ns["kind"], ns["metadata"]["name"]), ("Namespace", "default"))
        self.assertEqual(self.ok("get", "--raw", "/readyz"), "ok")
        self.assertIn("readyz check passed", self.ok("get", "--raw", "/readyz?verbose"))
        version = json.loads(self.ok("get", "--raw", "/version"))
        self.assertTrue(version["gitVersion"].startswith("v1."), version)
        self.fails("get", "--raw", "/api/v1/namespaces/nowhere",
                   needle='namespaces "nowhere" not found')

    def test_auth_can_i_and_whoami(self):
        # Both post protobuf reviews; byok's clusters have no RBAC, so every answer is yes.
        self.assertEqual(self.ok("auth", "can-i", "create", "namespaces").strip(), "yes")
        self.assertEqual(self.ok("auth", "can-i", "delete", "pvc", "-n", "default").strip(), "yes")
        review = json.loads(self.ok("auth", "whoami", "-o", "json"))
        self.assertEqual(review["kind"], "SelfSubjectReview")
        user = review["status"]["userInfo"]
        self.assertIn(user["username"], ("clusterAdmin", "clusterUser"), review)
        self.assertIn("system:authenticated", user["groups"], review)
        table = self.ok("auth", "whoami")
        self.assertIn("Username", table)
        self.assertIn(user["username"], table)


if __name__ == "__main__":
    import unittest
    unittest.main()
