"""KMS on the server's port (JSON 1.1, ``X-Amz-Target: TrentService.<Op>``).

Symmetric keys only, with real AES-256-GCM: see keystore.py for how key material is
kept (sealed by the server's master key) and handlers.py for the operations. The same
`KeyStore` is the key provider of DynamoDB's encryption at rest (engine/crypto.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from dynastore.server.service import Service
from dynastore.services.base import model_service
from dynastore.services.kms.handlers import KmsApi
from dynastore.services.kms.keystore import KeyStore, MasterKey
from dynastore.storage.base import Backend

__all__ = ["KeyStore", "MasterKey", "kms_service", "open_keystore"]

log = logging.getLogger("dynastore")


def open_keystore(backend: Backend, data_dir: Path) -> KeyStore:
    """The store's KMS keys, sealed by the master key of `data_dir` (or the environment).

    Raises `MasterKeyError` when the key is not the store's."""
    master = MasterKey.load(data_dir)
    store = KeyStore(backend, master)
    store.check_master_key()
    log.info("KMS master key from %s, fingerprint %s", master.source, master.fingerprint)
    return store


def kms_service(store: KeyStore, backend: Backend) -> Service:
    """The KMS service over `store`."""
    api = KmsApi(store, backend)
    operations = {
        "CreateKey": api.create_key,
        "DescribeKey": api.describe_key,
        "ListKeys": api.list_keys,
        "UpdateKeyDescription": api.update_key_description,
        "EnableKey": api.enable_key,
        "DisableKey": api.disable_key,
        "ScheduleKeyDeletion": api.schedule_key_deletion,
        "CancelKeyDeletion": api.cancel_key_deletion,
        "EnableKeyRotation": api.enable_key_rotation,
        "DisableKeyRotation": api.disable_key_rotation,
        "GetKeyRotationStatus": api.get_key_rotation_status,
        "GetKeyPolicy": api.get_key_policy,
        "PutKeyPolicy": api.put_key_policy,
        "ListKeyPolicies": api.list_key_policies,
        "TagResource": api.tag_resource,
        "UntagResource": api.untag_resource,
        "ListResourceTags": api.list_resource_tags,
        "CreateAlias": api.create_alias,
        "UpdateAlias": api.update_alias,
        "DeleteAlias": api.delete_alias,
        "ListAliases": api.list_aliases,
        "Encrypt": api.encrypt,
        "Decrypt": api.decrypt,
        "ReEncrypt": api.re_encrypt,
        "GenerateDataKey": api.generate_data_key,
        "GenerateDataKeyWithoutPlaintext": api.generate_data_key_without_plaintext,
        "GenerateRandom": api.generate_random,
    }
    return model_service("kms", operations)
