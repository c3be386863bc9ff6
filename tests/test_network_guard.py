import socket

import pytest
from conftest import NetworkAccessError


def test_opening_a_socket_fails_the_test() -> None:
    with pytest.raises(NetworkAccessError):
        socket.create_connection(("127.0.0.1", 9))
    with socket.socket() as s, pytest.raises(NetworkAccessError):
        s.connect(("example.org", 443))


def test_a_server_the_test_started_is_reachable_and_only_it(fake_openai) -> None:
    import json
    import socket
    import urllib.request

    from fake_openai import Answer

    server = fake_openai(Answer(content="hi"))
    body = json.dumps({"model": "local", "messages": []}).encode()
    request = urllib.request.Request(
        server.base + "/chat/completions", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["choices"][0]["message"]["content"] == "hi"
    with pytest.raises(AssertionError, match="tried to connect"):
        socket.create_connection(("127.0.0.1", server.address[1] + 1), timeout=1)
