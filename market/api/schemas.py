"""Request and response shapes of the API."""

import marshmallow as ma


class TokenRequestSchema(ma.Schema):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=128)
    )


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})


class RoleSchema(ma.Schema):
    role = ma.fields.String(required=True)
    organization_id = ma.fields.Integer(required=True)
    market_id = ma.fields.Integer(allow_none=True)


class MeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    phone = ma.fields.String(required=True, metadata={"description": "masked: 138****0003"})
    roles = ma.fields.List(ma.fields.Nested(RoleSchema), required=True)


class MarketSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    organization_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    address = ma.fields.String(allow_none=True)
    timezone = ma.fields.String(required=True)
    is_active = ma.fields.Boolean(required=True)
