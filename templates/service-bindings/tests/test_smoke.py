def test_gateway_reaches_backend(wranglerpy_dev):
    dev = wranglerpy_dev("wrangler.jsonc", "wrangler-backend.jsonc")
    gateway = dev.client("{{name}}-gateway")
    assert gateway.get("/shout").text == "HELLO!"
    assert "tick 4" in gateway.get("/backend/ticks").text
