//! The test world's KG Inicis: a simulator reached as a remote gateway, its merchant and routes set
//! by the operator over the admin API, and the buyer's browser walking through its pages.

use escrow_inicis::simulator::{SimMerchant, Simulator, SimulatorHandle};
use escrow_server::config::{GatewayKind, GatewaySettings, PeerMode};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::net::TcpListener;

use crate::App;

/// The INIAPI key of the test world's Inicis merchant.
pub const INIAPI_KEY: &str = "testiniapikey016";

/// An Inicis simulator serving the public test MID.
pub fn inicis_simulator() -> SimulatorHandle {
    Simulator::start(
        vec![SimMerchant {
            mid: escrow_inicis::TEST_MID.into(),
            sign_key: escrow_inicis::TEST_SIGN_KEY.into(),
            iniapi_key: INIAPI_KEY.into(),
            iniapi_iv: "testiniapiiv0016".into(),
        }],
        TcpListener::bind("127.0.0.1:0").unwrap(),
        None,
    )
    .unwrap()
}

/// The gateway `inicis`, remote, at `sim`.
pub fn inicis_gateway(sim: &SimulatorHandle) -> GatewaySettings {
    let mut g = GatewaySettings::sandbox_inicis();
    g.kind = GatewayKind::Inicis;
    g.mode = PeerMode::Remote;
    g.form_action = Some(sim.form_action());
    g.auth_url_template = Some(sim.auth_url_template());
    g.iniapi_url = Some(sim.base_url.clone());
    g.request_timeout_ms = 1_000;
    g
}

/// A world with Unifi Pay (live and test) and Inicis (`sim`), whose deposit notices reach the
/// service.
pub async fn world_with_inicis(sim: &SimulatorHandle) -> App {
    let inicis = inicis_gateway(sim);
    let app = App::spawn_with_gateways(|url| {
        vec![
            crate::unifipay_gateway(url),
            crate::test_partners_gateway(url),
            inicis,
        ]
    })
    .await;
    sim.set_notice_url(&format!("{}/pg/inicis/callback", app.base));
    app
}

impl App {
    /// The operator adds the live Inicis merchant (the public test MID); returns it.
    pub async fn add_inicis_merchant(&self) -> Value {
        let r = self
            .admin(Method::POST, "/admin/v1/merchants")
            .json(&json!({
                "gateway": "inicis",
                "mode": "LIVE",
                "mid": escrow_inicis::TEST_MID,
                "keys": {
                    "signKey": escrow_inicis::TEST_SIGN_KEY,
                    "iniapiKey": INIAPI_KEY,
                    "iniapiIv": "testiniapiiv0016",
                },
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.unwrap()
    }

    /// The operator sets the (gateway, method) connection.
    pub async fn set_route(&self, gateway: &str, method: &str, connected: bool, enabled: bool) {
        let r = self
            .admin(
                Method::PUT,
                &format!("/admin/v1/payment-routes/{gateway}/{method}"),
            )
            .json(&json!({ "connected": connected, "enabled": enabled, "priority": 0 }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    /// The operator moves `method` from Unifi Pay to Inicis.
    pub async fn route_to_inicis(&self, method: &str) {
        self.set_route("inicis", method, true, true).await;
        self.set_route("unifipay", method, true, false).await;
    }

    /// As the buyer's browser through Inicis: the pay button, Inicis' page (`decision`: `approve`
    /// or `decline`) and the auth result posted back to the service. Returns the service's answer
    /// to that post.
    pub async fn pay_at_inicis(&self, checkout: &Value, decision: &str) -> reqwest::Response {
        let url = checkout["checkoutUrl"].as_str().unwrap();
        let id = checkout["checkoutId"].as_str().unwrap();
        let sig = url.split("sig=").nth(1).unwrap();
        let page = self
            .http
            .post(format!("{}/checkout/{id}/pay", self.base))
            .form(&[("sig", sig)])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let (action, fields) = form_in(&page.text().await.unwrap());
        let (back, fields) = escrow_inicis::simulator::buyer_decides(&action, &fields, decision)
            .await
            .unwrap();
        let back = back.as_str();
        assert_eq!(back, format!("{}/checkout/{id}/return", self.base));
        self.http.post(back).form(&fields).send().await.unwrap()
    }
}

/// The first form of `html`: its action and hidden fields (entities decoded).
pub fn form_in(html: &str) -> (String, Vec<(String, String)>) {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| {
        tag.split(&format!("{name}=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(unescape)
            .unwrap_or_default()
    };
    let form = html.split("<form").nth(1).unwrap();
    let action = attr(form.split('>').next().unwrap(), "action");
    let fields = form
        .split("<input")
        .skip(1)
        .map(|tag| {
            let tag = tag.split('>').next().unwrap();
            (attr(tag, "name"), attr(tag, "value"))
        })
        .collect();
    (action, fields)
}
