"""Every internal storage space, in one place so no two features ever share one.

Spaces below FIRST_TABLE_SPACE hold the server's own state; tables, indexes, change logs
and expiry indexes get spaces from FIRST_TABLE_SPACE up (Catalog.allocate_space).
Stored on disk — do not renumber or reuse a number.
"""

from __future__ import annotations

CATALOG = 0  # table definitions (engine/catalog.py)
STREAMS = 1  # stream descriptors (engine/streams.py)
WORKERS = 2  # background-work bookkeeping: TTL backfill, log trim points
KEYS = 3  # KMS key material and table data keys (engine/crypto.py)
CLOUDWATCH = 4  # metrics and alarms (services/cloudwatch)
SNS = 5  # topics and subscriptions (services/sns)
BACKFILL = 6  # GSI backfill progress (engine/indexes.py)
TRANSACTION_TOKENS = 7  # ClientRequestToken idempotency (engine/transactions.py)
BACKUPS = 8  # on-demand backups and PITR bookkeeping (engine/backups.py)
AUTOSCALING = 9  # scalable targets, scaling policies, activities (services/autoscaling)
AWS_BACKUP = 10  # AWS Backup vaults, plans, selections, jobs (services/backup)
REPLICATION = 11  # global tables: log cursors and item versions (engine/replication.py)
ITEM_COLLECTIONS = 12  # item collection sizes of tables with LSIs (engine/item_collections.py)
LEASES = 13  # background jobs' leases among processes sharing a store (engine/leases.py)
STS_SESSIONS = 14  # temporary credentials issued by STS AssumeRole (services/sts/store.py)
FIRST_TABLE_SPACE = 1000
