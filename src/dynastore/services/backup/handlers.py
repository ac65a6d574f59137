"""The AWS Backup operations: vaults, plans, selections, tags, and on-demand backup jobs
of DynamoDB tables.

A backup job is a DynamoDB backup (engine/backups.py, BackupType AWS_BACKUP) taken with
the engine's own backup path; its recovery point is that backup, named by its DynamoDB
backup ARN, as AWS Backup does for tables without advanced features. Plans and
selections are stored and answered as AWS Backup does (defaults filled in: the daily
05:00 UTC schedule, an 8-hour start window, a 7-day completion window); this server
does not run plans on their schedules.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from dynastore.engine import backups, restore
from dynastore.engine.backups import Backup
from dynastore.engine.catalog import TableDef
from dynastore.engine.engine import Engine
from dynastore.errors import (
    AlreadyExistsException,
    AwsError,
    InvalidParameterValueException,
    InvalidRequestException,
    ResourceNotFoundException,
)
from dynastore.ops import backups as backup_ops
from dynastore.server.service import Request, RequestContext, Result
from dynastore.services import paging
from dynastore.services.backup import store
from dynastore.services.backup.store import Record
from dynastore.services.tagging import Tagging
from dynastore.storage.base import ReadTx
from dynastore.workers.backups import kick

MAX_RESULTS = 1000
DEFAULT_SCHEDULE = "cron(0 5 ? * * *)"
DEFAULT_START_WINDOW = 480
DEFAULT_COMPLETION_WINDOW = 10080
DEFAULT_TIMEZONE = "Etc/UTC"
JOB_STATES = {backups.CREATING: "RUNNING", backups.AVAILABLE: "COMPLETED"}
_EMPTY_CONDITIONS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")


def _version_id() -> str:
    return base64.b64encode(str(uuid.uuid4()).encode()).decode()


def _page(items: list[Record], req: Request, name: str) -> tuple[list[Record], str | None]:
    """One page of `items` after the request's NextToken (an opaque position)."""
    size = int(req.get("MaxResults") or MAX_RESULTS)
    if not 1 <= size <= MAX_RESULTS:
        raise InvalidParameterValueException(f"MaxResults must be between 1 and {MAX_RESULTS}")
    token = req.get("NextToken")
    start = 0
    if token:
        try:
            start = int(paging.position(token)[name])
        except (ValueError, KeyError, TypeError):
            raise InvalidParameterValueException("Invalid NextToken") from None
    more = start + size < len(items)
    return items[start : start + size], paging.token({name: start + size}) if more else None


