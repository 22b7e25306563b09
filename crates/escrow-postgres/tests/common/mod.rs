//! A world to test storage in: a fresh database with a partner, and helpers to add members, products,
//! checkouts and trades as the service would.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use escrow_domain::checkout::{Checkout, CheckoutStatus, ShippingAddress};
use escrow_domain::contract::{Contract, PaymentMethod, TradeType};
use escrow_domain::contract_tests::{CheckoutStoreHarness, MoneyOutHarness, TradeStoreHarness};
use escrow_domain::delivery::{OutboxStore, PayoutQueue, RefundQueue};
use escrow_domain::ids::{CheckoutId, MemberId, PartnerId, ProductId, TradeId};
use escrow_domain::money::Money;
use escrow_domain::people::{
    Member, MemberStatus, Partner, PartnerSecrets, PartnerStatus, PhoneNumber, Secret,
};
use escrow_domain::ports::CheckoutRepository;
use escrow_domain::ports::TradeRepository;
use escrow_domain::product::{Product, ProductStatus};
use escrow_domain::quote::QuoteRequest;
use escrow_domain::trade::OpenTrade;
use escrow_postgres::testing::{test_database, TestDatabase};
use escrow_postgres::{Directory, PgCheckoutRepository, PgRulesRepository, PgTradeRepository};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

pub struct World {
    pub test_db: TestDatabase,
    pub directory: Directory,
    pub checkouts: PgCheckoutRepository,
    pub trades: PgTradeRepository,
    pub rules: PgRulesRepository,
    pub partner: Partner,
}

pub const T0: OffsetDateTime = datetime!(2025-03-06 10:00 +9);

impl World {
    pub async fn new() -> World {
        let test_db = test_database().await;
        let pool = test_db.db.pool.clone();
        let directory = Directory::new(
            pool.clone(),
            escrow_postgres::SecretSealer::new(&[[42u8; 32]]).unwrap(),
        );
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let partner = Partner {
            id: PartnerId::random(),
            code: format!("p-{}", &suffix[..12]),
            name: "테스트 마켓".into(),
            api_key_id: format!("key-{suffix}"),
            webhook_url: Some("http://127.0.0.1:9/hook".into()),
            allowed_redirect_origins: vec!["https://market.example".into()],
            status: PartnerStatus::Active,
            mode: escrow_domain::people::PartnerMode::Live,
            created_at: T0,
        };
        directory
            .create_partner(
                &partner,
                &PartnerSecrets {
                    api_secret: Secret::new("partner-secret-0123456789"),
                    webhook_secret: Some(Secret::new("whsec-0123456789")),
                    webhook_secret_previous: None,
                },
            )
            .await
            .unwrap();
        World {
            checkouts: PgCheckoutRepository::new(pool.clone()),
            trades: PgTradeRepository::new(
                pool.clone(),
                Arc::new(|t| serde_json::to_value(t).unwrap_or_default()),
            ),
            rules: PgRulesRepository::new(pool),
            directory,
            test_db,
            partner,
        }
    }

    pub fn pool(&self) -> &escrow_postgres::DbPool {
        &self.test_db.db.pool
    }

    pub async fn member(&self) -> Member {
        let m = Member {
            id: MemberId::random(),
            partner_id: self.partner.id,
            partner_user_id: format!("user-{}", uuid::Uuid::new_v4().simple()),
            status: MemberStatus::Active,
            name: "홍길동".into(),
            phone: PhoneNumber::new("010-1234-5678").unwrap(),
            birth_date: date!(1990 - 01 - 01),
            created_at: T0,
            withdrawn_at: None,
            test_clock: None,
        };
        self.directory.create_member(&m, "hash").await.unwrap();
        m
    }

    pub async fn product(&self, seller: &Member, price: i64) -> Product {
        let p = Product {
            id: ProductId::random(),
            partner_id: self.partner.id,
            seller_id: seller.id,
            partner_product_id: format!("prod-{}", uuid::Uuid::new_v4().simple()),
            name: "중고 자전거".into(),
            price: Money::krw(price),
            shipping_fee: Money::krw(0),
            payment_methods: PaymentMethod::ALL.to_vec(),
            description: None,
            image_url: None,
            category_code: None,
            status: ProductStatus::OnSale,
            has_trades: false,
            created_at: T0,
            updated_at: T0,
        };
        self.directory.create_product(&p).await.unwrap();
        p
    }

