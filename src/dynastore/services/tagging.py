"""TagResource, UntagResource and ListTags over stored records found by ARN.

`Tagging`: records that keep their tags in a ``Tags`` map (Application Auto Scaling
targets, AWS Backup vaults and plans). `TagList`: records that keep them as a ``Tags``
list of {Key, Value} (CloudWatch alarms, SNS topics)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dynastore.server.service import RequestContext
from dynastore.storage.base import Backend, ReadTx, WriteTx

Record = dict[str, Any]
Change = Callable[[dict[str, str]], None]


@dataclass(frozen=True, slots=True)
class Tagging:
    """The tag operations of one service.

    `find` gives the (storage key, record) an ARN names, or None (then `missing(arn)` is
    raised); `save` stores a changed record; `check(tags, arn)` vets tags after a change.
    `arn` and `keys` are the request members naming the resource and the tag keys to
    remove, as the service's model spells them.
    """

    backend: Backend
    find: Callable[[ReadTx, str], tuple[bytes, Record] | None]
    save: Callable[[WriteTx, bytes, Record], None]
    missing: Callable[[str], Exception]
    arn: str = "ResourceArn"
    keys: str = "TagKeys"
    check: Callable[[dict[str, str], str], None] | None = None

    def tags(self, arn: str, change: Change | None = None) -> dict[str, str]:
        """The resource's tags, after `change` (applied, vetted and stored) if given."""
        with self.backend.write() as tx:
            found = self.find(tx, arn)
            if found is None:
                raise self.missing(arn)
            key, record = found
            tags: dict[str, str] = record.setdefault("Tags", {})
            if change is not None:
                change(tags)
                if self.check is not None:
                    self.check(tags, arn)
                self.save(tx, key, record)
            return dict(tags)

    def tag_resource(self, ctx: RequestContext, req: Record) -> Record:
        self.tags(req[self.arn], lambda tags: tags.update(req["Tags"]))
        return {}

    def untag_resource(self, ctx: RequestContext, req: Record) -> Record:
        def drop(tags: dict[str, str]) -> None:
            for name in req[self.keys]:
                tags.pop(name, None)

        self.tags(req[self.arn], drop)
        return {}

    def list_tags(self, ctx: RequestContext, req: Record) -> Record:
        return {"Tags": self.tags(req[self.arn])}


@dataclass(frozen=True, slots=True)
class TagList:
    """The tag operations of one service whose records keep a ``Tags`` list.

    `find(tx, ctx, arn)` gives the record an ARN names (or raises the service's error);
    `save(tx, ctx, record)` stores a changed record; `check(tags)` vets the tags TagResource
    leaves. `arn` is the request member naming the resource, as the service's model spells
    it.
    """

    backend: Backend
    find: Callable[[ReadTx, RequestContext, str], Record]
    save: Callable[[WriteTx, RequestContext, Record], None]
    check: Callable[[dict[str, str]], None]
    arn: str = "ResourceArn"

    def tag_resource(self, ctx: RequestContext, req: Record) -> Record:
        with self.backend.write() as tx:
            record = self.find(tx, ctx, req[self.arn])
            tags = tag_map(record.get("Tags", [])) | tag_map(req["Tags"])
            self.check(tags)
            record["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
            self.save(tx, ctx, record)
        return {}

    def untag_resource(self, ctx: RequestContext, req: Record) -> Record:
        with self.backend.write() as tx:
            record = self.find(tx, ctx, req[self.arn])
            drop = set(req["TagKeys"])
            record["Tags"] = [t for t in record.get("Tags", []) if t["Key"] not in drop]
            self.save(tx, ctx, record)
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, req: Record) -> Record:
        with self.backend.read() as tx:
            record = self.find(tx, ctx, req[self.arn])
        return {"Tags": record.get("Tags", [])}


def tag_map(tags: list[dict[str, Any]]) -> dict[str, str]:
    """A ``Tags`` list of {Key, Value} as a map (a later key wins)."""
    return {str(t["Key"]): str(t["Value"]) for t in tags}
