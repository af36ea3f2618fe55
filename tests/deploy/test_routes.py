from wranglerpy.deploy.routes import RoutePattern, build_table


def test_workers_dev_host_and_routes_pick_the_worker() -> None:
    table = build_table(
        {
            "api": (True, ("example.com/*",)),
            "admin": (False, ("example.com/admin/*",)),
            "wild": (False, ("*.example.com/api/*",)),
            "internal": (False, ()),
        }
    )
    assert table.match("api.localhost:8080", "/x") == "api"
    assert table.match("API.LOCALHOST", "/") == "api"
    assert table.match("internal.localhost:8080", "/") is None
    assert table.match("example.com", "/admin/users") == "admin"  # longer path wins
    assert table.match("example.com:8080", "/other") == "api"
    assert table.match("shop.example.com", "/api/v1") == "wild"
    assert table.match("shop.example.com", "/web") is None
    assert table.match("example.com", "/api/v1") == "api"  # "*.example.com" needs a subdomain
    assert table.match("unknown.test", "/") is None


def test_pattern_rules() -> None:
    bare = RoutePattern.parse("*example.com/*", "w")
    assert bare.matches("example.com", "/") and bare.matches("a.example.com", "/b")
    exact = RoutePattern.parse("https://example.com/health", "w")
    assert exact.matches("example.com", "/health")
    assert not exact.matches("example.com", "/health/x")
    no_path = RoutePattern.parse("example.com", "w")
    assert no_path.matches("example.com", "/anything")
    exact_host = RoutePattern.parse("example.com/*", "w")
    wild_host = RoutePattern.parse("*.example.com/*", "w")
    assert exact_host.rank() > wild_host.rank()
