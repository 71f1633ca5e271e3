"""End-to-end: the clusters' dynamic provisioner, with the real Azure CLI and /usr/bin/kubectl.

The seed's StorageClass (`byok`: disk.csi.azure.com, StandardSSD_LRS, managed, the DES id) is
applied to an AKS cluster whose identity has no rights on the DES, which lives in ANOTHER resource
group: a PVC on it stays Pending with the ProvisioningFailed event (the one `kubectl describe
pvc` shows) carrying ARM's LinkedAuthorizationFailed. After `az role assignment create --role Contributor
--assignee <aks identity> --scope <des id>` the PVC becomes Bound; its PV names a disk that
`az disk show` reports encrypted with the DES, and byokd's access log shows the disk PUT made with
the cluster identity's object id. Deleting the PVC deletes the disk (reclaimPolicy Delete).

`byok clock advance 1s` makes byokd run its scheduler (the provisioner's ReconcileAll among its
tasks) before returning, so each step is checked right after it without waiting on timers.
"""
import json
import os
import re

from harness import BYOK, AzureCli, ByokServerTestCase, credentials, run

LOCATION = "eastus"
KUBECTL = os.environ.get("KUBECTL", "/usr/bin/kubectl")

STORAGE_CLASS = """\
kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: byok
provisioner: disk.csi.azure.com # replace with "kubernetes.io/azure-disk" if aks version is less than 1.21
parameters:
  skuname: StandardSSD_LRS
  kind: managed
  diskEncryptionSetID: "{des_id}"
"""

CLAIM = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: byok
  resources:
    requests:
      storage: {size}
