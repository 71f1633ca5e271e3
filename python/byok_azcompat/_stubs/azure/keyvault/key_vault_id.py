"""Key Vault object identifiers, for Debian's azure-cli 2.45 (which imports this module from the
track-1 azure-keyvault package that Debian does not ship). Written for byok; served by byok's
sitecustomize only when no real `azure.keyvault.key_vault_id` can be imported.

An identifier is `{vault}/{collection}/{name}[/{version}]`, where `vault` is the vault's base URL
(scheme and authority, e.g. `https://myvault.vault.azure.net` or
`https://myvault.vault.localhost:8443`), `collection` is `keys`, `secrets`, `certificates`,
`deletedkeys`, ... and `version` is optional (empty = the latest version).

What the CLI uses: `KeyVaultIdentifier(uri=..., collection=...)` with `.vault`, `.name` and
`.version` (az keyvault key|secret|certificate ... --id), and `SecretId(uri=...)` (appconfig).
"""
from urllib.parse import urlsplit

__all__ = [
    "KeyVaultIdentifier", "KeyId", "SecretId", "CertificateId", "CertificateOperationId",
    "StorageAccountId", "KeyVaultId", "parse_vault_object_id",
]


def parse_vault_object_id(uri, collection=None):
    """Splits a vault object id into (vault, collection, name, version).

    `collection`, if given, must match the id's collection (case-insensitively) and may span
    several path segments (e.g. "certificates/issuers"). Raises ValueError for anything that is
    not an absolute http(s) URL with a collection and a name, at most one version segment after
    the name, and no query or fragment.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise ValueError("a Key Vault identifier must be a non-empty URL, got {!r}".format(uri))
    parts = urlsplit(uri.strip())
    if parts.scheme.lower() not in ("https", "http") or not parts.netloc:
        raise ValueError("invalid Key Vault identifier {!r}: not an absolute https URL".format(uri))
    if parts.query or parts.fragment:
        raise ValueError("invalid Key Vault identifier {!r}: unexpected query or fragment"
                         .format(uri))
    segments = [s for s in parts.path.split("/") if s]
    if collection:
        wanted = [s for s in collection.split("/") if s]
        if [s.lower() for s in segments[:len(wanted)]] != [s.lower() for s in wanted]:
            raise ValueError("invalid Key Vault identifier {!r}: expected collection '{}'"
                             .format(uri, collection))
        coll = "/".join(segments[:len(wanted)])
        rest = segments[len(wanted):]
    else:
        coll = segments[0] if segments else ""
        rest = segments[1:]
    if not coll or not rest or len(rest) > 2:
        raise ValueError("invalid Key Vault identifier {!r}: expected "
                         "{{vault}}/{{collection}}/{{name}}[/{{version}}]".format(uri))
    vault = "{}://{}".format(parts.scheme, parts.netloc)
    return vault, coll, rest[0], (rest[1] if len(rest) == 2 else "")


class KeyVaultIdentifier:
    """A parsed (or composed) identifier of an object in a Key Vault or managed HSM.

    KeyVaultIdentifier(uri=URL[, collection=C]) parses; KeyVaultIdentifier(vault=V,
    collection=C, name=N[, version=X]) composes. Attributes: vault (base URL without a trailing
    slash), collection, name, version ("" when absent), base_id (without the version) and id.
    """

    def __init__(self, uri=None, vault=None, collection=None, name=None, version=None):
        if uri:
            vault, collection, name, version = parse_vault_object_id(uri, collection)
        else:
            if not vault or not collection or not name:
                raise ValueError("a Key Vault identifier needs a uri, or vault, collection "
                                 "and name")
            vault = str(vault).strip().rstrip("/")
            if "://" not in vault:
                raise ValueError("invalid vault URL {!r}".format(vault))
            collection = str(collection).strip("/")
            name = str(name)
        self.vault = vault
        self.collection = collection
        self.name = name
        self.version = version or ""

    @property
    def base_id(self):
        return "{}/{}/{}".format(self.vault, self.collection, self.name)

    @property
    def id(self):
        return "{}/{}".format(self.base_id, self.version) if self.version else self.base_id

    @property
    def version_none(self):
        """The version, or None when the identifier names the latest version."""
        return self.version or None

    def __str__(self):
        return self.id

    def __repr__(self):
        return "{}({!r})".format(type(self).__name__, self.id)

    def __eq__(self, other):
        return isinstance(other, KeyVaultIdentifier) and self.id.lower() == other.id.lower()

    def __hash__(self):
        return hash(self.id.lower())


class _CollectionId(KeyVaultIdentifier):
    _collection = None

    def __init__(self, uri=None, vault=None, name=None, version=None):
        super().__init__(uri=uri, vault=vault, collection=self._collection, name=name,
                         version=version)


class KeyId(_CollectionId):
    """`{vault}/keys/{name}[/{version}]`"""
    _collection = "keys"


class SecretId(_CollectionId):
    """`{vault}/secrets/{name}[/{version}]`"""
    _collection = "secrets"


class CertificateId(_CollectionId):
    """`{vault}/certificates/{name}[/{version}]`"""
    _collection = "certificates"


class StorageAccountId(_CollectionId):
    """`{vault}/storage/{name}`"""
    _collection = "storage"


class CertificateOperationId(KeyVaultIdentifier):
    """`{vault}/certificates/{name}/pending`"""

    def __init__(self, uri=None, vault=None, name=None):
        super().__init__(uri=uri, vault=vault, collection="certificates", name=name,
                         version=None if uri else "pending")
        if self.version.lower() != "pending":
            raise ValueError("invalid certificate operation id {!r}".format(self.id))


class KeyVaultId:
    """Factory helpers: create_<kind>_id(vault, name[, version]) and parse_<kind>_id(uri)."""

    @staticmethod
    def create_object_id(collection, vault, name, version=None):
        return KeyVaultIdentifier(vault=vault, collection=collection, name=name, version=version)

    @staticmethod
    def parse_object_id(collection, uri):
        return KeyVaultIdentifier(uri=uri, collection=collection)

    @staticmethod
    def create_key_id(vault, name, version=None):
        return KeyId(vault=vault, name=name, version=version)

    @staticmethod
    def parse_key_id(uri):
        return KeyId(uri=uri)

    @staticmethod
    def create_secret_id(vault, name, version=None):
        return SecretId(vault=vault, name=name, version=version)

    @staticmethod
    def parse_secret_id(uri):
        return SecretId(uri=uri)

    @staticmethod
    def create_certificate_id(vault, name, version=None):
        return CertificateId(vault=vault, name=name, version=version)

    @staticmethod
    def parse_certificate_id(uri):
        return CertificateId(uri=uri)

    @staticmethod
    def create_certificate_operation_id(vault, name):
        return CertificateOperationId(vault=vault, name=name)

    @staticmethod
    def parse_certificate_operation_id(uri):
        return CertificateOperationId(uri=uri)

    @staticmethod
    def create_storage_account_id(vault, name):
        return StorageAccountId(vault=vault, name=name)

    @staticmethod
    def parse_storage_account_id(uri):
        return StorageAccountId(uri=uri)
