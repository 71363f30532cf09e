"""All models, importable from one place (the migrations own the schema; these mirror it)."""
from .company import AuditLog, Company, User
from .enums import (AggregationType, CallStatus, ChatChannel, DeliveryPlatform, LoyaltyProgramType,
                    LoyaltyTransactionType, OrderStatus, SyncRunStatus, SyncStatus, UserRole, WebhookOutcome,
                    WhatsappMessageStatus, WhatsappMessageType)
from .integrations import IntegrationAnalytics, IntegrationConfig, PlatformCall, WebhookLog
from .mail import OutboundEmail  # the outbox of every e-mail the portal sends
from .loyalty import CustomerLoyalty, LoyaltyProgram, LoyaltyTier, LoyaltyTransaction
from .menu import MenuMapping, Product
from .menu import AvailabilityPush, MenuSyncRun, ModifierGroup, ModifierOption, PlatformProduct, SoldOut
from .messaging import AiChatbotSession, ChatMessage, WhatsappMessage, WhatsappTemplate
from .orders import OPEN_STATUSES, DeliveryOrder, OrderStatusHistory

__all__ = [
    "AggregationType", "AiChatbotSession", "AuditLog", "ChatChannel", "ChatMessage", "Company",
    "CustomerLoyalty", "DeliveryOrder", "DeliveryPlatform", "IntegrationAnalytics", "IntegrationConfig",
    "LoyaltyProgram", "LoyaltyProgramType", "LoyaltyTier", "LoyaltyTransaction", "LoyaltyTransactionType",
    "MenuMapping", "OPEN_STATUSES", "OrderStatus", "OrderStatusHistory", "PlatformCall", "Product", "SyncStatus",
    "User", "UserRole", "WebhookLog", "WhatsappMessage", "WhatsappMessageStatus", "WhatsappMessageType",
    "WhatsappTemplate",
    "AvailabilityPush", "MenuSyncRun", "ModifierGroup", "ModifierOption", "PlatformProduct", "SoldOut",
]

# Analytics: the reports' daily rollup.
from .analytics import AnalyticsDaily, AnalyticsDailyCustomer, AnalyticsDailyItem, AnalyticsDirtyDay

__all__ += ["CallStatus", "SyncRunStatus", "WebhookOutcome"]
__all__ += ["AnalyticsDaily", "AnalyticsDailyCustomer", "AnalyticsDailyItem", "AnalyticsDirtyDay"]


__all__ += ["OutboundEmail"]
from .settings import AlertIncident, CompanyLogo, HolidayClosure, OpeningShift  # noqa: E402  company settings
__all__ += ["AlertIncident", "CompanyLogo", "HolidayClosure", "OpeningShift"]

from .accounts import AccountToken, RecoveryCode, UserSession  # noqa: E402  sessions, links, 2FA codes

__all__ += ["AccountToken", "RecoveryCode", "UserSession"]

from .messaging import (WhatsappConnection, WhatsappContact, WhatsappInboundMessage,  # noqa: E402  WhatsApp
                        WhatsappNotificationRule)

__all__ += ["WhatsappConnection", "WhatsappContact", "WhatsappInboundMessage", "WhatsappNotificationRule"]
