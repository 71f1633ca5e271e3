#!/usr/bin/env bash
# The walkthrough of Azure's "Bring your own keys (BYOK) with Azure managed disks in Azure
# Kubernetes Service (AKS)", run against byokd by `byok demo` with the real Azure CLI and kubectl.
#
# Each step prints the command as the document writes it (its placeholders bound to real values,
# see below), runs it in this shell (so `keyVaultId=$(...)` sets a variable the later commands
# use) and shows its output. A step that fails stops the walkthrough with its exit code; the one
# command the document warns about (a node pool with an Ephemeral OS disk on the default VM size)
# must fail with Azure's error, and the walkthrough then runs it again with --node-vm-size.
# After the document's last command, a PersistentVolumeClaim on the `byok` StorageClass is created
# and its disk shown: encrypted with the customer's key through the DiskEncryptionSet.
#
# Placeholders: myAzureRegionName = $BYOK_DEMO_LOCATION (default eastus); the resource names are
# used as written (Azure names are case-insensitive: the document's mydiskEncryptionSetName and
# myAksCluster name myDiskEncryptionSetName and myAKSCluster); the document's second `az aks
# create` (Ephemeral OS disks) creates myAKSClusterEphemeral; $CLUSTER_NAME, $RG_NAME and
# $NODEPOOL_NAME are myAKSCluster, myResourceGroup and ephpool; myAzureSubscriptionId is the
# subscription az is logged in to.
#
# Environment (set by `byok demo`): az and kubectl on PATH, az logged in to byokd (AZURE_CONFIG_DIR
# and friends), HOME and KUBECONFIG private to the demo, BYOK (the byok binary), BYOK_DATA_DIR,
# BYOK_DEMO_WORK_DIR (the current directory for files the walkthrough writes) and
# BYOK_DEMO_LOCATION.
set -u -o pipefail

: "${BYOK:?}" "${BYOK_DATA_DIR:?}" "${BYOK_DEMO_WORK_DIR:?}" "${BYOK_DEMO_LOCATION:?}"
cd "$BYOK_DEMO_WORK_DIR" || exit 1

if [ -t 1 ]; then
  bold=$'\033[1m' dim=$'\033[2m' reset=$'\033[0m'
else
  bold='' dim='' reset=''
fi

section() { printf '\n%s== %s ==%s\n' "$bold" "$1" "$reset"; }
note() { printf '%s# %s%s\n' "$dim" "$1" "$reset"; }
shown() { printf '%s$ %s%s\n' "$bold" "$1" "$reset"; }

# step COMMAND: print it, run it here, stop the walkthrough if it fails.
step() {
  shown "$1"
  eval "$1"
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    printf 'byok demo: this step failed (exit %d): %s\n' "$rc" "$1" >&2
    exit "$rc"
  fi
}

# brief COMMAND: like step, but shows only the first lines of a long output.
brief() {
  shown "$1"
  local out rc
  out=$(eval "$1")
  rc=$?
  printf '%s\n' "$out" | head -n 12
  local total
  total=$(printf '%s\n' "$out" | wc -l)
  if [ "$total" -gt 12 ]; then note "... $((total - 12)) more lines"; fi
  if [ "$rc" -ne 0 ]; then
    printf 'byok demo: this step failed (exit %d): %s\n' "$rc" "$1" >&2
    exit "$rc"
  fi
}

# refused COMMAND NEEDLE: a command the document warns about; it must fail saying NEEDLE.
refused() {
  shown "$1"
  local out rc
  out=$(eval "$1" 2>&1)
  rc=$?
  printf '%s\n' "$out"
  if [ "$rc" -eq 0 ] || [[ "$out" != *"$2"* ]]; then
    printf 'byok demo: expected this step to be refused with %s: %s\n' "$2" "$1" >&2
    exit 1
  fi
  note "refused with $2, as the document warns"
}

# value NAME: shows what a step stored in a variable.
value() { printf '%s  %s=%s%s\n' "$dim" "$1" "${!1}" "$reset"; }

for tool in az kubectl; do
  if ! command -v "$tool" >/dev/null; then
    echo "byok demo: $tool is not on PATH (install the Debian package azure-cli, and kubectl)" >&2
    exit 127
  fi
done
if [ "$(az group exists --name myResourceGroup)" = "true" ]; then
  echo "byok demo: resource group myResourceGroup already exists on this server: the walkthrough" \
    "has run here before. Start byokd on a fresh data directory to run it again." >&2
  exit 1
fi
location=$BYOK_DEMO_LOCATION

section "Create an Azure Key Vault instance"
brief "az account list-locations"
step "az group create --location $location --name myResourceGroup"
step "az keyvault create --name myKeyVaultName --resource-group myResourceGroup --location $location  --enable-purge-protection true"
note "the document's prerequisite: a key in the vault (as in 'Manage Key Vault using the Azure CLI')"
step "az keyvault key create --vault-name myKeyVaultName --name myKeyName --protection software"

section "Create an instance of a DiskEncryptionSet"
step 'keyVaultId=$(az keyvault show --name myKeyVaultName --query "[id]" -o tsv)'
value keyVaultId
step 'keyVaultKeyUrl=$(az keyvault key show --vault-name myKeyVaultName --name myKeyName --query "[key.kid]" -o tsv)'
value keyVaultKeyUrl
step "az disk-encryption-set create --name myDiskEncryptionSetName --location $location --resource-group myResourceGroup --source-vault \$keyVaultId --key-url \$keyVaultKeyUrl"

