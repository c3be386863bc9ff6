import socket

import pytest
from conftest import NetworkAccessError


def test_opening_a_socket_fails_the_test() -> None:
    with pytest.raises(NetworkAccessError):
        socket.create_connection(("127.0.0.1", 9))
    with socket.socket() as s, pytest.raises(NetworkAccessError):
        s.connect(("example.org", 443))
