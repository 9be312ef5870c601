"""Admin broadcast: snapshot for newcomers, per-client bounded queues, lag drop (§8)."""

from __future__ import annotations

from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from inferd_tui.proto import ADMIN_FRAME_ID, encode_admin_event


class AdminClient:
    """One subscriber: a queue of encoded frames and the scope of its connection.

    ``scope`` is cancelled to cut the client off (lag drop, shutdown timeout); the
    connection handler runs inside it and closes the socket on the way out.
    """

    def __init__(self, lag_limit: int) -> None:
        send, receive = anyio.create_memory_object_stream[bytes](lag_limit)
        self.send_stream: MemoryObjectSendStream[bytes] = send
        self.receive_stream: MemoryObjectReceiveStream[bytes] = receive
        self.scope = anyio.CancelScope()
        self.dropped = False


class AdminHub:
    """Keeps the snapshot (capabilities per backend + the latest state frame) and fans out.

    Everything here is synchronous, so subscribing (snapshot, then live events) is atomic
    with respect to publishing: a client never misses or duplicates an event.
    """

    def __init__(self, lag_limit: int) -> None:
        self.lag_limit = lag_limit
        self.capabilities: dict[str, bytes] = {}
        self.latest: bytes | None = None
        self.latest_event: dict[str, Any] = {}
        self.clients: set[AdminClient] = set()
        self.published = 0
        self.dropped = 0
        self.closed = False

    def publish(self, event: dict[str, Any]) -> dict[str, Any]:
        """Broadcast ``event`` (``id``/``type`` filled in); returns the event as sent."""
        event = {"id": ADMIN_FRAME_ID, "type": "status", **event}
        data = encode_admin_event(event)
        if event.get("status") == "capabilities":
            self.capabilities[str(event.get("backend", ""))] = data
        else:
            self.latest, self.latest_event = data, event
        self.published += 1
        for client in list(self.clients):
            self._offer(client, data)
        return event

    def subscribe(self) -> AdminClient:
        client = AdminClient(self.lag_limit)
        snapshot = list(self.capabilities.values())
        if self.latest is not None:
            snapshot.append(self.latest)
        for data in snapshot:
            self._offer(client, data)
        if self.closed:
            client.send_stream.close()
        elif not client.dropped:
            self.clients.add(client)
        return client

    def unsubscribe(self, client: AdminClient) -> None:
        self.clients.discard(client)
        client.send_stream.close()
        client.receive_stream.close()

    def close_all(self) -> None:
        """No more events: each client gets what is queued for it, then EOF."""
        self.closed = True
        for client in self.clients:
            client.send_stream.close()

    def _offer(self, client: AdminClient, data: bytes) -> None:
        try:
            client.send_stream.send_nowait(data)
        except anyio.WouldBlock:
            # More than lag_limit events behind: drop it; it reconnects for a snapshot.
            client.dropped = True
            self.dropped += 1
            self.clients.discard(client)
            client.send_stream.close()
            client.scope.cancel()
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.clients.discard(client)
