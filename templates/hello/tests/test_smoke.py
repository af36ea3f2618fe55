def test_worker_answers(wranglerpy_dev):
    dev = wranglerpy_dev("wrangler.jsonc")
    assert dev.client().get("/").text == "Hello from {{name}}!"
    assert dev.client().get("/count").json() == {"count": 1}
