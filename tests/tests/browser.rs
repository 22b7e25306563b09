//! The hosted pages in a real headless Chromium (Debian's `chromium` driven through `chromedriver`):
//! a buyer signs up on the signup page, pays on the checkout page, approves at the PG simulator and
//! comes back; a virtual account's return page shows the account and the deadline. Every page is
//! saved as a PNG at phone and desktop widths under `target/screenshots/`.
//!
//! `.ci/run` installs Chromium and sets `ESCROW_BROWSER_TEST=required`; elsewhere the test says why it
//! did not run when the browser is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration as StdDuration;

use escrow_e2e::{create_partner_with_origins, App, Member, ORIGIN};
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::Method;
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver on a free port and opens a headless Chromium session; `None` (with the
/// reason printed) when the browser is not installed and the test is not required.
async fn browser() -> Option<(Driver, Client)> {
    let installed =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if !installed {
        let required = std::env::var("ESCROW_BROWSER_TEST").is_ok_and(|v| v == "required");
        assert!(
            !required,
            "the browser test is required but {CHROMIUM} or {CHROMEDRIVER} is missing \
             (apt-get install chromium chromium-driver fonts-noto-cjk)"
        );
        eprintln!(
            "browser test NOT RUN: install chromium and chromium-driver (as .ci/run does) to run it"
        );
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--lang=ko-KR", "--hide-scrollbars", "--no-first-run"],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    // chromedriver needs a moment to listen: try to connect for up to 20 seconds.
    let mut last = None;
    for _ in 0..200 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer: {last:?}");
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves the current page at phone and desktop widths (`{name}-phone.png`, `{name}-desktop.png`),
/// leaving the window at phone width.
async fn shoot(client: &Client, name: &str) {
    for (label, (w, h)) in [("desktop", DESKTOP), ("phone", PHONE)] {
        client.set_window_size(w, h).await.unwrap();
        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
        std::fs::write(screenshot_dir().join(format!("{name}-{label}.png")), png).unwrap();
    }
}

/// Waits (up to 20 s) for an element of the page the browser is loading.
async fn wait_for(client: &Client, css: &str) {
    client
        .wait()
        .at_most(StdDuration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
}

/// Waits (up to 20 s) until the browser is at a URL starting with `prefix`; answers it.
async fn wait_for_url(client: &Client, prefix: &str) -> String {
    for _ in 0..400 {
        let url = client.current_url().await.unwrap().to_string();
        if url.starts_with(prefix) {
            return url;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!(
        "the browser never reached {prefix}: {}",
        client.current_url().await.unwrap()
    );
}

async fn text_of(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn fill(client: &Client, id: &str, value: &str) {
    // Set through the DOM: a date input's keyboard format depends on the browser's locale.
    client
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![json!(id), json!(value)],
        )
        .await
        .unwrap();
}

async fn token_for(app: &App, keys: &escrow_e2e::PartnerKeys, session: &str, user: &str) -> Member {
    let result: Value = app
        .signed_as(
            keys,
            Method::GET,
            &format!("/api/v1/members/signup/{session}"),
            None,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(result["status"], "COMPLETED", "{result}");
    let key = result["memberKey"].as_str().unwrap();
    Member {
        user: user.into(),
        id: result["memberId"].as_str().unwrap().into(),
        token: app.token_for(keys, user, key).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_signs_up_and_pays_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let app = App::spawn().await;
    // The partner's own site: any local page the browser can reach (here the webhook receiver's
    // host, which answers 404 to GET, enough to see where the browser was sent).
    let site = app.receiver.url.trim_end_matches("/hooks").to_owned();
    let keys = create_partner_with_origins(&app.db, "browser-market", None, &[ORIGIN, &site]).await;

    // Signup: terms with their text, agree to all, an error next to its field, then success.
    let opened: Value = app
        .signed_as(
            &keys,
            Method::POST,
            "/api/v1/members/signup",
            Some(
                &json!({ "partnerUserId": "browser-buyer", "returnUrl": format!("{site}/joined") }),
            ),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = opened["signupSessionId"].as_str().unwrap();
    client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    client
        .goto(opened["signupUrl"].as_str().unwrap())
        .await
        .unwrap();
    let text = text_of(&client).await;
    assert!(
        text.contains("안전거래 회원가입") && text.contains("전체 동의"),
        "{text}"
    );
    assert!(text.contains("전자금융거래 이용약관 전문 보기"), "{text}");
    shoot(&client, "1-signup").await;
    click(&client, "input[name=agree_all]").await;
    fill(&client, "name", "김구매").await;
    fill(&client, "birthDate", "1990-05-05").await;
    fill(&client, "phone", "0101234").await;
    click(&client, "button[type=submit]").await;
    wait_for(&client, "#phone-error").await;
    let error = client.find(Locator::Id("phone-error")).await.unwrap();
    assert!(error.text().await.unwrap().contains("휴대폰 번호"));
    shoot(&client, "2-signup-error").await;
    fill(&client, "phone", "01055554444").await;
    click(&client, "button[type=submit]").await;
    wait_for_url(
        &client,
        &format!("{site}/joined?signupSessionId={session}&result=success"),
    )
    .await;
    let buyer = token_for(&app, &keys, session, "browser-buyer").await;

    // Checkout: what is bought, from whom, where to, how and how much; no seller fees.
    let seller = app.member_of(&keys, "browser-seller").await;
    let product = app
        .product(&seller, 48_000, &["CARD", "VIRTUAL_ACCOUNT"])
        .await;
    let checkout = |method: &'static str| {
        let app = &app;
        let buyer = &buyer;
        let product = &product;
        let site = &site;
        async move {
            let r = app
                .member_call(buyer, Method::POST, "/api/v1/checkouts")
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                .json(&json!({
                    "productId": product, "paymentMethod": method, "tradeType": "GENERAL",
                    "shippingAddress": { "recipient": "김구매", "phone": "01055554444", "postcode": "04524",
                                         "address": "서울시 중구 세종대로 110", "addressDetail": "3층" },
                    "returnUrl": format!("{site}/paid"),
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::CREATED);
            r.json::<Value>().await.unwrap()
        }
    };
    let card = checkout("CARD").await;
    client
        .goto(card["checkoutUrl"].as_str().unwrap())
        .await
        .unwrap();
    let text = text_of(&client).await;
    for expected in [
        "중고 자전거",
        "신용카드",
        "김구매",
        "010-****-4444",
        "서울시 중구 세종대로 110",
        "51,000원",
        "구매안전서비스",
        "분 남음",
        "판매자",
    ] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    for hidden in ["CARD", "정산", "수수료"] {
        assert!(
            !text.contains(hidden),
            "{hidden} shown to the buyer: {text}"
        );
    }
    let payout = card["amounts"]["sellerPayout"].as_i64().unwrap();
    assert!(
        !text.contains(&payout.to_string()),
        "the seller's payout is shown"
    );
    shoot(&client, "3-checkout").await;

    // The PG's page, its approve button, and back to the partner with the trade.
    click(&client, "#pay").await;
    wait_for(&client, "#approve").await;
    shoot(&client, "4-pg").await;
    click(&client, "#approve").await;
    let paid = wait_for_url(&client, &format!("{site}/paid?checkoutId=")).await;
    assert!(paid.contains("result=success"), "{paid}");

    // A virtual account: after the PG, the account to pay and the deadline, then on to the partner.
    app.clock.advance(time::Duration::minutes(1));
    let seller2 = app.member_of(&keys, "browser-seller-2").await;
    let product2 = app.product(&seller2, 30_000, &["VIRTUAL_ACCOUNT"]).await;
    let r = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&json!({
            "productId": product2, "paymentMethod": "VIRTUAL_ACCOUNT", "tradeType": "GENERAL",
            "shippingAddress": { "recipient": "김구매", "phone": "01055554444", "postcode": "04524",
                                 "address": "서울시 중구 세종대로 110", "addressDetail": "3층" },
            "returnUrl": format!("{site}/paid"),
        }))
        .send()
        .await
        .unwrap();
    let va: Value = r.json().await.unwrap();
    client
        .goto(va["checkoutUrl"].as_str().unwrap())
        .await
        .unwrap();
    assert!(text_of(&client).await.contains("무통장입금"));
    shoot(&client, "5-checkout-virtual-account").await;
    click(&client, "#pay").await;
    wait_for(&client, "#approve").await;
    click(&client, "#approve").await;
    wait_for(&client, "#continue").await;
    let text = text_of(&client).await;
    assert!(
        text.contains("입금 계좌 안내") && text.contains("입금 기한") && text.contains("33,000원"),
        "{text}"
    );
    shoot(&client, "6-return-virtual-account").await;
    click(&client, "#continue").await;
    let back = wait_for_url(&client, &format!("{site}/paid?checkoutId=")).await;
    assert!(back.contains("result=success"), "{back}");

    // A link that is no longer valid leads back to the partner.
    client
        .goto(&format!(
            "{}/signup/{session}?sig={}",
            app.base,
            opened["signupUrl"]
                .as_str()
                .unwrap()
                .split("sig=")
                .nth(1)
                .unwrap()
        ))
        .await
        .unwrap();
    let text = text_of(&client).await;
    assert!(text.contains("쇼핑몰로 돌아가기"), "{text}");
    shoot(&client, "7-signup-closed").await;
    client.close().await.unwrap();
    let saved = std::fs::read_dir(screenshot_dir()).unwrap().count();
    assert!(saved >= 14, "{saved} screenshots");
}

/// A card buyer opens the interest-free installment popup on the checkout page, pays in KG Inicis'
/// window (the simulator) and comes back to the partner; the Inicis form went through the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_buyer_sees_interest_free_months_and_pays_at_inicis_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let sim = escrow_e2e::inicis::inicis_simulator();
    let app = escrow_e2e::inicis::world_with_inicis(&sim).await;
    let site = app.receiver.url.trim_end_matches("/hooks").to_owned();
    let keys = create_partner_with_origins(&app.db, "inicis-market", None, &[ORIGIN, &site]).await;
    app.add_inicis_merchant().await;
    app.route_to_inicis("CARD").await;
    let r = app
        .admin(Method::POST, "/admin/v1/installment-notices")
        .json(&json!({
            "gateway": "inicis", "cardCode": "11", "months": [2, 3, 6], "minAmount": 50000,
            "validFrom": "2020-01-01", "validTo": "2099-12-31", "fundedBy": "MERCHANT",
            "exclusions": "법인카드, 체크카드 제외",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let buyer = app.member_of(&keys, "inicis-buyer").await;
    let seller = app.member_of(&keys, "inicis-seller").await;
    let product = app.product(&seller, 50_000, &["CARD"]).await;
    let checkout: Value = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", "browser-inicis-1")
        .json(&json!({
            "productId": product, "paymentMethod": "CARD", "tradeType": "GENERAL",
            "shippingAddress": { "recipient": "김구매", "phone": "01012345678", "postcode": "04524",
                                 "address": "서울시 중구 세종대로 110", "addressDetail": "1층" },
            "returnUrl": format!("{site}/paid"),
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    client
        .goto(checkout["checkoutUrl"].as_str().unwrap())
        .await
        .unwrap();
    let text = text_of(&client).await;
    assert!(text.contains("무이자 할부 안내"), "{text}");
    assert!(!text.contains("6개월"), "the popup opens on demand: {text}");
    click(&client, "#installments summary").await;
    let text = text_of(&client).await;
    assert!(
        text.contains("BC카드")
            && text.contains("2개월, 3개월, 6개월")
            && text.contains("법인카드"),
        "{text}"
    );
    client
        .execute(
            "document.getElementById('installments').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    shoot(&client, "8-checkout-installments").await;
    click(&client, "#pay").await;
    // Our page with Inicis' form, then Inicis' own window.
    wait_for(&client, "form[action$='/payMain/pay']").await;
    click(&client, "#pay").await;
    wait_for(&client, "#approve").await;
    assert!(text_of(&client).await.contains("53000"));
    shoot(&client, "9-inicis-window").await;
    click(&client, "#approve button").await;
    let back = wait_for_url(&client, &format!("{site}/paid?checkoutId=")).await;
    assert!(back.contains("result=success"), "{back}");
    assert_eq!(sim.state().approved.len(), 1);
    client.close().await.unwrap();
}
