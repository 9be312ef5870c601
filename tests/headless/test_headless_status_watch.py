"""`status` and `watch` against the stand-in daemon: output and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest
from headless_helpers import (
    daemon_config,
    endpoint_flags,
    invoke,
    make_console,
    running,
    scripted_server,
)

from inferd_tui.headless import watch as watch_module
from inferd_tui.headless.events import DownloadMeter, describe_event
from inferd_tui.proto.framing import parse_admin_event

pytestmark = pytest.mark.anyio

TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
# A first boot that takes no time: four download frames, no holds.
FAST_BOOT = {
    "boot": "first-boot",
    "phase_hold_s": 0.0,
    "download_duration_s": 0.0,
    "download_total_bytes": 100 * 1024 * 1024,
}


# --- status ------------------------------------------------------------------------------


async def test_status_ready(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp)) as daemon:
        await daemon.wait_ready()
        result = await invoke(["status", *endpoint_flags(short_tmp)])
    assert result.code == 0
    assert result.out.startswith(
        f"ready (inferd 0.2–0.3; wire v1 on {short_tmp / 'infer.sock'}; backend=mock accelerator=cpu"
    )
    assert str(short_tmp / "admin.sock") in result.out


async def test_status_not_ready(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, autoboot=False)):
        result = await invoke(["status", *endpoint_flags(short_tmp)])
        as_json = await invoke(["status", "--json", *endpoint_flags(short_tmp)])
    assert result.code == 1
    assert result.out.startswith("starting — admin ")
    assert as_json.code == 1
    report = json.loads(as_json.out)
    assert report["state"] == "starting"
    assert report["ready"] is False
    assert report["era"] is None  # capabilities come just before ready


async def test_status_not_ready_mid_download(short_tmp: Path) -> None:
    config = daemon_config(short_tmp, boot="first-boot", autoboot=False)
    async with running(config) as daemon:
        daemon.publish(
            {
                "status": "loading_model",
                "phase": "download",
                "downloaded_bytes": 1288490189,
                "total_bytes": 5153960755,
                "source_url": "https://example.invalid/m.gguf",
            }
        )
        result = await invoke(["status", *endpoint_flags(short_tmp)])
    assert result.code == 1
    assert result.out.startswith("loading_model download 1.2 GiB / 4.8 GiB 25% — admin")


async def test_status_unreachable_names_the_paths(short_tmp: Path) -> None:
    result = await invoke(["status", *endpoint_flags(short_tmp)])
    assert result.code == 2
    assert result.out.startswith("unreachable: admin socket: No admin socket at ")
    assert str(short_tmp / "admin.sock") in result.out
    assert str(short_tmp / "infer.sock") in result.out

    as_json = await invoke(["status", "--json", *endpoint_flags(short_tmp)])
    report = json.loads(as_json.out)
    assert as_json.code == 2
    assert report["reachable"] is False
    assert report["paths"] == {
        "admin": str(short_tmp / "admin.sock"),
        "inference": str(short_tmp / "infer.sock"),
    }
    assert str(short_tmp / "infer.sock") in report["error"]["inference"]


async def test_status_json_ready(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp)) as daemon:
        await daemon.wait_ready()
        result = await invoke(["status", "--json", *endpoint_flags(short_tmp)])
    report = json.loads(result.out)
    assert result.code == 0
    assert report["state"] == "ready"
    assert report["ready"] is True
    assert report["era"] == "0.2-0.3"
    assert report["wire"] == "v1"
    assert report["v1"] is True
    assert report["source"] == "admin"
    assert [c["backend"] for c in report["capabilities"]] == ["mock"]
    assert report["paths"]["admin"] == str(short_tmp / "admin.sock")


async def test_status_v04_daemon_names_era_and_wire(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp, era="0.4")) as daemon:
        await daemon.wait_ready()
        result = await invoke(["status", *endpoint_flags(short_tmp)])
        as_json = await invoke(["status", "--json", *endpoint_flags(short_tmp)])
    assert result.code == 0
    assert result.out.startswith(
        f"ready (inferd 0.4 or later; wire v2 on {short_tmp / 'inferd.sock'}; backend=mock"
    )
    assert "wire_version=1" in result.out
    report = json.loads(as_json.out)
    assert as_json.code == 0
    assert (report["era"], report["wire"], report["v1"]) == ("0.4+", "v2", False)
    assert report["paths"]["generation"] == str(short_tmp / "inferd.sock")
    assert report["ready"] is True


async def test_status_admin_down_but_inference_up_is_ready(short_tmp: Path) -> None:
    config = daemon_config(short_tmp).__class__(socket_path=short_tmp / "infer.sock")
    async with running(config) as daemon:
        await daemon.wait_ready()
        result = await invoke(["status", *endpoint_flags(short_tmp)])
    assert result.code == 0
    assert result.out.startswith(f"ready (the inference socket {short_tmp / 'infer.sock'}")
    assert "admin socket unavailable" in result.out


async def test_endpoint_flags_before_and_after_the_subcommand(short_tmp: Path) -> None:
    async with running(daemon_config(short_tmp)) as daemon:
        await daemon.wait_ready()
        before = await invoke([*endpoint_flags(short_tmp), "status"])
        mixed = await invoke(
            [
                "--socket",
                str(short_tmp / "infer.sock"),
                "status",
                "--admin",
                str(short_tmp / "admin.sock"),
            ]
        )
    assert before.code == 0, before
    assert mixed.code == 0, mixed


async def test_status_from_the_environment(
    short_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFERD_UDS", str(short_tmp / "infer.sock"))
    monkeypatch.setenv("INFERD_ADMIN_ADDR", str(short_tmp / "admin.sock"))
    async with running(daemon_config(short_tmp)) as daemon:
        await daemon.wait_ready()
        result = await invoke(["status"])
    assert result.code == 0, result


async def test_status_demo() -> None:
    result = await invoke(["status", "--demo"])
    assert result.code == 0, result
    assert result.out.startswith("ready (inferd 0.8; wire v2 on ")
    assert "inferd.sock" in result.out and "backend=demo" in result.out


async def test_status_demo_era() -> None:
    result = await invoke(["status", "--demo-era", "0.3"])
    assert result.code == 0, result
    assert result.out.startswith("ready (inferd 0.3; wire v1 on ")


# --- watch -------------------------------------------------------------------------------


async def _watch_first_boot(short_tmp: Path, *flags: str) -> tuple[int, str, str]:
    console = make_console()
    code = -1
    async with running(daemon_config(short_tmp, autoboot=False, **FAST_BOOT)) as daemon:

        async def run() -> None:
            nonlocal code
            result = await invoke(["watch", *flags, *endpoint_flags(short_tmp)], console)
            code = result.code

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(run)
            await daemon.wait_until(lambda d: d.admin_clients > 0)
            daemon.begin_boot()
            await daemon.wait_ready()
            await daemon.shutdown()
    return code, console.out.getvalue(), console.err.getvalue()  # type: ignore[attr-defined]


async def test_watch_text_through_a_first_boot(short_tmp: Path) -> None:
    code, out, err = await _watch_first_boot(short_tmp)
    assert code == 0, err
    lines = out.splitlines()
    assert all(re.match(TIMESTAMP + " ", line) for line in lines)
    bodies = [line.split(" ", 1)[1] for line in lines]
    assert bodies[0] == "starting"
    assert bodies[1] == "loading_model checking_local /home/user/.inferd/models/gemma-4-e4b.gguf"
    downloads = [b for b in bodies if " download " in b]
    assert downloads[0] == "loading_model download 0 B / 100.0 MiB 0%"
    assert downloads[-1].startswith("loading_model download 100.0 MiB / 100.0 MiB 100%")
    assert len(downloads) == 5  # 0, 32, 64, 96 MiB and the total
    assert "loading_model kv_cache n_ctx 8192" in bodies
    assert any(b.startswith("capabilities backend=mock accelerator=cuda") for b in bodies)
    assert bodies[-2:] == ["ready", "draining"]


async def test_watch_json_through_a_first_boot(short_tmp: Path) -> None:
    code, out, _ = await _watch_first_boot(short_tmp, "--json")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    (daemon,) = [r for r in records if r["type"] == "watch"]
    assert (daemon["event"], daemon["era"], daemon["wire"]) == ("daemon", "0.3", "v1")
    events = [r for r in records if r["type"] != "watch"]
    assert all(re.match(TIMESTAMP + r"\.\d{3}[+-]\d\d:\d\d$", e["received_at"]) for e in events)
    assert [e["status"] for e in events][:2] == ["starting", "loading_model"]
    assert [e["status"] for e in events][-2:] == ["ready", "draining"]
    download = next(e for e in events if e.get("phase") == "download")
    assert set(download) == {
        "downloaded_bytes",
        "id",
        "phase",
        "received_at",
        "source_url",
        "status",
        "total_bytes",
        "type",
    }


async def test_watch_crash_eof_exits_2(short_tmp: Path) -> None:
    admin = short_tmp / "admin.sock"
    lines = [
        b'{"id":"admin","status":"starting","type":"status"}\n',
        b'{"extra_key":42,"id":"admin","status":"future_state","type":"status"}\n',
        b'{"id":"admin","path":"/x.gguf","phase":"mmap","status":"loading_model","type":"status"}\n',
    ]
    async with scripted_server(admin, lines):
        result = await invoke(["watch", "--admin", str(admin)])
    assert result.code == 2
    bodies = [line.split(" ", 1)[1] for line in result.out.splitlines()]
    assert bodies == ["starting", "future_state extra_key=42", "loading_model mmap /x.gguf"]
    assert "closed without `draining`" in result.err


async def test_watch_unreachable_exits_2(short_tmp: Path) -> None:
    result = await invoke(["watch", "--admin", str(short_tmp / "admin.sock")])
    assert result.code == 2
    assert str(short_tmp / "admin.sock") in result.err
    assert result.out == ""


async def test_watch_sanitizes_hostile_fields(short_tmp: Path) -> None:
    admin = short_tmp / "admin.sock"
    hostile = b'{"id":"admin","path":"/x\\u001b[31m\\nred","phase":"mmap","status":"loading_model\\u0007","type":"status"}\n'
    async with scripted_server(admin, [hostile]):
        result = await invoke(["watch", "--admin", str(admin)])
        as_json = await invoke(["watch", "--json", "--admin", str(admin)])
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert "loading_model␇ mmap /x␛[31m⏎red" in result.out
    assert "\x1b" not in as_json.out
    assert json.loads(as_json.out)["path"] == "/x\x1b[31m\nred"


async def test_watch_follow_across_a_restart(short_tmp: Path) -> None:
    console = make_console()
    out = console.out
    config = daemon_config(short_tmp)
    flags = ["watch", "--follow", *endpoint_flags(short_tmp)]
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(invoke, flags, console)
        async with running(config):
            await out.wait_for(" ready\n")  # type: ignore[attr-defined]
        await out.wait_for("-- admin disconnected at ")  # type: ignore[attr-defined]
        async with running(config):
            await out.wait_for(" ready\n", count=2)  # type: ignore[attr-defined]
        task_group.cancel_scope.cancel()
    text = out.getvalue()
    assert " draining\n" in text
    assert re.search(
        TIMESTAMP + r" -- admin disconnected at " + TIMESTAMP + r", reconnected after \d+\.\d s --",
        text,
    )


async def test_watch_follow_json_records_gaps(short_tmp: Path) -> None:
    console = make_console()
    out = console.out
    config = daemon_config(short_tmp)
    flags = ["watch", "--follow", "--json", *endpoint_flags(short_tmp)]
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(invoke, flags, console)
        async with running(config):
            await out.wait_for('"status":"ready"')  # type: ignore[attr-defined]
        async with running(config):
            await out.wait_for('"event":"reconnected"')  # type: ignore[attr-defined]
        task_group.cancel_scope.cancel()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    gaps = [r for r in records if r["type"] == "watch" and r["event"] != "daemon"]
    # (the second daemon's shutdown may add one more "disconnected" before the cancel)
    assert [g["event"] for g in gaps][:2] == ["disconnected", "reconnected"]
    assert gaps[1]["gap_s"] >= 0


async def test_watch_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_module, "DEMO_CONFIG", {**watch_module.DEMO_CONFIG, **FAST_BOOT})
    result = await invoke(["watch", "--demo"])
    assert result.code == 0, result.err
    assert result.out.splitlines()[0].endswith(" starting")
    assert result.out.splitlines()[-1].endswith(" draining")


# --- pure formatting ---------------------------------------------------------------------


def test_download_meter_rate_and_eta() -> None:
    meter = DownloadMeter()
    mib = 1024 * 1024
    assert meter.update(0.0, 0, 100 * mib) == (None, None)
    rate, eta = meter.update(1.0, 10 * mib, 100 * mib)
    assert rate == 10 * mib
    assert eta == pytest.approx(9.0)
    meter.update(2.0, 30 * mib, 100 * mib)
    assert meter.rate == pytest.approx(0.3 * 20 * mib + 0.7 * 10 * mib)
    assert meter.update(3.0, 5 * mib, None) == (None, None)  # went backwards: a new download


def test_describe_download_with_rate_and_eta() -> None:
    event = parse_admin_event(
        b'{"downloaded_bytes":1288490189,"id":"admin","phase":"download","source_url":"https://x",'
        b'"status":"loading_model","total_bytes":5153960755,"type":"status"}'
    )
    line = describe_event(event, rate=85 * 1024 * 1024, eta=42)
    assert line == "loading_model download 1.2 GiB / 4.8 GiB 25% 85.0 MiB/s ETA 42s"
    unknown = parse_admin_event(
        b'{"downloaded_bytes":1024,"id":"admin","phase":"download","source_url":"https://x",'
        b'"status":"loading_model","total_bytes":null,"type":"status"}'
    )
    assert describe_event(unknown) == "loading_model download 1.0 KiB (total size unknown)"


def test_describe_quarantine_and_unknown_phase() -> None:
    quarantine = parse_admin_event(
        b'{"actual_sha256":"bbbb","expected_sha256":"aaaa","id":"admin","path":"/tmp/x.gguf",'
        b'"phase":"quarantine","quarantine_path":"/tmp/x.gguf.quarantine","status":"loading_model","type":"status"}'
    )
    assert describe_event(quarantine) == (
        "loading_model quarantine /tmp/x.gguf: checksum mismatch (expected aaaa, got bbbb); "
        "moved to /tmp/x.gguf.quarantine"
    )
    future = parse_admin_event(
        b'{"id":"admin","phase":"warmup","status":"restarting","type":"status","pct":5}'
    )
    assert describe_event(future) == "restarting warmup pct=5"
