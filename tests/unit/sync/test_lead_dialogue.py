"""The dialogue rules, each pinned: the business's messages are context for the contact's answer,
never the contact's intent; cancellations, reschedules and menu answers; the funnel."""

from __future__ import annotations

import pytest

from chatwoot_etl import contract
from chatwoot_etl.sync.leads import BUSINESS, CONTACT, Turn, judge, load_rules

FITNESS = load_rules(pack="fitness")
GENERIC = load_rules()
MENU = ("Olá! 👋 Bem-vindo ao Box Tubarão CrossFit!\n1️⃣ Planos e valores\n2️⃣ Aula experimental\n"
        "3️⃣ Já sou aluno\n4️⃣ Falar com um coach")


def c(text: str) -> Turn:
    return Turn(CONTACT, text)


def b(text: str) -> Turn:
    return Turn(BUSINESS, text)


def flags(turns: list[Turn], rules=FITNESS) -> tuple[bool, bool, bool]:
    verdict = judge(turns, rules, contract.LEAD_LABELS)
    return verdict.is_lead, verdict.visit_scheduled, verdict.crm_converted


def test_a_day_and_time_answering_the_agents_offer_is_a_booking():
    turns = [c("oi"), b("Quer agendar uma aula experimental? Qual dia e horário?"), c("quarta 19h")]
    assert flags(turns) == (True, True, False)


@pytest.mark.parametrize("answer", ["amanhã 12h", "amanha as 7", "sábado de manhã às 10"])
def test_other_ways_of_saying_when(answer):
    assert flags([b("Bora marcar sua aula experimental? Que dia fica melhor pra vc?"), c(answer)])[1]


def test_the_offer_alone_is_not_a_lead():
    assert flags([b("Quer agendar uma aula experimental? Qual dia e horário?")]) == (False, False, False)
    assert flags([b("Quer agendar uma aula experimental?"), c("oi, boa tarde")]) == (False, False, False)


def test_an_accepted_slot_is_a_booking_and_an_accepted_offer_a_lead():
    slot = [c("tem pilates?"), b("Tenho terça 8h ou quinta 17h, qual prefere?"), c("pode ser")]
    assert flags(slot) == (True, True, False)
    offer = [b("Oi! Quer conhecer o box com uma aula experimental?"), c("quero sim")]
    assert flags(offer) == (True, False, False)


def test_a_hedged_yes_books_nothing():
    turns = [b("Temos terça e quinta às 8h. Quer marcar uma aula experimental?"),
             c("quero sim mas ainda nao sei meus horarios"), c("qualquer dia eu apareço ai")]
    assert flags(turns)[1] is False


def test_the_agents_confirmation_books_the_time_the_contact_gave():
    turns = [c("quero a 2"), b("Horários: seg/qua 7h, 12h ou 19h"), c("qua meio dia"), b("Marcado quarta 12h ✅")]
    menu = [b("1️⃣ Fisioterapia\n2️⃣ Pilates clínico\n3️⃣ Já sou paciente"), *turns]
    assert flags(menu, load_rules(pack="health"))[1]


def test_a_confirmation_asked_as_a_question_books_nothing():
    turns = [c("queria conhecer a escola amanhã 10h"), c("vou ter q desmarcar, ele ta com febre"),
             b("Sem problemas, quer já deixar outro dia marcado?")]
    assert flags(turns, load_rules(pack="education")) == (True, False, False)


def test_menu_answers_take_the_words_of_the_option():
    assert flags([b(MENU), c("2")]) == (True, False, False)                         # trial class: a lead
    assert flags([b(MENU), c("2️⃣"), b("Qual dia e horário?"), c("sexta 18h")]) == (True, True, False)
    assert flags([b(MENU), c("1")]) == (True, False, False)                         # plans and prices
    assert flags([b(MENU), c("3"), c("queria congelar meu plano por 1 mes")]) == (False, False, False)
    assert flags([b(MENU), c("opção 4")]) == (False, False, False)                  # talk to a coach: nothing yet


