//! A trade paid through PortOne (SPEC §13: PortOne is a `PaymentGateway` routed like any PG), card,
//! end to end over HTTP with the PortOne simulator the server started: the hosted page sends the
//! buyer to PortOne's pay page, PortOne's webhook and the browser's return settle one payment, a
//! forged amount is refused, and the refund cancels at PortOne once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{test_partners_gateway, trade_id_in, unifipay_gateway, App};
use escrow_portone::simulator::{Simulator, SimulatorHandle};
use escrow_server::config::{GatewayKind, GatewaySettings, PeerMode};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A live PortOne gateway at `sim` (remote, as a deployment configures it), for cards.
fn portone_gateway(sim: &SimulatorHandle) -> GatewaySettings {
    GatewaySettings {
        name: "portone".into(),
        kind: GatewayKind::Portone,
        mode: PeerMode::Remote,
        base_url: Some(sim.base_url.clone()),
        pay_url: Some(format!("{}/pay", sim.base_url)),
        request_timeout_ms: 2_000,
        methods: Some(vec![escrow_domain::contract::PaymentMethod::Card]),
        ..GatewaySettings::sandbox()
    }
}

struct World {
    app: App,
    sim: SimulatorHandle,
}

/// The test world with PortOne connected for cards, its REST key added as the live merchant, and
/// PortOne's webhook pointed at the service.
async fn world() -> World {
    let sim = Simulator::start(
        "po-key",
        "po-secret",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        None,
    )
    .unwrap();
    let gateway = portone_gateway(&sim);
    let app = App::spawn_with_gateways(|pg| {
        vec![unifipay_gateway(pg), test_partners_gateway(pg), gateway]
    })
    .await;
    sim.set_webhook_url(&format!("{}/pg/portone/webhook", app.base));
    let r = app
        .admin(Method::POST, "/admin/v1/merchants")
        .json(
            &json!({ "gateway": "portone", "mode": "LIVE", "mid": "po-key",
                       "keys": { "impSecret": "po-secret" } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    app.set_route("portone", "CARD", true, true).await;
    app.set_route("unifipay", "CARD", true, false).await;
    World { app, sim }
}

/// As the buyer's browser: the pay button, PortOne's page (`decision`), and back to the service;
/// where the service finally sends the browser.
async fn pay_at_portone(w: &World, checkout: &Value, decision: &str) -> String {
    let app = &w.app;
    let at_portone = app.press_pay(checkout).await;
    let url = reqwest::Url::parse(&at_portone).unwrap();
    assert!(at_portone.starts_with(&w.sim.base_url), "{at_portone}");
    let page = app.http.get(url.clone()).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("PortOne 결제"));
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("decision".into(), decision.into()));
    let r = app
        .http
        .post(format!("{}/pay/decide", w.sim.base_url))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        back.starts_with(&format!("{}/checkout/", app.base)) && back.contains("imp_uid="),
        "{back}"
    );
    let r = app.http.get(&back).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_trade_paid_at_portone_is_settled_once_and_refunded_once() {
    let w = world().await;
    let (app, sim) = (&w.app, &w.sim);
    let (buyer, seller) = (app.member("po-buyer").await, app.member("po-seller").await);
    let product = app.product(&seller, 50_000, &["CARD"]).await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let back = pay_at_portone(&w, &checkout, "approve").await;
    assert!(back.contains("result=success"), "{back}");
    let trade_id = trade_id_in(&back);
    // The webhook reached the service before the browser came back: one trade, one capture.
    assert_eq!(sim.state().webhooks.len(), 1);
    assert_eq!(sim.state().webhooks[0].1, 200);
    assert_eq!(app.queued_callbacks("payment.succeeded").await.len(), 1);
    assert_eq!(sim.send_webhook(&sim.state().webhooks[0].0).await, 200);
    assert_eq!(app.queued_callbacks("payment.succeeded").await.len(), 1);
    let t = app.admin_trade(&trade_id).await;
    assert_eq!(t["status"]["code"], 31, "{t}");
    let amount = checkout["amounts"]["paymentAmount"].as_i64().unwrap();

    // The seller cancels the sale before shipment: the refund cancels the whole payment at
    // PortOne, once.
    app.act(
        &seller,
        &trade_id,
        "sale-cancel",
        json!({ "reasonCode": 32 }),
    )
    .await;
    let report = app.run_jobs().await;
    assert_eq!(report.refunds_done, 1, "{report:?}");
    let cancelled = sim.state().cancelled;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].1, amount);
    let again = app.run_jobs().await;
    assert_eq!(again.refunds_done, 0);
    assert_eq!(sim.state().cancelled.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_declined_portone_payment_opens_no_trade() {
    let w = world().await;
    let (app, sim) = (&w.app, &w.sim);
    let (buyer, seller) = (
        app.member("po-buyer2").await,
        app.member("po-seller2").await,
    );
    let product = app.product(&seller, 30_000, &["CARD"]).await;
    sim.set_behavior(escrow_portone::simulator::Behavior {
        other_amount: true,
        ..Default::default()
    });
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let back = pay_at_portone(&w, &checkout, "approve").await;
    assert!(
        back.contains("result=fail") && back.contains("PG_AMOUNT_MISMATCH"),
        "{back}"
    );
    sim.set_behavior(escrow_portone::simulator::Behavior {
        decline: true,
        ..Default::default()
    });
    let product = app.product(&seller, 30_000, &["CARD"]).await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let back = pay_at_portone(&w, &checkout, "approve").await;
    assert!(!back.contains("result=success"), "{back}");
    let r = app
        .member_call(&buyer, Method::GET, "/api/v1/trades")
        .send()
        .await
        .unwrap();
    let trades: Value = r.json().await.unwrap();
    assert_eq!(
        trades["items"].as_array().map_or(0, Vec::len),
        0,
        "{trades}"
    );
}
