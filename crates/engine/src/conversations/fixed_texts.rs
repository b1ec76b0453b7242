//! The few things Switchboard itself says to visitors, in their language: built in for common
//! languages (so they work when the AI is down — which is when one of them is needed), translated
//! through the AI provider for others when it is up, English otherwise.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use super::ConversationsService;
use super::unattended_texts::UNATTENDED;
use crate::conversations::Run;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FixedText {
    /// A person takes over.
    Handover,
    /// The AI could not answer, so the question went to the team.
    AiFailedHandedOver,
    /// Handed to people, but nobody is available: the conversation waits.
    NobodyAvailable,
    /// The same, the answer going to the visitor's `{email}`.
    NobodyAvailableEmail,
}

impl FixedText {
    fn english(self) -> &'static str {
        built_in(self, "en").expect("every text has English")
    }
}

/// (language, hand-over, AI failed and handed over).
const TEXTS: &[(&str, &str, &str)] = &[
    (
        "en",
        "You're being connected with a member of our team. They will reply here shortly.",
        "Sorry, I can't answer that myself right now. I've passed your question to our team, and a person will reply here.",
    ),
    (
        "de",
        "Wir verbinden Sie mit einem Mitglied unseres Teams. Es antwortet Ihnen gleich hier.",
        "Das kann ich gerade leider nicht selbst beantworten. Ich habe Ihre Frage an unser Team weitergegeben; eine Person antwortet Ihnen hier.",
    ),
    (
        "fr",
        "Nous vous mettons en relation avec un membre de notre équipe. Il vous répondra ici sous peu.",
        "Désolé, je ne peux pas répondre moi-même pour le moment. J'ai transmis votre question à notre équipe ; une personne vous répondra ici.",
    ),
    (
        "es",
        "Le estamos poniendo en contacto con un miembro de nuestro equipo. Le responderá aquí en breve.",
        "Lo siento, ahora mismo no puedo responder a eso. He pasado su pregunta a nuestro equipo y una persona le responderá aquí.",
    ),
    (
        "it",
        "La stiamo mettendo in contatto con un membro del nostro team. Le risponderà qui a breve.",
        "Mi dispiace, al momento non posso rispondere io. Ho inoltrato la sua domanda al nostro team: una persona le risponderà qui.",
    ),
    (
        "pt",
        "Estamos a ligá-lo a um membro da nossa equipa. Vai responder-lhe aqui em breve.",
        "Lamento, de momento não consigo responder a isso. Passei a sua pergunta à nossa equipa e uma pessoa vai responder-lhe aqui.",
    ),
    (
        "nl",
        "We verbinden u met een medewerker van ons team. U krijgt hier zo een antwoord.",
        "Sorry, daar kan ik nu zelf geen antwoord op geven. Ik heb uw vraag doorgegeven aan ons team; een medewerker antwoordt u hier.",
    ),
    (
        "sv",
        "Vi kopplar dig till någon i vårt team. Du får svar här inom kort.",
        "Tyvärr kan jag inte svara på det själv just nu. Jag har skickat din fråga vidare till vårt team, och en person svarar dig här.",
    ),
    (
        "da",
        "Vi forbinder dig med en fra vores team. Du får svar her om lidt.",
        "Beklager, det kan jeg ikke selv svare på lige nu. Jeg har sendt dit spørgsmål videre til vores team, og en person svarer dig her.",
    ),
    (
        "nb",
        "Vi setter deg i kontakt med en i teamet vårt. Du får svar her om kort tid.",
        "Beklager, det kan jeg ikke svare på selv akkurat nå. Jeg har sendt spørsmålet ditt videre til teamet vårt, og en person svarer deg her.",
    ),
    (
        "fi",
        "Yhdistämme sinut tiimimme jäseneen. Saat vastauksen tähän pian.",
        "Valitettavasti en pysty vastaamaan tähän itse juuri nyt. Välitin kysymyksesi tiimillemme, ja ihminen vastaa sinulle tähän.",
    ),
    (
        "pl",
        "Łączymy Cię z członkiem naszego zespołu. Wkrótce odpowie tutaj.",
        "Przepraszam, nie mogę teraz sam odpowiedzieć na to pytanie. Przekazałem je naszemu zespołowi i ktoś odpowie Ci tutaj.",
    ),
    (
        "cs",
        "Spojujeme vás s členem našeho týmu. Brzy vám tady odpoví.",
        "Omlouvám se, na to teď sám odpovědět nedokážu. Vaši otázku jsem předal našemu týmu a člověk vám odpoví tady.",
    ),
    (
        "tr",
        "Sizi ekibimizden biriyle bağlıyoruz. Kısa süre içinde buradan yanıt verecek.",
        "Üzgünüm, şu anda bunu kendim yanıtlayamıyorum. Sorunuzu ekibimize ilettim; bir kişi size buradan yanıt verecek.",
    ),
    (
        "ru",
        "Мы соединяем вас с сотрудником нашей команды. Он скоро ответит здесь.",
        "К сожалению, сейчас я не могу ответить на это сам. Я передал ваш вопрос нашей команде, и сотрудник ответит вам здесь.",
    ),
    (
        "uk",
        "Ми з'єднуємо вас із працівником нашої команди. Він незабаром відповість тут.",
        "На жаль, зараз я не можу відповісти на це сам. Я передав ваше запитання нашій команді, і працівник відповість вам тут.",
    ),
    (
        "el",
        "Σας συνδέουμε με ένα μέλος της ομάδας μας. Θα σας απαντήσει εδώ σύντομα.",
        "Λυπάμαι, δεν μπορώ να απαντήσω μόνος μου σε αυτό αυτή τη στιγμή. Έστειλα την ερώτησή σας στην ομάδα μας και ένας άνθρωπος θα σας απαντήσει εδώ.",
    ),
    (
        "ja",
        "担当スタッフにおつなぎします。まもなくこちらで返信いたします。",
        "申し訳ありません。現在この質問には私からお答えできません。ご質問をチームに引き継ぎましたので、担当者がこちらで返信いたします。",
    ),
    (
        "zh",
        "正在为您转接我们团队的工作人员，他们很快会在这里回复您。",
        "抱歉，我现在无法自己回答这个问题。我已将您的问题转交给我们的团队，工作人员会在这里回复您。",
    ),
    (
        "ko",
        "저희 팀 담당자와 연결해 드리고 있습니다. 곧 이곳에서 답변드릴 예정입니다.",
        "죄송합니다. 지금은 제가 직접 답변드릴 수 없습니다. 질문을 저희 팀에 전달했으며 담당자가 이곳에서 답변드릴 예정입니다.",
    ),
    (
        "ar",
        "نقوم بتوصيلك بأحد أعضاء فريقنا. سيرد عليك هنا قريبًا.",
        "عذرًا، لا أستطيع الإجابة عن ذلك بنفسي الآن. لقد أحلت سؤالك إلى فريقنا، وسيرد عليك أحد الموظفين هنا.",
    ),
    (
        "he",
        "אנחנו מחברים אותך לאחד מחברי הצוות שלנו. הוא יענה לך כאן בקרוב.",
        "מצטער, כרגע אינני יכול לענות על כך בעצמי. העברתי את השאלה שלך לצוות שלנו, ואדם יענה לך כאן.",
    ),
    (
        "hu",
        "Összekapcsoljuk csapatunk egyik tagjával. Hamarosan itt válaszol.",
        "Sajnálom, erre most nem tudok magam válaszolni. A kérdését továbbítottam csapatunknak, és egy munkatársunk itt válaszol.",
    ),
    (
        "ro",
        "Vă punem în legătură cu un membru al echipei noastre. Vă va răspunde aici în curând.",
        "Îmi pare rău, nu pot răspunde eu la asta acum. Am transmis întrebarea dumneavoastră echipei noastre, iar o persoană vă va răspunde aici.",
    ),
];

