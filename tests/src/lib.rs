//! A test world: the real server on a random port over a fresh database, the Unifi Pay simulator, a
//! partner with known credentials, and helpers that act as the partner, the browser and the members.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use escrow_domain::ids::PartnerId;
use escrow_domain::people::{Partner, PartnerSecrets, PartnerStatus, Secret};
use escrow_domain::ports::{AdminRepository, Clock, PartnerRepository};
use escrow_http::TokenKey;
use escrow_postgres::testing::{test_database, TestDatabase};
use escrow_postgres::{Directory, PgAdmin};
use escrow_server::config::GatewaySettings;
use escrow_server::{start, RunningServer, ServerParts};
use escrow_signature::{request_signature, RequestParts};
use escrow_unifipay::simulator::{Behavior, Simulator, SimulatorConfig, SimulatorHandle};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

pub mod inicis;

pub const ORIGIN: &str = "https://market.example";
pub const ADMIN_KEY: &str = "adm_test_key_0123456789abcdef";
pub const WEBHOOK_SECRET: &str = "whsec_test_0123456789abcdef";

/// The master key of the test servers (base64 of 32 bytes of 0x2a).
pub const MASTER_KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// The sealer of the test servers.
pub fn sealer() -> escrow_postgres::SecretSealer {
    escrow_postgres::SecretSealer::from_base64(&[MASTER_KEY]).unwrap()
}

/// A clock the test moves.
#[derive(Clone, Default)]
pub struct TestClock {
    offset: Arc<Mutex<Duration>>,
}

impl TestClock {
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        *self.offset.lock().unwrap() = at - OffsetDateTime::now_utc();
    }
}

