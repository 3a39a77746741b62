"""
A small Hugging Face Hub look-alike for tests: an HTTP server on 127.0.0.1 speaking the part of the Hub's API
that ``huggingface_hub``'s ``create_repo``, ``upload_folder``, ``list_repo_files``, ``repo_info``,
``hf_hub_download`` and ``snapshot_download`` use. Repositories live in memory.

Endpoints:

* ``POST /api/repos/create`` (JSON ``name``, ``organization``): 200, or 409 when the repo exists;
* ``POST /api/validate-yaml``: parses the card's front matter, 400 on invalid YAML;
* ``POST /api/models/{id}/preupload/{rev}``: every file uploads in "regular" mode (no LFS, no Xet);
* ``POST /api/models/{id}/commit/{rev}``: NDJSON, a ``header`` line then ``file`` lines (base64 content);
* ``GET /api/models/{id}[/revision/{rev}]``: repo info with ``sha`` and ``siblings``;
* ``GET /api/models/{id}/tree/{rev}[/{path}]``: file listing;
* ``HEAD`` / ``GET /{id}/resolve/{rev}/{path}``: file download with ``X-Repo-Commit`` and ``ETag`` headers.

Missing repos and files answer 404 with ``X-Error-Code: RepoNotFound`` / ``EntryNotFound``, which the client turns
into its ``RepositoryNotFoundError`` / ``EntryNotFoundError``. Writes need ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml


@dataclass
class Repo:
    """A repository: its files at the head commit and the commit ids so far."""

    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return self.commits[-1] if self.commits else "0" * 40


class FakeHub:
    """
    The server and its state. ``url`` is the endpoint to put in ``HF_ENDPOINT``.

    :param tokens: Tokens accepted for writes.
    """

    def __init__(self, tokens: tuple[str, ...] = ("hf_test_token_do_not_leak",)) -> None:
        self.repos: dict[str, Repo] = {}
        self.tokens = tokens
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        hub = self

        class Handler(_Handler):
            server_hub = hub

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeHub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_repo(self, repo_id: str, files: dict[str, bytes]) -> None:
        """Create ``repo_id`` with ``files`` directly (e.g. a repo as rl-zoo3 would have pushed it)."""
        with self.lock:
            repo = self.repos.setdefault(repo_id, Repo())
            repo.files.update(files)
            repo.commits.append(hashlib.sha1(repr(sorted(repo.files)).encode() + bytes(len(repo.commits))).hexdigest())


_REPO = r"(?P<repo>[^/]+/[^/]+)"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_hub: FakeHub

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    # -- helpers ---------------------------------------------------------------------------------------------
    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None, head: bool = False) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        content_type = "application/octet-stream" if isinstance(body, bytes) else "application/json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str, head: bool = False) -> None:
        self._send(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message}, head=head)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        auth = self.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[len("Bearer ") :] in self.server_hub.tokens

    def _repo(self, repo_id: str, head: bool = False) -> Repo | None:
        repo = self.server_hub.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", f"Repository Not Found for url: {self.path}", head=head)
        return repo

    def _record(self) -> None:
        with self.server_hub.lock:
            self.server_hub.requests.append((self.command, self.path, dict(self.headers)))

    # -- routes ----------------------------------------------------------------------------------------------
    def do_POST(self) -> None:
        self._record()
        path = unquote(urlsplit(self.path).path)
        body = self._body()
        if path == "/api/validate-yaml":
            content = json.loads(body)["content"]
            match = re.match(r"^---\n(.*?)\n---", content, re.S)
            try:
                yaml.safe_load(match.group(1)) if match else None
            except yaml.YAMLError as error:
                return self._send(400, {"error": f"Invalid YAML: {error}"})
            return self._send(200, {"errors": [], "warnings": []})
        if not self._authorized():
            return self._error(401, "Unauthorized", "Invalid credentials in Authorization header")
        if path == "/api/repos/create":
            payload = json.loads(body)
            repo_id = (
                f"{payload['organization']}/{payload['name']}" if payload.get("organization") else f"user/{payload['name']}"
            )
            with self.server_hub.lock:
                if repo_id in self.server_hub.repos:
                    return self._send(
                        409, {"error": "You already created this model repo", "url": f"{self.server_hub.url}/{repo_id}"}
                    )
                self.server_hub.repos[repo_id] = Repo()
            return self._send(200, {"url": f"{self.server_hub.url}/{repo_id}", "name": repo_id})
        if match := re.fullmatch(rf"/api/models/{_REPO}/preupload/(?P<rev>[^/]+)", path):
            if (repo := self._repo(match["repo"])) is None:
                return None
            files = json.loads(body)["files"]
            answer = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for f in files]
            return self._send(200, {"files": answer, "commitOid": repo.sha})
        if match := re.fullmatch(rf"/api/models/{_REPO}/commit/(?P<rev>[^/]+)", path):
            if (repo := self._repo(match["repo"])) is None:
                return None
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            if not lines or lines[0].get("key") != "header":
                return self._send(400, {"error": "the first NDJSON line must be the header"})
            with self.server_hub.lock:
                for line in lines[1:]:
                    if line["key"] == "file":
                        value = line["value"]
                        content = value["content"]
                        data = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                        repo.files[value["path"]] = data
                    elif line["key"] == "deletedFile":
                        repo.files.pop(line["value"]["path"], None)
                    else:
                        return self._send(400, {"error": f"unsupported commit line {line['key']!r}"})
                sha = hashlib.sha1(body + bytes(len(repo.commits))).hexdigest()
                repo.commits.append(sha)
            url = f"{self.server_hub.url}/{match['repo']}/commit/{sha}"
            return self._send(200, {"commitUrl": url, "commitOid": sha, "pullRequestUrl": None})
        return self._error(404, "NotFound", f"no route for POST {path}")

    def do_GET(self) -> None:
        self._handle_get(head=False)

    def do_HEAD(self) -> None:
        self._handle_get(head=True)

    def _handle_get(self, head: bool) -> None:
        self._record()
        path = unquote(urlsplit(self.path).path)
        if match := re.fullmatch(rf"/api/models/{_REPO}(?:/revision/(?P<rev>[^/]+))?", path):
            if (repo := self._repo(match["repo"], head)) is None:
                return None
            info = {
                "id": match["repo"],
                "modelId": match["repo"],
                "sha": repo.sha,
                "private": False,
                "siblings": [{"rfilename": name} for name in sorted(repo.files)],
            }
            return self._send(200, info, head=head)
        if match := re.fullmatch(rf"/api/models/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<sub>.*))?", path):
            if (repo := self._repo(match["repo"], head)) is None:
                return None
            prefix = (match["sub"] or "").strip("/")
            entries = [
                {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                for name, data in sorted(repo.files.items())
                if not prefix or name.startswith(prefix + "/")
            ]
            return self._send(200, entries, head=head)
        if match := re.fullmatch(rf"/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)", path):
            if (repo := self._repo(match["repo"], head)) is None:
                return None
            data = repo.files.get(match["file"])
            if data is None:
                return self._error(404, "EntryNotFound", f"{match['file']} does not exist", head=head)
            headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{hashlib.sha1(data).hexdigest()}"'}
            return self._send(200, data, headers, head=head)
        return self._error(404, "NotFound", f"no route for GET {path}", head=head)


@contextlib.contextmanager
def serving(hf_home: Path, token: str | None = None) -> Iterator[FakeHub]:
    """
    Run a :class:`FakeHub` with ``huggingface_hub`` pointed at it (``HF_ENDPOINT``, a fresh ``HF_HOME``, no Xet),
    and with ``HF_TOKEN`` set when ``token`` is given (the server then accepts only it for writes).

    :param hf_home: Empty folder for huggingface_hub's cache and settings.
    :param token: Token of the test, or ``None`` for a read-only test.
    """
    server = (FakeHub(tokens=(token,)) if token is not None else FakeHub()).start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HF_ENDPOINT", server.url)
            patch.setenv("HF_HOME", str(hf_home))
            patch.setenv("HF_HUB_DISABLE_XET", "1")
            if token is not None:
                patch.setenv("HF_TOKEN", token)
            yield server
    finally:
        server.stop()


if __name__ == "__main__":  # run by hand: python tests/hub_server.py
    hub = FakeHub().start()
    print(f"fake Hub at {hub.url}; export HF_ENDPOINT={hub.url} HF_TOKEN={hub.tokens[0]}")
    hub.thread.join()
