"""Stand-in for the track-1 `azure.keyvault.v7_0.models` (see ../key_vault_client.py): the CLI's Key
Vault error handler looks up KeyVaultErrorException here; other model names stay absent, as
without this module. Importing it also makes the track-1 client importable from azure.keyvault,
as the CLI's data-plane client factory expects."""
from azure.keyvault.key_vault_client import KeyVaultErrorException  # noqa: F401
