"""AWS Backup on the server's port (REST-JSON, routed by method and path).

handlers.py has the operations, store.py the records. Backup jobs of DynamoDB tables
are DynamoDB backups taken by the engine (engine/backups.py, engine/restore.py).
"""

from __future__ import annotations

from dynastore.engine.engine import Engine
from dynastore.server.service import Service
from dynastore.services.backup.handlers import BackupApi
from dynastore.services.base import model_service

__all__ = ["BackupApi", "backup_service"]


def backup_service(engine: Engine) -> Service:
    """The AWS Backup service over `engine`'s tables and backups."""
    api = BackupApi(engine)
    operations = {
        "CreateBackupVault": api.create_backup_vault,
        "DescribeBackupVault": api.describe_backup_vault,
        "DeleteBackupVault": api.delete_backup_vault,
        "ListBackupVaults": api.list_backup_vaults,
        "CreateBackupPlan": api.create_backup_plan,
        "GetBackupPlan": api.get_backup_plan,
        "UpdateBackupPlan": api.update_backup_plan,
        "DeleteBackupPlan": api.delete_backup_plan,
        "ListBackupPlans": api.list_backup_plans,
        "ListBackupPlanVersions": api.list_backup_plan_versions,
        "CreateBackupSelection": api.create_backup_selection,
        "GetBackupSelection": api.get_backup_selection,
        "DeleteBackupSelection": api.delete_backup_selection,
        "ListBackupSelections": api.list_backup_selections,
        "TagResource": api.tagging.tag_resource,
        "UntagResource": api.tagging.untag_resource,
        "ListTags": api.tagging.list_tags,
        "StartBackupJob": api.start_backup_job,
        "DescribeBackupJob": api.describe_backup_job,
        "ListBackupJobs": api.list_backup_jobs,
        "ListRecoveryPointsByBackupVault": api.list_recovery_points_by_backup_vault,
        "DescribeRecoveryPoint": api.describe_recovery_point,
        "DeleteRecoveryPoint": api.delete_recovery_point,
    }
    return model_service("backup", operations)
