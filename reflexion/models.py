"""Import every model so that Alembic and ``db.create_all`` see the whole schema."""
from reflexion.attempts import FailedAttempts  # noqa: F401
from reflexion.availability.models import AvailabilityException, WeeklyRule  # noqa: F401
from reflexion.booking.models import Booking, Payment, Transition  # noqa: F401
from reflexion.calendar.models import FeedToken  # noqa: F401
from reflexion.clock.models import ClockCheck  # noqa: F401
from reflexion.mail.models import OutgoingEmail  # noqa: F401
from reflexion.operator.models import Operator  # noqa: F401
from reflexion.pages.models import ContactMessage  # noqa: F401
from reflexion.payments.models import (  # noqa: F401
    StatementEntry, StatementEntryAction, StatementImport, StripeCheckout, StripeEvent,
)
from reflexion.receipts.models import DocumentCounter, Receipt  # noqa: F401
from reflexion.settings.models import SettingChange, SettingsVersion, StoredSetting  # noqa: F401
