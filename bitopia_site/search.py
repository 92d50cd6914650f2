"""Site search with Pagefind: an index of every published post and page, made by the Pagefind
binary (the `pagefind` package on PyPI ships it) and served from /pagefind/ beside the site.

The index is made from the documents themselves (title, featured image, HTML), not from the
written pages: a build that renders no page again still knows what it holds. Pagefind cannot update an index
in place: an index is made whole, once for each set of records, and kept in the cache under the
records' digest, so a build whose records did not change (a template edit, a new tag page) reuses
it and writes nothing new."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable

from bitopia_site import urls
from bitopia_site.errors import SiteError
from bitopia_site.model import Document

FOLDER = "pagefind"  # below the output root, as Pagefind's own CLI writes it
INTERFACE = ("pagefind/pagefind.js", "pagefind/pagefind-ui.js", "pagefind/pagefind-ui.css")  # in every index
FORMAT = "1"  # the records' HTML below: a new value makes every index again


@dataclass(frozen=True, slots=True)
class Record:
    """One page as Pagefind reads it: its link and a small HTML page of its text."""

    url: str
    html: str


def records_of(documents: Iterable[Document], base_path: str, language: str) -> list[Record]:
    """The records of `documents` (a build's published set) that have a page of their own, drafts
    left out: serve and `--drafts` show drafts, an index never holds them. Sorted by URL: the
    same site gives the same index."""
    records = []
    for doc in documents:
        if doc.draft or doc.render != "always" or doc.is_section_index:
            continue
        image = ""
        if doc.featured is not None:
            src = doc.featured.url if "://" in doc.featured.url else urls.join(base_path, doc.featured.url)
            image = f'<img data-pagefind-meta="image[src], image_alt[alt]" src="{_attr(src)}" alt="{_attr(doc.featured.alt)}">'
        page = (f'<html lang="{_attr(language)}"><head><title>{html.escape(doc.title)}</title></head>'
                f'<body><main data-pagefind-body><h1 data-pagefind-meta="title">{html.escape(doc.title)}</h1>'
                f"{image}{doc.html.text()}</main></body></html>")
        records.append(Record(urls.join(base_path, doc.url), page))
    records.sort(key=lambda record: record.url)
    return records


def digest(records: list[Record]) -> str:
    """What the index is made from: every record, and the Pagefind and record formats."""
    hasher = hashlib.blake2b(f"{FORMAT}\0{pagefind_version()}\0{len(records)}".encode(), digest_size=16)
    for record in records:
        hasher.update(f"\0{record.url}\0{len(record.html)}\0".encode())
        hasher.update(record.html.encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()


def pagefind_version() -> str:
    try:
        from importlib.metadata import version
        return version("pagefind_bin")
    except Exception:  # noqa: BLE001 - another way of installing it: the binary's own answer is not asked
        return "unknown"


def site_index(records: list[Record], home: Path, key: bytes | None, source: str,
               background: bool = False) -> dict[str, Path]:
    """The index files of `records` by output path (pagefind/…), kept in `home`. They are made
    by Pagefind unless `home` holds them already, signed with this machine's `key` (an index that
    came with a site's repository is never published); with no key they are made anew. Older
    indexes in `home` are removed: the output holds its own copies. `source` names the file an
    error is reported against. `background`: Pagefind runs at a low priority (a dev server's index:
    a save's rebuild comes first)."""
    name = digest(records)
    done = home / name
    files = _files(done) if key is not None and done.is_dir() else {}
    if not files or key is None or _signature(files, key) != _read(done / SIGNATURE):
        home.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".making-", dir=home))
        try:
            _make_or_fail(records, scratch, source, background)
            if key is not None:
                (scratch / SIGNATURE).write_text(_signature(_files(scratch), key))
            shutil.rmtree(done, ignore_errors=True)
            os.replace(scratch, done)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        files = _files(done)
    for entry in os.scandir(home):
        if entry.name != name:
            shutil.rmtree(entry.path, ignore_errors=True)
    return files


SIGNATURE = ".signature"


def _make_or_fail(records: list[Record], folder: Path, source: str, background: bool = False) -> None:
    try:
        _make(records, folder, background)
    except Exception as exc:  # noqa: BLE001 - the binary missing, failing or killed
        raise SiteError(source, f"the search index could not be made: {exc or type(exc).__name__}",
                        "install Pagefind (pip install 'pagefind[bin]'), or set `search: false`") from None