/// The partner's webhook: records every callback (body and signature header); can be taken down.
#[derive(Clone, Default)]
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<(Value, String)>>>,
    pub down: Arc<std::sync::atomic::AtomicBool>,
    /// Answer only after this many ms (after recording): longer than the sender's timeout makes it
    /// send again.
    pub slow_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Receiver {
    pub fn start() -> Receiver {
        use actix_web::{web, App as ActixApp, HttpRequest, HttpResponse, HttpServer};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut r = Receiver {
            url: format!("http://{}/hooks", listener.local_addr().unwrap()),
            ..Receiver::default()
        };
        let state = r.clone();
        let server = HttpServer::new(move || {
            let state = state.clone();
            ActixApp::new().route(
                "/hooks",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let state = state.clone();
                    async move {
                        if state.down.load(std::sync::atomic::Ordering::SeqCst) {
                            return HttpResponse::ServiceUnavailable().finish();
                        }
                        let sig = req
                            .headers()
                            .get("X-Escrow-Signature")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        state.received.lock().unwrap().push((json, sig));
                        let slow = state.slow_ms.load(std::sync::atomic::Ordering::SeqCst);
                        if slow > 0 {
                            tokio::time::sleep(StdDuration::from_millis(slow)).await;
                        }
                        HttpResponse::Ok().finish()
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        r.url = r.url.clone();
        r
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(b, _)| b.clone())
            .collect()
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        escrow_domain::ports::to_micros(OffsetDateTime::now_utc() + *self.offset.lock().unwrap())
    }
}

/// A partner's credentials.
#[derive(Clone)]
pub struct PartnerKeys {
    pub id: PartnerId,
    pub api_key: String,
    pub secret: String,
}

pub struct App {
    pub alimtalk: escrow_alimtalk::simulator::AlimTalkSimulator,
    /// The bank-account holder lookup's simulator (MID `ACCT_MID`, key `acct-key`).
    pub accounts: escrow_accountcheck::simulator::AccountSimulator,
    /// The PortOne simulator (key `imp-key`, secret `imp-secret`), posting webhooks to the server.
    pub portone: escrow_portone::simulator::SimulatorHandle,
    pub receiver: Receiver,
    pub base: String,
    pub db: TestDatabase,
    pub sim: SimulatorHandle,
    pub server: RunningServer,
    pub clock: TestClock,
    pub partner: PartnerKeys,
    pub http: reqwest::Client,
    /// The gateways the server was configured with.
    pub gateways: Vec<GatewaySettings>,
    /// Identities are verified by PortOne's certifications (else by the sandbox verifier).
    pub portone_identity: bool,
}

/// The default gateway of the test world: the Unifi Pay simulator at `url`, for every method.
pub fn unifipay_gateway(url: &str) -> GatewaySettings {
    let mut g = GatewaySettings::unifipay("unifipay", url, "app", "sim-key", "sim-secret", "store");
    g.currency = "KRW".into();
    g.request_timeout_ms = 1_000;
    g
}

/// The test partners' gateway of the test world: the same Unifi Pay simulator at `url`, reached
/// as a remote simulator that only test partners are routed to (SPEC §16).
pub fn test_partners_gateway(url: &str) -> GatewaySettings {
    let mut g = unifipay_gateway(url);
    g.name = "unifipay-test".into();
    g.test_partners = true;
    g
}

/// A distinct mobile number per user, so messages can be told apart by recipient.
/// A test member's payout account number: 13 digits from the user name, never ending in `0000` (the
/// simulator's "no such account").
pub fn account_number_of(user: &str) -> String {
    let n = user
        .bytes()
        .fold(11u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)))
        % 100_000_000;
    format!("3333{n:08}1")
}

pub fn phone_of(user: &str) -> String {
    let n = user
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 100_000_000;
    format!("010{n:08}")
}

/// A member with a token.
#[derive(Clone, Debug)]
pub struct Member {
    pub user: String,
    pub id: String,
    pub token: String,
}

pub async fn create_partner(db: &TestDatabase, code: &str) -> PartnerKeys {
    create_partner_with_webhook(db, code, None).await
}

pub async fn create_partner_with_webhook(
    db: &TestDatabase,
    code: &str,
    webhook: Option<String>,
) -> PartnerKeys {
    create_partner_with_origins(db, code, webhook, &[ORIGIN]).await
}

/// A partner whose return URLs may go to `origins` (besides nothing else).
pub async fn create_partner_with_origins(
    db: &TestDatabase,
    code: &str,
    webhook: Option<String>,
    origins: &[&str],
) -> PartnerKeys {
    let directory = Directory::new(db.db.pool.clone(), sealer());
    let keys = PartnerKeys {
        id: PartnerId::random(),
        api_key: format!("pk_{code}_{}", uuid::Uuid::new_v4().simple()),
        secret: format!("sk_{code}_0123456789abcdef0123456789"),
    };
    let partner = Partner {
        id: keys.id,
        code: code.into(),
        name: code.into(),
        api_key_id: keys.api_key.clone(),
        webhook_url: webhook,
        allowed_redirect_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        status: PartnerStatus::Active,
        mode: escrow_domain::people::PartnerMode::Live,
        created_at: OffsetDateTime::now_utc(),
    };
    let secrets = PartnerSecrets {
        api_secret: Secret::new(keys.secret.clone()),
        webhook_secret: Some(Secret::new(WEBHOOK_SECRET)),
        webhook_secret_previous: None,
    };
    PartnerRepository::create(&directory, &partner, &secrets)
        .await
        .unwrap();
    keys
}

impl App {
    pub async fn spawn() -> App {
        Self::spawn_with_gateways(|sim| vec![unifipay_gateway(sim), test_partners_gateway(sim)])
            .await
    }

    /// A world whose server is configured with the gateways `gateways` returns, given the URL of
    /// the world's own Unifi Pay simulator.
    pub async fn spawn_with_gateways(gateways: impl FnOnce(&str) -> Vec<GatewaySettings>) -> App {
        Self::spawn_world(gateways, false).await
    }

    /// The default world, but the hosted signup verifies identities through PortOne's
    /// certifications (the world's PortOne simulator).
    pub async fn spawn_with_portone_identity() -> App {
        Self::spawn_world(
            |sim| vec![unifipay_gateway(sim), test_partners_gateway(sim)],
            true,
        )
        .await
    }

    async fn spawn_world(
        gateways: impl FnOnce(&str) -> Vec<GatewaySettings>,
        portone_identity: bool,
    ) -> App {
        let db = test_database().await;
        let sim = Simulator::start(
            SimulatorConfig {
                app_id: "app".into(),
                api_key: "sim-key".into(),
                app_secret: "sim-secret".into(),
                store_id: "store".into(),
                currency: "KRW".into(),
            },
            TcpListener::bind("127.0.0.1:0").unwrap(),
        )
        .unwrap();
        let receiver = Receiver::start();
        let alimtalk = escrow_alimtalk::simulator::AlimTalkSimulator::start(
            TcpListener::bind("127.0.0.1:0").unwrap(),
            "alim-secret",
        )
        .unwrap();
        let accounts = escrow_accountcheck::simulator::AccountSimulator::start(
            TcpListener::bind("127.0.0.1:0").unwrap(),
            "ACCT_MID",
            "acct-key",
        )
        .unwrap();
        let portone = escrow_portone::simulator::Simulator::start(
            "imp-key",
            "imp-secret",
            TcpListener::bind("127.0.0.1:0").unwrap(),
            None,
        )
        .unwrap();
        let partner =
            create_partner_with_webhook(&db, "market-a", Some(receiver.url.clone())).await;
        PgAdmin::new(db.db.pool.clone(), sealer())
            .create_admin_key("tester", &escrow_http::admin_key_hash(ADMIN_KEY))
            .await
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let clock = TestClock::default();
        let gateways = gateways(&sim.base_url);
        let server = Self::server(
            &db,
            &gateways,
            [&alimtalk.base_url, &accounts.base_url, &portone.base_url],
            &clock,
            listener,
            portone_identity,
        )
        .await;
        portone.set_webhook_url(&format!("{base}/pg/portone/webhook"));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(StdDuration::from_secs(20))
            .build()
            .unwrap();
        App {
            alimtalk,
            accounts,
            portone,
            receiver,
            base,
            db,
            sim,
            server,
            clock,
            partner,
            http,
            gateways,
            portone_identity,
        }
    }

    /// Another server instance on the same database (for multi-instance tests).
    pub async fn second_instance(&self) -> RunningServer {
        Self::server(
            &self.db,
            &self.gateways,
            [
                &self.alimtalk.base_url,
                &self.accounts.base_url,
                &self.portone.base_url,
            ],
            &self.clock,
            TcpListener::bind("127.0.0.1:0").unwrap(),
            self.portone_identity,
        )
        .await
    }

    async fn server(
        db: &TestDatabase,
        gateways: &[GatewaySettings],
        [alimtalk, accounts, portone]: [&str; 3],
        clock: &TestClock,
        listener: TcpListener,
        portone_identity: bool,
    ) -> RunningServer {
        let base = format!("http://{}", listener.local_addr().unwrap());
        let alimtalk = escrow_alimtalk::AlimTalkClient::new(escrow_alimtalk::AlimTalkConfig {
            base_url: alimtalk.into(),
            app_key: "app-key".into(),
            secret_key: "alim-secret".to_owned().into(),
            sender_key: "sender".into(),
            fallback: None,
            timeout: StdDuration::from_secs(2),
        })
        .unwrap();
        let alimtalk: Arc<dyn escrow_domain::delivery::AlimTalkSender> = Arc::new(alimtalk);
        let portone_client = Arc::new(
            escrow_portone::PortOneClient::new(escrow_portone::PortOneConfig {
                api_url: portone.into(),
                imp_key: "imp-key".into(),
                imp_secret: "imp-secret".into(),
                timeout: StdDuration::from_secs(2),
            })
            .unwrap(),
        );
        start(
            &db.db,
            ServerParts {
                listener,
                public_base_url: base.clone(),
                gateways: gateways.to_vec(),
                token_keys: vec![TokenKey {
                    kid: "t1".into(),
                    secret: b"token-secret-0123456789abcdef0123".to_vec(),
                }],
                link_key: b"link-key-0123456789abcdef0123456789".to_vec(),
                sealer: sealer(),
                clock: Arc::new(clock.clone()),
                workers: 2,
                job_interval: None,
                test_alimtalk: Some(alimtalk.clone()),
                alimtalk,
                callbacks: Arc::new(
                    escrow_callbacks::HttpCallbackSender::new(StdDuration::from_secs(2)).unwrap(),
                ),
                template_overrides: Default::default(),
                account_verifier: Arc::new(
                    escrow_accountcheck::InicisAccountVerifier::new(
                        accounts,
                        "ACCT_MID",
                        "acct-key".to_owned().into(),
                    )
                    .unwrap(),
                ),
                identity_verifier: if portone_identity {
                    Arc::new(escrow_portone::PortOneIdentityVerifier::new(
                        portone_client.clone(),
                    ))
                } else {
                    Arc::new(escrow_domain::signup::SandboxIdentityVerifier)
                },
                fee_payments: portone_client,
            },
        )
        .await
        .unwrap()
    }

    /// A partner-signed request.
    pub fn signed_as(
        &self,
        keys: &PartnerKeys,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        self.signed_raw(keys, method, path, body, self.clock.now())
    }

    pub fn signed(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::RequestBuilder {
        self.signed_as(&self.partner.clone(), method, path, body)
    }

    pub fn signed_raw(
        &self,
        keys: &PartnerKeys,
        method: Method,
        path: &str,
        body: Vec<u8>,
        at: OffsetDateTime,
    ) -> reqwest::RequestBuilder {
        let ts = (at.unix_timestamp_nanos() / 1_000_000).to_string();
        let sig = request_signature(
            keys.secret.as_bytes(),
            &RequestParts {
                method: method.as_str(),
                uri: path,
                api_key: &keys.api_key,
                timestamp: &ts,
                body: &body,
            },
        );
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("X-Api-Key", &keys.api_key)
            .header("X-Timestamp", ts)
            .header("X-Signature", sig)
            .header("Content-Type", "application/json")
            .body(body)
    }

    pub fn member_call(
        &self,
        member: &Member,
        method: Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&member.token)
    }

    pub fn admin(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("X-Admin-Key", ADMIN_KEY)
    }

    /// Signs up `user` through the hosted page (as the browser) and gets a token (as the partner).
    pub async fn member_of(&self, keys: &PartnerKeys, user: &str) -> Member {
        self.member_with_key_of(keys, user).await.0
    }

    /// A fresh access token for a member (tokens expire; tests that move the clock ask again).
    pub async fn token_for(&self, keys: &PartnerKeys, user: &str, member_key: &str) -> String {
        let token: Value = self
            .signed_as(
                keys,
                Method::POST,
                "/api/v1/auth/token",
                Some(&json!({ "partnerUserId": user, "memberKey": member_key })),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        token["accessToken"].as_str().unwrap().into()
    }

    /// A new member of the partner `keys` with a verified payout account (so payouts to it are made),
    /// and its member key.
    pub async fn member_with_key_of(&self, keys: &PartnerKeys, user: &str) -> (Member, String) {
        let (member, key) = self.member_without_account_of(keys, user).await;
        self.register_payout_account(&member, "90", &account_number_of(user), "홍길동")
            .await;
        (member, key)
    }

    /// `member` registers a payout account, which must succeed; returns the masked view.
    pub async fn register_payout_account(
        &self,
        member: &Member,
        bank: &str,
        number: &str,
        holder: &str,
    ) -> Value {
        let r = self
            .member_call(member, Method::PUT, "/api/v1/payout-account")
            .json(&json!({ "bankCode": bank, "accountNumber": number, "holderName": holder }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// A new member of the partner `keys` without a payout account, and its member key.
    pub async fn member_without_account_of(
        &self,
        keys: &PartnerKeys,
        user: &str,
    ) -> (Member, String) {
        let link = self.open_signup(keys, user, "/signup-done").await;
        self.member_from_signup(keys, user, link).await
    }

    /// A new member of the test partner `keys` on the test clock `clock` (SPEC §16), with a
    /// verified payout account.
    pub async fn member_on_clock(&self, keys: &PartnerKeys, user: &str, clock: &str) -> Member {
        let r = self
            .signed_as(
                keys,
                Method::POST,
                "/api/v1/members/signup",
                Some(
                    &json!({ "partnerUserId": user, "returnUrl": format!("{ORIGIN}/signup-done"),
                              "testClockId": clock }),
                ),
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
        let session: Value = r.json().await.unwrap();
        let url = session["signupUrl"].as_str().unwrap().to_owned();
        let link = SignupLink {
            id: session["signupSessionId"].as_str().unwrap().to_owned(),
            sig: url.split("sig=").nth(1).unwrap().to_owned(),
            url,
        };
        let (member, _) = self.member_from_signup(keys, user, link).await;
        self.register_payout_account(&member, "90", &account_number_of(user), "홍길동")
            .await;
        member
    }

    /// Completes the signup session `link` as the user's browser; the member and its key.
    async fn member_from_signup(
        &self,
        keys: &PartnerKeys,
        user: &str,
        link: SignupLink,
    ) -> (Member, String) {
        let SignupLink { id, url, .. } = link;
        let page = self.http.get(&url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("안전거래 회원가입") && html.contains("term_SERVICE"),
            "{html}"
        );
        let sig = url.split("sig=").nth(1).unwrap().to_owned();
        let phone = phone_of(user);
        let form = [
            ("sig", sig.as_str()),
            ("term_SERVICE", "2024-01"),
            ("term_PRIVACY", "2024-01"),
            ("term_EFINANCE", "2024-01"),
            ("name", "홍길동"),
            ("birthDate", "1990-05-05"),
            ("phone", phone.as_str()),
            ("nationality", "KR"),
        ];
        let done = self
            .http
            .post(format!("{}/signup/{id}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            done.status(),
            StatusCode::SEE_OTHER,
            "{}",
            done.text().await.unwrap()
        );
        let location = done.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&format!(
                "{ORIGIN}/signup-done?signupSessionId={id}&result=success"
            )),
            "{location}"
        );
        let result: Value = self
            .signed_as(
                keys,
                Method::GET,
                &format!("/api/v1/members/signup/{id}"),
                None,
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(result["status"], "COMPLETED");
        let member_key = result["memberKey"]
            .as_str()
            .expect("member key on first read")
            .to_owned();
        let token = self.token_for(keys, user, &member_key).await;
        let member = Member {
            user: user.into(),
            id: result["memberId"].as_str().unwrap().into(),
            token,
        };
        (member, member_key)
    }

    pub async fn member(&self, user: &str) -> Member {
        self.member_of(&self.partner.clone(), user).await
    }

    /// The seller registers a product; returns its id.
    pub async fn product(&self, seller: &Member, price: i64, methods: &[&str]) -> String {
        let r = self
            .member_call(seller, Method::PUT, "/api/v1/products")
            .json(&json!({
                "partnerProductId": format!("p-{}", uuid::Uuid::new_v4().simple()),
                "name": "중고 자전거",
                "price": price,
                "shippingFee": 3000,
                "paymentMethods": methods,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["productId"]
            .as_str()
            .unwrap()
            .into()
    }

    /// The buyer creates a checkout; returns its body.
    pub async fn checkout(&self, buyer: &Member, product: &str, method: &str) -> Value {
        let r = self
            .member_call(buyer, Method::POST, "/api/v1/checkouts")
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&json!({
                "productId": product,
                "paymentMethod": method,
                "tradeType": "GENERAL",
                "shippingAddress": { "recipient": "홍길동", "phone": "01012345678", "postcode": "04524", "address": "서울시 중구 세종대로 110", "addressDetail": "1층" },
                "returnUrl": format!("{ORIGIN}/paid"),
                "partnerTradeNo": format!("T-{}", uuid::Uuid::new_v4().simple()),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        r.json().await.unwrap()
    }

    /// As the buyer's browser: opens the checkout page, pays, presses `button` on the PG's page and
    /// follows the return. Returns the final redirect to the partner.
    pub async fn pay(&self, checkout: &Value, button: &str) -> String {
        let url = checkout["checkoutUrl"].as_str().unwrap();
        let page = self.http.get(url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("결제하기")
                && html.contains("구매안전서비스")
                && !html.contains("정산")
                && !html.contains("수수료"),
            "{html}"
        );
        let id = checkout["checkoutId"].as_str().unwrap();
        let to = self.press_pay(checkout).await;
        if to.starts_with(ORIGIN) {
            return to; // the PG could not even start
        }
        let back = self.press_at_pg(&to, button).await;
        assert!(
            back.starts_with(&format!(
                "{}/checkout/{id}/return?transactionId=",
                self.base
            )),
            "{back}"
        );
        let r = self.http.get(&back).send().await.unwrap();
        if r.status() == StatusCode::OK {
            // A virtual account: the page shows the account, then leads on to the partner.
            let html = r.text().await.unwrap();
            assert!(
                html.contains("입금 기한") && html.contains("id=\"account\""),
                "{html}"
            );
            let href = html.split("id=\"continue\" href=\"").nth(1).unwrap();
            return href.split('"').next().unwrap().replace("&amp;", "&");
        }
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{}",
            r.text().await.unwrap()
        );
        r.headers()["location"].to_str().unwrap().to_owned()
    }

    /// As the browser: presses the pay button of the hosted checkout page; returns where it is sent
    /// (the PG's start page, or the partner's return URL when the PG could not start).
    pub async fn press_pay(&self, checkout: &Value) -> String {
        let url = checkout["checkoutUrl"].as_str().unwrap();
        let id = checkout["checkoutId"].as_str().unwrap();
        let sig = url.split("sig=").nth(1).unwrap();
        let r = self
            .http
            .post(format!("{}/checkout/{id}/pay", self.base))
            .form(&[("sig", sig)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        r.headers()["location"].to_str().unwrap().to_owned()
    }

    /// As the buyer on the PG's start page: presses `button`; returns where the PG sends the browser.
    pub async fn press_at_pg(&self, start_page: &str, button: &str) -> String {
        let r = self
            .http
            .post(format!("{start_page}/{button}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        r.headers()["location"].to_str().unwrap().to_owned()
    }

    /// A trade at 31 between two new members; returns (buyer, seller, trade id).
    pub async fn paid_trade(&self, tag: &str) -> (Member, Member, String) {
        let buyer = self.member(&format!("buyer-{tag}")).await;
        let seller = self.member(&format!("seller-{tag}")).await;
        let product = self
            .product(&seller, 50_000, &["CARD", "BANK_TRANSFER"])
            .await;
        let checkout = self.checkout(&buyer, &product, "CARD").await;
        let back = self.pay(&checkout, "approve").await;
        assert!(back.contains("result=success"), "{back}");
        (buyer, seller, trade_id_in(&back))
    }

    pub fn set_pg(&self, behavior: Behavior) {
        self.sim.set_behavior(behavior);
    }

    /// Callback payloads queued for the partner, of `event_type`.
    pub async fn queued_callbacks(&self, event_type: &str) -> Vec<Value> {
        use diesel::{ExpressionMethods, QueryDsl};
        use diesel_async::RunQueryDsl;
        use escrow_postgres::schema::outbox;
        let mut conn = self.db.db.pool.get().await.unwrap();
        let rows: Vec<Value> = outbox::table
            .filter(outbox::kind.eq("CALLBACK"))
            .order(outbox::id.asc())
            .select(outbox::payload)
            .load(&mut conn)
            .await
            .unwrap();
        rows.into_iter()
            .filter(|p| p["type"] == event_type)
            .collect()
    }
}

/// The `tradeId` of a partner return URL (`…&tradeId=…&result=success`).
pub fn trade_id_in(back: &str) -> String {
    back.split("tradeId=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned()
}

/// Asserts SPEC §11's error body and returns it.
pub async fn error_body(r: reqwest::Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let body: Value = r.json().await.unwrap();
    for field in ["code", "message", "details", "requestId"] {
        assert!(body.get(field).is_some(), "{field} missing in {body}");
    }
    body
}

impl App {
    /// Runs every job of the first instance once.
    pub async fn run_jobs(&self) -> escrow_server::JobReport {
        self.server.jobs.run_once().await.unwrap()
    }

    /// A trade as operators see it.
    pub async fn admin_trade(&self, id: &str) -> Value {
        let r = self
            .admin(Method::GET, &format!("/admin/v1/trades/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// The pending timers of a trade: (kind key, due).
    pub async fn timers(&self, id: &str) -> Vec<(String, OffsetDateTime)> {
        use diesel::{ExpressionMethods, QueryDsl};
        use diesel_async::RunQueryDsl;
        use escrow_postgres::schema::trade_timers as t;
        let mut conn = self.db.db.pool.get().await.unwrap();
        t::table
            .filter(t::trade_id.eq(uuid::Uuid::parse_str(id).unwrap()))
            .order(t::due_at.asc())
            .select((t::kind, t::due_at))
            .load(&mut conn)
            .await
            .unwrap()
    }

    /// A timer's due time.
    pub async fn due(&self, id: &str, kind: &str) -> OffsetDateTime {
        self.timers(id)
            .await
            .into_iter()
            .find(|(k, _)| k == kind)
            .unwrap_or_else(|| panic!("no {kind} timer"))
            .1
    }

    /// One text column of one row, by SQL.
    pub async fn text(&self, sql: &str) -> String {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct T {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let mut conn = self.db.db.pool.get().await.unwrap();
        diesel::sql_query(sql)
            .get_result::<T>(&mut conn)
            .await
            .unwrap()
            .v
    }

    /// Runs one SQL statement; the database's error text when it refuses.
    pub async fn try_sql(&self, sql: &str) -> Result<usize, String> {
        use diesel_async::RunQueryDsl;
        let mut conn = self.db.db.pool.get().await.unwrap();
        diesel::sql_query(sql)
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())
    }

    /// AlimTalks the simulator accepted with `code`, by recipient.
    pub fn alimtalks(&self, code: &str) -> Vec<String> {
        self.alimtalk
            .received()
            .into_iter()
            .filter(|m| m.template_code == code)
            .map(|m| m.recipient_no)
            .collect()
    }
}

impl App {
    /// `who` runs a trade command (`POST /api/v1/trades/{id}/{action}`), which must succeed; returns the trade.
    pub async fn act(&self, who: &Member, id: &str, action: &str, body: Value) -> Value {
        let r = self
            .member_call(who, Method::POST, &format!("/api/v1/trades/{id}/{action}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
        body
    }
}

/// An opened signup session: its id, its signed page, and the link's signature.
pub struct SignupLink {
    pub id: String,
    pub url: String,
    pub sig: String,
}

impl App {
    /// The partner opens a signup session for `user` returning to `{ORIGIN}{return_path}`.
    pub async fn open_signup(
        &self,
        keys: &PartnerKeys,
        user: &str,
        return_path: &str,
    ) -> SignupLink {
        let r = self
            .signed_as(
                keys,
                Method::POST,
                "/api/v1/members/signup",
                Some(&json!({ "partnerUserId": user, "returnUrl": format!("{ORIGIN}{return_path}") })),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let session: Value = r.json().await.unwrap();
        let url = session["signupUrl"].as_str().unwrap().to_owned();
        SignupLink {
            id: session["signupSessionId"].as_str().unwrap().to_owned(),
            sig: url.split("sig=").nth(1).unwrap().to_owned(),
            url,
        }
    }
}
