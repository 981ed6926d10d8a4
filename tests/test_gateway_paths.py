"""A service's pathPrefix is judged by Gateway API's own rules, read from the vendored CRD
(issue 24: `/../`, `//` and friends were accepted here and refused by the API server)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.config.gateway import gateway_path, path_prefix_rules, route_key

SEGMENT = st.one_of(
    st.sampled_from(["", ".", ".."]), st.from_regex(r"[a-z0-9_~-]{1,6}", fullmatch=True)
)


def test_every_value_rule_of_the_crd_is_read() -> None:
    messages = [m for m, _ in path_prefix_rules()]
    assert len(messages) == 10  # Gateway API v1.4.1's HTTPRoute path rules
    assert any("'/../'" in m for m in messages) and any("'//'" in m for m in messages)


@given(st.lists(SEGMENT, min_size=1, max_size=5))
def test_dot_and_empty_segments_are_refused_as_the_api_server_would(segments: list[str]) -> None:
    path = "/" + "/".join(segments)
    # The spec's intent, stated independently of the CEL: no `.` or `..` element anywhere and no
    # empty element but a trailing one.
    refused = any(s in (".", "..") for s in segments) or "" in segments[:-1]
    if refused:
        with pytest.raises(ValueError, match="must be a path prefix Gateway API accepts"):
            gateway_path(path)
    else:
        assert gateway_path(path) == path


@pytest.mark.parametrize(("a", "b"), [("/v1", "/v1/"), ("/", "/"), ("/a/b/", "/a/b")])
def test_a_trailing_slash_routes_the_same_requests(a: str, b: str) -> None:
    assert route_key(a) == route_key(b)
