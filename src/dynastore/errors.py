"""AWS errors: one class per error type, raised anywhere, rendered once by server/.

Each error knows its wire `__type` namespace, HTTP status and the message key DynamoDB
uses (the coral `SerializationException` says `Message`, everything else `message`).
"""

from __future__ import annotations

from typing import Any, ClassVar

CORAL_SERVICE = "com.amazon.coral.service"
CORAL_VALIDATE = "com.amazon.coral.validate"
DYNAMODB = "com.amazonaws.dynamodb.v20120810"


class AwsError(Exception):
    """Base of every error answered to a client."""

    namespace: ClassVar[str] = DYNAMODB
    status: ClassVar[int] = 400
    message_key: ClassVar[str] = "message"
    default_message: ClassVar[str | None] = None

    def __init__(self, message: str | None = None, **extras: Any) -> None:
        self.message = message if message is not None else self.default_message
        self.extras = extras
        super().__init__(self.message or self.type_name)

    @property
    def type_name(self) -> str:
        return type(self).__name__

    @property
    def qualified_type(self) -> str:
        return f"{self.namespace}#{self.type_name}"

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"__type": self.qualified_type}
        if self.message is not None:
            out[self.message_key] = self.message
        out.update(self.extras)
        return out


# --- request, protocol and authentication errors (coral service) --------------------


class SerializationException(AwsError):
    namespace = CORAL_SERVICE
    message_key = "Message"


class UnknownOperationException(AwsError):
    namespace = CORAL_SERVICE


class MissingAuthenticationTokenException(AwsError):
    namespace = CORAL_SERVICE
    default_message = "Request is missing Authentication Token"


class IncompleteSignatureException(AwsError):
    namespace = CORAL_SERVICE


class InvalidSignatureException(AwsError):
    namespace = CORAL_SERVICE


class UnrecognizedClientException(AwsError):
    namespace = CORAL_SERVICE
    default_message = "The security token included in the request is invalid."


class ExpiredTokenException(AwsError):
    """A temporary key used after its session expired."""

    namespace = CORAL_SERVICE
    default_message = "The security token included in the request is expired"


class AccessDeniedException(AwsError):
    namespace = CORAL_SERVICE


class RequestEntityTooLarge(AwsError):
    namespace = CORAL_SERVICE
    status = 413
    default_message = "Request payload size exceeds the limit."


class ValidationException(AwsError):
    namespace = CORAL_VALIDATE


class ThrottlingException(AwsError):
    namespace = "com.amazon.coral.availability"


# --- DynamoDB service errors ---------------------------------------------------------


class ResourceNotFoundException(AwsError):
    default_message = "Requested resource not found"


class ResourceInUseException(AwsError):
    pass


class ConditionalCheckFailedException(AwsError):
    default_message = "The conditional request failed"


class LimitExceededException(AwsError):
    pass


class ProvisionedThroughputExceededException(AwsError):
    default_message = (
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API."
    )


class RequestLimitExceeded(AwsError):
    """An on-demand table or GSI above the per-table throughput quota of its account."""

    default_message = (
        "Throughput exceeds the current throughput limit for your account. Please contact AWS "
        "Support at https://aws.amazon.com/support request a limit increase"
    )


class ItemCollectionSizeLimitExceededException(AwsError):
    default_message = "Item collection size limit exceeded"


class TransactionCanceledException(AwsError):
    pass


class TransactionConflictException(AwsError):
    pass


class IdempotentParameterMismatchException(AwsError):
    pass


class InternalServerError(AwsError):
    status = 500
    default_message = "Internal server error"


def resource_not_found_table(table_name: str) -> ResourceNotFoundException:
    """DynamoDB's message for a table that does not exist (item and query operations)."""
    return ResourceNotFoundException("Requested resource not found")


def validation(message: str) -> ValidationException:
    """Shorthand used by the engine for a single-message ValidationException."""
    return ValidationException(message)


class DuplicateItemException(AwsError):
    """A PartiQL INSERT of a key that already holds an item."""

    default_message = "Duplicate primary key exists in table"


class ExpiredIteratorException(AwsError):
    """DynamoDB Streams: a shard iterator older than 15 minutes."""

    default_message = "The provided iterator exceeds the maximum age allowed."


class TrimmedDataAccessException(AwsError):
    """DynamoDB Streams: the position is past the 24-hour trim point."""

    default_message = "The data you are trying to access has been trimmed"


# --- protocol errors of the Query and Smithy RPC v2 CBOR protocols --------------------


class InvalidAction(AwsError):
    """Query protocol: an ``Action`` the service does not have."""

    namespace = CORAL_SERVICE


