def test_init_and_list(ks):
    out = ks.ok("list", "host")
    assert "Frontend" in out
