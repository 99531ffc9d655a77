"""The signed session cookie and the CSRF comparison."""

from __future__ import annotations

from synth_pipeline.review.app.security import SessionCodec, SessionData, csrf_matches

SECRET = "k" * 40


def test_session_round_trip_and_tampering():
    codec = SessionCodec(SECRET, max_age=60)
    data = SessionData.fresh(7)
    cookie = codec.dumps(data)
    assert codec.loads(cookie) == data
    assert codec.loads(cookie[:-1] + ("A" if cookie[-1] != "A" else "B")) is None
    assert SessionCodec("x" * 40, max_age=60).loads(cookie) is None  # signed with another secret
    assert codec.loads("") is None and codec.loads(None) is None


def test_expired_sessions_are_no_sessions():
    assert SessionCodec(SECRET, max_age=-1).loads(SessionCodec(SECRET, max_age=60).dumps(SessionData.fresh(1))) is None


def test_each_session_gets_its_own_csrf_token():
    one, two = SessionData.fresh(1), SessionData.fresh(1)
    assert one.csrf != two.csrf
    assert csrf_matches(one, one.csrf)
    assert not csrf_matches(one, two.csrf)
    assert not csrf_matches(one, "") and not csrf_matches(one, None) and not csrf_matches(None, one.csrf)


def test_login_throttle_counts_failures_per_address_within_the_window(monkeypatch):
    from synth_pipeline.review.app import security

    now = [1000.0]
    monkeypatch.setattr(security.time, "monotonic", lambda: now[0])
    throttle = security.LoginThrottle(max_failures=2, window_seconds=60)
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0
    now[0] += 10
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 50  # until the first failure leaves the window
    assert throttle.retry_after("10.0.0.2") == 0
    now[0] += 50
    assert throttle.retry_after("10.0.0.1") == 0


def test_nul_characters_are_found_at_any_depth():
    from synth_pipeline.review.app.security import has_nul

    assert has_nul({"record": {"messages": [{"content": "a\x00b"}]}})
    assert has_nul({"k\x00": 1}) and has_nul(["x", "\x00"])
    assert not has_nul({"record": {"messages": [{"content": "ab", "n": 3}]}})
