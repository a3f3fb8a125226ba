"""How VAT is shown on a receipt: the split of a gross amount into net and VAT."""
from decimal import ROUND_HALF_UP, Decimal

#: VAT_MODE values: "standard" prints net, rate, VAT and gross; "small_business" the §19 UStG note.
STANDARD = "standard"
SMALL_BUSINESS = "small_business"


def vat_split(gross_cents: int, rate_percent) -> tuple[int, int]:
    """(net, VAT) in cents of a gross amount at ``rate_percent``; they add up to the gross."""
    rate = Decimal(str(rate_percent))
    net = (Decimal(gross_cents) * 100 / (100 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(net), gross_cents - int(net)
