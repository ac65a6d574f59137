"""The KMS operations (symmetric keys), over services/kms/keystore.py.

Keys are resolved from the KeyId forms each operation accepts (the cryptographic
operations, DescribeKey: id, ARN, alias name, alias ARN; the others: id or ARN only) in
a read snapshot first; a change then re-reads the key inside its write transaction.
Error types and texts are KMS's (NotFoundException "Key '<arn>' does not exist",
DisabledException "<arn> is disabled.", KMSInvalidStateException "<arn> is pending
deletion.", ...).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

import orjson

from dynastore.errors import (
    AlreadyExistsException,
    IncorrectKeyException,
    InvalidMarkerException,
    KMSInvalidStateException,
    KmsValidationException,
    MalformedPolicyDocumentException,
    NotAuthorizedException,
    NotFoundException,
    TagException,
    UnsupportedOperationException,
)
from dynastore.server.service import Request, RequestContext, Result
from dynastore.services.kms.keystore import (
    KeyRecord,
    KeyStore,
    alias_arn,
    blob_key,
    usable,
)
from dynastore.storage.base import Backend, WriteTx

DAY = 86400.0
DEFAULT_LIMIT = 100
_RESERVED_ALIAS = "alias/aws/"
_DATA_KEY_BYTES = {"AES_256": 32, "AES_128": 16}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _page(
    items: list[Any], req: Request, marker_of: Callable[[Any], str]
) -> tuple[list[Any], Result]:
    """One page of `items` after the request's Marker, and the Truncated/NextMarker fields."""
    limit = int(req.get("Limit") or DEFAULT_LIMIT)
    marker = req.get("Marker")
    if marker is not None:
        markers = [marker_of(item) for item in items]
        if marker not in markers:
            raise InvalidMarkerException("Invalid marker")
        items = items[markers.index(marker) + 1 :]
    page = items[:limit]
    extra: Result = {"Truncated": len(items) > limit}
    if len(items) > limit:
        extra["NextMarker"] = marker_of(page[-1])
    return page, extra


def _check_alias_name(name: str) -> None:
    if not name.startswith("alias/"):
        raise KmsValidationException("Invalid identifier")
    if name.startswith(_RESERVED_ALIAS):
        raise NotAuthorizedException()


