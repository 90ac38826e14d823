"""The CLI's answers to bad input and unhelpful servers, through the real entry point: a clear line in English with the
Chinese term, exit 2 when it could not run, and never a traceback."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import shared.cli_io
from shared.cli import main

CANNOT_RUN = 2


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def clean(result: Result, code: int, *says: str) -> None:
    """`result` ended as the CLI meant it to, with `code`, saying each of `says`."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (result.exception, result.output)
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    for text in says:
        assert text in result.output, result.output


class _Answers(http.server.BaseHTTPRequestHandler):
    status = 200
    content_type = "text/html"
    body = b"<html><body>a router's login page</body></html>"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: object) -> None:
        pass


def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def html_server() -> Iterator[str]:
    """A web server that is not the ledger: every path answers an HTML page with 200."""
    yield from _serve(_Answers)


@pytest.fixture
def html_404_server() -> Iterator[str]:
    class NotFound(_Answers):
        status = 404

    yield from _serve(NotFound)


@pytest.fixture
def bundle_server() -> Iterator[str]:
    """Answers every GET with an (empty) bundle, so `export` gets as far as writing its file."""
    class Bundle(_Answers):
        content_type = "application/json"
        body = b'{"format":"cadre-ledger-bundle/2","events":[]}'

    yield from _serve(Bundle)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


# --- talking to the ledger -----------------------------------------------------------------------------

def _with_url(command: str, url: str, tmp_path: Path) -> list[str]:
    if command == "witness":
        return ["witness", "cosign", "--key", __file__, "--ledger-key", "x+1+A", "--url", url,
                "--state", str(tmp_path / "state.json"), "--token", "t"]
    extra = ["--out", str(tmp_path / "b.json")] if command == "export" else []
    return [command, "GY0002", "--url", url, "--token", "t", *extra]


@pytest.mark.parametrize("command", ["history", "state", "export", "witness"])
@pytest.mark.parametrize("url", ["notaurl", "ftp://ledger.example", "http://", "http://host:99999",
                                 "http://host/a b", "127.0.0.1:8100", "http://host/?x=1", "http://host#top",
                                 "http://host?"])
def test_a_url_that_names_no_http_server_is_bad_input(command: str, url: str, tmp_path: Path) -> None:
    clean(run(*_with_url(command, url, tmp_path)), CANNOT_RUN, "--url", "账本地址无效")


@pytest.mark.parametrize("command", ["history", "state"])
def test_an_answer_that_is_not_the_ledgers_json_names_the_url_and_the_status(
        command: str, html_server: str, html_404_server: str) -> None:
    ok = run(command, "GY0002", "--url", f"{html_server}/login", "--token", "t")
    clean(ok, CANNOT_RUN, "不是账本的应答", "HTTP 200", f"{html_server}/login", "router's login page")
    missing = run(command, "GY0002", "--url", html_404_server, "--token", "t")
    clean(missing, CANNOT_RUN, "不是账本的应答", "HTTP 404", html_404_server)


def test_a_ledger_that_never_answers_is_named_after_the_wait(
        silent_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared.cli_io, "READ_TIMEOUT_S", 0.5)
    result = run("history", "GY0002", "--url", silent_server, "--token", "t")
    clean(result, CANNOT_RUN, "no answer from", "within 0.5 s (账本无应答)")


def test_a_ledger_that_cannot_be_reached_says_so_in_both_languages() -> None:
    result = run("history", "GY0002", "--url", "http://127.0.0.1:9", "--token", "t")
    clean(result, CANNOT_RUN, "cannot reach the ledger at http://127.0.0.1:9/", "(无法连接账本)")


