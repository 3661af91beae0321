"""The lead classifier on the generic pack: a table of conversations pins precision and recall,
and targeted tests pin each defect of the previous regex-over-JSON approach. The dialogue rules
are pinned in test_lead_dialogue.py, the packs and the labelled sets in test_lead_packs.py."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from chatwoot_etl import contract
from chatwoot_etl.sync import leads
from chatwoot_etl.sync.leads import classify, contact_texts, load_rules, normalise_text
from chatwoot_etl.sync.leads.classifier import public_messages


def C(text):  # the contact
    return {"sender": "Contact", "message_type": 0, "private": False, "text": text}


def A(text):  # a human agent
    return {"sender": "User", "message_type": 1, "private": False, "text": text}


def B(text):  # a bot
    return {"sender": "AgentBot", "message_type": 1, "private": False, "text": text}


def P(text):  # Captain assistant
    return {"sender": "Captain::Assistant", "message_type": 1, "private": False, "text": text}


def N(text):  # a private note
    return {"sender": "User", "message_type": 1, "private": True, "text": text}


def X(text):  # an activity message
    return {"sender": None, "message_type": 2, "private": False, "text": text}


MENU = B("Olá! Bem-vindo à Imobiliária Sol. Atendimento de segunda a sexta das 08:00 às 18:00. "
         "Digite 1 para comprar, 2 para alugar, 3 para visitar um imóvel.")  # fmt: skip

# (conversation, is_lead, visit_scheduled)
EXAMPLES: list[tuple[list[dict], bool, bool]] = [
    # price questions
    ([MENU, C("Olá, quanto custa o apartamento da Rua das Flores?")], True, False),
    ([C("Qual o valor do aluguel?"), A("R$ 2.500 por mês")], True, False),
    ([C("bom dia, qual é o preço do lote?"), A("Bom dia! 180 mil.")], True, False),
    ([C("Vocês aceitam financiamento?"), C("E qual a entrada?")], True, False),
    ([C("QUANTO FICA A MENSALIDADE DO PLANO FAMÍLIA?")], True, False),
    ([C("Tem desconto à vista?")], True, False),
    # buying interest
    ([C("Tenho interesse no apartamento de 3 quartos")], True, False),
    ([C("Estou interessada na casa do anúncio"), A("Ótimo! Posso te mandar fotos?")], True, False),
    ([C("Gostaria de mais informações sobre o empreendimento")], True, False),
    ([C("Quero contratar o serviço de limpeza mensal")], True, False),
    ([C("Ainda está disponível?")], True, False),
    ([C("Pode me mandar a proposta?")], True, False),
    # visit bookings with dates/times
    ([MENU, C("Quero agendar uma visita amanhã às 15h")], True, True),
    ([C("Gostaria de visitar o imóvel"), A("Claro! Quando fica bom?"), C("Pode ser sábado às 10h?")], True, True),
    ([C("Posso passar aí na quinta-feira de manhã?")], True, True),
    ([C("Quero marcar uma visita para o dia 12"), A("Confirmado!")], True, True),
    ([C("Dá pra conhecer o apartamento 12/03 às 14:30?")], True, True),
    ([C("quero visitar"), C("amanha 9h ta bom")], True, True),
    ([C("Vou querer agendar a visita semana que vem, na terça")], True, True),
    ([C("Olá! Gostaria de agendar uma visita sem compromisso na sexta às 16h")], True, True),
    ([C("Quero conhecer o espaço"), A("Temos amanhã às 10h ou 15h"), C("15h pode ser")], True, True),
    ([C("Boa tarde! Tem horário disponível pra visita no sábado à tarde?"), C("Pode ser às 14h")], True, True),
    ([C("Vamos marcar então: segunda 18h30 no decorado")], True, True),
    # visit intent without a date: a lead, but nothing scheduled
    ([C("Queria visitar o decorado, como funciona?")], True, False),
    ([C("Dá pra agendar uma visita?"), A("Claro, qual dia?")], True, False),
    # agent proposes times the contact ignores
    ([C("Quero conhecer o imóvel"), A("Temos horário amanhã às 14h ou sexta às 10h"), C("Vou ver e te aviso")],
     True, False),
    ([C("oi"), A("Olá! Podemos agendar sua visita para segunda às 9h?"), A("Oi, tudo bem? Alguma novidade?")],
     False, False),
    # declines, with and without accents and case
    ([C("Não quero comprar, obrigado")], False, False),
    ([C("NÃO TENHO INTERESSE")], False, False),
    ([C("nao tenho interesse, pode me tirar da lista")], False, False),
    ([C("Não vou visitar amanhã, desisti")], False, False),
    ([C("Sem interesse no momento")], False, False),
    ([C("Nunca quis comprar nada, número errado")], False, False),
    ([C("Preciso cancelar a visita de amanhã às 15h")], False, False),
    ([C("jamais vou alugar com vocês"), C("pare de me mandar mensagem")], False, False),
    ([C("Não estou interessado")], False, False),
    # bot menus with opening hours, bot-only and agent-only conversations
    ([MENU], False, False),
    ([MENU, B("Não entendi. Digite 1, 2 ou 3. Horário: 08:00 às 18:00")], False, False),
    ([P("Olá! Posso agendar uma visita para amanhã às 10h? Quanto ao valor, fica R$ 300 mil.")], False, False),
    ([A("Bom dia, o valor é R$ 450 mil, quer agendar uma visita amanhã às 11h?"), X("Conversa resolvida")],
     False, False),
    # private notes with intent words are never the contact's
    ([C("Oi"), N("Cliente quer visitar amanhã às 10h, valor combinado")], False, False),
    # small talk, support, timestamps in text
    ([C("Bom dia"), C("Obrigado!")], False, False),
    ([C("Meu boleto venceu em 10/02, a segunda via não chegou")], False, False),
    ([C("Recebi a mensagem às 15:30 de ontem, era sobre o quê?")], False, False),
    ([C("Atendimento das 08:00 às 18:00?"), A("Sim")], False, False),
    ([C("2024-05-01 10:00:00 erro no sistema")], False, False),
    # conversions
    ([C("Fechado, quero comprar! Pode enviar o contrato")], True, False),   # a promise, not a payment
    ([C("Já fiz o pix, segue o comprovante")], True, True),                 # a conversion has passed the visit stage
]


def _compiled(messages: list[dict], *, ensure_ascii: bool = True) -> str:
    items = [
        {"message_id": i, "sender_id": None if m["sender"] is None else 7, "sent_at": f"2025-05-01T10:{i:02d}:00", **m}
        for i, m in enumerate(messages)
    ]
    return json.dumps(items, ensure_ascii=ensure_ascii)


def run(conversations: list[list[dict]], rules=None, *, ensure_ascii: bool = True) -> pd.DataFrame:
    return classify([_compiled(c, ensure_ascii=ensure_ascii) for c in conversations], rules or load_rules())


def _precision_recall(predicted: pd.Series, truth: pd.Series, positive: bool) -> tuple[float, float]:
    hit = ((predicted == positive) & (truth == positive)).sum()
    return hit / max((predicted == positive).sum(), 1), hit / max((truth == positive).sum(), 1)


@pytest.fixture(scope="module")
def table_result() -> tuple[pd.DataFrame, pd.DataFrame]:
    truth = pd.DataFrame([(lead, visit) for _, lead, visit in EXAMPLES], columns=["is_lead", "visit_scheduled"])
    return run([conversation for conversation, _, _ in EXAMPLES]), truth


def test_table_has_both_classes():
    assert len(EXAMPLES) >= 40
    for column in (1, 2):
        labels = [example[column] for example in EXAMPLES]
        assert labels.count(True) >= 10 and labels.count(False) >= 10


@pytest.mark.parametrize("column", ["is_lead", "visit_scheduled"])
@pytest.mark.parametrize("positive", [True, False])
def test_precision_and_recall_on_the_labelled_table(table_result, column, positive):
    predicted, truth = table_result
    precision, recall = _precision_recall(predicted[column], truth[column], positive)
    wrong = [EXAMPLES[i][0] for i in range(len(EXAMPLES)) if predicted[column].iloc[i] != truth[column].iloc[i]]
    assert precision >= 0.9 and recall >= 0.9, (precision, recall, wrong)


def test_output_columns_and_types(table_result):
    predicted, _ = table_result
    assert list(predicted.columns) == list(contract.LEAD_COLUMNS)
    assert str(predicted["ai_probability_score"].dtype) == "Int64"
    assert predicted["ai_probability_score"].between(0, 100).all()
    for column in ("is_lead", "visit_scheduled", "crm_converted"):
        assert predicted[column].dtype == bool
    score = predicted["ai_probability_score"]
    judged = [any(m["sender"] == "Contact" and m["text"] for m in conversation) for conversation, _, _ in EXAMPLES]
    # The owner's vocabulary; N/A where the contact wrote nothing to judge.
    expected = ["N/A" if not j else "Alto" if s >= 70 else "Médio" if s >= 40 else "Baixo"
                for s, j in zip(score, judged, strict=True)]
    assert predicted["ai_probability_label"].tolist() == expected


def test_conversion_and_scores_order_sensibly():
    result = run(
        [
            [C("Fechado! Já fiz o pix, segue o comprovante")],
            [C("Quero agendar uma visita amanhã às 15h")],
            [C("Quanto custa?")],
            [C("Bom dia")],
            [C("Quanto custa?"), C("Muito caro, não tenho interesse")],
        ]
    )
    assert result["crm_converted"].tolist() == [True, False, False, False, False]
    assert result.loc[0, "ai_probability_label"] == "Alto"
    assert result.loc[1, "ai_probability_label"] == "Alto"
    score = result["ai_probability_score"].tolist()
    assert score[0] > score[2] > score[3] and score[4] < score[2]


def test_negated_conversion_does_not_count():
    result = run([[C("Ainda não paguei")], [C("Não vou fechar agora")]])
    assert not result["crm_converted"].any()


def test_json_escaped_accents_are_decoded_before_matching():
    # The old ETL regex-searched json.dumps() output: "N\u00c3O" hid the negation.
    conversation = [C("NÃO QUERO COMPRAR"), C("Não tenho interesse em visitar amanhã às 10h")]
    assert "\\u00c3" in _compiled(conversation)
    for ascii_json in (True, False):
        result = run([conversation], ensure_ascii=ascii_json)
        assert not result.loc[0, "is_lead"] and not result.loc[0, "visit_scheduled"]


def test_contact_messages_are_decoded_texts_not_json():
    assert contact_texts(json.loads(_compiled([C("Olá, não quero"), A("ok")]))) == ["Olá, não quero"]
    assert contact_texts(None) == [] and contact_texts([]) == []


def test_bots_agents_notes_and_activity_are_never_the_contacts_intent():
    messages = [B("Quero comprar"), A("quero agendar visita amanhã 10h"), P("quanto custa?"),
                N("fechado, já fiz o pix"), X("visita agendada amanhã 10h")]
    assert contact_texts(json.loads(_compiled(messages))) == []
    result = run([messages])
    assert not result.loc[0, ["is_lead", "visit_scheduled", "crm_converted"]].any()
    assert result.loc[0, "ai_probability_score"] == 0


def test_message_type_is_compared_as_a_number_not_a_bool():
    messages = [{"sender": "Contact", "message_type": False, "private": False, "text": "quanto custa?"},
                {"sender": "Contact", "message_type": "0", "private": False, "text": "oi"},
                {"sender": "Contact", "message_type": 1, "private": False, "text": "x"},
                {"sender": "Contact", "message_type": 0, "private": True, "text": "y"}]
    assert contact_texts(messages) == ["oi"]


def test_bare_times_never_schedule_a_visit():
    result = run([[C("Atendimento das 08:00 às 18:00")], [C("2025-05-01 10:00:00")], [C("amanhã 15h")]])
    assert not result["visit_scheduled"].any()


def test_confirmation_needs_a_recent_visit_intent():
    far = [C("quero visitar")] + [C("ok")] * 5 + [C("amanhã 10h pago o boleto")]
    near = [C("quero visitar"), C("ok"), C("amanhã 10h")]
    declined = [C("quero visitar"), C("amanhã não posso")]
    result = run([far, near, declined])
    assert result["visit_scheduled"].tolist() == [False, True, False]


def test_per_tenant_override_changes_the_outcome():
    conversation = [[C("Quero fazer uma limpeza de pele na terça às 9h")]]
    default = run(conversation)
    assert default.loc[0, "is_lead"] and not default.loc[0, "visit_scheduled"]
    spa = load_rules({"visit_intent": ["limpeza de pele", "massagem"], "weights": {"visit_intent": 50}})
    tuned = run(conversation, spa)
    assert tuned.loc[0, "is_lead"] and tuned.loc[0, "visit_scheduled"]
    assert tuned.loc[0, "ai_probability_score"] >= 50 + 35
    # keys absent from the override keep their defaults
    assert spa.weights["price_intent"] == load_rules().weights["price_intent"]
    assert spa.version != load_rules().version and spa.version.startswith("generic:")


def test_override_validation():
    with pytest.raises(ValueError, match="unknown key"):
        load_rules({"visit_intnet": ["x"]})
    with pytest.raises(ValueError, match="invalid pattern"):
        load_rules({"buy_intent": ["(unclosed"]})
    with pytest.raises(ValueError, match="invalid pattern.*global flags"):  # it stands inside the key's union
        load_rules({"buy_intent": ["(?i)quero"]})


@pytest.mark.parametrize(
    "override, words",
    [
        ([1], "lead rules must be a JSON object of rule keys, not [1]"),
        (1, "lead rules must be a JSON object of rule keys, not 1"),
        ("str", 'lead rules must be a JSON object of rule keys, not "str"'),
        ({"buy_intent": "abc"}, "'buy_intent' must be a non-empty list of non-empty strings, not \"abc\""),
        ({"buy_intent": []}, "'buy_intent' must be a non-empty list"),
        ({"buy_intent": ["ok", 3]}, "'buy_intent' must be a non-empty list of non-empty strings, not [\"ok\", 3]"),
        ({"negation_window": "2"}, "'negation_window' must be an integer from 0 to 20, not \"2\""),
        ({"negation_window": -1}, "'negation_window' must be an integer from 0 to 20, not -1"),
        ({"confirmation_window": True}, "'confirmation_window' must be an integer from 0 to 20, not true"),
        ({"weights": [1]}, "'weights' must be an object, not [1]"),
        ({"weights": {"buy_intent": 1e9}}, "'weights.buy_intent' must be an integer from -1000 to 1000"),
        ({"weights": {"bogus": 1}}, "unknown key weights.'bogus'"),
        ({"labels": {"alta": 30, "media": 60}}, "labels.media (60) cannot exceed labels.alta (30)"),
    ],
)
def test_malformed_overrides_are_refused_naming_key_and_value(override, words):
    with pytest.raises(ValueError) as raised:
        load_rules(override)
    assert words in str(raised.value)


def test_normalise_text_strips_accents_and_case():
    assert normalise_text("NÃO   Quero  Terça-Feira às 15H") == "nao quero terca-feira as 15h"


def test_empty_and_missing_messages():
    result = classify([[], None, "", "[]"], load_rules())
    assert len(result) == 4 and not result[["is_lead", "visit_scheduled", "crm_converted"]].any().any()
    # Nothing the contact wrote: not judged, in the dashboards' own word for it.
    assert (result["ai_probability_label"] == "N/A").all()
    assert (result["ai_probability_score"] == 0).all()


def test_a_contact_that_wrote_something_unremarkable_is_baixo():
    result = run([[C("Bom dia")], [A("Bom dia!")]])
    assert result["ai_probability_label"].tolist() == ["Baixo", "N/A"]


def test_index_is_preserved():
    result = classify([[C("quanto custa?")], [C("oi")]], load_rules(), index=pd.Index([10, 20]))
    assert result.index.tolist() == [10, 20]
    assert result["is_lead"].tolist() == [True, False]


@pytest.mark.parametrize("text", [
    json.dumps([{"sender": "Contact", "message_type": 0, "private": False, "text": "tem aula experimental? 🏋️"},
                {"sender": "Agent", "message_type": 1, "private": None, "text": "Temos sim! Qual dia?"},
                {"sender": "Contact", "message_type": "0", "private": "f", "text": "quarta 19h", "extra": [1, {}]}]),
    json.dumps([{"sender": "Contact", "message_type": False, "text": "quanto custa?"}, {"text": 5}]),
    json.dumps([1, "texto", None, {"sender": "Contact", "message_type": 0, "text": "oi"}]),  # items not objects
    json.dumps({"sender": "Contact", "message_type": 0, "text": "not a list"}),
    json.dumps([{"sender": "Contact", "message_type": 0, "text": "big", "n": 10**30, "x": 1e308}]),
    "null", "[]", '"texto"',
])
def test_the_fast_decoding_reads_the_same_dialogue_as_the_json_module(text):
    assert leads.decode_messages(text) is not None or text == "null"
    assert public_messages(leads.decode_messages(text)) == public_messages(json.loads(text))


@pytest.mark.parametrize("text", ["[NaN]", '[{"text": Infinity}]', '[{"text": ', "[1,]", "\ufeff[]"])
def test_what_jsonb_refuses_is_refused_by_the_fast_decoding_too(text):
    with pytest.raises(ValueError):
        leads.decode_messages(text)


def test_the_number_expressions_match_as_their_plain_forms_do():
    import random
    import re

    from chatwoot_etl.sync.leads import classifier

    slot = re.compile(r"(?<!\d)\d{1,2}\s?(?:h|:\d{2})|meio[- ]dia")
    hours = re.compile(r"(?:(?<=das )\d{1,2}|(?<!\d)\d{1,2}\s?h\d{0,2}|(?<!\d)\d{1,2}:\d{2})\s*(?:as|a|ate|-|–)\s*"
                       r"\d{1,2}(?:\s?h\d{0,2}|:\d{2})")
    inline = re.compile(r"(?<!\d)(\d{1,2})\s*(?:para|pra|p/|-)\s+([^,;.\n]{2,60}?)(?=\s*(?:,|;|\.|\n|\bou\b|$))",
                        re.IGNORECASE)

    def menu(text):  # every line tried as an option line, then the inline form
        options = {n.lower(): label.strip() for n, label in classifier._MENU_LINE.findall(text)}
        if len(options) < 2:
            options = {n: label.strip() for n, label in inline.findall(text)}
        return options if len(options) >= 2 else {}

    rng = random.Random(7)
    atoms = ["1", "2", "9", "0", "12", "h", " ", "  ", ":", "30", "das ", "as", "a", "ate", "-", "–", "meio", "dia",
             " de ", "x", "\n", "١", "para ", "pra ", "p/", " ou ", ",", "Planos", "aula", "*", ")", "b.", "C-",
             "1\ufe0f\u20e3", "\n\n", "\t"]
    texts = ["".join(rng.choice(atoms) for _ in range(rng.randrange(1, 14))) for _ in range(30_000)]
    texts += ["das 08:00 as 18:00", "9h-13h", "amanha 8h ou 13h?", "meio-dia", "119h", "das 7 as 9h",
              "Digite 1 para comprar, 2 para alugar", "12 - planos ou 3 - aula"]
    for text in texts:
        found, plain = classifier._SLOT_TIME.search(text), slot.search(text)
        assert (found and found.span()) == (plain and plain.span()), text
        assert classifier._HOURS_RANGE.sub(" ", text) == hours.sub(" ", text), text
        assert classifier._MENU_INLINE.findall(text) == inline.findall(text), text
        assert classifier.menu_options(text) == menu(text), text


def test_no_normalised_text_longer_than_the_longest_choice_is_a_choice():
    import itertools

    from chatwoot_etl.sync.leads import classifier

    words = ["opcao", "op", "numero", "n", "quero", "escolho", "e", "seria", "a", "o", "1", "12", "b", ".", "!", ")"]
    for size in range(1, 5):
        for parts in itertools.product(words, repeat=size):
            for text in (" ".join(parts), "".join(parts)):
                if classifier._MENU_CHOICE.match(text):
                    assert len(text) <= classifier._MENU_CHOICE_LONGEST, text