"""


class KubeProvisionerTest(ByokServerTestCase):

    rg = "rg-kprov"
    des_rg = "rg-kprov-des"
    cluster = "kprov"
    vault = "kv-kprov-e2e"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.creds = credentials(cls.data_dir)
        cls.sub = cls.creds["subscription"]
        cls.cli = AzureCli(cls.server, cls.data_dir, cls.tmp)
        cls.cli.setup()
        cls.steps = []
        if cls.cli.env is None:
            return
        az = cls.cli.az

        def step(r):
            cls.steps.append(r)
            return r.code == 0

        ok = step(az("group", "create", "-n", cls.rg, "-l", LOCATION, "-o", "none"))
        ok = ok and step(az("group", "create", "-n", cls.des_rg, "-l", LOCATION, "-o", "none"))
        ok = ok and step(az("keyvault", "create", "--name", cls.vault, "--resource-group",
                            cls.des_rg, "--location", LOCATION, "--enable-purge-protection",
                            "true", "-o", "none"))
        ok = ok and step(az("keyvault", "key", "create", "--vault-name", cls.vault, "--name",
                            "cmk", "--protection", "software", "-o", "none"))
        if not ok:
            return
        vault_id = az("keyvault", "show", "--name", cls.vault, "--query", "[id]", "-o", "tsv")
        key_url = az("keyvault", "key", "show", "--vault-name", cls.vault, "--name", "cmk",
                     "--query", "[key.kid]", "-o", "tsv")
        ok = step(vault_id) and step(key_url)
        ok = ok and step(az("disk-encryption-set", "create", "--name", "des-kprov", "--location",
                            LOCATION, "--resource-group", cls.des_rg, "--source-vault",
                            vault_id.out.strip(), "--key-url", key_url.out.strip(), "-o", "none"))
        if not ok:
            return
        des_identity = az("disk-encryption-set", "show", "--name", "des-kprov",
                          "--resource-group", cls.des_rg, "--query", "[identity.principalId]",
                          "-o", "tsv")
        ok = step(des_identity)
        ok = ok and step(az("keyvault", "set-policy", "--name", cls.vault, "--resource-group",
                            cls.des_rg, "--object-id", des_identity.out.strip(),
                            "--key-permissions", "wrapkey", "unwrapkey", "get", "-o", "none"))
        ok = ok and step(az("aks", "create", "--name", cls.cluster, "--resource-group", cls.rg,
                            "--location", LOCATION, "--node-count", "1", "--generate-ssh-keys",
                            "-o", "none", timeout=600))
        cls.kube_env = dict(cls.cli.env)
        cls.kube_env["KUBECONFIG"] = os.path.join(cls.tmp, "kube", "config")
        ok = ok and step(run(["/usr/bin/az", "aks", "get-credentials", "--name", cls.cluster,
                              "--resource-group", cls.rg], timeout=180, env=cls.kube_env))

    def setUp(self):
        self.check(self.cli.setup_run)
        for r in self.steps:
            self.check(r)

    # --- helpers ---------------------------------------------------------------------------

    def des_id(self):
        return ("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/"
                "diskEncryptionSets/des-kprov").format(self.sub, self.des_rg)

    def kubectl(self, *args, input=None):
        return run([KUBECTL, *args], timeout=120, env=self.kube_env, input=input)

    def kubectl_json(self, *args):
        return json.loads(self.check(self.kubectl(*args, "-o", "json")).out)

    def settle(self):
        """byokd's scheduler tasks (the provisioner's among them) run before this returns."""
        self.check(run([BYOK, "clock", "advance", "1s", "--data-dir", self.data_dir]))

    def events(self, claim):
        """The claim's events, as `kubectl describe pvc` selects them."""
        return self.kubectl_json("get", "events", "--field-selector",
                                 "involvedObject.kind=PersistentVolumeClaim,"
                                 "involvedObject.name=" + claim)["items"]

    def aks_identity(self):
        r = self.check(self.cli.az("aks", "show", "--resource-group", self.rg, "--name",
                                   self.cluster, "--query", "identity.principalId", "-o", "tsv"))
        return r.out.strip()

    # --- tests -----------------------------------------------------------------------------

    def test_claim_binds_once_the_identity_may_use_the_des(self):
        r = self.check(self.kubectl("apply", "-f", "-",
                                    input=STORAGE_CLASS.format(des_id=self.des_id())))
        self.assertIn("storageclass.storage.k8s.io/byok created", r.out, r.explain())
        r = self.check(self.kubectl("apply", "-f", "-",
                                    input=CLAIM.format(name="data", size="4Gi")))
        self.assertIn("persistentvolumeclaim/data created", r.out, r.explain())
        self.settle()

        # No rights on the DES: Pending, with the permission error as an event.
        pvc = self.kubectl_json("get", "pvc", "data")
        self.assertEqual(pvc["status"]["phase"], "Pending", json.dumps(pvc))
        failed = [e for e in self.events("data") if e["reason"] == "ProvisioningFailed"]
        self.assertEqual(len(failed), 1, json.dumps(self.events("data")))
        self.assertEqual(failed[0]["type"], "Warning")
        self.assertIn('failed to provision volume with StorageClass "byok"', failed[0]["message"])
        self.assertIn("LinkedAuthorizationFailed", failed[0]["message"])

        identity = self.aks_identity()
        self.check(self.cli.az("role", "assignment", "create", "--role", "Contributor",
                               "--assignee", identity, "--scope", self.des_id(), "-o", "none"))
        self.settle()

        pvc = self.kubectl_json("get", "pvc", "data")
        self.assertEqual(pvc["status"]["phase"], "Bound", json.dumps(pvc))
        pv_name = pvc["spec"]["volumeName"]
        self.assertEqual(pv_name, "pvc-" + pvc["metadata"]["uid"])
        self.assertEqual(pvc["status"]["capacity"]["storage"], "4Gi")
        pv = self.kubectl_json("get", "pv", pv_name)
        self.assertEqual(pv["spec"]["csi"]["driver"], "disk.csi.azure.com")
        self.assertEqual(pv["spec"]["claimRef"]["name"], "data")
        self.assertEqual(pv["status"]["phase"], "Bound")
        disk_id = pv["spec"]["csi"]["volumeHandle"]
        node_rg = self.check(self.cli.az("aks", "show", "-g", self.rg, "-n", self.cluster,
                                         "--query", "nodeResourceGroup", "-o", "tsv")).out.strip()
        self.assertIn("/resourceGroups/{}/providers/Microsoft.Compute/disks/{}".format(
            node_rg, pv_name).lower(), disk_id.lower())

        disk = self.cli.az_json("disk", "show", "--ids", disk_id)
        self.assertEqual(disk["encryption"]["diskEncryptionSetId"].lower(),
                         self.des_id().lower(), json.dumps(disk))
        self.assertEqual(disk["encryption"]["type"], "EncryptionAtRestWithCustomerKey")
        self.assertEqual(disk["diskSizeGb"], 4)
        self.assertEqual(disk["tags"]["kubernetes.io-created-for-pvc-name"], "data")

        self.assertIn("ProvisioningSucceeded", [e["reason"] for e in self.events("data")])

        # byokd's access log names the caller of the disk PUT: the cluster identity.
        put = re.compile(r'"PUT /subscriptions/[^ ]*/providers/Microsoft\.Compute/disks/{}\?'
                         r'[^"]*" 200 .* oid={}'.format(re.escape(pv_name), re.escape(identity)),
                         re.IGNORECASE)
        self.assertTrue(any(put.search(line) for line in self.server.stderr_lines),
                        self.server.output())

        # Reclaim policy Delete: deleting the claim deletes the disk and the PV.
        self.check(self.kubectl("delete", "pvc", "data"))
        self.settle()
        r = self.cli.az("disk", "show", "--ids", disk_id)
        self.check_fails(r, "ResourceNotFound")
        r = self.kubectl("get", "pv", pv_name)
        self.assertNotEqual(r.code, 0, r.explain())
        self.assertIn("NotFound", r.err, r.explain())
