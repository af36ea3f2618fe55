"""dev's Host allow-list (issue 18 finding 12; Vite's server.allowedHosts is the model)."""

from wranglerpy.runtime.host_check import HostCheck


def test_localhost_names_and_ip_addresses_are_allowed():
    check = HostCheck()
    for host in (
        "localhost",
        "localhost:8787",
        "API.localhost:1",
        "127.0.0.1:8787",
        "[::1]:80",
        "10.0.0.5",
        None,
    ):
        assert check.allows(host), host


def test_other_names_are_refused_unless_a_route_names_them():
    check = HostCheck(["api.example.com/*", "*.shop.test/x", "192.168.1.9"])
    assert check.allows("api.example.com:443") and check.allows("a.shop.test")
    for host in ("evil.com", "api.example.com.evil.com", "localhost.evil.com", "shop.test.evil"):
        assert not check.allows(host), host
    assert "routes" in HostCheck.refusal("evil.com")
