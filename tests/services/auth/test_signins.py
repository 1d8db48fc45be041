"""Logged-in browsers kept on the server: one ends on logout, all end together."""

from market.extensions import db
from market.services.auth import signins
from tests import builders as b


def test_a_browser_lives_until_it_logs_out(ctx):
    user = b.user()
    key = signins.start(user)
    other = signins.start(user)
    db.session.commit()
    assert signins.user_for(user.id, user.token_version, key) == user
    assert signins.user_for(user.id, user.token_version + 1, key) is None
    assert signins.user_for(user.id, user.token_version, "forged") is None
    assert signins.user_for(user.id, user.token_version, None) is None
    signins.end(key)
    db.session.commit()
    assert signins.user_for(user.id, user.token_version, key) is None
    assert signins.is_live(user, other)


def test_another_users_key_is_no_key(ctx):
    user, someone = b.user(), b.user()
    key = signins.start(someone)
    db.session.commit()
    assert signins.user_for(user.id, user.token_version, key) is None


def test_ending_all_ends_every_browser_and_token_version(ctx):
    user = b.user()
    keys = [signins.start(user) for _ in range(3)]
    version = user.token_version
    signins.end_all(user)
    db.session.commit()
    assert user.token_version == version + 1
    assert not any(signins.is_live(user, k) for k in keys)
