//! What the visitor is told when a hand-over finds nobody available: the conversation waits,
//! and the answer comes here — or to the e-mail address they gave (`{email}`, filled in by the
//! caller). Kept apart from the other fixed texts for length; same languages, same registers.

/// (language, nobody available, nobody available with the visitor's e-mail address).
pub(super) const UNATTENDED: &[(&str, &str, &str)] = &[
    (
        "en",
        "Nobody from our team is available right now. Your message is waiting for them, and someone will reply here as soon as they're back.",
        "Nobody from our team is available right now. Your message is waiting for them, and someone will reply to {email} as soon as they're back.",
    ),
    (
        "de",
        "Gerade ist niemand aus unserem Team erreichbar. Ihre Nachricht wartet auf uns, und jemand antwortet Ihnen hier, sobald wir wieder da sind.",
        "Gerade ist niemand aus unserem Team erreichbar. Ihre Nachricht wartet auf uns, und jemand antwortet Ihnen an {email}, sobald wir wieder da sind.",
    ),
    (
        "fr",
        "Personne de notre équipe n'est disponible pour le moment. Votre message est en attente, et quelqu'un vous répondra ici dès son retour.",
        "Personne de notre équipe n'est disponible pour le moment. Votre message est en attente, et quelqu'un vous répondra à {email} dès son retour.",
    ),
    (
        "es",
        "Ahora mismo no hay nadie de nuestro equipo disponible. Su mensaje queda en espera y alguien le responderá aquí en cuanto vuelva.",
        "Ahora mismo no hay nadie de nuestro equipo disponible. Su mensaje queda en espera y alguien le responderá en {email} en cuanto vuelva.",
    ),
    (
        "it",
        "Al momento nessuno del nostro team è disponibile. Il suo messaggio è in attesa e qualcuno le risponderà qui appena rientra.",
        "Al momento nessuno del nostro team è disponibile. Il suo messaggio è in attesa e qualcuno le risponderà a {email} appena rientra.",
    ),
    (
        "pt",
        "Neste momento não há ninguém da nossa equipa disponível. A sua mensagem fica em espera e alguém lhe responderá aqui assim que voltar.",
        "Neste momento não há ninguém da nossa equipa disponível. A sua mensagem fica em espera e alguém lhe responderá para {email} assim que voltar.",
    ),
    (
        "nl",
        "Er is op dit moment niemand van ons team beschikbaar. Uw bericht wacht op ons, en iemand antwoordt u hier zodra we terug zijn.",
        "Er is op dit moment niemand van ons team beschikbaar. Uw bericht wacht op ons, en iemand antwoordt u via {email} zodra we terug zijn.",
    ),
    (
        "sv",
        "Ingen i vårt team är tillgänglig just nu. Ditt meddelande väntar, och någon svarar dig här så snart vi är tillbaka.",
        "Ingen i vårt team är tillgänglig just nu. Ditt meddelande väntar, och någon svarar dig på {email} så snart vi är tillbaka.",
    ),
    (
        "da",
        "Ingen fra vores team er tilgængelig lige nu. Din besked venter, og nogen svarer dig her, så snart vi er tilbage.",
        "Ingen fra vores team er tilgængelig lige nu. Din besked venter, og nogen svarer dig på {email}, så snart vi er tilbage.",
    ),
    (
        "nb",
        "Ingen i teamet vårt er tilgjengelig akkurat nå. Meldingen din venter, og noen svarer deg her så snart vi er tilbake.",
        "Ingen i teamet vårt er tilgjengelig akkurat nå. Meldingen din venter, og noen svarer deg på {email} så snart vi er tilbake.",
    ),
    (
        "fi",
        "Kukaan tiimistämme ei ole juuri nyt tavoitettavissa. Viestisi odottaa, ja joku vastaa sinulle tähän heti, kun olemme taas paikalla.",
        "Kukaan tiimistämme ei ole juuri nyt tavoitettavissa. Viestisi odottaa, ja joku vastaa sinulle osoitteeseen {email} heti, kun olemme taas paikalla.",
    ),
    (
        "pl",
        "Nikt z naszego zespołu nie jest teraz dostępny. Twoja wiadomość czeka i ktoś odpowie Ci tutaj, gdy tylko wrócimy.",
        "Nikt z naszego zespołu nie jest teraz dostępny. Twoja wiadomość czeka i ktoś odpowie Ci na adres {email}, gdy tylko wrócimy.",
    ),
    (
        "cs",
        "Nikdo z našeho týmu teď není k dispozici. Vaše zpráva počká a někdo vám tady odpoví, jakmile budeme zpátky.",
        "Nikdo z našeho týmu teď není k dispozici. Vaše zpráva počká a někdo vám odpoví na {email}, jakmile budeme zpátky.",
    ),
    (
        "tr",
        "Şu anda ekibimizden kimse müsait değil. Mesajınız bekliyor; döner dönmez biri size buradan yanıt verecek.",
        "Şu anda ekibimizden kimse müsait değil. Mesajınız bekliyor; döner dönmez biri size {email} adresinden yanıt verecek.",
    ),
    (
        "ru",
        "Сейчас никого из нашей команды нет на месте. Ваше сообщение ждёт, и как только мы вернёмся, вам ответят здесь.",
        "Сейчас никого из нашей команды нет на месте. Ваше сообщение ждёт, и как только мы вернёмся, вам ответят на {email}.",
    ),
    (
        "uk",
        "Зараз нікого з нашої команди немає на місці. Ваше повідомлення чекає, і щойно ми повернемося, вам відповідять тут.",
        "Зараз нікого з нашої команди немає на місці. Ваше повідомлення чекає, і щойно ми повернемося, вам відповідять на {email}.",
    ),
    (
        "el",
        "Αυτή τη στιγμή δεν είναι διαθέσιμο κανένα μέλος της ομάδας μας. Το μήνυμά σας περιμένει και κάποιος θα σας απαντήσει εδώ μόλις επιστρέψουμε.",
        "Αυτή τη στιγμή δεν είναι διαθέσιμο κανένα μέλος της ομάδας μας. Το μήνυμά σας περιμένει και κάποιος θα σας απαντήσει στο {email} μόλις επιστρέψουμε.",
    ),
    (
        "ja",
        "ただいま対応できるスタッフがおりません。メッセージはお預かりしており、スタッフが戻り次第こちらで返信いたします。",
        "ただいま対応できるスタッフがおりません。メッセージはお預かりしており、スタッフが戻り次第 {email} 宛てに返信いたします。",
    ),
    (
        "zh",
        "目前我们团队暂时没有人在线。您的消息已保留，工作人员回来后会立即在这里回复您。",
        "目前我们团队暂时没有人在线。您的消息已保留，工作人员回来后会立即通过 {email} 回复您。",
    ),
    (
        "ko",
        "지금은 응대할 수 있는 팀원이 없습니다. 메시지는 잘 전달되었으며, 담당자가 돌아오는 대로 이곳에서 답변드리겠습니다.",
        "지금은 응대할 수 있는 팀원이 없습니다. 메시지는 잘 전달되었으며, 담당자가 돌아오는 대로 {email}(으)로 답변드리겠습니다.",
    ),
    (
        "ar",
        "لا يوجد أحد من فريقنا متاح الآن. رسالتك بانتظارنا، وسيرد عليك أحدنا هنا فور عودتنا.",
        "لا يوجد أحد من فريقنا متاح الآن. رسالتك بانتظارنا، وسيرد عليك أحدنا على {email} فور عودتنا.",
    ),
    (
        "he",
        "כרגע אין אף אחד מהצוות שלנו זמין. ההודעה שלך ממתינה, ומישהו יענה לך כאן ברגע שנחזור.",
        "כרגע אין אף אחד מהצוות שלנו זמין. ההודעה שלך ממתינה, ומישהו יענה לך בכתובת {email} ברגע שנחזור.",
    ),
    (
        "hu",
        "Jelenleg senki sem érhető el a csapatunkból. Az üzenete vár ránk, és amint visszaérünk, valaki itt válaszol.",
        "Jelenleg senki sem érhető el a csapatunkból. Az üzenete vár ránk, és amint visszaérünk, valaki a(z) {email} címre válaszol.",
    ),
    (
        "ro",
        "Momentan nu este disponibil nimeni din echipa noastră. Mesajul dumneavoastră așteaptă, iar cineva vă va răspunde aici imediat ce revenim.",
        "Momentan nu este disponibil nimeni din echipa noastră. Mesajul dumneavoastră așteaptă, iar cineva vă va răspunde la {email} imediat ce revenim.",
    ),
];
