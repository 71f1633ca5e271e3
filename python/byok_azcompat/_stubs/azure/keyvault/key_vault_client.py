"""Stand-in for the track-1 Key Vault client `azure.keyvault.key_vault_client` (azure-keyvault 1.x),
which Debian's azure-cli 2.45 uses but does not ship.

`az keyvault key list|list-versions|list-deleted|show-deleted|delete|recover|purge|backup|restore`
run `azure.keyvault.key_vault_client#KeyVaultClient.<operation>` with a client made by
`from azure.keyvault import KeyVaultAuthentication, KeyVaultClient` (the CLI's data-plane client
factory). This module implements those key operations with the track-1 signatures, so the CLI
builds the same arguments and prints the same shapes (KeyItem, KeyBundle, DeletedKeyBundle with
snake_case attributes and datetime times), over plain `requests` with Key Vault's challenge
authentication: the first request goes out without a token, the 401's WWW-Authenticate names
the authority and resource, and the CLI's callback returns a token for that resource.

Served by byok's sitecustomize only when no real module of this name exists. Secret, certificate
and storage-account operations of the track-1 client are not provided.
"""
import datetime
import importlib
import json
import re

import requests

_API_VERSION = "7.2"


class KeyVaultErrorException(Exception):
    """A Key Vault error response; `inner_exception.error.message` is what the CLI prints."""

    def __init__(self, response):
        code, message = "Unknown", response.text
        try:
            error = response.json().get("error", {})
            code = error.get("code", code)
            message = error.get("message", message)
            inner = (error.get("innererror") or {}).get("code")
            if inner:
                code = "{}/{}".format(code, inner) if code != inner else code
        except ValueError:
            pass
        text = "({}) {}".format(code, message)
        super().__init__(text)
        self.response = response
        self.status_code = response.status_code
        self.inner_exception = _Object(error=_Object(code=code, message=text))


class _Object:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class KeyVaultAuthentication:
    """Holds the CLI's token callback: callback(server, resource, scope) -> (scheme, token, ...)."""

    def __init__(self, authorization_callback=None, credentials=None):
        self._callback = authorization_callback
        self._credentials = credentials


def _time(value):
    if value is None:
        return None
    return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)


def _attributes(a):
    a = a or {}
    return _Object(enabled=a.get("enabled"), not_before=_time(a.get("nbf")),
                   expires=_time(a.get("exp")), created=_time(a.get("created")),
                   updated=_time(a.get("updated")), recoverable_days=a.get("recoverableDays"),
                   recovery_level=a.get("recoveryLevel"))


def _key(k):
    k = k or {}
    names = ("kid", "kty", "key_ops", "n", "e", "d", "dp", "dq", "qi", "p", "q", "k", "t",
             "crv", "x", "y")
    return _Object(**{n: k.get(n) for n in names})


def _key_item(j):
    return _Object(kid=j.get("kid"), attributes=_attributes(j.get("attributes")),
                   tags=j.get("tags"), managed=j.get("managed"))


def _deleted_key_item(j):
    item = _key_item(j)
    item.recovery_id = j.get("recoveryId")
    item.scheduled_purge_date = _time(j.get("scheduledPurgeDate"))
    item.deleted_date = _time(j.get("deletedDate"))
    return item


def _key_bundle(j):
    return _Object(key=_key(j.get("key")), attributes=_attributes(j.get("attributes")),
                   tags=j.get("tags"), managed=j.get("managed"))


def _deleted_key_bundle(j):
    bundle = _key_bundle(j)
    bundle.recovery_id = j.get("recoveryId")
    bundle.scheduled_purge_date = _time(j.get("scheduledPurgeDate"))
    bundle.deleted_date = _time(j.get("deletedDate"))
    return bundle