def _vault_missing(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Backup vault {name} does not exist.")


def _plan_missing() -> ResourceNotFoundException:
    return ResourceNotFoundException("Failed reading Backup plan with provided version")


def _stored_plan(
    tx: ReadTx, ctx: RequestContext, plan_id: str, *, live: bool = True
) -> tuple[bytes, Record]:
    """(storage key, record) of a plan; not found when missing, or deleted and `live`."""
    key = store.plan_key(ctx.account, ctx.region, plan_id)
    found = store.get(tx, key)
    if found is None or (live and found.get("DeletionDate")):
        raise _plan_missing()
    return key, found


def _rules(rules: list[dict[str, Any]], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A plan's rules as GetBackupPlan shows them: ids and AWS's defaults filled in."""
    ids = {r["RuleName"]: r["RuleId"] for r in old}
    names: set[str] = set()
    out = []
    for rule in rules:
        name = rule["RuleName"]
        if name in names:
            raise InvalidParameterValueException(f"Duplicate rule name {name} in backup plan")
        names.add(name)
        stored = dict(rule)
        stored.setdefault("ScheduleExpression", DEFAULT_SCHEDULE)
        stored.setdefault("StartWindowMinutes", DEFAULT_START_WINDOW)
        stored.setdefault("CompletionWindowMinutes", DEFAULT_COMPLETION_WINDOW)
        stored.setdefault("ScheduleExpressionTimezone", DEFAULT_TIMEZONE)
        stored.setdefault("EnableContinuousBackup", False)
        lifecycle = stored.get("Lifecycle")
        if lifecycle:
            cold = lifecycle.get("MoveToColdStorageAfterDays")
            delete = lifecycle.get("DeleteAfterDays")
            if cold is not None and delete is not None and delete < cold + 90:
                raise InvalidParameterValueException(
                    "Invalid lifecycle. DeleteAfterDays cannot be less than 90 days apart from "
                    "MoveToColdStorageAfterDays"
                )
        stored["RuleId"] = ids.get(name) or str(uuid.uuid4())
        out.append(stored)
    return out


class BackupApi:
    """Every supported AWS Backup operation."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._backend = engine.backend
        self.tagging = Tagging(
            engine.backend,
            store.by_arn,
            store.put,
            lambda arn: ResourceNotFoundException(f"Resource not found: {arn}"),
            keys="TagKeyList",
        )

    def _now(self) -> float:
        return round(self._engine.clock(), 3)

    # --- vaults -----------------------------------------------------------------------

    def _vault(self, ctx: RequestContext, name: str) -> Record:
        with self._backend.read() as tx:
            found = store.get(tx, store.vault_key(ctx.account, ctx.region, name))
        if found is None:
            raise _vault_missing(name)
        return found

    def _recovery_points(self, ctx: RequestContext, vault: str) -> list[Record]:
        jobs = self._jobs(ctx)
        return [j for j in jobs if j["BackupVaultName"] == vault and j.get("_exists")]

    def create_backup_vault(self, ctx: RequestContext, req: Request) -> Result:
        name = req["BackupVaultName"]
        arn = f"arn:aws:backup:{ctx.region}:{ctx.account}:backup-vault:{name}"
        key = store.vault_key(ctx.account, ctx.region, name)
        with self._backend.write() as tx:
            if store.get(tx, key) is not None:
                raise AlreadyExistsException(
                    "Backup vault with the same name already exists", Arn=arn
                )
            record: Record = {
                "BackupVaultName": name,
                "BackupVaultArn": arn,
                "VaultType": "BACKUP_VAULT",
                "VaultState": "AVAILABLE",
                "EncryptionKeyArn": req.get("EncryptionKeyArn")
                or _default_key(ctx.account, ctx.region),
                "CreationDate": self._now(),
                "Locked": False,
                "Tags": dict(req.get("BackupVaultTags") or {}),
            }
            if req.get("CreatorRequestId"):
                record["CreatorRequestId"] = req["CreatorRequestId"]
            store.put(tx, key, record, arn)
        return {k: record[k] for k in ("BackupVaultName", "BackupVaultArn", "CreationDate")}

    def _vault_view(self, ctx: RequestContext, record: Record) -> Record:
        out = {k: v for k, v in record.items() if k != "Tags"}
        out["NumberOfRecoveryPoints"] = len(self._recovery_points(ctx, record["BackupVaultName"]))
        return out

    def describe_backup_vault(self, ctx: RequestContext, req: Request) -> Result:
        return self._vault_view(ctx, self._vault(ctx, req["BackupVaultName"]))

    def delete_backup_vault(self, ctx: RequestContext, req: Request) -> Result:
        name = req["BackupVaultName"]
        record = self._vault(ctx, name)
        if self._recovery_points(ctx, name):
            raise InvalidRequestException(
                "Backup vault cannot be deleted because it contains recovery points.",
                Code="ERROR_9101",
            )
        with self._backend.write() as tx:
            store.delete(
                tx, store.vault_key(ctx.account, ctx.region, name), record["BackupVaultArn"]
            )
        return {}

    def list_backup_vaults(self, ctx: RequestContext, req: Request) -> Result:
        with self._backend.read() as tx:
            vaults = list(store.listing(tx, b"V", ctx.account, ctx.region))
        page, token = _page(vaults, req, "vaults")
        return paging.listed("BackupVaultList", [self._vault_view(ctx, v) for v in page], token)

    # --- plans ------------------------------------------------------------------------

    def _plan(self, ctx: RequestContext, plan_id: str, *, live: bool = True) -> Record:
        with self._backend.read() as tx:
            return _stored_plan(tx, ctx, plan_id, live=live)[1]

    def create_backup_plan(self, ctx: RequestContext, req: Request) -> Result:
        plan = req["BackupPlan"]
        plan_id = str(uuid.uuid4())
        arn = f"arn:aws:backup:{ctx.region}:{ctx.account}:backup-plan:{plan_id}"
        with self._backend.write() as tx:
            for other in store.listing(tx, b"P", ctx.account, ctx.region):
                if not other.get("DeletionDate") and (
                    other["BackupPlan"]["BackupPlanName"] == plan["BackupPlanName"]
                ):
                    raise AlreadyExistsException(
                        "Backup plan with the same plan document already exists",
                        Arn=other["BackupPlanArn"],
                    )
            record: Record = {
                "BackupPlan": self._plan_document(plan, []),
                "BackupPlanId": plan_id,
                "BackupPlanArn": arn,
                "VersionId": _version_id(),
                "CreationDate": self._now(),
                "Tags": dict(req.get("BackupPlanTags") or {}),
                "Versions": [],
            }
            if plan.get("AdvancedBackupSettings"):
                record["AdvancedBackupSettings"] = plan["AdvancedBackupSettings"]
            if req.get("CreatorRequestId"):
                record["CreatorRequestId"] = req["CreatorRequestId"]
            store.put(tx, store.plan_key(ctx.account, ctx.region, plan_id), record, arn)
        return self._plan_summary(record)

    @staticmethod
    def _plan_document(plan: Record, old_rules: list[dict[str, Any]]) -> Record:
        """GetBackupPlan's BackupPlan; AdvancedBackupSettings are answered beside it."""
        return {"BackupPlanName": plan["BackupPlanName"], "Rules": _rules(plan["Rules"], old_rules)}

    @staticmethod
    def _plan_summary(record: Record) -> Result:
        out = {k: record[k] for k in ("BackupPlanId", "BackupPlanArn", "CreationDate", "VersionId")}
        if record.get("AdvancedBackupSettings"):
            out["AdvancedBackupSettings"] = record["AdvancedBackupSettings"]
        return out

    @staticmethod
    def _plan_view(record: Record) -> Result:
        return {k: v for k, v in record.items() if k not in ("Tags", "Versions")}

    def get_backup_plan(self, ctx: RequestContext, req: Request) -> Result:
        # A deleted plan is not found, but its versions still are (by VersionId).
        version = req.get("VersionId")
        record = self._plan(ctx, req["BackupPlanId"], live=not version)
        if version and version != record["VersionId"]:
            older = [v for v in record["Versions"] if v["VersionId"] == version]
            if not older:
                raise _plan_missing()
            return dict(older[0])
        return self._plan_view(record)

    def update_backup_plan(self, ctx: RequestContext, req: Request) -> Result:
        with self._backend.write() as tx:
            key, record = _stored_plan(tx, ctx, req["BackupPlanId"])
            record["Versions"].append(self._plan_view(record))
            plan = req["BackupPlan"]
            record["BackupPlan"] = self._plan_document(plan, record["BackupPlan"]["Rules"])
            record.pop("AdvancedBackupSettings", None)
            if plan.get("AdvancedBackupSettings"):
                record["AdvancedBackupSettings"] = plan["AdvancedBackupSettings"]
            record["VersionId"] = _version_id()
            record["CreationDate"] = self._now()
            store.put(tx, key, record, record["BackupPlanArn"])
        return self._plan_summary(record)

    def delete_backup_plan(self, ctx: RequestContext, req: Request) -> Result:
        plan_id = req["BackupPlanId"]
        with self._backend.write() as tx:
            key, record = _stored_plan(tx, ctx, plan_id)
            if store.selections(tx, ctx.account, ctx.region, plan_id):
                raise InvalidRequestException(
                    "Related backup plan selections must be deleted prior to backup plan deletion"
                )
            record["DeletionDate"] = self._now()
            store.put(tx, key, record)
        return {
            "BackupPlanId": plan_id,
            "BackupPlanArn": record["BackupPlanArn"],
            "DeletionDate": record["DeletionDate"],
            "VersionId": record["VersionId"],
        }

    def list_backup_plans(self, ctx: RequestContext, req: Request) -> Result:
        with self._backend.read() as tx:
            plans = [
                p
                for p in store.listing(tx, b"P", ctx.account, ctx.region)
                if req.get("IncludeDeleted") or not p.get("DeletionDate")
            ]
        page, token = _page(plans, req, "plans")
        listed = []
        for record in page:
            member = self._plan_view(record)
            member["BackupPlanName"] = member.pop("BackupPlan")["BackupPlanName"]
            listed.append(member)
        return paging.listed("BackupPlansList", listed, token)

    def list_backup_plan_versions(self, ctx: RequestContext, req: Request) -> Result:
        record = self._plan(ctx, req["BackupPlanId"], live=False)
        versions = [*record["Versions"], self._plan_view(record)]
        page, token = _page(versions, req, "versions")
        listed = []
        for version in page:
            member = {k: v for k, v in version.items() if k != "BackupPlan"}
            member["BackupPlanName"] = version["BackupPlan"]["BackupPlanName"]
            listed.append(member)
        return paging.listed("BackupPlanVersionsList", listed, token)

    # --- selections -------------------------------------------------------------------

    def create_backup_selection(self, ctx: RequestContext, req: Request) -> Result:
        plan_id = req["BackupPlanId"]
        self._plan(ctx, plan_id)
        selection = dict(req["BackupSelection"])
        for name in ("Resources", "ListOfTags", "NotResources"):
            selection.setdefault(name, [])
        conditions = dict(selection.get("Conditions") or {})
        for name in _EMPTY_CONDITIONS:
            conditions.setdefault(name, [])
        selection["Conditions"] = conditions
        selection_id = str(uuid.uuid4())
        record: Record = {
            "BackupSelection": selection,
            "SelectionId": selection_id,
            "BackupPlanId": plan_id,
            "CreationDate": self._now(),
        }
        if req.get("CreatorRequestId"):
            record["CreatorRequestId"] = req["CreatorRequestId"]
        with self._backend.write() as tx:
            store.put(
                tx, store.selection_key(ctx.account, ctx.region, plan_id, selection_id), record
            )
        return {k: record[k] for k in ("SelectionId", "BackupPlanId", "CreationDate")}

    def _selection(self, ctx: RequestContext, req: Request) -> tuple[bytes, Record]:
        key = store.selection_key(ctx.account, ctx.region, req["BackupPlanId"], req["SelectionId"])
        with self._backend.read() as tx:
            found = store.get(tx, key)
        if found is None:
            raise ResourceNotFoundException(
                f"Failed reading backup selection {req['SelectionId']} of plan "
                f"{req['BackupPlanId']}"
            )
        return key, found

    def get_backup_selection(self, ctx: RequestContext, req: Request) -> Result:
        return self._selection(ctx, req)[1]

    def delete_backup_selection(self, ctx: RequestContext, req: Request) -> Result:
        key, _ = self._selection(ctx, req)
        with self._backend.write() as tx:
            store.delete(tx, key)
        return {}

    def list_backup_selections(self, ctx: RequestContext, req: Request) -> Result:
        plan_id = req["BackupPlanId"]
        self._plan(ctx, plan_id)
        with self._backend.read() as tx:
            found = store.selections(tx, ctx.account, ctx.region, plan_id)
        page, token = _page(found, req, "selections")
        listed = []
        for record in page:
            member = {k: v for k, v in record.items() if k != "BackupSelection"}
            member["SelectionName"] = record["BackupSelection"]["SelectionName"]
            member["IamRoleArn"] = record["BackupSelection"]["IamRoleArn"]
            listed.append(member)
        return paging.listed("BackupSelectionsList", listed, token)

    # --- backup jobs and recovery points ------------------------------------------------

    def _jobs(self, ctx: RequestContext) -> list[Record]:
        """Every job, its state brought up to date from its DynamoDB backup.

        ``_exists`` (not answered) tells whether its recovery point still exists."""
        finished: list[Record] = []
        with self._backend.read() as tx:
            jobs = list(store.listing(tx, b"J", ctx.account, ctx.region))
            for job in jobs:
                account, region, table, backup_id = job["Source"]
                backup = backups.find(tx, account, region, table, backup_id)
                job["_exists"] = backup is not None
                if backup is not None and job["State"] == "RUNNING":
                    _advance(job, backup, self._now())
                    if job["State"] != "RUNNING":
                        finished.append(job)
        if finished:  # remember completion past the backup's life
            with self._backend.write() as tx:
                for job in finished:
                    stored = {k: v for k, v in job.items() if k != "_exists"}
                    store.put(
                        tx, store.job_key(ctx.account, ctx.region, job["BackupJobId"]), stored
                    )
        return jobs

    def start_backup_job(self, ctx: RequestContext, req: Request) -> Result:
        vault = self._vault(ctx, req["BackupVaultName"])
        resource = req["ResourceArn"]
        token = req.get("IdempotencyToken")
        if token:
            for earlier in self._jobs(ctx):
                if earlier.get("_token") == token and earlier["ResourceArn"] == resource:
                    return {
                        k: earlier[k] for k in ("BackupJobId", "RecoveryPointArn", "CreationDate")
                    }
        table = self._table(ctx, resource)
        job_id = str(uuid.uuid4()).upper()
        now = self._engine.clock()
        try:
            with self._backend.write() as tx:
                table = _active(self._engine.catalog.latest(tx, table), resource)
                space = self._engine.catalog.allocate_space(tx)
                backup = backups.new_backup(
                    table, f"AwsBackup-{job_id[:8]}", "AWS_BACKUP", space, now, backups.CREATING
                )
                running = restore.start_backup(tx, self._engine.catalog, table, backup)
                job: Record = {
                    "AccountId": ctx.account,
                    "BackupJobId": job_id,
                    "BackupVaultName": vault["BackupVaultName"],
                    "BackupVaultArn": vault["BackupVaultArn"],
                    "RecoveryPointArn": backup.arn,
                    "ResourceArn": resource,
                    "ResourceName": table.name,
                    "ResourceType": "DynamoDB",
                    "CreationDate": round(now, 3),
                    "State": "RUNNING",
                    "PercentDone": "0.0",
                    "IamRoleArn": req["IamRoleArn"],
                    "BackupType": "",
                    "Source": [backup.account, backup.region, backup.table, backup.id],
                }
                if req.get("Lifecycle"):
                    job["RecoveryPointLifecycle"] = req["Lifecycle"]
                if token:
                    job["_token"] = token
                _advance(job, backup, round(now, 3))
                store.put(tx, store.job_key(ctx.account, ctx.region, job_id), job)
        except Exception:
            self._engine.catalog.forget(table)
            raise
        if running is not None:
            kick(self._engine)
        return {k: job[k] for k in ("BackupJobId", "RecoveryPointArn", "CreationDate")}

    def _table(self, ctx: RequestContext, arn: str) -> TableDef:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
            raise InvalidParameterValueException(
                f"Invalid resource ARN {arn}: this server backs up DynamoDB tables only"
            )
        if parts[4] != ctx.account or parts[3] != ctx.region:
            raise InvalidParameterValueException(
                f"Resource {arn} is not in this account and region"
            )
        name = parts[5][len("table/") :]
        return _active(self._engine.catalog.get(ctx.account, ctx.region, name), arn)

    def _job(self, ctx: RequestContext, job_id: str) -> Record:
        for job in self._jobs(ctx):
            if job["BackupJobId"] == job_id:
                return job
        raise ResourceNotFoundException(f"Cannot find backup job with id {job_id}")

    @staticmethod
    def _job_view(job: Record) -> Record:
        return {k: v for k, v in job.items() if not k.startswith("_") and k != "Source"}

    def describe_backup_job(self, ctx: RequestContext, req: Request) -> Result:
        return self._job_view(self._job(ctx, req["BackupJobId"]))

    def list_backup_jobs(self, ctx: RequestContext, req: Request) -> Result:
        filters = {
            "ByResourceArn": "ResourceArn",
            "ByState": "State",
            "ByBackupVaultName": "BackupVaultName",
            "ByResourceType": "ResourceType",
        }
        jobs = [
            j
            for j in self._jobs(ctx)
            if all(req.get(f) is None or j[field] == req[f] for f, field in filters.items())
        ]
        page, token = _page(jobs, req, "jobs")
        return paging.listed("BackupJobs", [self._job_view(j) for j in page], token)

    @staticmethod
    def _point_view(job: Record) -> Record:
        status = "COMPLETED" if job["State"] == "COMPLETED" else "PARTIAL"
        out: Record = {
            "RecoveryPointArn": job["RecoveryPointArn"],
            "BackupVaultName": job["BackupVaultName"],
            "BackupVaultArn": job["BackupVaultArn"],
            "ResourceArn": job["ResourceArn"],
            "ResourceType": job["ResourceType"],
            "ResourceName": job["ResourceName"],
            "IamRoleArn": job["IamRoleArn"],
            "Status": status,
            "CreationDate": job["CreationDate"],
            "BackupSizeInBytes": job.get("BackupSizeInBytes", 0),
            "IsEncrypted": False,
            "StorageClass": "WARM",
            "CreatedBy": {},
        }
        if job.get("CompletionDate") is not None:
            out["CompletionDate"] = job["CompletionDate"]
        if job.get("RecoveryPointLifecycle"):
            out["Lifecycle"] = job["RecoveryPointLifecycle"]
        return out

    def list_recovery_points_by_backup_vault(self, ctx: RequestContext, req: Request) -> Result:
        name = req["BackupVaultName"]
        self._vault(ctx, name)
        points = [
            p
            for p in self._recovery_points(ctx, name)
            if req.get("ByResourceArn") is None or p["ResourceArn"] == req["ByResourceArn"]
        ]
        page, token = _page(points, req, "points")
        listed = []
        for job in page:
            view = self._point_view(job)
            view.pop("StorageClass")
            view.pop("CreatedBy")
            listed.append(view)
        return paging.listed("RecoveryPoints", listed, token)

    def _point(self, ctx: RequestContext, req: Request) -> Record:
        name = req["BackupVaultName"]
        self._vault(ctx, name)
        for job in self._recovery_points(ctx, name):
            if job["RecoveryPointArn"] == req["RecoveryPointArn"]:
                return job
        raise ResourceNotFoundException(
            f"Recovery point {req['RecoveryPointArn']} not found in backup vault {name}"
        )

    def describe_recovery_point(self, ctx: RequestContext, req: Request) -> Result:
        return self._point_view(self._point(ctx, req))

    def delete_recovery_point(self, ctx: RequestContext, req: Request) -> Result:
        job = self._point(ctx, req)
        try:
            backup_ops.delete_backup(self._engine, ctx, {"BackupArn": job["RecoveryPointArn"]})
        except AwsError as error:
            if error.type_name == "BackupInUseException":
                raise InvalidRequestException(error.message) from None
            raise
        return {}


def _active(table: TableDef | None, arn: str) -> TableDef:
    """The table a backup job backs up; only an ACTIVE one is."""
    if table is None or table.status != "ACTIVE":
        raise ResourceNotFoundException(f"Cannot find resource with ARN {arn}")
    return table


def _advance(job: Record, backup: Backup, now: float) -> None:
    """Bring a job's state up to its DynamoDB backup's."""
    state = JOB_STATES.get(backup.status, "RUNNING")
    job["State"] = state
    job["BackupSizeInBytes"] = backup.size
    if state == "COMPLETED":
        job["PercentDone"] = "100.0"
        job.setdefault("CompletionDate", now)


def _default_key(account: str, region: str) -> str:
    """The vault key when none is given: the account's AWS managed key for AWS Backup."""
    key_id = uuid.uuid5(uuid.NAMESPACE_URL, f"aws/backup/{account}/{region}")
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"