def _check_policy(policy: str) -> None:
    try:
        parsed = orjson.loads(policy)
    except orjson.JSONDecodeError:
        raise MalformedPolicyDocumentException("The policy document is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise MalformedPolicyDocumentException("Policy document must be a JSON object")


def _metadata(record: KeyRecord) -> Result:
    """DescribeKey's KeyMetadata of a key. PendingDeletionWindowInDays belongs to
    multi-Region primary keys only; earlier versions stored it for every key."""
    return {k: v for k, v in record.meta.items() if k != "PendingDeletionWindowInDays"}


def _check_tags(tags: list[dict[str, str]]) -> None:
    for tag in tags:
        if tag.get("TagKey", "").startswith("aws:"):
            raise TagException("Tags beginning with aws: are reserved.")


class KmsApi:
    """Every supported KMS operation, as protocol-neutral handlers."""

    def __init__(self, store: KeyStore, backend: Backend) -> None:
        self._store = store
        self._backend = backend

    # --- helpers ------------------------------------------------------------------------

    def _find(self, ctx: RequestContext, identifier: str, *, aliases: bool = True) -> KeyRecord:
        """The key `identifier` names; without `aliases`, only a key id or key ARN does."""
        with self._backend.read() as tx:
            return self._store.find(tx, ctx.account, ctx.region, identifier, aliases=aliases)

    def _key(self, ctx: RequestContext, identifier: str) -> KeyRecord:
        """The key of an operation that takes only a key id or key ARN."""
        return self._find(ctx, identifier, aliases=False)

    def _change(
        self, ctx: RequestContext, identifier: str, apply: Callable[[WriteTx, KeyRecord], None]
    ) -> KeyRecord:
        """Re-read the key in a write transaction, apply a change, save it (every such
        operation takes only a key id or key ARN)."""
        found = self._key(ctx, identifier)
        with self._backend.write() as tx:
            record = self._store.load(tx, found.account, found.region, found.key_id)
            if record is None:
                raise NotFoundException(f"Key '{found.arn}' does not exist")
            apply(tx, record)
            self._store.save(tx, record)
        self._store.notify(record)
        return record

    @staticmethod
    def _not_pending(record: KeyRecord) -> None:
        if record.state == "PendingDeletion":
            raise KMSInvalidStateException(f"{record.arn} is pending deletion.")

    # --- keys ---------------------------------------------------------------------------

    def create_key(self, ctx: RequestContext, req: Request) -> Result:
        spec = req.get("KeySpec") or req.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
        if spec != "SYMMETRIC_DEFAULT" or req.get("KeyUsage", "ENCRYPT_DECRYPT") != (
            "ENCRYPT_DECRYPT"
        ):
            raise UnsupportedOperationException(
                f"KeySpec {spec} with KeyUsage {req.get('KeyUsage')} is not supported here; "
                "only symmetric encryption keys (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) are."
            )
        if req.get("Origin", "AWS_KMS") != "AWS_KMS" or req.get("MultiRegion"):
            raise UnsupportedOperationException(
                "Only single-Region keys with Origin AWS_KMS are supported here."
            )
        policy = req.get("Policy")
        if policy is not None:
            _check_policy(policy)
        tags = req.get("Tags") or []
        _check_tags(tags)
        with self._backend.write() as tx:
            record = self._store.new_key(
                tx,
                ctx.account,
                ctx.region,
                description=req.get("Description", ""),
                policy=policy,
                tags=tags,
            )
        return {"KeyMetadata": _metadata(record)}

    def describe_key(self, ctx: RequestContext, req: Request) -> Result:
        return {"KeyMetadata": _metadata(self._find(ctx, req["KeyId"]))}

    def list_keys(self, ctx: RequestContext, req: Request) -> Result:
        with self._backend.read() as tx:
            records = list(self._store.keys(tx, ctx.account, ctx.region))
        page, extra = _page(records, req, lambda r: r.key_id)
        return {"Keys": [{"KeyId": r.key_id, "KeyArn": r.arn} for r in page], **extra}

    def update_key_description(self, ctx: RequestContext, req: Request) -> Result:
        return self._set_meta(ctx, req["KeyId"], {"Description": req["Description"]})

    def enable_key(self, ctx: RequestContext, req: Request) -> Result:
        return self._set_meta(ctx, req["KeyId"], {"Enabled": True, "KeyState": "Enabled"})

    def disable_key(self, ctx: RequestContext, req: Request) -> Result:
        return self._set_meta(ctx, req["KeyId"], {"Enabled": False, "KeyState": "Disabled"})

    def _set_meta(self, ctx: RequestContext, key_id: str, fields: dict[str, Any]) -> Result:
        """Set metadata fields of a key that is not pending deletion."""

        def apply(tx: WriteTx, record: KeyRecord) -> None:
            self._not_pending(record)
            record.meta.update(fields)

        self._change(ctx, key_id, apply)
        return {}

    def schedule_key_deletion(self, ctx: RequestContext, req: Request) -> Result:
        days = int(req.get("PendingWindowInDays") or 30)
        if not 7 <= days <= 30:
            bound = "greater than or equal to 7" if days < 7 else "less than or equal to 30"
            raise KmsValidationException(
                f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' "
                f"failed to satisfy constraint: Member must have value {bound}"
            )

        def apply(tx: WriteTx, record: KeyRecord) -> None:
            self._not_pending(record)
            record.meta.update(
                Enabled=False,
                KeyState="PendingDeletion",
                DeletionDate=self._store.clock() + days * DAY,
            )

        record = self._change(ctx, req["KeyId"], apply)
        return {
            "KeyId": record.arn,
            "DeletionDate": record.meta["DeletionDate"],
            "KeyState": "PendingDeletion",
            "PendingWindowInDays": days,
        }

    def cancel_key_deletion(self, ctx: RequestContext, req: Request) -> Result:
        def apply(tx: WriteTx, record: KeyRecord) -> None:
            if record.state != "PendingDeletion":
                raise KMSInvalidStateException(f"{record.arn} is not pending deletion.")
            record.meta["KeyState"] = "Disabled"
            record.meta.pop("DeletionDate", None)
            record.meta.pop("PendingDeletionWindowInDays", None)

        return {"KeyId": self._change(ctx, req["KeyId"], apply).arn}

    # --- rotation -------------------------------------------------------------------------

    def enable_key_rotation(self, ctx: RequestContext, req: Request) -> Result:
        def apply(tx: WriteTx, record: KeyRecord) -> None:
            usable(record)
            period = int(req.get("RotationPeriodInDays") or 365)
            record.rotation = {"enabled": True, "period": period, "since": self._store.clock()}

        self._change(ctx, req["KeyId"], apply)
        return {}

    def disable_key_rotation(self, ctx: RequestContext, req: Request) -> Result:
        def apply(tx: WriteTx, record: KeyRecord) -> None:
            usable(record)
            record.rotation = {**record.rotation, "enabled": False}

        self._change(ctx, req["KeyId"], apply)
        return {}

    def get_key_rotation_status(self, ctx: RequestContext, req: Request) -> Result:
        record = self._key(ctx, req["KeyId"])
        rotation = record.rotation
        # A key pending deletion answers false; cancelling the deletion restores the status.
        enabled = bool(rotation.get("enabled")) and record.state != "PendingDeletion"
        out: Result = {"KeyRotationEnabled": enabled, "KeyId": record.key_id}
        if enabled:
            period = int(rotation.get("period", 365))
            since = float(rotation.get("since", record.meta["CreationDate"]))
            out["RotationPeriodInDays"] = period
            out["NextRotationDate"] = since + period * DAY
        return out

    # --- policies -------------------------------------------------------------------------

    def get_key_policy(self, ctx: RequestContext, req: Request) -> Result:
        record = self._key(ctx, req["KeyId"])
        name = req.get("PolicyName") or "default"
        if name != "default":
            raise NotFoundException("No such policy exists")
        return {"Policy": record.policy, "PolicyName": "default"}

    def put_key_policy(self, ctx: RequestContext, req: Request) -> Result:
        if (req.get("PolicyName") or "default") != "default":
            raise NotFoundException("No such policy exists")
        _check_policy(req["Policy"])

        def apply(tx: WriteTx, record: KeyRecord) -> None:  # any key state, as in KMS
            record.policy = req["Policy"]

        self._change(ctx, req["KeyId"], apply)
        return {}

    def list_key_policies(self, ctx: RequestContext, req: Request) -> Result:
        self._key(ctx, req["KeyId"])
        return {"PolicyNames": ["default"], "Truncated": False}

    # --- tags -----------------------------------------------------------------------------

    def tag_resource(self, ctx: RequestContext, req: Request) -> Result:
        tags: list[dict[str, str]] = req["Tags"]
        _check_tags(tags)

        def apply(tx: WriteTx, record: KeyRecord) -> None:
            self._not_pending(record)
            merged = {t["TagKey"]: t["TagValue"] for t in record.tags}
            merged.update((t["TagKey"], t["TagValue"]) for t in tags)
            record.tags = [{"TagKey": k, "TagValue": v} for k, v in merged.items()]

        self._change(ctx, req["KeyId"], apply)
        return {}

    def untag_resource(self, ctx: RequestContext, req: Request) -> Result:
        drop = set(req["TagKeys"])

        def apply(tx: WriteTx, record: KeyRecord) -> None:
            self._not_pending(record)
            record.tags = [t for t in record.tags if t["TagKey"] not in drop]

        self._change(ctx, req["KeyId"], apply)
        return {}

    def list_resource_tags(self, ctx: RequestContext, req: Request) -> Result:
        record = self._key(ctx, req["KeyId"])
        page, extra = _page(record.tags, req, lambda t: t["TagKey"])
        return {"Tags": page, **extra}

    # --- aliases --------------------------------------------------------------------------

    def _target(self, ctx: RequestContext, target: str) -> KeyRecord:
        if target.startswith("alias/") or ":alias/" in target:
            raise KmsValidationException("Aliases must refer to keys. Not aliases")
        record = self._key(ctx, target)
        self._not_pending(record)
        return record

    def create_alias(self, ctx: RequestContext, req: Request) -> Result:
        name = req["AliasName"]
        _check_alias_name(name)
        if ":" in name:  # the model's pattern allows a colon; KMS does not
            raise KmsValidationException(f"{name} contains invalid characters for an alias")
        record = self._target(ctx, req["TargetKeyId"])
        with self._backend.write() as tx:
            if self._store.alias(tx, ctx.account, ctx.region, name) is not None:
                raise AlreadyExistsException(
                    f"An alias with the name {alias_arn(ctx.region, ctx.account, name)} "
                    "already exists"
                )
            now = self._store.clock()
            entry = {"target": record.key_id, "created": now, "updated": now}
            self._store.put_alias(tx, ctx.account, ctx.region, name, entry)
        return {}

    def update_alias(self, ctx: RequestContext, req: Request) -> Result:
        name = req["AliasName"]
        _check_alias_name(name)
        record = self._target(ctx, req["TargetKeyId"])
        with self._backend.write() as tx:
            entry = self._store.alias(tx, ctx.account, ctx.region, name)
            if entry is None:
                raise NotFoundException(
                    f"Alias {alias_arn(ctx.region, ctx.account, name)} is not found."
                )
            entry.update(target=record.key_id, updated=self._store.clock())
            self._store.put_alias(tx, ctx.account, ctx.region, name, entry)
        return {}

    def delete_alias(self, ctx: RequestContext, req: Request) -> Result:
        name = req["AliasName"]
        _check_alias_name(name)
        with self._backend.write() as tx:
            if self._store.alias(tx, ctx.account, ctx.region, name) is None:
                raise NotFoundException(
                    f"Alias {alias_arn(ctx.region, ctx.account, name)} is not found."
                )
            self._store.delete_alias(tx, ctx.account, ctx.region, name)
        return {}

    def list_aliases(self, ctx: RequestContext, req: Request) -> Result:
        only: str | None = None
        if req.get("KeyId"):
            only = self._key(ctx, req["KeyId"]).key_id
        with self._backend.read() as tx:
            entries = []
            for name, entry in self._store.aliases(tx, ctx.account, ctx.region):
                if only is not None and entry["target"] != only:
                    continue
                if self._store.load(tx, ctx.account, ctx.region, entry["target"]) is None:
                    continue  # its key was deleted
                entries.append(
                    {
                        "AliasName": name,
                        "AliasArn": alias_arn(ctx.region, ctx.account, name),
                        "TargetKeyId": entry["target"],
                        "CreationDate": entry["created"],
                        "LastUpdatedDate": entry["updated"],
                    }
                )
        page, extra = _page(entries, req, lambda e: e["AliasName"])
        return {"Aliases": page, **extra}

    # --- cryptography ---------------------------------------------------------------------

    def encrypt(self, ctx: RequestContext, req: Request) -> Result:
        record = self._find(ctx, req["KeyId"])
        plaintext = base64.b64decode(req["Plaintext"])
        blob = self._store.encrypt(record, plaintext, req.get("EncryptionContext"))
        return {
            "CiphertextBlob": _b64(blob),
            "KeyId": record.arn,
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }

    def _decrypt(
        self, ctx: RequestContext, blob_b64: str, key_id: str | None, context: Any
    ) -> tuple[KeyRecord, bytes]:
        blob = base64.b64decode(blob_b64)
        blob_id, _ = blob_key(blob)
        record = self._find(ctx, blob_id)
        if key_id is not None and self._find(ctx, key_id).key_id != record.key_id:
            raise IncorrectKeyException()
        return record, self._store.decrypt(record, blob, context)

    def decrypt(self, ctx: RequestContext, req: Request) -> Result:
        if not req.get("CiphertextBlob"):
            raise KmsValidationException(
                "1 validation error detected: Value null at 'ciphertextBlob' failed to "
                "satisfy constraint: Member must not be null"
            )
        record, plaintext = self._decrypt(
            ctx, req["CiphertextBlob"], req.get("KeyId"), req.get("EncryptionContext")
        )
        return {
            "KeyId": record.arn,
            "Plaintext": _b64(plaintext),
            "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }

    def re_encrypt(self, ctx: RequestContext, req: Request) -> Result:
        source, plaintext = self._decrypt(
            ctx,
            req["CiphertextBlob"],
            req.get("SourceKeyId"),
            req.get("SourceEncryptionContext"),
        )
        target = self._find(ctx, req["DestinationKeyId"])
        blob = self._store.encrypt(target, plaintext, req.get("DestinationEncryptionContext"))
        return {
            "CiphertextBlob": _b64(blob),
            "SourceKeyId": source.arn,
            "KeyId": target.arn,
            "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }

    def _data_key(self, ctx: RequestContext, req: Request) -> tuple[KeyRecord, bytes, bytes]:
        count = req.get("NumberOfBytes")
        spec = req.get("KeySpec")
        if (count is None) == (spec is None):
            raise KmsValidationException("Please specify either number of bytes or key spec.")
        size = int(count) if count is not None else _DATA_KEY_BYTES[str(spec)]
        record = self._find(ctx, req["KeyId"])
        plaintext = os.urandom(size)
        blob = self._store.encrypt(record, plaintext, req.get("EncryptionContext"))
        return record, plaintext, blob

    def generate_data_key(self, ctx: RequestContext, req: Request) -> Result:
        record, plaintext, blob = self._data_key(ctx, req)
        return {"CiphertextBlob": _b64(blob), "Plaintext": _b64(plaintext), "KeyId": record.arn}

    def generate_data_key_without_plaintext(self, ctx: RequestContext, req: Request) -> Result:
        record, _, blob = self._data_key(ctx, req)
        return {"CiphertextBlob": _b64(blob), "KeyId": record.arn}

    def generate_random(self, ctx: RequestContext, req: Request) -> Result:
        count = req.get("NumberOfBytes")
        if count is None:
            raise KmsValidationException("Please specify the number of bytes.")
        return {"Plaintext": _b64(os.urandom(int(count)))}