def _b64url_decode(text):
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url_encode(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class KeyVaultClient:
    """The key operations of the track-1 KeyVaultClient (see the module docstring)."""

    def __init__(self, credentials, api_version=None, profile=None):  # pylint: disable=unused-argument
        self._credentials = credentials
        self._session = requests.Session()
        self._token = None
        self._client = _Object(config=_Object(connection=_Object(verify=True)))

    # ---- transport ----

    def _authorize(self, response):
        header = response.headers.get("WWW-Authenticate", "")
        params = dict(_CHALLENGE_PARAM.findall(header))
        server = params.get("authorization") or params.get("authorization_uri", "")
        resource = params.get("resource", "")
        scope = params.get("scope", "")
        callback = getattr(self._credentials, "_callback", None)
        if callback is None:
            raise KeyVaultErrorException(response)
        token = callback(server, resource, scope)
        scheme, value = (token[0], token[1]) if isinstance(token, (tuple, list)) else ("Bearer", token)
        self._token = "{} {}".format(scheme, value)

    def _send(self, method, url, body=None):
        if "api-version=" not in url:
            url += ("&" if "?" in url else "?") + "api-version=" + _API_VERSION
        verify = self._client.config.connection.verify
        for _ in range(2):
            headers = {"Accept": "application/json"}
            if self._token:
                headers["Authorization"] = self._token
            data = None
            if body is not None and self._token:
                headers["Content-Type"] = "application/json"
                data = json.dumps(body)
            response = self._session.request(method, url, headers=headers, data=data,
                                              verify=verify, timeout=120)
            if response.status_code == 401 and "WWW-Authenticate" in response.headers:
                self._authorize(response)
                continue
            break
        if response.status_code >= 400:
            raise KeyVaultErrorException(response)
        return response.json() if response.content else None

    def _url(self, vault_base_url, path):
        return vault_base_url.rstrip("/") + path

    def _pages(self, url, maxresults, make):
        if maxresults:
            url += "?maxresults={}".format(int(maxresults))
        items = []
        while url:
            page = self._send("GET", url) or {}
            items.extend(make(v) for v in page.get("value", []))
            url = page.get("nextLink")
        return items

    # ---- key operations (track-1 signatures) ----

    def get_keys(self, vault_base_url, maxresults=None, custom_headers=None, raw=False,
                 **operation_config):
        """List keys in the specified vault."""
        return self._pages(self._url(vault_base_url, "/keys"), maxresults, _key_item)

    def get_key_versions(self, vault_base_url, key_name, maxresults=None, custom_headers=None,
                         raw=False, **operation_config):
        """Retrieves a list of individual key versions with the same key name."""
        return self._pages(self._url(vault_base_url, "/keys/{}/versions".format(key_name)),
                           maxresults, _key_item)

    def get_deleted_keys(self, vault_base_url, maxresults=None, custom_headers=None, raw=False,
                         **operation_config):
        """Lists the deleted keys in the specified vault."""
        return self._pages(self._url(vault_base_url, "/deletedkeys"), maxresults,
                           _deleted_key_item)

    def get_deleted_key(self, vault_base_url, key_name, custom_headers=None, raw=False,
                        **operation_config):
        """Gets the public part of a deleted key."""
        return _deleted_key_bundle(
            self._send("GET", self._url(vault_base_url, "/deletedkeys/" + key_name)))

    def delete_key(self, vault_base_url, key_name, custom_headers=None, raw=False,
                   **operation_config):
        """Deletes a key of any type from storage in Azure Key Vault."""
        return _deleted_key_bundle(
            self._send("DELETE", self._url(vault_base_url, "/keys/" + key_name)))

    def purge_deleted_key(self, vault_base_url, key_name, custom_headers=None, raw=False,
                          **operation_config):
        """Permanently deletes the specified key."""
        self._send("DELETE", self._url(vault_base_url, "/deletedkeys/" + key_name))

    def recover_deleted_key(self, vault_base_url, key_name, custom_headers=None, raw=False,
                            **operation_config):
        """Recovers the deleted key to its latest version."""
        return _key_bundle(self._send(
            "POST", self._url(vault_base_url, "/deletedkeys/{}/recover".format(key_name)), {}))

    def backup_key(self, vault_base_url, key_name, custom_headers=None, raw=False,
                   **operation_config):
        """Requests that a backup of the specified key be downloaded to the client."""
        result = self._send("POST", self._url(vault_base_url, "/keys/{}/backup".format(key_name)),
                            {})
        return _Object(value=_b64url_decode(result["value"]))

    def restore_key(self, vault_base_url, key_bundle_backup, custom_headers=None, raw=False,
                    **operation_config):
        """Restores a backed up key to a vault."""
        return _key_bundle(self._send("POST", self._url(vault_base_url, "/keys/restore"),
                                      {"value": _b64url_encode(key_bundle_backup)}))


# `from azure.keyvault import KeyVaultAuthentication, KeyVaultClient` (the CLI's client factory).
_parent = importlib.import_module("azure.keyvault")
for _attr, _obj in (("KeyVaultClient", KeyVaultClient),
                    ("KeyVaultAuthentication", KeyVaultAuthentication)):
    if not hasattr(_parent, _attr):
        setattr(_parent, _attr, _obj)
