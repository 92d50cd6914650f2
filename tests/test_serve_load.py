"""The dev server under load: 50 clients reading pages for 10 s while 20 rebuilds run get no
error and never a page that is not, byte for byte, the page of one whole build."""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
from pathlib import Path

from bitopia_site.build import BuildOptions, build
from bitopia_site.incremental import live_builder
from bitopia_site.serve.handler import BUILD_PLACEHOLDER
from bitopia_site.serve.server import DevServer, inject_livereload

POST = "content/posts/2014-08-06-the-live-deployment-stories-from-bitopia.md"
URLS = ["/", "/2014/08/06/the-live-deployment-stories-from-bitopia/", "/about/", "/tags/bitopia/",
        "/categories/writing/", "/archives/", "/index.xml", "/sitemap.xml", "/css/bitopia.css"]
_TOKEN = re.compile(rb'data-build="[^"]*"')
CLIENTS, SECONDS, REBUILDS = 50, 10.0, 20


def _normal(body: bytes) -> bytes:
    return _TOKEN.sub(f'data-build="{BUILD_PLACEHOLDER}"'.encode(), body)


def _expected(site: Path, tmp: Path, version: str, base_url: str, text: str) -> dict[str, bytes]:
    """Every checked URL's bytes in a full build of one version of the post, as the server builds."""
    (site / POST).write_text(text)
    out = tmp / f"full-{version}"
    build(site, out, BuildOptions(drafts=True, future=True, base_url=base_url, post_process=inject_livereload,
                                  cache=False))
    return {url: _normal((out / (url.lstrip("/") + ("index.html" if url.endswith("/") else ""))).read_bytes())
            for url in URLS}


def test_fifty_clients_during_twenty_rebuilds_see_only_whole_pages(bundled_site: Path, tmp_path: Path) -> None:
    original = (bundled_site / POST).read_text()
    versions = {"a": original, "b": original + "\nA paragraph that only version B has.\n"}
    server = DevServer(bundled_site, live_builder(bundled_site), port=0).start()
    try:
        expected = {v: _expected(bundled_site, tmp_path, v, server.url, text) for v, text in versions.items()}
        assert expected["a"][URLS[1]] != expected["b"][URLS[1]]
        (bundled_site / POST).write_text(versions["a"])
        deadline = time.monotonic() + 15
        while server.builds < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop = time.monotonic() + SECONDS
        failures: list[str] = []
        counts = [0] * CLIENTS

        def client(n: int) -> None:
            rng = random.Random(n)
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            while time.monotonic() < stop:
                url = rng.choice(URLS)
                try:
                    connection.request("GET", url)
                    response = connection.getresponse()
                    body = _normal(response.read())
                except (OSError, http.client.HTTPException) as exc:
                    failures.append(f"{url}: {exc!r}")
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                    continue
                counts[n] += 1
                if response.status != 200:
                    failures.append(f"{url}: HTTP {response.status}")
                elif body not in (expected["a"][url], expected["b"][url]):
                    failures.append(f"{url}: {len(body)} bytes match no whole build")
            connection.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        builds_before = server.builds
        for thread in threads:
            thread.start()
        for i in range(REBUILDS):
            (bundled_site / POST).write_text(versions["b" if i % 2 == 0 else "a"])
            wait_until = time.monotonic() + 10
            while server.builds < builds_before + i + 1 and time.monotonic() < wait_until:
                time.sleep(0.02)
        rebuilds = server.builds - builds_before
        for thread in threads:
            thread.join(SECONDS + 40)
        requests = sum(counts)
    finally:
        server.close()
    print(f"{requests} requests from {CLIENTS} clients during {rebuilds} rebuilds, {len(failures)} failures")
    assert rebuilds >= REBUILDS
    assert requests >= 1000, f"only {requests} requests were made"
    assert failures == [], f"{len(failures)} of {requests} requests failed: {failures[:5]}"