/// The built-in text in `language` (a tag such as `pt-BR`; its primary subtag counts).
fn built_in(text: FixedText, language: &str) -> Option<&'static str> {
    let primary = sb_llm::language::primary(language);
    let table = match text {
        FixedText::Handover | FixedText::AiFailedHandedOver => TEXTS,
        FixedText::NobodyAvailable | FixedText::NobodyAvailableEmail => UNATTENDED,
    };
    table.iter().find(|(code, ..)| *code == primary).map(|(_, first, second)| match text {
        FixedText::Handover | FixedText::NobodyAvailable => *first,
        FixedText::AiFailedHandedOver | FixedText::NobodyAvailableEmail => *second,
    })
}

/// Translations made through a provider, per text and language, for the life of the process.
static TRANSLATED: LazyLock<Mutex<HashMap<(FixedText, String), String>>> =
    LazyLock::new(Mutex::default);

impl ConversationsService {
    /// `text` in the visitor's language. `ask_provider`: translate through the AI provider when
    /// the language has no built-in text (pointless right after the provider failed).
    pub(crate) async fn fixed_text(
        &self,
        run: &Run<'_>,
        text: FixedText,
        ask_provider: bool,
    ) -> String {
        let Some(language) = run.conversation.visitor.language.clone() else {
            return text.english().to_owned();
        };
        if let Some(found) = built_in(text, &language) {
            return found.to_owned();
        }
        let key = (text, language.to_ascii_lowercase());
        if let Some(found) = TRANSLATED.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return found.clone();
        }
        if !ask_provider {
            return text.english().to_owned();
        }
        let translated = self
            .translate(&run.tenant.id, &run.conversation.id, text.english(), &language)
            .await
            .map(|translation| translation.text)
            .filter(|t| !t.trim().is_empty());
        match translated {
            Some(found) => {
                let mut cache = TRANSLATED.lock().unwrap_or_else(|p| p.into_inner());
                if cache.len() < 1_000 {
                    cache.insert(key, found.clone());
                }
                found
            }
            None => text.english().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_both_texts_and_regional_tags_find_them() {
        for (code, handover, failed) in TEXTS {
            assert!(!handover.is_empty() && !failed.is_empty(), "{code}");
        }
        assert_eq!(built_in(FixedText::Handover, "de-AT"), built_in(FixedText::Handover, "de"));
        assert_eq!(built_in(FixedText::Handover, "no"), built_in(FixedText::Handover, "nb"));
        assert_eq!(built_in(FixedText::AiFailedHandedOver, "vi"), None);
        assert!(TEXTS.len() >= 20);
    }

    #[test]
    fn the_waiting_texts_exist_in_every_language_and_name_the_address() {
        let waiting: Vec<&str> = UNATTENDED.iter().map(|t| t.0).collect();
        let others: Vec<&str> = TEXTS.iter().map(|t| t.0).collect();
        assert_eq!(waiting, others);
        for (code, here, by_email) in UNATTENDED {
            assert!(!here.is_empty() && !here.contains("{email}"), "{code}");
            assert_eq!(by_email.matches("{email}").count(), 1, "{code}");
        }
    }
}
