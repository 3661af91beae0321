-- Shared by seed_generate.sql and seed_activity.sql: pseudo-random helpers and the phrase book.
-- Everything lives in pg_temp so the Chatwoot-shaped schema stays exactly Chatwoot's.
--
-- Why not random()/setseed(): parallel plans and join orders change the order in which rows
-- draw from the generator, so the same seed would not give the same rows. Instead every
-- "random" number is a hash of (seed, stream, key): the same key always gets the same number,
-- whatever plan PostgreSQL picks.

-- The generator's statements are estimated expensive (generate_series, hashes), which makes
-- PostgreSQL JIT-compile each of them: ~0.2-0.6 s per statement, more than running them.
SET LOCAL jit = off;

-- Uniform double in [0, 1) for (seed, stream, key). 2^53 keeps every value exact in a double.
CREATE OR REPLACE FUNCTION pg_temp.seed_rand(seed bigint, stream integer, key bigint)
RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (hashint8extended(key, seed * 1009 + stream) & 9007199254740991)::double precision
           / 9007199254740992.0
$$;

-- One element of a text array, chosen by a number in [0, 1).
CREATE OR REPLACE FUNCTION pg_temp.seed_pick(items text[], r double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT items[1 + floor(r * cardinality(items))::integer]
$$;

-- A conversation's scenario, in realistic proportions: 1 price question (28 %), 2 visit booking
-- (20 %), 3 declining (14 %), 4 purchase (4 %: a few percent convert), 5 support (34 %).
CREATE OR REPLACE FUNCTION pg_temp.seed_scenario(r double precision)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN r < 0.28 THEN 1 WHEN r < 0.48 THEN 2 WHEN r < 0.62 THEN 3 WHEN r < 0.66 THEN 4 ELSE 5 END
$$;

-- The business vertical of account a, in the order of the account names of seed_generate.sql
-- (localdev/demo.py gives each demo tenant the matching lead pack).
CREATE OR REPLACE FUNCTION pg_temp.seed_vertical(a integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (ARRAY['real_estate', 'health', 'education', 'fitness', 'education', 'real_estate',
                  'generic', 'generic', 'generic', 'generic', 'health', 'education'])[(a - 1) % 12 + 1]
$$;

-- The phrase book: (kind, scenario, vertical) -> candidate texts. Scenario 0 = any conversation;
-- 1 price question, 2 visit booking, 3 declining, 4 purchase, 5 support. Vertical 'any' serves
-- every account, a vertical's own lines replace it for that vertical's accounts (seed_book below).
-- Placeholders {account}, {agent}, {contact} are filled in per message.
DROP TABLE IF EXISTS pg_temp.seed_lines;
CREATE TEMP TABLE seed_lines (kind text NOT NULL, scenario integer NOT NULL, texts text[] NOT NULL,
                              vertical text NOT NULL DEFAULT 'any',
                              PRIMARY KEY (kind, scenario, vertical)) ON COMMIT DROP;
INSERT INTO seed_lines (kind, scenario, texts) VALUES
-- the contact's first message
('open', 1, ARRAY['Olá, boa tarde! Qual o valor do plano?', 'Oi, quanto custa?',
                  'Bom dia! Gostaria de saber o preço do apartamento de 2 quartos',
                  'Qual o valor da mensalidade?', 'Vocês têm tabela de preços? Quanto fica à vista?',
                  'Oi, vi o anúncio no Instagram. Qual o preço?']),
('open', 2, ARRAY['Posso visitar amanhã às 15h?', 'Quero agendar uma visita dia 12/03',
                  'Vocês abrem no sábado? Queria conhecer o espaço',
                  'Gostaria de marcar uma visita para conhecer o imóvel',
                  'Tem horário disponível na sexta de manhã?', 'Dá pra ir aí hoje às 18h30?']),
('open', 3, ARRAY['Recebi uma mensagem de vocês, do que se trata?', 'Oi, quem fala?',
                  'Oi, vi o anúncio', 'Boa tarde', 'Vocês me ligaram?']),
('open', 4, ARRAY['Oi! Já decidi, quero fechar o plano anual', 'Bom dia, quero comprar',
                  'Como faço para contratar?', 'Quero fechar negócio, qual o próximo passo?']),
('open', 5, ARRAY['Não estou conseguindo acessar minha conta', 'Meu pedido ainda não chegou',
                  'Preciso de uma segunda via do boleto', 'Olá, preciso falar com um atendente',
                  'Boa noite, vocês funcionam amanhã?', 'Como altero meu endereço de cobrança?']),
-- the contact later in the conversation
('follow', 1, ARRAY['E parcelado, como fica?', 'Tem desconto para pagamento no pix?', 'Qual o valor da entrada?',
                    'Aceita cartão?', 'Pode me mandar mais informações?', 'E o condomínio, quanto é?']),
('follow', 2, ARRAY['Pode ser às 10h30?', 'Qual o endereço exato?', 'Posso levar minha esposa junto?',
                    'Dia 15 às 14h fica bom pra mim', 'Tem estacionamento no local?', 'Sábado às 9h pode?']),
('follow', 3, ARRAY['Hmm, entendi', 'Não sei se é o momento', 'Ah tá', 'Vou ver com meu marido']),
('follow', 4, ARRAY['Qual a chave pix?', 'Pode mandar o boleto?', 'Preciso enviar algum documento?',
                    'Aceita transferência?']),
('follow', 5, ARRAY['Já tentei isso e não funcionou', 'O número do pedido é 48213', 'Ok, aguardo',
                    'Obrigado!', 'Meu CPF é 123.456.789-00', 'Ainda não chegou nada']),
-- the contact's last words
('close', 1, ARRAY['Vou pensar e te retorno', 'Ok, obrigado pelas informações!',
                   'Achei um pouco caro, mas vou avaliar', 'Beleza, vou conversar aqui em casa']),
('close', 2, ARRAY['Combinado, até lá!', 'Confirmado, estarei aí às 15h', 'Perfeito, agendado então. Obrigada!',
                   'Fechado, amanhã às 10h estou aí']),
('close', 3, ARRAY['não tenho interesse', 'não quero, obrigado', 'sem interesse',
                   'Por favor, não me mande mais mensagens', 'Obrigado, mas não tenho interesse no momento']),
('close', 4, ARRAY['fechado, pode enviar o contrato', 'já fiz o pix', 'Pagamento feito, segue o comprovante',
                   'Contrato assinado! 🎉']),
('close', 5, ARRAY['Resolvido, muito obrigado!', 'Valeu, deu certo', 'Ok', 'Agora funcionou, obrigada 🙏']),
-- answer to the bot's menu
('choice', 0, ARRAY['1', '2', 'Falar com atendente', 'Comercial', 'Quero falar com um humano', 'opção 1']),
-- bots: greetings and menus, which themselves contain times (a trap for naive time parsing)
('bot_greeting', 0, ARRAY[
    E'Olá! 👋 Seja bem-vindo(a) à {account}. Atendimento das 08:00 às 18:00, de segunda a sexta. Escolha uma opção:\n1 - Comercial\n2 - Suporte\n3 - Financeiro',
    'Oi! Sou a assistente virtual da {account}. Atendimento das 08:00 às 18:00. Como posso ajudar?',
    'Olá! No momento estamos fora do horário de atendimento (seg. a sex., 8h às 18h; sáb., 9h às 13h). Deixe sua mensagem que retornaremos.',
    E'{account} agradece seu contato! Digite:\n1️⃣ Planos e preços\n2️⃣ Agendar visita\n3️⃣ Falar com um atendente']),
('bot', 0, ARRAY['Um momento, vou transferir você para um de nossos atendentes.',
                 'Você pode consultar nossos planos em nosso site. Posso ajudar em algo mais?',
                 'Não entendi. Digite 1 para Comercial ou 2 para Suporte.',
                 'Nosso horário de atendimento é das 08:00 às 18:00. Retornaremos em breve!']),
-- human agents
('agent_first', 0, ARRAY['Olá, {contact}! Meu nome é {agent}, tudo bem? Como posso ajudar?',
                         'Oi, {contact}! Aqui é {agent}, da {account}. Em que posso ajudar?',
                         'Boa tarde! {agent} falando. Vi sua mensagem, vamos lá.']),
('agent', 1, ARRAY['O plano mensal custa R$ 149,90 e o anual sai por R$ 1.499,00.',
                   'No pix temos 10% de desconto.', 'Parcelamos em até 12x sem juros no cartão.',
                   'A entrada é de R$ 25.000,00 e o restante financiado.']),
('agent', 2, ARRAY['Claro! Temos horário amanhã às 15h ou às 16h30. Qual prefere?',
                   'Agendado para o dia 12/03 às 10h. Endereço: Rua das Palmeiras, 120 - Centro.',
                   'Perfeito, te esperamos!', 'Pode sim, temos estacionamento gratuito.']),
('agent', 3, ARRAY['Entendo! Se mudar de ideia, estamos à disposição.', 'Sem problemas, obrigado pelo retorno.',
                   'Tudo bem, vou remover seu contato da nossa lista.']),
('agent', 4, ARRAY['Ótimo! Segue a chave pix: financeiro@empresa.com.br',
                   'Contrato enviado para o seu e-mail. Qualquer dúvida, é só chamar.',
                   'Pagamento confirmado! Seja bem-vindo(a)!', 'Só preciso de uma foto do seu RG e comprovante de residência.']),
('agent', 5, ARRAY['Pode me informar o CPF do titular?', 'Verifiquei aqui e já está resolvido. Pode testar novamente?',
                   'Enviei a segunda via para o seu e-mail.', 'Seu pedido sai para entrega amanhã até as 18h.']),
-- private notes (outgoing, private = true)
('note', 0, ARRAY['Cliente já pediu desconto antes, não oferecer mais que 10%.', 'Nota: ligar amanhã às 9h para confirmar.',
                  'Lead quente, passar para o gerente.', 'Verificar pagamento no financeiro.',
                  'Cliente irritado, tratar com prioridade.']),
-- activity messages (message_type 2, no sender)
('assigned', 0, ARRAY['Conversa atribuída a {agent}', 'Atribuída a {agent} por Sistema']),
('resolved', 0, ARRAY['Conversa foi marcada como resolvida por {agent}']),
('bot_resolved', 0, ARRAY['Conversa resolvida automaticamente pelo bot']),
('auto_resolved', 0, ARRAY['Conversa marcada como resolvida pelo sistema por inatividade']),
('reopened', 0, ARRAY['Conversa reaberta pelo contato']);

-- The verticals' own words (WhatsApp Portuguese) for price questions, bookings and purchases.
INSERT INTO seed_lines (kind, scenario, vertical, texts) VALUES
('open', 1, 'fitness', ARRAY['Oi! Qual o valor do plano mensal?', 'boa tarde, quanto tá a mensalidade?', 'Aceitam Gympass?',
                             'vcs tem plano trimestral? qual o valor?']),
('open', 2, 'fitness', ARRAY['Tem aula experimental?', 'posso fazer uma aula teste sábado às 10h?',
                             'Queria conhecer o box, tem aula experimental amanhã?', 'como faço pra agendar uma aula experimental?']),
('open', 4, 'fitness', ARRAY['Quero me matricular, como faço?', 'Oi! Decidi fechar o plano anual', 'quero me matricular no plano trimestral']),
('follow', 1, 'fitness', ARRAY['E o plano anual, quanto sai?', 'tem desconto no pix?', 'Aceita Totalpass?', 'parcela no cartão?']),
('follow', 2, 'fitness', ARRAY['quarta 19h', 'amanhã 7h pode?', 'Pode ser sábado às 10h', 'prefiro de manhã, 6h30 tem?']),
('follow', 4, 'fitness', ARRAY['Qual a chave pix?', 'Pode mandar o link de pagamento?', 'Preciso levar atestado?']),
('close', 2, 'fitness', ARRAY['Combinado, até quarta!', 'Perfeito, estarei aí às 19h', 'show, obrigada!']),
('close', 4, 'fitness', ARRAY['Pronto, fiz o pix 💪', 'Segue o comprovante', 'Paguei pelo link, obrigado!']),
('agent', 1, 'fitness', ARRAY['O plano mensal é R$ 289 e o trimestral sai R$ 249/mês. Quer agendar uma aula experimental?',
                              'Aceitamos Gympass e Totalpass a partir do plano Silver.', 'No pix tem 10% de desconto.']),
('agent', 2, 'fitness', ARRAY['Temos aula experimental amanhã às 7h, 12h ou 19h. Qual prefere?', 'Agendado! Te esperamos 💪',
                              'Claro! Qual dia e horário fica melhor pra você?']),
('agent', 4, 'fitness', ARRAY['Ótimo! Chave pix: financeiro@box.com.br', 'Pagamento confirmado! Bem-vindo ao box 💪',
                              'Te mandei o link de pagamento.']),
('open', 1, 'health', ARRAY['Quanto custa a consulta particular?', 'Vocês atendem Unimed?', 'qual o valor da limpeza?',
                            'Atende pelo convênio Amil?']),
('open', 2, 'health', ARRAY['Queria marcar uma consulta', 'tem horário pra essa semana?', 'Posso agendar uma avaliação na sexta de manhã?',
                            'Preciso marcar um exame']),
('open', 4, 'health', ARRAY['Decidi fazer o tratamento, como faço o pagamento?', 'Quero fechar o pacote de sessões']),
('follow', 1, 'health', ARRAY['E parcelado?', 'o retorno tá incluso?', 'Aceita cartão?']),
('follow', 2, 'health', ARRAY['Pode ser terça 14h', 'sexta 9h20 fica bom', 'Quinta às 18h pode?']),
('follow', 4, 'health', ARRAY['Qual a chave pix?', 'Pode mandar o contrato?']),
('close', 2, 'health', ARRAY['Combinado, obrigada!', 'Perfeito, até terça']),
('close', 4, 'health', ARRAY['Fiz o pix da entrada', 'Segue o comprovante', 'Contrato assinado!']),
('agent', 1, 'health', ARRAY['A consulta particular é R$ 250. Atendemos Unimed, Amil e Bradesco Saúde.', 'A limpeza fica R$ 180. Quer agendar?']),
('agent', 2, 'health', ARRAY['Tenho terça 14h ou quinta 18h. Qual prefere?', 'Marcado ✅ Traga a carteirinha e um documento.',
                             'Qual o melhor dia pra você?']),
('agent', 4, 'health', ARRAY['Pagamento confirmado, obrigada!', 'Chave pix: financeiro@clinica.com.br']),
('open', 1, 'education', ARRAY['Qual o valor da mensalidade do 6º ano?', 'quanto é a matrícula?', 'Tem desconto para irmãos?']),
('open', 2, 'education', ARRAY['Queria conhecer a escola', 'Posso agendar uma visita?', 'tem aula experimental de inglês?',
                               'como faço o teste de nível?']),
('open', 4, 'education', ARRAY['Quero fazer a matrícula do meu filho', 'Decidi matricular minha filha no integral']),
('follow', 1, 'education', ARRAY['E o material didático?', 'Tem período integral?', 'Aceita cartão?']),
('follow', 2, 'education', ARRAY['Pode ser quinta 15h', 'sexta às 9h fica bom', 'amanhã 10h pode?']),
('follow', 4, 'education', ARRAY['Qual a chave pix da matrícula?', 'Quais documentos preciso levar?']),
('close', 2, 'education', ARRAY['Combinado, até quinta!', 'Perfeito, obrigado']),
('close', 4, 'education', ARRAY['Paguei a taxa de matrícula', 'Fiz o pix, segue o comprovante', 'Contrato assinado!']),
('agent', 1, 'education', ARRAY['A mensalidade do 6º ano é R$ 1.450, com 10% para irmãos.', 'A matrícula é R$ 600.']),
('agent', 2, 'education', ARRAY['Temos visitas quinta 15h ou sexta 9h. Qual prefere?', 'Agendado! Te esperamos na recepção.',
                                'Quer agendar uma visita para conhecer a escola?']),
('agent', 4, 'education', ARRAY['Matrícula confirmada! Seja bem-vindo(a).', 'Chave pix: secretaria@escola.com.br']);

-- Every (kind, scenario) for every vertical: its own lines where it has them, else the 'any' ones.
DROP TABLE IF EXISTS pg_temp.seed_book;
CREATE TEMP TABLE seed_book ON COMMIT DROP AS
SELECT base.kind, base.scenario, v.vertical, COALESCE(own.texts, base.texts) AS texts
FROM seed_lines base
CROSS JOIN (VALUES ('real_estate'), ('health'), ('education'), ('fitness'), ('generic')) AS v (vertical)
LEFT JOIN seed_lines own ON own.kind = base.kind AND own.scenario = base.scenario AND own.vertical = v.vertical
WHERE base.vertical = 'any';
ALTER TABLE seed_book ADD PRIMARY KEY (kind, scenario, vertical);
