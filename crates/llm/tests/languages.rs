//! Language detection over many languages, with their ISO 639-1 codes.

use sb_llm::language::{detect, name, supported_languages};

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
    assert!(supported_languages() >= 60, "{}", supported_languages());
}

#[test]
fn short_or_ambiguous_text_is_left_undecided() {
    assert_eq!(detect("ok"), None);
    assert_eq!(detect("4521"), None);
    assert_eq!(detect("   thanks   "), None);
    assert_eq!(detect("ok thanks a lot"), None, "too few letters for an unsure guess");
    let unsure = detect("I also need help with a broken lamp").unwrap();
    assert!(!unsure.reliable, "{unsure:?}: a guess like this must not override a known language");
    assert!(
        detect("Wo ist meine Bestellung? Ich warte schon seit zwei Wochen und niemand antwortet.")
            .unwrap()
            .reliable
    );
}

#[test]
fn codes_have_names_for_prompts() {
    assert_eq!(name("de"), "German");
    assert_eq!(name("pt-BR"), "Portuguese");
    assert_eq!(name("xx"), "xx");
}
