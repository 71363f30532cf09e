"""PostgreSQL enum types of the seed, shared by the models (created by the migrations)."""
import enum
from enum import StrEnum

from sqlalchemy.dialects.postgresql import ENUM


class UserRole(str, enum.Enum):
    SUPER_ADMIN = "SUPER_ADMIN"
    COMPANY_ADMIN = "COMPANY_ADMIN"
    MANAGER = "MANAGER"
    USER = "USER"


class DeliveryPlatform(str, enum.Enum):
    CAREEM = "CAREEM"
    TALABAT = "TALABAT"
    DHUB = "DHUB"
    HUNGERSTATION = "HUNGERSTATION"
    NASHMI = "NASHMI"
    TOP_DELIVERY = "TOP_DELIVERY"
    JOOD_DELIVERY = "JOOD_DELIVERY"
    YALLOW = "YALLOW"
    TAWASI = "TAWASI"


class SyncStatus(str, enum.Enum):
    pending = "pending"
    in_progress = "in_progress"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


class OrderStatus(str, enum.Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    IN_PREPARATION = "IN_PREPARATION"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class LoyaltyProgramType(str, enum.Enum):
    POINTS_BASED = "POINTS_BASED"
    TIER_BASED = "TIER_BASED"
    CASHBACK = "CASHBACK"
    HYBRID = "HYBRID"


class LoyaltyTransactionType(str, enum.Enum):
    EARN = "EARN"
    REDEEM = "REDEEM"
    EXPIRE = "EXPIRE"
    ADJUST = "ADJUST"
    REFERRAL = "REFERRAL"
    REVERSAL = "REVERSAL"


class ChatChannel(str, enum.Enum):
    WHATSAPP = "WHATSAPP"
    TELEGRAM = "TELEGRAM"
    WEB_WIDGET = "WEB_WIDGET"
    FACEBOOK = "FACEBOOK"
    INSTAGRAM = "INSTAGRAM"


class WhatsappMessageType(str, enum.Enum):
    TEMPLATE = "TEMPLATE"
    TEXT = "TEXT"
    MEDIA = "MEDIA"
    INTERACTIVE = "INTERACTIVE"
    LOCATION = "LOCATION"


class WhatsappMessageStatus(str, enum.Enum):
    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # recorded, never sent: opted out, no usable number, no approved template


class AggregationType(str, enum.Enum):
    SUM = "SUM"
    AVG = "AVG"
    MAX = "MAX"
    MIN = "MIN"
    COUNT = "COUNT"
    MEDIAN = "MEDIAN"
    P95 = "P95"
    P99 = "P99"


def pg_enum(python_enum, name):
    """A column type for an enum type the migrations own."""
    return ENUM(python_enum, name=name, create_type=False,
                values_callable=lambda members: [member.value for member in members])


user_role = pg_enum(UserRole, "user_role")
delivery_platform = pg_enum(DeliveryPlatform, "delivery_platform")
sync_status = pg_enum(SyncStatus, "sync_status_enum")
order_status = pg_enum(OrderStatus, "order_status")
loyalty_program_type = pg_enum(LoyaltyProgramType, "loyalty_program_type")
loyalty_transaction_type = pg_enum(LoyaltyTransactionType, "loyalty_transaction_type")
chat_channel = pg_enum(ChatChannel, "chat_channel")
whatsapp_message_type = pg_enum(WhatsappMessageType, "whatsapp_message_type")
whatsapp_message_status = pg_enum(WhatsappMessageStatus, "whatsapp_message_status")
aggregation_type = pg_enum(AggregationType, "aggregation_type")


# Statuses kept in VARCHAR columns (not PostgreSQL enum types): StrEnums compare equal to the stored text.

class CallStatus(StrEnum):
    """An outbound platform call (platform_calls.status)."""
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # this attempt failed; another is scheduled
    DEAD = "DEAD"  # out of attempts, or refused for good
    SKIPPED = "SKIPPED"  # the platform needs no call for this move


class SyncRunStatus(StrEnum):
    """A menu sync or import run (menu_sync_runs.status)."""
    QUEUED = "QUEUED"
    PREPARING = "PREPARING"  # checking the items
    SENDING = "SENDING"
    WAITING = "WAITING"  # sent; the platform imports in the background and reports back
    COMPLETED = "COMPLETED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


class WebhookOutcome(StrEnum):
    """What became of a received webhook (webhook_logs.outcome)."""
    RECEIVED = "RECEIVED"  # stored, not processed yet
    PROCESSED = "PROCESSED"
    DUPLICATE = "DUPLICATE"
    IGNORED = "IGNORED"
    FAILED = "FAILED"  # will be retried
    DEAD = "DEAD"
    INVALID = "INVALID"
    UNAUTHORIZED = "UNAUTHORIZED"
    UNKNOWN_INTEGRATION = "UNKNOWN_INTEGRATION"
