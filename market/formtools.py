"""Putting a service's DomainError next to the form field it concerns."""

from flask_wtf import FlaskForm

from .services.errors import DomainError


def attach_error(form: FlaskForm, error: DomainError, field_map: dict | None = None) -> int:
    """Show the error beside its field (or at the top of the form); return its HTTP status."""
    name = (field_map or {}).get(error.field, error.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(error.message)]
    else:
        form.form_errors.append(str(error.message))
    return error.status
