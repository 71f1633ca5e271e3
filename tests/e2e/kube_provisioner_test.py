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

from harness import BYOK, AzureCliTestCase, run

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


class KubeProvisionerTest(AzureCliTestCase):

    rg = "rg-kprov"
    des_rg = "rg-kprov-des"
    cluster = "kprov"
    vault = "kv-kprov-e2e"

    @classmethod
    def set_up_az(cls):
        az = cls.cli.az
        ok = cls.step(az("group", "create", "-n", cls.rg, "-l", LOCATION, "-o", "none"))
        ok = ok and cls.step(az("group", "create", "-n", cls.des_rg, "-l", LOCATION,
                                "-o", "none"))
        ok = ok and cls.create_customer_key_des(cls.des_rg, cls.vault, "des-kprov", LOCATION)
        if ok:
            cls.create_aks_cluster(cls.rg, cls.cluster, LOCATION)

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