section "Grant the DiskEncryptionSet access to key vault"
step 'desIdentity=$(az disk-encryption-set show --name myDiskEncryptionSetName --resource-group myResourceGroup --query "[identity.principalId]" -o tsv)'
value desIdentity
step 'az keyvault set-policy --name myKeyVaultName --resource-group myResourceGroup --object-id $desIdentity --key-permissions wrapkey unwrapkey get'

section "Create a new AKS cluster and encrypt the OS disk"
step 'diskEncryptionSetId=$(az disk-encryption-set show --name mydiskEncryptionSetName --resource-group myResourceGroup --query "[id]" -o tsv)'
value diskEncryptionSetId
step "az group create --name myResourceGroup --location $location"
step 'az aks create --name myAKSCluster --resource-group myResourceGroup --node-osdisk-diskencryptionset-id $diskEncryptionSetId --generate-ssh-keys --node-osdisk-type Managed'
note "the Ephemeral example creates a second cluster, myAKSClusterEphemeral"
step 'az aks create --name myAKSClusterEphemeral --resource-group myResourceGroup --node-osdisk-diskencryptionset-id $diskEncryptionSetId --generate-ssh-keys --node-osdisk-type Ephemeral --node-vm-size Standard_DS3_v2'
step "CLUSTER_NAME=myAKSCluster RG_NAME=myResourceGroup NODEPOOL_NAME=ephpool"
note "the default VM size is too small for an Ephemeral OS disk, as the document warns"
refused 'az aks nodepool add --cluster-name $CLUSTER_NAME --resource-group $RG_NAME --name $NODEPOOL_NAME --node-osdisk-type Ephemeral' \
  VMCacheSizeTooSmall
step 'az aks nodepool add --cluster-name $CLUSTER_NAME --resource-group $RG_NAME --name $NODEPOOL_NAME --node-osdisk-type Ephemeral --node-vm-size Standard_DS3_v2'
step '$BYOK node list --data-dir "$BYOK_DATA_DIR"'

section "Encrypt your AKS cluster data disk"
step 'aksIdentity=$(az aks show --resource-group $RG_NAME --name $CLUSTER_NAME --query "identity.principalId")'
value aksIdentity
step 'az role assignment create --role "Contributor" --assignee $aksIdentity --scope $diskEncryptionSetId'
step 'myAzureSubscriptionId=$(az account show --query id -o tsv)'
value myAzureSubscriptionId
shown "cat > byok-azure-disk.yaml"
cat >byok-azure-disk.yaml <<EOF
kind: StorageClass
apiVersion: storage.k8s.io/v1
metadata:
  name: byok
provisioner: disk.csi.azure.com # replace with "kubernetes.io/azure-disk" if aks version is less than 1.21
parameters:
  skuname: StandardSSD_LRS
  kind: managed
  diskEncryptionSetID: "/subscriptions/$myAzureSubscriptionId/resourceGroups/myResourceGroup/providers/Microsoft.Compute/diskEncryptionSets/myDiskEncryptionSetName"
EOF
cat byok-azure-disk.yaml
step "az aks get-credentials --name myAksCluster --resource-group myResourceGroup --output table"
step "kubectl apply -f byok-azure-disk.yaml"

section "A volume on the byok StorageClass"
shown "cat > byok-pvc.yaml"
cat >byok-pvc.yaml <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: byok-demo
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: byok
  resources:
    requests:
      storage: 4Gi
EOF
cat byok-pvc.yaml
step "kubectl apply -f byok-pvc.yaml"
step "kubectl wait --for=jsonpath='{.status.phase}'=Bound pvc/byok-demo --timeout=120s"
step "kubectl get pvc byok-demo"
step "kubectl get pv"
step 'diskId=$(kubectl get pv "$(kubectl get pvc byok-demo -o jsonpath="{.spec.volumeName}")" -o jsonpath="{.spec.csi.volumeHandle}")'
value diskId
step 'az disk show --ids $diskId --query "{name:name, diskState:diskState, encryption:encryption}"'
step '$BYOK disk inspect --data-dir "$BYOK_DATA_DIR" $diskId'

section "Data on the volume: plaintext through the node, ciphertext at rest"
note "byok volume attach plays the pod: the disk is attached to a node and exported over NBD"
step 'uri=$($BYOK volume attach --data-dir "$BYOK_DATA_DIR" --cluster myAKSCluster --resource-group myResourceGroup byok-demo)'
note "the URI's export name is a secret: it is not shown"
step "kubectl get volumeattachments"
if command -v nbdcopy >/dev/null && command -v qemu-io >/dev/null; then
  step "printf 'byok demo: this line is plaintext on the volume, never on disk.\\n%.0s' {1..16384} > plaintext.txt"  # 1 MiB
  step 'nbdcopy plaintext.txt "$uri"'
  step "qemu-io -f raw -r -c 'read -v 0 96' \"\$uri\""
  step '$BYOK disk inspect --data-dir "$BYOK_DATA_DIR" $diskId --pattern "this line is plaintext"'
else
  note "nbdcopy (libnbd-bin) and qemu-io (qemu-utils) are not installed: skipping the write"
fi
step '$BYOK volume detach --data-dir "$BYOK_DATA_DIR" --cluster myAKSCluster --resource-group myResourceGroup byok-demo'

printf '\n%sThe walkthrough ran to the end.%s\n' "$bold" "$reset"
printf 'disk: %s\n' "$diskId"
