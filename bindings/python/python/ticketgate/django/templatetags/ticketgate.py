"""``{% load ticketgate %}``: ``{{ value|gated }}`` renders a withheld value as an em dash (never
"None"), and ``{% contact_card view %}`` renders a gated contact record."""

from typing import Any, Dict

from django import template

register = template.Library()

WITHHELD = "\u2014"
LABELS = {"name": "Name", "email": "Email", "phone": "Phone", "ticket_numbers": "Tickets"}


@register.filter
def gated(value: Any) -> Any:
    """A withheld (None) value as an em dash; a list as its items joined by commas."""
    if value is None:
        return WITHHELD
    if isinstance(value, (list, tuple)):
        return ", ".join(WITHHELD if v is None else str(v) for v in value)
    return value


@register.inclusion_tag("ticketgate/contact_card.html")
def contact_card(view: Any) -> Dict[str, Any]:
    """A definition list of the gated fields, each marked revealed, masked or withheld."""
    decision = getattr(view, "decision", None)
    rows = []
    for field, value in view.items():
        outcome = decision.outcome(field) if decision is not None and field in decision.fields else "reveal"
        rows.append({"field": field, "label": LABELS.get(field, field.replace("_", " ").capitalize()),
                     "value": gated(value), "outcome": outcome})
    return {"rows": rows, "decision_id": getattr(decision, "decision_id", None)}
