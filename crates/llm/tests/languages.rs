//! Language detection over many languages, with their ISO 639-1 codes.

use sb_llm::language::{detect, detect_with_prior, name, supported, supported_languages};

#[test]
fn detects_more_than_twenty_languages() {
    let samples = [
        ("en", "Where is my order? I have been waiting for two weeks now."),
        ("de", "Wo ist meine Bestellung? Ich warte schon seit zwei Wochen darauf."),
        ("fr", "Où est ma commande ? J'attends depuis deux semaines déjà."),
        ("es", "¿Dónde está mi pedido? Llevo dos semanas esperando."),
        ("it", "Dov'è il mio ordine? Sto aspettando da due settimane ormai."),
        ("pt", "Onde está a minha encomenda? Estou à espera há duas semanas."),
        ("nl", "Waar is mijn bestelling? Ik wacht er al twee weken op."),
        ("ru", "Где мой заказ? Я жду его уже две недели."),
        ("uk", "Де моє замовлення? Я чекаю на нього вже два тижні."),
        ("pl", "Gdzie jest moje zamówienie? Czekam na nie już od dwóch tygodni."),
        (
            "cs",
            "Kde je moje objednávka? Čekám na ni už dva týdny a nikdo mi neodpovídá na e-maily.",
        ),
        ("sv", "Var är min beställning? Jag har väntat i två veckor nu."),
        ("fi", "Missä tilaukseni on? Olen odottanut sitä jo kaksi viikkoa."),
        ("tr", "Siparişim nerede? İki haftadır bekliyorum."),
        ("el", "Πού είναι η παραγγελία μου; Περιμένω εδώ και δύο εβδομάδες."),
        ("ar", "أين طلبي؟ أنا أنتظر منذ أسبوعين."),
        ("he", "איפה ההזמנה שלי? אני מחכה כבר שבועיים."),
        ("hi", "मेरा ऑर्डर कहाँ है? मैं दो हफ्तों से इंतज़ार कर रहा हूँ।"),
        ("ja", "私の注文はどこですか？もう二週間も待っています。"),
        ("ko", "제 주문은 어디에 있나요? 벌써 2주째 기다리고 있어요."),
        ("zh", "我的订单在哪里？我已经等了两个星期了。"),
        ("th", "คำสั่งซื้อของฉันอยู่ที่ไหน ฉันรอมาสองสัปดาห์แล้ว"),
        ("vi", "Đơn hàng của tôi ở đâu? Tôi đã chờ hai tuần rồi."),
        ("hu", "Hol van a rendelésem? Már két hete várok rá."),
        ("ro", "Unde este comanda mea? Aștept de două săptămâni."),
    ];
    let mut wrong = Vec::new();
    for (expected, text) in samples {
        let found = detect(text).map(|d| d.code);
        if found != Some(expected) {
            wrong.push(format!("{expected}: {found:?} for {text}"));
        }
    }
    assert!(wrong.is_empty(), "misdetected:\n{}", wrong.join("\n"));
    assert!(samples.len() >= 20);
    // The n-gram model's 18 languages, Vietnamese, and the languages of the other scripts.
    assert!(supported_languages() >= 40, "{}", supported_languages());
    for (code, _) in samples {
        assert!(supported().contains(&code), "{code}");
    }
}

/// The examples: ordinary sentences that were taken for Danish, Welsh and Afrikaans.
#[test]
fn ordinary_sentences_are_not_taken_for_rare_languages() {
    for (expected, text) in [
        ("en", "Hello, I would like some information about my delivery please."),
        ("en", "Can I return a lamp I bought last month?"),
        ("en", "What are your opening hours on Saturday?"),
        ("fr", "Bonjour, je voudrais savoir quand ma livraison va arriver."),
    ] {
        let found = detect(text).expect(text);
        assert_eq!(found.code, expected, "{text}");
        assert!(found.reliable, "{text}: {found:?}");
        assert_eq!(detect_with_prior(text, Some(expected)).map(|d| d.code), Some(expected));
    }
}

#[test]
fn short_or_ambiguous_text_is_left_undecided() {
    assert_eq!(detect("ok"), None);
    assert_eq!(detect("4521"), None);
    assert_eq!(detect("max@example.com https://example.com/order/4521"), None);
    for unsure in ["   thanks   ", "ok thanks", "Samsung Galaxy S24"] {
        let found = detect(unsure);
        assert!(found.is_none_or(|d| !d.reliable), "{unsure}: {found:?}");
    }
    assert!(
        detect("Wo ist meine Bestellung? Ich warte schon seit zwei Wochen und niemand antwortet.")
            .unwrap()
            .reliable
    );
}

/// A conversation's language (the browser's, then what its messages established) holds against
/// short or ambiguous messages and gives way to a clear message in another language.
#[test]
fn a_prior_changes_only_on_a_confident_detection() {
    let with_de = |text: &str| detect_with_prior(text, Some("de")).map(|d| (d.code, d.reliable));
    for short in [
        "ok thanks",
        "ok",
        "Danke!",
        "iPhone 15 Pro Max",
        "Samsung Galaxy S24",
        "Thermomix TM6",
        "Super, merci",
    ] {
        assert_eq!(with_de(short).map(|d| d.0), Some("de"), "{short}");
    }
    assert_eq!(with_de("Ich habe noch eine Frage zu meiner Rechnung."), Some(("de", true)));
    assert_eq!(
        with_de("Sorry, I don't speak German. Can you help me with my order in English?"),
        Some(("en", true))
    );
    assert_eq!(with_de("Где мой заказ? Я жду уже две недели."), Some(("ru", true)));
    assert_eq!(with_de("Πού είναι η παραγγελία μου;"), Some(("el", true)));
    // The browser's tag, whatever its form.
    assert_eq!(detect_with_prior("ok", Some("de-AT")).map(|d| d.code), Some("de"));
    assert_eq!(detect_with_prior("Hei, er dere der?", Some("no")).map(|d| d.code), Some("nb"));
    // A language the detector does not know is kept against Latin-script guesses.
    assert_eq!(
        detect_with_prior("Pozdrav, gdje je moja narudžba? Čekam već dva tjedna.", Some("hr"))
            .map(|d| d.code),
        Some("hr")
    );
    assert_eq!(detect_with_prior("서울로 배송되나요?", Some("hr")).map(|d| d.code), Some("ko"));
    assert_eq!(
        detect_with_prior("Toi muon doi san pham nay, lam on giup toi", Some("vi")).map(|d| d.code),
        Some("vi")
    );
    assert_eq!(
        detect_with_prior("Tôi muốn đổi sản phẩm này, làm ơn giúp tôi", Some("en")).map(|d| d.code),
        Some("vi")
    );
    // No prior: the best guess.
    assert_eq!(detect_with_prior("Wo ist mein Paket?", None).map(|d| d.code), Some("de"));
}

#[test]
fn codes_have_names_for_prompts() {
    assert_eq!(name("de"), "German");
    assert_eq!(name("pt-BR"), "Portuguese");
    assert_eq!(name("xx"), "xx");
    assert_eq!(name("nb"), "Norwegian");
    for code in supported() {
        assert_ne!(name(code), code, "{code} has no name");
    }
}