class MissingAction(AwsError):
    """Query protocol: no ``Action`` parameter."""

    namespace = CORAL_SERVICE
    default_message = "The request is missing an action or a required parameter."


# --- CloudWatch errors (classes named after the Query protocol's codes) -----------------


class InvalidParameterValue(AwsError):
    """CloudWatch: a parameter's value is bad or out of range."""


class InvalidParameterCombination(AwsError):
    """CloudWatch: parameters that cannot be used together."""


class MissingParameter(AwsError):
    """CloudWatch: a required parameter is absent (MissingRequiredParameterException)."""


class ResourceNotFound(AwsError):
    """CloudWatch: the named alarm (or dashboard) does not exist."""

    status = 404


class CloudWatchResourceNotFound(AwsError):
    """CloudWatch's ResourceNotFoundException (tagging): not DynamoDB's 400 of that name."""

    status = 404

    @property
    def type_name(self) -> str:
        return "ResourceNotFoundException"


class LimitExceeded(AwsError):
    """CloudWatch: a quota is reached (LimitExceededFault)."""


class InvalidNextToken(AwsError):
    """CloudWatch: a NextToken this server did not hand out."""


class InvalidFormat(AwsError):
    """CloudWatch: a JSON parameter that does not parse (StateReasonData)."""


# --- SNS errors (Query protocol codes) ---------------------------------------------------


class InvalidParameter(AwsError):
    """SNS: a bad request parameter ("Invalid parameter: ...")."""


class NotFound(AwsError):
    """SNS: the topic or subscription does not exist."""

    status = 404


class TagLimitExceeded(AwsError):
    """SNS: more than 50 tags on a topic."""


# --- KMS errors (JSON 1.1; KMS answers a bare ``__type``, without a namespace) ----------


class KmsError(AwsError):
    """Base of KMS's errors: ``__type`` is the bare name."""

    namespace = ""

    @property
    def qualified_type(self) -> str:
        return self.type_name


class NotFoundException(KmsError):
    pass


class DisabledException(KmsError):
    pass


class KMSInvalidStateException(KmsError):
    pass


class InvalidCiphertextException(KmsError):
    pass


class IncorrectKeyException(KmsError):
    default_message = (
        "The key ID in the request does not identify a CMK that can perform this operation."
    )


class AlreadyExistsException(KmsError):
    pass


class InvalidAliasNameException(KmsError):
    pass


class NotAuthorizedException(KmsError):
    pass


class InvalidArnException(KmsError):
    pass


class InvalidMarkerException(KmsError):
    pass


class MalformedPolicyDocumentException(KmsError):
    pass


class TagException(KmsError):
    pass


class UnsupportedOperationException(KmsError):
    pass


class KmsValidationException(KmsError):
    """KMS's own ValidationException (not Coral's, which keeps its namespace)."""

    @property
    def type_name(self) -> str:
        return "ValidationException"


# --- backups and point-in-time recovery (DynamoDB) -------------------------------------


class TableNotFoundException(AwsError):
    """Backup and PITR operations' missing (or still CREATING) table: "Table not found: X"."""


class TableAlreadyExistsException(AwsError):
    pass


class TableInUseException(AwsError):
    pass


class BackupNotFoundException(AwsError):
    pass


class BackupInUseException(AwsError):
    pass


class ContinuousBackupsUnavailableException(AwsError):
    pass


class PointInTimeRecoveryUnavailableException(AwsError):
    pass


class InvalidRestoreTimeException(AwsError):
    pass


# --- Application Auto Scaling and AWS Backup ------------------------------------------


class BareTypeError(AwsError):
    """Base of errors whose JSON ``__type`` is the bare name (Application Auto Scaling)."""

    namespace = ""

    @property
    def qualified_type(self) -> str:
        return self.type_name


class ObjectNotFoundException(BareTypeError):
    """Application Auto Scaling: no such scalable target or scaling policy."""


class ConcurrentUpdateException(BareTypeError):
    pass


class InvalidNextTokenException(BareTypeError):
    pass


class TooManyTagsException(BareTypeError):
    pass


class InvalidParameterValueException(BareTypeError):
    """AWS Backup: a parameter's value is not valid."""


class MissingParameterValueException(BareTypeError):
    pass


class InvalidRequestException(BareTypeError):
    """AWS Backup: the request conflicts with the resource's state (e.g. not empty)."""


class InvalidResourceStateException(BareTypeError):
    pass


class RequestTimeoutException(AwsError):
    """The client stopped sending its request body (server/http.py)."""

    namespace = CORAL_SERVICE
    status = 408
