"""The messages issue 15 quotes, over HTTP with the real Rasa server, the trained model and the action server."""

from __future__ import annotations

import pytest

from tests.conftest import signed_customer
from tests.integration.test_conversations import faq_answer, handoffs, response_text, sender, texts

pytestmark = pytest.mark.integration

UPSET = "TÄÄ ON IHAN PASKA PALVELU!!! oon oottanu rahoja jo kolme viikkoa eikä kukaan vastaa mitään"


def buttons(messages):
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def test_an_upset_visitor_is_acknowledged_and_offered_a_person_not_answered_a_topic(stack):
    conversation = sender()
    messages = stack.send(conversation, UPSET)
    assert texts(messages) == [response_text("utter_acknowledge_upset"), response_text("utter_offer_person")]
    assert buttons(messages) == ["/request_human", "/deny"]
    assert handoffs(messages) == []  # offered, not yet handed over
    accepted = stack.send(conversation, "kyllä kiitos")
    assert texts(accepted) == [response_text("utter_handoff")]
    [signal] = handoffs(accepted)
    assert signal["reason"] == "visitor_upset"
    assert signal["summary"]["intents"][0] == "frustrated"


def test_a_lost_visitor_is_reassured_and_offered_a_person(stack):
    conversation = sender()
    messages = stack.send(conversation, "mä en tajuu mitään")
    assert texts(messages) == [response_text("utter_acknowledge_lost"), response_text("utter_offer_person")]
    [signal] = handoffs(stack.send(conversation, "/request_human"))
    assert signal["reason"] == "visitor_lost"


def test_a_lost_visitor_who_declines_goes_on_with_the_bot(stack):
    conversation = sender()
    stack.send(conversation, "en ymmärrä tästä yhtään mitään")
    declined = stack.send(conversation, "/deny")
    assert texts(declined) == [response_text("utter_anything_else")] and handoffs(declined) == []


def test_two_questions_in_one_message_get_both_answers(stack):
    messages = stack.send(sender(), "mihin aikaan olette auki ja milloin on seuraava maksupäivä?")
    assert texts(messages) == [response_text("utter_several_topics_intro"), faq_answer("opening_hours"),
                               faq_answer("payment_dates")]


def test_a_long_message_is_answered_by_what_it_asks_not_log_in_first(stack):
    """1,386 characters of story about a bank that closes, with one question at the end (not about the
    visitor's own case): answered with how to change one's details, not "log in first"."""
    replies = texts(stack.send(sender(), LONG_MESSAGE))
    assert response_text("utter_login_required") not in replies
    assert replies == [faq_answer("change_details")]


LONG_MESSAGE = (
    'Hei. Kirjoitan pitkästi, koska tilanteeni on vähän monimutkainen. Sain viime syksynä päätöksen '
    'asumistuesta, ja tuki on tullut tililleni joka kuukausi ilman ongelmia. Nyt pankkini kuitenkin '
    'lopettaa toimintansa Suomessa ensi kuun lopussa, ja kaikki asiakkaat siirretään toiseen pankkiin, '
    'jolloin tilinumeroni vaihtuu. Uusi pankki lähetti minulle kirjeen, jossa kerrotaan uusi tilinumero, '
    'mutta siinä sanotaan myös, että vanha tili on käytössä vielä kaksi viikkoa siirron jälkeen. Olen '
    'ollut saman pankin asiakas yli kaksikymmentä vuotta, ja minulla on siellä myös säästötili ja pieni '
    'laina, joten muutoksia on tulossa paljon muutenkin. Pankin asiakaspalvelu sanoi puhelimessa, että '
    'suoraveloitukset ja e-laskut siirtyvät uuteen pankkiin automaattisesti, mutta viranomaisille ja '
    'työnantajalle minun pitää ilmoittaa uusi tilinumero itse. Työnantajalle ilmoitin jo eilen, ja se oli'
    ' onneksi helppoa. Vuokranantajani on aika tarkka eräpäivistä, ja viime vuonna minulta meni jo kerran'
    ' viivästyskorko, kun palkka tuli myöhässä. Työskentelen osa-aikaisesti kaupassa, ja tuloni ovat '
    'pysyneet suunnilleen samoina koko ajan, joten siihen ei ole tulossa muutoksia. Asun yksin kaksiossa,'
    ' jonka vuokra on pysynyt samana kolme vuotta. Eli kysymykseni on: miten ja mistä ilmoitan teille '
    'uuden tilinumeron, ja pitääkö se tehdä ennen kuin vanha tili suljetaan?'
)


def test_a_callback_request_and_a_story_about_lost_papers_are_not_told_to_log_in(stack):
    callback = texts(stack.send(sender(), "voitteko soittaa mulle"))
    assert callback == [faq_answer("appointment")]
    papers = texts(stack.send(sender(), "mun kissa söi mun paperit"))
    assert response_text("utter_login_required") not in papers
    assert papers == [faq_answer("attachments")]


def test_a_logged_in_customer_asking_about_their_money_gets_their_own_answer(stack):
    for question in ("paljonko mä saan rahaa", "miks mun rahat ei oo tullu"):
        conversation = sender()
        replies = texts(stack.send(conversation, question, signed_customer("LUMO-1003", conversation)))
        assert any("412,50 €" in reply for reply in replies), (question, replies)
    conversation = sender()
    replies = texts(stack.send(conversation, "puuttuuko multa jotain", signed_customer("LUMO-1004", conversation)))
    assert replies == ["Ilmari, hakemuksesi (asumistuki) käsittely odottaa liitettä: vuokrasopimus. Lähetä se "
                       "asiointipalvelussa kohdassa Hakemukset → Lähetä liitteitä, niin käsittely jatkuu."]
