"""Wrong access keys are counted in the database, per client address and per booking."""
from datetime import timedelta

from flask_babel import refresh

from reflexion import attempts, clock


def _try(client, ref, key, lang="de", address="198.51.100.7"):
    return client.post(f"/{lang}/booking/{ref}", data={"access_key": key}, environ_base={"REMOTE_ADDR": address})


def test_ten_wrong_keys_from_one_address_block_it_for_the_window(client, db, make_booking, frozen_now):
    frozen_now()
    booking = make_booking(clock.now() + timedelta(days=3))
    db.session.commit()
    assert [_try(client, booking.ref, "aaaa-bbbb-cccc").status_code for _ in range(10)] == [403] * 10
    blocked = _try(client, booking.ref, "abcd-efgh-jkmn")
    assert blocked.status_code == 429
    assert "zu viele falsche Zugangsschlüssel versucht" in blocked.get_data(as_text=True)
    refresh()  # the test's app context outlives requests: forget the German locale it cached
    swedish = _try(client, booking.ref, "abcd-efgh-jkmn", lang="sv")
    assert swedish.status_code == 429 and "För många felaktiga åtkomstnycklar" in swedish.get_data(as_text=True)
    # Another address is not affected; the blocked one is free again in the next window.
    assert _try(client, booking.ref, "abcd-efgh-jkmn", address="198.51.100.8").status_code == 303
    clock.freeze(clock.now() + timedelta(seconds=attempts.ACCESS_KEY_PER_ADDRESS.seconds))
    assert _try(client.application.test_client(), booking.ref, "abcd-efgh-jkmn").status_code == 303


def test_unknown_references_count_too_and_old_windows_are_dropped(client, db, frozen_now):
    frozen_now()
    for _ in range(3):
        assert _try(client, "R-ZZZZZZ", "aaaa-bbbb-cccc").status_code == 403
    assert attempts.failures("access-ip:198.51.100.7", attempts.ACCESS_KEY_PER_ADDRESS) == 3
    assert attempts.failures("access-ref:R-ZZZZZZ", attempts.ACCESS_KEY_PER_BOOKING) == 3
    clock.freeze(clock.now() + timedelta(days=2))
    _try(client, "R-ZZZZZZ", "aaaa-bbbb-cccc")
    assert db.session.query(attempts.FailedAttempts).count() == 2  # only the current windows are kept


def test_a_failure_is_counted_although_the_request_rolls_back(app, db, make_booking):
    booking = make_booking(clock.now() + timedelta(days=3))
    db.session.commit()
    with app.test_request_context():
        from reflexion.booking import access

        assert access.open_with_access_key(booking.ref, "aaaa-bbbb-cccc", "203.0.113.1") is None
        db.session.rollback()
        assert attempts.failures("access-ip:203.0.113.1", attempts.ACCESS_KEY_PER_ADDRESS) == 1
