"""Docstring-only stand-in for the track-1 Key Vault 7.0 client (see the package docstring).

The key operations the CLI runs through this class (`az keyvault key list|delete|recover|purge|
backup|restore`: the CLI resolves `KeyVaultClient.<operation>` here for API version 7.0) are the
working ones of azure.keyvault.key_vault_client, which this class inherits."""
from azure.keyvault.key_vault_client import KeyVaultClient as _Implemented


def _doc_only(name, doc):
    def method(self, *args, **kwargs):
        raise NotImplementedError(
            "azure.keyvault.v7_0 is a documentation stub (byok azcompat); "
            "KeyVaultClient.{} cannot be called".format(name))

    method.__name__ = name
    method.__doc__ = doc
    return method


_DOCS = {
    "create_key": "Create a new key in a vault or managed HSM and return its public parameters "
                  "and attributes. A new version is created if the key exists already.",
    "backup_key": "Download a protected backup of a key (all its versions).",
    "restore_key": "Restore a key, with all its versions, from a backup blob.",
    "backup_secret": "Download a protected backup of a secret (all its versions).",
    "restore_secret": "Restore a secret, with all its versions, from a backup blob.",
    "create_certificate": "Create a new certificate, or a new version of an existing one.",
    "backup_certificate": "Download a protected backup of a certificate (all its versions).",
    "restore_certificate": "Restore a certificate, with all its versions, from a backup blob.",
    "backup_storage_account": "Download a protected backup of a managed storage account.",
    "restore_storage_account": "Restore a managed storage account from a backup blob.",
}


class _DocOnlyMeta(type):
    # The CLI looks methods up on the class (getattr(KeyVaultClient, name)); answer any name it
    # may ask for with a doc-only method so that help rendering never fails on a missing one.
    def __getattr__(cls, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return _doc_only(name, "Key Vault data-plane operation '{}'.".format(name))


class KeyVaultClient(_Implemented, metaclass=_DocOnlyMeta):
    """Documentation stub of the track-1 Key Vault client, API version 7.0."""


for _name, _doc in _DOCS.items():
    if not hasattr(_Implemented, _name):
        setattr(KeyVaultClient, _name, _doc_only(_name, _doc))
del _name, _doc