    pub fn checkout(
        &self,
        buyer: &Member,
        product: &Product,
        method: PaymentMethod,
        at: OffsetDateTime,
    ) -> Checkout {
        let quote = Contract::standard_2022()
            .quote(
                &QuoteRequest {
                    product_price: product.price,
                    shipping_fee: product.shipping_fee,
                    method,
                    trade_type: TradeType::General,
                },
                &product.payment_methods,
            )
            .unwrap();
        Checkout {
            id: CheckoutId::random(),
            partner_id: self.partner.id,
            buyer_id: buyer.id,
            seller_id: product.seller_id,
            product_id: product.id,
            method,
            trade_type: TradeType::General,
            quote,
            shipping_address: ShippingAddress {
                recipient: "홍길동".into(),
                phone: PhoneNumber::new("01012345678").unwrap(),
                postcode: "04524".into(),
                address: "서울시 중구 세종대로 110".into(),
                address_detail: "1층".into(),
                requirement: None,
            },
            return_url: "https://market.example/return".into(),
            partner_trade_no: None,
            status: CheckoutStatus::Open,
            failure_code: None,
            pg_gateway: Some("unifipay".into()),
            pg_merchant: None,
            pg_transaction_id: None,
            expires_at: at + Duration::minutes(30),
            created_at: at,
            trade_id: None,
            test_clock: None,
        }
    }

    /// A stored, open checkout for a new buyer, seller and product, ready to become a trade.
    pub async fn prepared_trade(&self, method: PaymentMethod) -> OpenTrade {
        let (buyer, seller) = (self.member().await, self.member().await);
        let product = self.product(&seller, 50_000).await;
        let checkout = self.checkout(&buyer, &product, method, T0);
        self.checkouts
            .open(&checkout, &Contract::standard_2022().seller_limits, None)
            .await
            .unwrap();
        OpenTrade {
            id: TradeId::random(),
            partner_id: self.partner.id,
            checkout_id: checkout.id,
            partner_trade_no: None,
            buyer_id: buyer.id,
            seller_id: seller.id,
            product_id: product.id,
            product_name: product.name,
            trade_type: TradeType::General,
            method,
            quote: checkout.quote,
            deposit_account: (method == PaymentMethod::VirtualAccount)
                .then(|| "국민은행 123-456".into()),
            deposit_due: None,
            payment_transaction_id: None,
            test_clock: None,
        }
    }
}

#[async_trait]
impl CheckoutStoreHarness for World {
    fn checkouts(&self) -> Arc<dyn CheckoutRepository> {
        Arc::new(self.checkouts.clone())
    }

    fn records(&self) -> Arc<dyn escrow_domain::ports::PaymentRecords> {
        Arc::new(self.checkouts.clone())
    }

    async fn seller(&self) -> MemberId {
        self.member().await.id
    }

    async fn prepared_checkout(
        &self,
        seller: MemberId,
        price: i64,
        at: OffsetDateTime,
    ) -> Checkout {
        let buyer = self.member().await;
        let seller = Member {
            id: seller,
            ..buyer.clone()
        };
        let product = self.product(&seller, price).await;
        self.checkout(&buyer, &product, PaymentMethod::Card, at)
    }
}

impl MoneyOutHarness for World {
    fn outbox(&self) -> Arc<dyn OutboxStore> {
        Arc::new(escrow_postgres::PgOutbox::new(self.pool().clone()))
    }

    fn refunds(&self) -> Arc<dyn RefundQueue> {
        Arc::new(escrow_postgres::PgMoneyOut::new(
            self.pool().clone(),
            Arc::new(|t| serde_json::json!({ "tradeId": t.id })),
        ))
    }

    fn payout_accounts(&self) -> Arc<dyn escrow_domain::ports::PayoutAccountRepository> {
        Arc::new(escrow_postgres::Directory::new(
            self.pool().clone(),
            escrow_postgres::SecretSealer::new(&[[42u8; 32]]).unwrap(),
        ))
    }

    fn payouts(&self) -> Arc<dyn PayoutQueue> {
        Arc::new(escrow_postgres::PgMoneyOut::new(
            self.pool().clone(),
            Arc::new(|t| serde_json::json!({ "tradeId": t.id })),
        ))
    }
}

#[async_trait]
impl TradeStoreHarness for World {
    fn repository(&self) -> Arc<dyn TradeRepository> {
        Arc::new(self.trades.clone())
    }

    async fn prepared_trade(&self, method: PaymentMethod) -> OpenTrade {
        World::prepared_trade(self, method).await
    }
}

/// Runs one SQL query returning a single bigint.
pub async fn count(pool: &escrow_postgres::DbPool, sql: &str) -> i64 {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = pool.get().await.unwrap();
    diesel::sql_query(sql)
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n
}

/// Runs one SQL statement.
pub async fn execute(pool: &escrow_postgres::DbPool, sql: &str) {
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await.unwrap();
    diesel::sql_query(sql).execute(&mut conn).await.unwrap();
}