def test_a_menu_is_not_an_offer():
    # the menu names "agendar", but the contact's date answers no question of it
    turns = [b("Digite 1 para planos, 2 para agendar aula experimental, 3 se já é aluno"), c("amanhã cedo")]
    assert flags(turns)[1] is False


@pytest.mark.parametrize("cancel", ["desmarca por favor", "vou ter q desmarcar, surgiu um imprevisto",
                                    "nao vou conseguir ir amanha", "cancela a aula pra mim"])
def test_a_cancellation_undoes_the_booking_but_not_the_lead(cancel):
    turns = [c("quero fazer uma aula experimental"), b("Temos amanhã às 7h ou 18h"), c("18h"), b("Agendado! ✅"),
             c(cancel)]
    assert flags(turns) == (True, False, False)


def test_a_cancelled_reminder_is_still_a_lead():
    turns = [b("Oi Gabriel! Confirmando sua aula experimental amanhã às 7h"), c("vou ter q desmarcar"),
             c("depois vejo outro dia")]
    assert flags(turns) == (True, False, False)


@pytest.mark.parametrize("turns", [
    [c("quero fazer uma aula experimental"), b("Temos amanhã às 7h"), c("pode ser"), c("desmarca"),
     c("podemos remarcar pra domingo às 9h?"), b("Remarcado, domingo 9h ✅")],
    [b("Confirmando sua avaliação física amanhã às 8h"), c("consegue passar pra 10h? tive um imprevisto"),
     b("Consigo sim! Amanhã às 10h então"), c("fechado vlw")],
])
def test_a_reschedule_is_a_booking(turns):
    assert flags(turns) == (True, True, False)


def test_a_time_the_business_cannot_take_is_not_booked():
    turns = [c("da pra reservar mesa pra 2 dia 12 as 20h?"), b("Dia 12 já estamos lotados 😕"), c("ah que pena")]
    assert flags(turns, GENERIC) == (True, False, False)


def test_times_that_are_no_appointment():
    assert flags([c("treinei ontem às 7h, to todo dolorido kkk")]) == (False, False, False)
    assert flags([c("sou aluna da turma das 6h"), c("vcs abrem no feriado de quinta?")]) == (False, False, False)


def test_an_existing_customer_paying_the_monthly_fee_is_no_conversion():
    turns = [c("boa tarde, segue o comprovante da mensalidade de abril"), c(""), b("Recebido, Paulo! Obrigado 👍")]
    assert flags(turns) == (False, False, False)


def test_a_payment_is_a_conversion_and_passes_the_whole_funnel():
    turns = [c("oi quero me matricular"), b("Planos: Mensal R$ 260 | Trimestral R$ 235/mês"), c("vou de trimestral"),
             c(""), c("fiz o pix"), b("Pagamento confirmado! ✅ Seja bem-vindo")]
    assert flags(turns) == (True, True, True)


def test_a_promise_to_pay_is_no_conversion():
    assert flags([c("quero me matricular"), c("vou pagar amanhã")])[2] is False


def test_the_funnel_is_nested_whatever_the_input():
    from tests.unit.sync.test_lead_packs import labelled

    for pack in ("fitness", "generic"):
        for record in labelled(pack):
            lead, visit, converted = flags(record["turns"], load_rules(pack=pack))
            assert (not converted or visit) and (not visit or lead), record["id"]


def test_opening_hours_are_no_slot_and_waiting_is_no_yes():
    turns = [b(MENU), c("2"), b("Nosso horário de atendimento é das 08:00 às 18:00. Retornaremos em breve!"),
             c("Ok, aguardo")]
    assert flags(turns) == (True, False, False)   # the trial class asked for is a lead; nothing is booked
    assert flags([c("quero agendar uma aula experimental"), b("Temos amanhã às 7h ou 18h"), c("ok")])[1]


def test_moving_ones_own_appointment_is_no_new_lead():
    turns = [c("oi, tenho retorno com o dr. augusto dia 15 as 10h"), c("consigo passar pro dia 22?"),
             b("Dia 22 temos 10h30, pode ser?"), c("pode sim"), b("Retorno remarcado para 22/04 às 10h30 ✅")]
    assert flags(turns, load_rules(pack="health")) == (False, False, False)
