"""docs/: the configuration reference is generated from the settings; the guides are bilingual and name
only commands and settings that exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from shared.cli import main as cli
from shared.config_doc import render_config_doc
from shared.nats_config import USERS, password_variable
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
GUIDES = ["operating-guide.md", "integrator-guide.md"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_configuration_reference_matches_the_settings() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text() == render_config_doc(), \
        "run `cadre-ledger config-doc --write`"


def test_the_configuration_reference_names_each_type_as_an_operator_writes_it() -> None:
    """A constrained type (a county code) is named by what it holds, not by how the code spells it."""
    text = render_config_doc()
    assert "Annotated" not in text
    assert "| `CADRE_COUNTIES` | JSON list of strings |" in text


def test_config_doc_check_fails_on_drift(tmp_path: Path) -> None:
    target = tmp_path / "configuration.md"
    runner = CliRunner()
    assert runner.invoke(cli, ["config-doc", "--write", "--file", str(target)]).exit_code == 0
    assert runner.invoke(cli, ["config-doc", "--check", "--file", str(target)]).exit_code == 0
    target.write_text(target.read_text().replace("CADRE_BATCH_SIZE", "CADRE_BATCH"))
    result = runner.invoke(cli, ["config-doc", "--check", "--file", str(target)])
    assert result.exit_code != 0 and "drifted" in result.output


def test_every_setting_is_documented() -> None:
    undocumented = [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()]
    assert undocumented == []
    text = render_config_doc()
    assert all(f"`CADRE_{name.upper()}`" in text for name in Settings.model_fields)


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")


def test_the_configuration_reference_names_every_command_that_reads_cadre_token() -> None:
    """CADRE_TOKEN is no setting: the reference names the commands that read it, in English and in Chinese; the
    quarantine command, added after that list was written, was in neither."""
    readers = sorted(name for name, command in _commands(cli)
                     if any(getattr(p, "envvar", None) == "CADRE_TOKEN" for p in command.params))
    assert "quarantine" in readers and "witness cosign" in readers, readers
    english, chinese = render_config_doc().split("设置之外")
    assert [name for name in readers if f"`{name}`" not in english.split("`CADRE_TOKEN`")[1]] == []
    assert [name for name in readers if f"`{name}`" not in chinese.split("`CADRE_TOKEN`")[1]] == []


@pytest.mark.parametrize("guide", GUIDES)
def test_guides_are_bilingual_section_by_section(guide: str) -> None:
    text = (ROOT / "docs" / guide).read_text()
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    assert len(sections) >= 4
    for section in sections:
        title = section.splitlines()[0]
        body = re.sub(r"```.*?```", "", section, flags=re.S)
        assert len(CJK.findall(body)) > 40, f"{guide} / {title}: no Chinese text"
        assert len(re.findall(r"\b(the|and|of|a)\b", body, flags=re.I)) > 5, f"{guide} / {title}: no English text"


@pytest.mark.parametrize("guide", GUIDES)
def test_guides_name_only_commands_and_settings_that_exist(guide: str) -> None:
    text = (ROOT / "docs" / guide).read_text()
    commands = set(re.findall(r"(?:`|^)cadre-ledger ([a-z][a-z-]+)", text, flags=re.M))
    assert commands and commands <= set(cli.commands), commands - set(cli.commands)
    settings = set(re.findall(r"CADRE_([A-Z0-9_]+)", text)) - {"NAME"}
    nats_passwords = {password_variable(user).removeprefix("CADRE_") for user in USERS}  # nats-server's, in compose
    # nats-server's too, for a partition's users (e.g. NATS_HN_LEDGER_PASSWORD)
    partition_password = re.compile(rf"NATS_[A-Z][A-Z0-9]*_(?:{'|'.join(u.upper() for u in USERS)})_PASSWORD")
    unknown = settings - {name.upper() for name in Settings.model_fields} - nats_passwords
    assert {name for name in unknown if not partition_password.fullmatch(name)} == set()


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_PATH_IN_CODE = re.compile(r"`(\.\./[^`\s]+)`")


@pytest.mark.parametrize("doc", ["README.md", *sorted(p.relative_to(ROOT).as_posix()
                                                      for p in (ROOT / "docs").rglob("*.md"))])
def test_the_docs_point_only_at_files_a_clone_has(doc: str) -> None:
    """Relative links resolve inside the repository, and no path leads out of it (a stranger's clone has only it)."""
    path = ROOT / doc
    text = path.read_text()
    links = [target for target in _LINK.findall(text) if "://" not in target and not target.startswith("mailto:")]
    broken = [t for t in links if not (path.parent / t).resolve().is_relative_to(ROOT)
              or not (path.parent / t).resolve().exists()]
    assert broken == [], f"{doc} links to {broken}"
    assert _PATH_IN_CODE.findall(text) == [], f"{doc} names paths outside the repository"


def test_the_clis_ledger_url_follows_the_ledgers_port_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADRE_LEDGER_PORT", "28731")
    assert Settings().ledger_url == "http://127.0.0.1:28731"
    monkeypatch.setenv("CADRE_LEDGER_URL", "https://ledger.example")
    assert Settings().ledger_url == "https://ledger.example"