def _files(folder: Path) -> dict[str, Path]:
    """The files of an index folder by their output path (pagefind/…), its signature left out."""
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.name != SIGNATURE:
            found[f"{FOLDER}/{path.relative_to(folder).as_posix()}"] = path
    return found


def _signature(files: dict[str, Path], key: bytes) -> str:
    signer = hmac.new(key, b"bitopia search index\0", hashlib.sha256)
    for rel, path in files.items():
        data = path.read_bytes()
        signer.update(f"{rel}\0{len(data)}\0".encode())
        signer.update(data)
    return signer.hexdigest()


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _make(records: list[Record], folder: Path, background: bool = False) -> None:
    """Index `records` into `folder` with `pagefind --service`: the service reads base64 JSON
    messages ended by commas on its stdin and answers each the same way on its stdout. We speak
    it ourselves: the `pagefind` package's asyncio client polls for each answer after a 0.1 s
    sleep, which made a 1,000-post site take 100 s (this takes about a second)."""
    from pagefind.service import get_executable

    binary = get_executable()
    if binary is None:
        raise RuntimeError("Pagefind is not installed")
    messages = [{"type": "NewIndex", "config": {"keep_index_url": False, "write_playground": False}}]
    messages += [{"type": "AddFile", "index_id": 0, "url": record.url, "file_contents": record.html,
                  "file_path": None} for record in records]
    messages.append({"type": "WriteFiles", "index_id": 0, "output_path": str(folder)})
    with subprocess.Popen([str(binary), "--service"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, cwd=folder) as service:
        assert service.stdin is not None and service.stdout is not None
        if background and sys.platform != "win32":
            os.setpriority(os.PRIO_PROCESS, service.pid, 10)  # not preexec_fn: a dev server has threads
        try:
            answers = _Answers(service.stdout)
            # The first answer names the index the others go to; after that the requests are written
            # by a thread while this one reads, so that neither side's pipe fills and stops the other.
            _send(service.stdin, 1, messages[0])
            index_id = answers.next(1, "NewIndex")["index_id"]
            for message in messages[1:]:
                message["index_id"] = index_id
            sender = threading.Thread(target=_send_all, args=(service.stdin, messages[1:]), daemon=True)
            sender.start()
            for number, message in enumerate(messages[1:], start=2):
                answers.next(number, "WriteFiles" if message["type"] == "WriteFiles" else "IndexedFile")
            sender.join()
        except BaseException:
            service.kill()  # a wrong answer or an interrupt: the sender's writes then fail, and it ends
            raise


def _send(stream: IO[bytes], number: int, payload: dict[str, Any]) -> None:
    stream.write(base64.b64encode(json.dumps({"message_id": number, "payload": payload}).encode()) + b",")
    stream.flush()


def _send_all(stream: IO[bytes], payloads: list[dict[str, Any]]) -> None:
    try:
        for number, payload in enumerate(payloads, start=2):
            stream.write(base64.b64encode(json.dumps({"message_id": number, "payload": payload}).encode()) + b",")
        stream.flush()  # not closed: the service stops reading, and working, at the end of its input
    except OSError:  # the service stopped: its reader reports that
        pass


class _Answers:
    """The service's answers, one at a time (base64 has no commas: a comma ends each)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.buffer = b""

    def next(self, number: int, kind: str) -> dict[str, Any]:
        """The next answer, which must be to message `number` and of `kind`."""
        while b"," not in self.buffer:
            chunk = self.stream.read1(1 << 16)  # type: ignore[attr-defined]
            if not chunk:
                raise RuntimeError("Pagefind stopped before it answered")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b",", 1)
        answer = json.loads(base64.b64decode(raw))
        payload = answer.get("payload") or {}
        if payload.get("type") == "Error":
            raise RuntimeError(f"Pagefind: {payload.get('message')}")
        if answer.get("message_id") != number or payload.get("type") != kind:
            raise RuntimeError(f"Pagefind answered {payload.get('type')} to message {answer.get('message_id')}")
        return payload


def _attr(text: str) -> str:
    return html.escape(text, quote=True)

