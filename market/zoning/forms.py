from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..formtools import REQUIRED, whole_number
from ..services.vendors.registry import CATEGORY_LABELS


class MarketForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    slug = StringField(
        _l("Short name for web addresses"),
        validators=[DataRequired(REQUIRED), Length(max=60)],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    timezone = StringField(
        _l("Timezone"), default="Asia/Shanghai", validators=[DataRequired(REQUIRED), Length(max=64)]
    )
    latitude = FloatField(_l("Latitude of the centre"), validators=[Optional()])
    longitude = FloatField(_l("Longitude of the centre"), validators=[Optional()])
    geofence_radius_m = IntegerField(_l("Geofence radius (metres)"), validators=[Optional()])
    collection_code = FileField(_l("Collection code image (WeChat / Alipay)"))
    public_notice = TextAreaField(
        _l("Short public notice"), validators=[Optional(), Length(max=500)]
    )
    rules_text = TextAreaField(
        _l("Market rules vendors agree to"), validators=[Optional(), Length(max=4000)]
    )
    is_active = BooleanField(_l("Active"), default=True)


class CategoriesField(SelectMultipleField):
    """Checkboxes of the category keys, shown by their names; a zone stores them as a comma
    list (Zone.categories). A key no longer offered stays ticked under its own code."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_data(self, value):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        super().process_data(value)
        known = {c.value for c in self.choices or []}
        extra = [SelectChoice(v, v) for v in self.data or [] if v not in known]
        self.choices = [*(self.choices or []), *extra]


class ZoneForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(REQUIRED), Length(max=8)])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=40)])
    # No "required": a colour input always has a value; the service checks its format.
    color = StringField(_l("Colour on the map"), default="#2E7D32", render_kw={"type": "color"})
    sort_order = IntegerField(_l("Order"), default=0, validators=whole_number(0, 999))
    categories = CategoriesField(
        _l("Categories sold here"),
        choices=[SelectChoice(k, v) for k, v in CATEGORY_LABELS.items()],
        validate_choice=False,
    )
    goods_note = StringField(_l("What may be sold here"), validators=[Optional(), Length(max=200)])
    is_active = BooleanField(_l("Active"), default=True)


class StallForm(FlaskForm):
    code = StringField(_l("Stall code"), validators=[DataRequired(REQUIRED), Length(max=16)])
    zone_id = SelectField(_l("Zone"), coerce=int, validate_choice=False)
    # The service names the allowed sizes (0.5 m to 20 m); 0 is a size, not a missing one.
    width_cm = IntegerField(_l("Width (cm)"), default=200, validators=whole_number(0, 99_999))
    depth_cm = IntegerField(_l("Depth (cm)"), default=200, validators=whole_number(0, 99_999))
    has_power = BooleanField(_l("Power outlet"))
    grid_row = IntegerField(_l("Row on the map"), default=0, validators=whole_number(0, 199))
    grid_col = IntegerField(_l("Column on the map"), default=0, validators=whole_number(0, 199))
    grid_w = IntegerField(_l("Width on the map (cells)"), default=1, validators=whole_number(1, 10))
    grid_h = IntegerField(
        _l("Height on the map (cells)"), default=1, validators=whole_number(1, 10)
    )


class BulkStallForm(FlaskForm):
    zone_id = SelectField(_l("Zone"), coerce=int, validate_choice=False)
    codes = StringField(
        _l("Stall codes"),
        validators=[DataRequired(REQUIRED), Length(max=40)],
        render_kw={"placeholder": "A-01..A-24", "autocapitalize": "characters"},
    )
    rows = IntegerField(_l("Rows"), default=2, validators=whole_number(1, 10))
    start_row = IntegerField(_l("First row on the map"), default=0, validators=whole_number(0, 199))
    start_col = IntegerField(
        _l("First column on the map"), default=0, validators=whole_number(0, 199)
    )
    walkway = BooleanField(_l("Leave a walkway between rows"), default=True)
    has_power = BooleanField(_l("Power outlet"))


class DisableForm(FlaskForm):
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why.")), Length(max=100)],
        render_kw={"placeholder": _l("e.g. construction / fire lane")},
    )


class ConfirmForm(FlaskForm):
    """An action button: only the CSRF token."""
