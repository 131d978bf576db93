"""The editor's writes to data/faq: minimal diffs, byte-identical round trips, versions, locking, Finnish refusals.

Every test works on a copy of the project's data/ in tmp_path; the real data/ is never written.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import List, Tuple

import pytest

from content.checks import MAX_ANSWER_CHARS, check_project
from content.repository import (
    Change,
    ContentError,
    ContentRepository,
    Topic,
    TopicNotFound,
    VersionConflict,
    _dump,
    _yaml,
)
from tests.conftest import ROOT

FAQ_FILES = sorted((ROOT / "data" / "faq").glob("*.yml"))
PARKING_EXAMPLES = [
    "Missä voin pysäköidä?",
    "onko palvelupisteellä parkkipaikkoja",
    "parkkipaikka",
    "pysäköinti",
    "missä on lähin parkkihalli",
    "voiko autolla tulla palvelupisteeseen",
    "maksaako pysäköinti",
    "onko teillä invapaikkoja",
    "parkkeeraus",
    "mihin jätän auton kun tulen käymään",
]
PARKING_ANSWER = ("Palvelupisteen edessä osoitteessa Esimerkkikatu 1 on kaksi invapysäköintipaikkaa. Lähin "
                  "pysäköintihalli on korttelin päässä; lisätietoja on osoitteessa https://lumo.example/pysakointi.")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    for name in ("domain.yml", "config.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def repo(root: Path) -> ContentRepository:
    return ContentRepository(root)


def changed_lines(change: Change) -> Tuple[List[str], List[str]]:
    """(removed, added) lines of a unified diff, without the file headers."""
    lines = change.diff.splitlines()
    assert lines[0] == f"--- a/{change.path}" and lines[1] == f"+++ b/{change.path}"
    removed = [line[1:] for line in lines[2:] if line.startswith("-")]
    added = [line[1:] for line in lines[2:] if line.startswith("+")]
    return removed, added


def file_bytes(root: Path, name: str) -> bytes:
    return (root / "data" / "faq" / f"{name}.yml").read_bytes()


def no_temporary_files(root: Path) -> bool:
    return not [p.name for p in (root / "data" / "faq").iterdir() if p.name.endswith(".tmp")]


# Round trip: the dump reproduces every existing file, and a change touches only its own lines


@pytest.mark.parametrize("path", FAQ_FILES, ids=lambda p: p.stem)
def test_unchanged_file_dumps_byte_for_byte(path: Path):
    raw = path.read_bytes()
    assert _dump(_yaml().load(raw.decode("utf-8"))).encode("utf-8") == raw


@pytest.mark.parametrize("name", [p.stem for p in FAQ_FILES])
def test_answer_change_touches_one_line_and_changing_back_restores_the_file(repo, root, name):
    original = file_bytes(root, name)
    topic = repo.topic(name)

    change = repo.update_answer(name, topic.answer + " Lisätty lause.", topic.version)

    removed, added = changed_lines(change)
    assert removed == [f'  - text: "{topic.answer}"']
    assert added == [f'  - text: "{topic.answer} Lisätty lause."']
    assert change.summary == "Vastausta muutettu"
    assert repo.topic(name).answer == topic.answer + " Lisätty lause."
    repo.update_answer(name, topic.answer, change.version)
    assert file_bytes(root, name) == original


def test_every_topic_is_read_with_its_parts(repo):
    topic = repo.topic("accessibility")
    assert topic.name == "accessibility"
    assert topic.intent == "faq/accessibility"
    assert topic.path == "data/faq/accessibility.yml"
    assert topic.comment.startswith("Saavutettavuus: saavutettavuusseloste, WCAG,")
    assert topic.comment.count("\n") == 1 and "\n# " not in topic.comment
    assert topic.title == "Saavutettavuus"
    assert topic.example_question == "Onko palvelu saavutettava?"
    assert topic.examples[0] == "Onko palvelu saavutettava?" and "palveletteko selkosuomeksi" in topic.examples
    assert topic.buttons == [{"title": "Varaa aika", "payload": "Miten varaan ajan?"},
                             {"title": "Puhu asiakaspalvelijalle", "payload": "/request_human"}]
    assert len(topic.version) == 64
    assert [t.name for t in repo.topics()] == [
        "appointment", "opening_hours", "apply", "login", "login_problem", "processing_time", "attachments",
        "payment_dates", "change_details", "feedback", "accessibility", "privacy", "contact",
    ]  # Finnish order: "Käsittelyajat" after "Kirjautumisongelmat"


def test_title_change_touches_only_the_title_line(repo):
    topic = repo.topic("feedback")
    change = repo.update_answer("feedback", topic.answer, topic.version, title="Palaute ja kehitysideat")
    assert changed_lines(change) == (['      title: "Palaute"'], ['      title: "Palaute ja kehitysideat"'])
    assert change.summary == "Otsikkoa muutettu"
    both = repo.update_answer("feedback", "Uusi vastaus.", change.version, title="Palaute")
    assert both.summary == "Vastausta ja otsikkoa muutettu"
    assert len(changed_lines(both)[0]) == 2


def test_answer_with_quotes_and_line_break_stays_on_one_double_quoted_line(repo):
    topic = repo.topic("feedback")
    text = 'Valitse "Palaute".\nKiitos!'
    change = repo.update_answer("feedback", text, topic.version)
    assert changed_lines(change)[1] == ['  - text: "Valitse \\"Palaute\\".\\nKiitos!"']
    assert repo.topic("feedback").answer == text


def test_added_examples_are_appended_to_the_block_and_nothing_else_changes(repo, root):
    topic = repo.topic("contact")
    change = repo.add_examples("contact", ["  mikä on teidän  faksinumero ", "Onko teillä whatsappia?"], topic.version)

    removed, added = changed_lines(change)
    assert removed == []
    assert added == ["    - mikä on teidän faksinumero", "    - Onko teillä whatsappia?"]
    assert change.summary == "Lisätty 2 esimerkkiä"
    text = file_bytes(root, "contact").decode("utf-8")
    last_example = f"    - {topic.examples[-1]}\n"
    assert last_example + "    - mikä on teidän faksinumero\n    - Onko teillä whatsappia?\nresponses:\n" in text
    assert repo.topic("contact").examples == topic.examples + ["mikä on teidän faksinumero", "Onko teillä whatsappia?"]


def test_duplicates_in_one_call_are_merged_and_examples_already_in_the_topic_skipped(repo):
    topic = repo.topic("contact")
    change = repo.add_examples("contact", ["Onko teillä faksia?", "onko  TEILLÄ faksia?", topic.examples[3].upper()],
                               topic.version)
    assert changed_lines(change) == ([], ["    - Onko teillä faksia?"])
    assert change.summary == 'Lisätty esimerkki "Onko teillä faksia?" (1 oli jo aiheessa)'


def test_removing_an_example_removes_its_line_only(repo):
    topic = repo.topic("contact")
    victim = topic.examples[5]
    change = repo.remove_example("contact", f"  {victim.upper()} ", topic.version)
    assert changed_lines(change) == ([f"    - {victim}"], [])
    assert change.summary == f'Poistettu esimerkki "{victim}"'
    assert repo.topic("contact").examples == [e for e in topic.examples if e != victim]


def test_removing_the_example_question_makes_the_next_example_the_example_question(repo):
    topic = repo.topic("accessibility")
    assert topic.examples[0] == topic.example_question
    change = repo.remove_example("accessibility", topic.example_question, topic.version)
    removed, added = changed_lines(change)
    assert removed == [f"    - {topic.example_question}", f'      example: "{topic.example_question}"']
    assert added == [f'      example: "{topic.examples[1]}"']
    assert change.summary == (f'Poistettu esimerkki "{topic.example_question}" ja vaihdettu '
                              f'esimerkkikysymykseksi "{topic.examples[1]}"')
    assert repo.topic("accessibility").example_question == topic.examples[1]


# Versions and locking


def test_change_with_a_stale_version_is_refused_and_the_file_kept(repo, root):
    topic = repo.topic("feedback")
    repo.update_answer("feedback", "Ensimmäinen muutos.", topic.version)
    after_first = file_bytes(root, "feedback")

    with pytest.raises(VersionConflict) as raised:
        repo.update_answer("feedback", "Toinen muutos.", topic.version)

    assert raised.value.message == ('Joku muu on muuttanut aihetta "Palaute" sen jälkeen, kun avasit sen. Lataa aihe '
                                    'uudelleen ja tee muutoksesi uudestaan.')
    assert raised.value.field is None
    assert isinstance(raised.value, ContentError)
    assert file_bytes(root, "feedback") == after_first


def test_two_repositories_second_writer_with_stale_version_gets_a_conflict(root):
    first, second = ContentRepository(root), ContentRepository(root)
    loaded_by_first = first.topic("privacy")
    loaded_by_second = second.topic("privacy")
    change = first.add_examples("privacy", ["kuka näkee tietoni"], loaded_by_first.version)
    assert change.version == second.topic("privacy").version != loaded_by_second.version

    for write in (lambda v: second.add_examples("privacy", ["poistatteko tietoni"], v),
                  lambda v: second.remove_example("privacy", "kuka näkee tietoni", v),
                  lambda v: second.update_answer("privacy", "Uusi vastaus.", v)):
        with pytest.raises(VersionConflict):
            write(loaded_by_second.version)
    assert second.topic("privacy").examples[-1] == "kuka näkee tietoni"


def test_concurrent_writers_lose_no_change(root):
    """Eight editors add an example each at once; each retries on conflict, as the editor tells them to."""
    errors: List[BaseException] = []

    def editor(number: int) -> None:
        repo = ContentRepository(root)
        try:
            for _ in range(100):
                try:
                    repo.add_examples("apply", [f"hakemus kysymys {number}"], repo.topic("apply").version)
                    return
                except VersionConflict:
                    continue
            raise AssertionError("never got its change in")
        except BaseException as error:  # reported to the main thread
            errors.append(error)

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    examples = ContentRepository(root).topic("apply").examples
    assert sorted(e for e in examples if e.startswith("hakemus kysymys")) == [f"hakemus kysymys {n}" for n in range(8)]
    assert (root / "data" / "faq" / ".lock").exists()
    assert no_temporary_files(root)


# Refusals: a ContentError with the field and a Finnish message, and the file untouched


def test_unknown_topic(repo):
    for name in ("pysakointi", "../../domain", "Login"):
        with pytest.raises(TopicNotFound) as raised:
            repo.topic(name)
        assert raised.value.field == "name"
        assert "ei löydy" in raised.value.message
    with pytest.raises(TopicNotFound):
        repo.update_answer("pysakointi", "Vastaus.", "0" * 64)


@pytest.mark.parametrize("text, field, expected", [
    ("", "answer", "Vastaus puuttuu."),
    ("   \n ", "answer", "Vastaus puuttuu."),
    ("x" * (MAX_ANSWER_CHARS + 1), "answer", f"Vastaus on {MAX_ANSWER_CHARS + 1} merkkiä pitkä; chat-ikkunaan mahtuu "
                                             f"enintään {MAX_ANSWER_CHARS} merkkiä."),
    ("Katso http://lumo.example/sivu.", "answer", "Linkki http://lumo.example/sivu ei kelpaa. Kirjoita linkit "
                                                 "muodossa https://osoite.fi/sivu."),
    ("Katso https://rikki", "answer", "Linkki https://rikki ei kelpaa."),
    ("Sarkain\tvälissä", "answer", "ohjausmerkkejä"),
])
def test_invalid_answer(repo, root, text, field, expected):
    topic = repo.topic("login")
    before = file_bytes(root, "login")
    with pytest.raises(ContentError) as raised:
        repo.update_answer("login", text, topic.version)
    assert raised.value.field == field
    assert expected in raised.value.message
    assert file_bytes(root, "login") == before


@pytest.mark.parametrize("title, expected", [
    ("", "Otsikko puuttuu."),
    ("x" * 61, "Otsikko on 61 merkkiä pitkä; painikkeeseen mahtuu enintään 60 merkkiä."),
    ("Kaksi\nriviä", "Otsikon pitää olla yhdellä rivillä."),
])
def test_invalid_title(repo, title, expected):
    topic = repo.topic("login")
    with pytest.raises(ContentError) as raised:
        repo.update_answer("login", topic.answer, topic.version, title=title)
    assert raised.value.field == "title"
    assert raised.value.message.startswith(expected)
    with pytest.raises(ContentError) as raised:
        repo.create_topic("pysakointi", title, PARKING_ANSWER, PARKING_EXAMPLES)
    assert raised.value.field == "title"


def test_unchanged_answer_is_refused(repo):
    topic = repo.topic("login")
    with pytest.raises(ContentError) as raised:
        repo.update_answer("login", f"  {topic.answer} ", topic.version)
    assert raised.value.field == "answer"
    assert raised.value.message == "Vastaus on ennallaan, joten tallennettavaa ei ole."


@pytest.mark.parametrize("examples, expected", [
    ([], "Anna vähintään yksi esimerkkikysymys."),
    (["hyvä kysymys", "   "], "Esimerkki on tyhjä."),
    (["ensimmäinen rivi\ntoinen rivi"], 'Esimerkki "ensimmäinen rivi" jatkuu usealle riville.'),
    (["x" * 201], "on 201 merkkiä pitkä; enintään 200 merkkiä."),
    (["asun [Helsingissä](city)"], 'Esimerkissä "asun [Helsingissä](city)" on hakasulkeita tai aaltosulkeita.'),
    (['onko {"entity": "x"} auki'], "kirjoita esimerkki ilman merkkejä [ ] { }."),
    (["sulje ]"], "hakasulkeita tai aaltosulkeita"),
    (["nollaleveä\u200bväli"], "ohjausmerkkejä"),
    (["  Miten  KIRJAUDUN asiointipalveluun? "], 'Esimerkki "Miten KIRJAUDUN asiointipalveluun?" kuuluu jo aiheeseen '
                                                 'faq/login. Muotoile se toisin tai poista se ensin siitä aiheesta'),
    (["uusi kysymys", "moikka"], 'Esimerkki "moikka" kuuluu jo aiheeseen greet.'),
])
def test_invalid_examples(repo, root, examples, expected):
    topic = repo.topic("contact")
    before = file_bytes(root, "contact")
    with pytest.raises(ContentError) as raised:
        repo.add_examples("contact", examples, topic.version)
    assert raised.value.field == "examples"
    assert expected in raised.value.message
    with pytest.raises(ContentError) as raised:
        repo.create_topic("pysakointi", "Pysäköinti", PARKING_ANSWER, examples)
    assert raised.value.field == "examples"
    assert expected in raised.value.message
    assert file_bytes(root, "contact") == before
    assert not (root / "data" / "faq" / "pysakointi.yml").exists()


def test_adding_nothing_new_is_refused(repo):
    topic = repo.topic("contact")
    with pytest.raises(ContentError) as raised:
        repo.add_examples("contact", [topic.examples[0].lower()], topic.version)
    assert (raised.value.field, raised.value.message) == ("examples", f'Esimerkki "{topic.examples[0].lower()}" on '
                                                                      "jo tässä aiheessa.")
    with pytest.raises(ContentError) as raised:
        repo.add_examples("contact", topic.examples[:3], topic.version)
    assert raised.value.message == "Kaikki esimerkit ovat jo tässä aiheessa."


def test_removing_a_missing_or_the_last_example_is_refused(repo, root):
    topic = repo.topic("contact")
    with pytest.raises(ContentError) as raised:
        repo.remove_example("contact", "tätä ei ole", topic.version)
    assert (raised.value.field, raised.value.message) == ("examples", 'Esimerkkiä "tätä ei ole" ei ole aiheessa '
                                                                      '"Yhteystiedot".')
    change = repo.create_topic("pysakointi", "Pysäköinti", PARKING_ANSWER, ["Missä voin pysäköidä?"])
    with pytest.raises(ContentError) as raised:
        repo.remove_example("pysakointi", "missä voin pysäköidä?", change.version)
    assert raised.value.message.startswith('Esimerkki "Missä voin pysäköidä?" on aiheen ainoa esimerkki')


@pytest.mark.parametrize("name", ["Pysäköinti", "pysäköinti", "p", "1pysakointi", "_x", "pysakointi-alue",
                                  "x" * 41, "../domain", "oma tili"])
def test_invalid_topic_name(repo, name):
    with pytest.raises(ContentError) as raised:
        repo.create_topic(name, "Pysäköinti", PARKING_ANSWER, PARKING_EXAMPLES)
    assert raised.value.field == "name"
    assert f'Aiheen nimi "{name}" ei kelpaa.' in raised.value.message
    assert 'esimerkiksi "pysakointi"' in raised.value.message


def test_existing_topic_name_is_refused(repo, root):
    before = file_bytes(root, "login")
    with pytest.raises(ContentError) as raised:
        repo.create_topic("login", "Kirjautuminen 2", PARKING_ANSWER, PARKING_EXAMPLES)
    assert (raised.value.field, raised.value.message) == ("name", 'Aihe "login" on jo olemassa. Valitse toinen nimi '
                                                                  "tai muokkaa olemassa olevaa aihetta.")
    assert file_bytes(root, "login") == before


def test_name_used_by_an_intent_in_another_file_is_refused(repo, root):
    (root / "data" / "nlu" / "extra.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: faq/pysakointi\n  examples: |\n    - parkkihalli\n', encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        repo.create_topic("pysakointi", "Pysäköinti", PARKING_ANSWER, PARKING_EXAMPLES)
    assert (raised.value.field, raised.value.message) == ("name", 'Nimi "pysakointi" on jo käytössä tiedostossa '
                                                                  "data/nlu/extra.yml. Valitse toinen nimi.")


# Creating a topic


def test_created_topic_has_the_layout_of_the_others_and_reads_back(repo, root):
    change = repo.create_topic("pysakointi", " Pysäköinti ", PARKING_ANSWER, PARKING_EXAMPLES[:3],
                               comment="Pysäköinti palvelupisteellä.\nSekoittuu faq/contact-aiheeseen.")

    expected = (
        "# Pysäköinti palvelupisteellä.\n"
        "# Sekoittuu faq/contact-aiheeseen.\n"
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: faq/pysakointi\n"
        "  examples: |\n"
        "    - Missä voin pysäköidä?\n"
        "    - onko palvelupisteellä parkkipaikkoja\n"
        "    - parkkipaikka\n"
        "responses:\n"
        "  utter_faq/pysakointi:\n"
        f'  - text: "{PARKING_ANSWER}"\n'
        "    metadata:\n"
        '      title: "Pysäköinti"\n'
        '      example: "Missä voin pysäköidä?"\n'
    )
    path = root / "data" / "faq" / "pysakointi.yml"
    assert path.read_text(encoding="utf-8") == expected
    assert (path.stat().st_mode & 0o777) == 0o644
    assert no_temporary_files(root)
    assert change == Change("pysakointi", "data/faq/pysakointi.yml", "Uusi aihe luotu", change.diff, change.version)
    assert changed_lines(change) == ([], expected.splitlines())

    topic = ContentRepository(root).topic("pysakointi")
    assert topic == Topic(
        name="pysakointi", intent="faq/pysakointi", path="data/faq/pysakointi.yml",
        comment="Pysäköinti palvelupisteellä.\nSekoittuu faq/contact-aiheeseen.", title="Pysäköinti",
        answer=PARKING_ANSWER, example_question="Missä voin pysäköidä?", examples=PARKING_EXAMPLES[:3], buttons=[],
        version=change.version,
    )
    assert _dump(_yaml().load(expected)) == expected
    titles = [t.title for t in repo.topics()]
    assert titles[titles.index("Pysäköinti") - 1: titles.index("Pysäköinti") + 2] == [
        "Palaute", "Pysäköinti", "Saavutettavuus"]


def test_created_topic_gets_a_default_comment_and_sorts_in_finnish_order(repo, root):
    repo.create_topic("aitiysavustus", "Äitiysavustus", "Äitiysavustuksesta kerrotaan Lumon sivuilla.",
                      ["miten haen äitiysavustusta"])
    assert repo.topic("aitiysavustus").comment == "Äitiysavustus: uusi aihe, luotu editorissa."
    assert (root / "data" / "faq" / "aitiysavustus.yml").read_text(encoding="utf-8").startswith(
        "# Äitiysavustus: uusi aihe, luotu editorissa.\nversion: \"3.1\"\n")
    assert [t.title for t in repo.topics()][-2:] == ["Yhteystiedot", "Äitiysavustus"]


def test_created_topic_passes_the_content_checks(repo, root):
    repo.create_topic("pysakointi", "Pysäköinti", PARKING_ANSWER, PARKING_EXAMPLES)
    findings = [str(f) for f in check_project(root, spelling=False) if f.severity == "virhe"]
    assert findings == []


def test_created_topic_passes_rasa_data_validate(repo, root):
    rasa = Path(sys.executable).parent / "rasa"  # the virtualenv running the tests has Rasa
    repo.create_topic("pysakointi", "Pysäköinti", PARKING_ANSWER, PARKING_EXAMPLES)
    result = subprocess.run([str(rasa), "data", "validate", "--domain", "domain.yml", "--data", "data"], cwd=root,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "pysakointi" not in output