def test_export_to_a_directory_that_does_not_exist_says_it_cannot_write(bundle_server: str, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "x.json"
    result = run("export", "GY0002", "--url", bundle_server, "--out", str(target), "--token", "t")
    clean(result, CANNOT_RUN, f"cannot write {target}: No such file or directory (无法写入文件)")


def test_a_day_the_calendar_lacks_is_named_as_such() -> None:
    result = run("state", "GY0002", "--as-of", "2015-02-30", "--url", "http://127.0.0.1:9", "--token", "t")
    clean(result, CANNOT_RUN, "'2015-02-30' is not a valid day (日期无效)")
    assert "does not match the format" not in result.output and "cannot reach" not in result.output
    laid_out = run("state", "GY0002", "--as-of", "2015-2-3", "--url", "http://127.0.0.1:9", "--token", "t")
    clean(laid_out, CANNOT_RUN, "日期须写作 YYYY-MM-DD")


# --- key files -----------------------------------------------------------------------------------------

def test_keygen_refuses_a_name_that_cannot_be_a_file_name(tmp_path: Path) -> None:
    clean(run("keygen", "a/b", "--out", str(tmp_path)), CANNOT_RUN, "NAME", "密钥名称不能含 /")
    long = run("keygen", "k" * 300, "--out", str(tmp_path))
    clean(long, CANNOT_RUN, "File name too long (无法写入文件)")
    assert list(tmp_path.iterdir()) == []


def test_keygen_creates_the_directory_only_under_an_existing_parent(tmp_path: Path) -> None:
    refused = run("keygen", "dev", "--out", str(tmp_path / "missing" / "keys"))
    clean(refused, CANNOT_RUN, f"its parent {tmp_path / 'missing'} does not exist (上级目录不存在)")
    assert not (tmp_path / "missing").exists()
    made = run("keygen", "dev", "--out", str(tmp_path / "secrets"))  # `--out deploy/secrets` as the docs have it
    clean(made, 0)
    assert (tmp_path / "secrets" / "dev.vkey").exists()


def test_token_keygen_never_overwrites_and_never_makes_a_tree(tmp_path: Path) -> None:
    a_file = tmp_path / "hostname"
    a_file.write_text("host\n")
    clean(run("token", "keygen", str(a_file)), CANNOT_RUN, "is not a directory (不是目录)")
    clean(run("token", "keygen", str(tmp_path / "missing" / "x")), CANNOT_RUN, "上级目录不存在")
    assert not (tmp_path / "missing").exists()

    keys = tmp_path / "secrets"
    clean(run("token", "keygen", str(keys)), 0, "issuer key (keep secret)")
    issuer = (keys / "token-issuer.pem").read_bytes()
    again = run("token", "keygen", str(keys))
    clean(again, CANNOT_RUN, "token-issuer.pem exists; not overwriting a key (密钥已存在)")
    assert "keep secret" not in again.output and (keys / "token-issuer.pem").read_bytes() == issuer


# --- generated files -----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["asyncapi", "config-doc", "nats-config"])
def test_a_generated_file_that_is_missing_or_a_directory_is_not_called_drifted(command: str, tmp_path: Path) -> None:
    missing = run(command, "--check", "--file", str(tmp_path / "nowhere.txt"))
    clean(missing, CANNOT_RUN, "nowhere.txt is missing (文件不存在)", f"cadre-ledger {command} --write")
    assert "drifted" not in missing.output
    clean(run(command, "--check", "--file", str(tmp_path)), CANNOT_RUN, "Is a directory (无法读取文件)")
    clean(run(command, "--write", "--file", str(tmp_path)), CANNOT_RUN, "Is a directory (无法写入文件)")


def test_schemas_check_without_its_directory_could_not_run(tmp_path: Path) -> None:
    clean(run("schemas", "--check", "--dir", str(tmp_path / "none")), CANNOT_RUN, "未找到事件模式目录")


# --- keys and checkpoints given to verify ---------------------------------------------------------------

@pytest.fixture
def ledger_key(tmp_path: Path) -> Path:
    """A ledger key in a directory whose name holds "+", as a year-stamped key folder may."""
    clean(run("keygen", "dev", "--out", str(tmp_path / "keys+2026")), 0)
    return tmp_path / "keys+2026" / "dev.vkey"


def test_a_key_file_whose_path_holds_a_plus_is_read_as_a_file(ledger_key: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text("{}")
    result = run("verify", "bundle", str(bundle), "--key", str(ledger_key))
    clean(result, 1, "bundle does NOT verify")  # it got as far as the bundle: the key was read
    assert "公钥无效" not in result.output


def test_a_checkpoint_file_holding_no_checkpoint_is_bad_input(ledger_key: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.note"
    garbage.write_text("this is not a checkpoint\n")
    result = run("verify", "--dsn", "postgresql://postgres@127.0.0.1:1/cadre", "--key", str(ledger_key),
                 "--checkpoint", str(garbage))
    clean(result, CANNOT_RUN, "外部检查点无法读取", "holds no checkpoint note (不是检查点)")
    assert "cannot reach PostgreSQL" not in result.output, "refused before anything is opened"


def test_the_ledgers_key_given_as_a_witness_is_bad_input_not_a_failed_bundle(ledger_key: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text("{}")
    as_witness = run("verify", "bundle", str(bundle), "--key", str(ledger_key), "--witness-key", str(ledger_key))
    clean(as_witness, CANNOT_RUN, "--witness-key", "见证方不能是账本自身")
    assert "does NOT verify" not in as_witness.output
    whole = run("verify", "--dsn", "postgresql://postgres@127.0.0.1:1/cadre", "--key", str(ledger_key),
                "--witness-key", ledger_key.read_text().strip())
    clean(whole, CANNOT_RUN, "--witness-key", "见证方不能是账本自身")


@pytest.mark.parametrize("command", ["asyncapi", "token", "verify", "witness"])
def test_python_m_shared_cli_knows_every_command(command: str) -> None:
    """`python -m shared.cli` (what make run calls) ran before the commands of other modules were registered."""
    done = subprocess.run([sys.executable, "-m", "shared.cli", command, "--help"], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).parents[1])
    assert done.returncode == 0 and "Usage: python -m shared.cli " + command in done.stdout, done.stderr
