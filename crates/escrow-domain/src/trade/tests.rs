//! The state machine, checked against SPEC §8 written out as an independent table.

use std::collections::BTreeMap;

use proptest::prelude::*;
use time::macros::{date, datetime};
use time::OffsetDateTime;

use super::tests_support::open_trade;
use super::*;
use crate::notification::{AlimTalkTemplate as T, Recipient};

const OPENED: OffsetDateTime = datetime!(2025-03-06 10:00 +9); // Thursday
/// Late enough for every timer of a trade opened at `OPENED` to be due.
const LATE: OffsetDateTime = datetime!(2025-06-16 10:00 +9); // Monday

fn rules() -> (Contract, BusinessCalendar) {
    (Contract::standard_2022(), BusinessCalendar::korea())
}

fn reason(text: &str) -> Reason {
    Reason::new(text).unwrap()
}

fn ship() -> Shipment {
    Shipment::new("005", "612345678901").unwrap()
}

/// Every command, one instance of each (reminders of each kind).
fn all_commands(now: OffsetDateTime) -> Vec<TradeCommand> {
    vec![
        TradeCommand::ConfirmDeposit,
        TradeCommand::CancelDeposit,
        TradeCommand::RegisterShipment(ship()),
        TradeCommand::ReportDelivery { delivered_at: now },
        TradeCommand::ApprovePurchase,
        TradeCommand::RequestCancel {
            reason: reason("단순변심"),
        },
        TradeCommand::AgreeCancel,
        TradeCommand::CancelSale {
            reason: SaleCancelReason::new(32, None).unwrap(),
        },
        TradeCommand::CancelByOperator {
            reason: reason("사기 의심"),
        },
        TradeCommand::RequestReturn {
            reason: reason("상품 불량"),
            shipping_payer: ReturnShippingPayer::Seller,
        },
        TradeCommand::AgreeReturn {
            return_address: reason("서울시 중구 세종대로 110"),
        },
        TradeCommand::RegisterReturnShipment(Shipment::new("004", "998877").unwrap()),
        TradeCommand::ConfirmReturnReceipt,
        TradeCommand::PayOut,
        TradeCommand::RefundReturn,
        TradeCommand::Hold {
            reason: reason("분쟁 조사"),
        },
        TradeCommand::Release,
        TradeCommand::Remind(Reminder::DepositClosing),
        TradeCommand::Remind(Reminder::DeliveredApprovalRequest),
        TradeCommand::Remind(Reminder::ApprovalReminder {
            business_days_before: 3,
        }),
        TradeCommand::Remind(Reminder::ApprovalReminder {
            business_days_before: 1,
        }),
    ]
}

fn actor(role: ActorRole, trade: &Trade) -> Actor {
    match role {
        ActorRole::Buyer => Actor::Buyer(trade.buyer_id),
        ActorRole::Seller => Actor::Seller(trade.seller_id),
        ActorRole::Partner => Actor::Partner(trade.partner_id),
        ActorRole::Operator => Actor::Operator("operator-1".into()),
        ActorRole::Batch => Actor::Batch("job".into()),
        ActorRole::PaymentGateway => Actor::PaymentGateway,
    }
}

fn cmd_key(c: &TradeCommand) -> String {
    match c {
        TradeCommand::Remind(Reminder::ApprovalReminder {
            business_days_before,
        }) => {
            format!("REMIND_APPROVAL_{business_days_before}")
        }
        TradeCommand::Remind(Reminder::DepositClosing) => "REMIND_DEPOSIT".into(),
        TradeCommand::Remind(Reminder::DeliveredApprovalRequest) => "REMIND_DELIVERED".into(),
        other => other.name().into(),
    }
}

/// Trades in every reachable state, reached by real commands from `Trade::open`.
fn states() -> BTreeMap<&'static str, Trade> {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let mut card_open = open_trade(PaymentMethod::Card, TradeType::General, 50_000);
    let mut va_open = open_trade(PaymentMethod::VirtualAccount, TradeType::General, 50_000);
    // Same parties, so the actors of one state are valid on all.
    va_open.buyer_id = card_open.buyer_id;
    va_open.seller_id = card_open.seller_id;
    va_open.partner_id = card_open.partner_id;
    card_open.id = TradeId::random();
    let step = |t: &Trade, c: TradeCommand, role: ActorRole, now: OffsetDateTime| -> Trade {
        t.apply(c, &actor(role, t), now, &rules).unwrap().trade
    };
    let mut s = BTreeMap::new();
    let t13 = Trade::open(va_open, OPENED, &rules).unwrap().trade;
    let t14 = step(&t13, TradeCommand::CancelDeposit, ActorRole::Buyer, OPENED);
    let t31 = Trade::open(card_open, OPENED, &rules).unwrap().trade;
    let t32 = step(
        &t31,
        TradeCommand::RegisterShipment(ship()),
        ActorRole::Seller,
        OPENED,
    );
    let t32d = step(
        &t32,
        TradeCommand::ReportDelivery {
            delivered_at: OPENED,
        },
        ActorRole::Partner,
        OPENED,
    );
    let t33 = step(
        &t32d,
        TradeCommand::ApprovePurchase,
        ActorRole::Buyer,
        OPENED,
    );
    let t33p = step(&t33, TradeCommand::PayOut, ActorRole::Batch, LATE);
    let t34 = step(
        &t31,
        TradeCommand::RequestCancel {
            reason: reason("x"),
        },
        ActorRole::Buyer,
        OPENED,
    );
    let t35 = step(&t34, TradeCommand::AgreeCancel, ActorRole::Seller, OPENED);
    let t36 = step(
        &t31,
        TradeCommand::CancelSale {
            reason: SaleCancelReason::new(31, None).unwrap(),
        },
        ActorRole::Seller,
        OPENED,
    );
    let t37 = step(
        &t31,
        TradeCommand::CancelByOperator {
            reason: reason("x"),
        },
        ActorRole::Operator,
        OPENED,
    );
    let t51 = step(
        &t32d,
        TradeCommand::RequestReturn {
            reason: reason("x"),
            shipping_payer: ReturnShippingPayer::Buyer,
        },
        ActorRole::Buyer,
        OPENED,
    );
    let t52 = step(
        &t51,
        TradeCommand::AgreeReturn {
            return_address: reason("x"),
        },
        ActorRole::Seller,
        OPENED,
    );
    let t53 = step(
        &t52,
        TradeCommand::RegisterReturnShipment(ship()),
        ActorRole::Buyer,
        OPENED,
    );
    let t54 = step(
        &t53,
        TradeCommand::ConfirmReturnReceipt,
        ActorRole::Seller,
        OPENED,
    );
    let t54r = step(&t54, TradeCommand::RefundReturn, ActorRole::Batch, LATE);
    for (k, v) in [
        ("13", t13),
        ("14", t14),
        ("31", t31),
        ("32", t32),
        ("32d", t32d),
        ("33/80", t33),
        ("33/83", t33p),
        ("34", t34),
        ("35", t35),
        ("36", t36),
        ("37", t37),
        ("51", t51),
        ("52", t52),
        ("53", t53),
        ("54/80", t54),
        ("54/84", t54r),
    ] {
        s.insert(k, v);
    }
    s
}

/// SPEC §8 as a table: (state, command, role) → (status, withdrawal) after. Nothing else is allowed.
fn allowed() -> BTreeMap<(&'static str, &'static str, ActorRole), (u8, u8)> {
    use ActorRole::*;
    let mut a = BTreeMap::new();
    let mut add = |state, cmd, roles: &[ActorRole], to: (u8, u8)| {
        for r in roles {
            a.insert((state, cmd, *r), to);
        }
    };
    add("13", "CONFIRM_DEPOSIT", &[PaymentGateway], (31, 80));
    add("13", "CANCEL_DEPOSIT", &[Buyer, Operator, Batch], (14, 80));
    // The buyer's and the operator's cancel endpoints cancel the deposit at 13.
    add("13", "REQUEST_CANCEL", &[Buyer], (14, 80));
    add("13", "CANCEL_BY_OPERATOR", &[Operator], (14, 80));
    add("13", "REMIND_DEPOSIT", &[Batch], (13, 80));
    add("31", "REGISTER_SHIPMENT", &[Seller, Operator], (32, 80));
    add("31", "REQUEST_CANCEL", &[Buyer], (34, 80));
    add("31", "CANCEL_SALE", &[Seller], (36, 81));
    add(
        "32",
        "REPORT_DELIVERY",
        &[Partner, Operator, Batch],
        (32, 80),
    );
    add("32", "APPROVE_PURCHASE", &[Buyer], (33, 80));
    add("32", "REQUEST_RETURN", &[Buyer], (51, 80));
    add("32d", "APPROVE_PURCHASE", &[Buyer, Batch], (33, 80));
    add("32d", "REQUEST_RETURN", &[Buyer], (51, 80));
    add("32d", "REMIND_DELIVERED", &[Batch], (32, 80));
    add("32d", "REMIND_APPROVAL_3", &[Batch], (32, 80));
    add("32d", "REMIND_APPROVAL_1", &[Batch], (32, 80));
    add("33/80", "PAY_OUT", &[Batch], (33, 83));
    add("34", "AGREE_CANCEL", &[Seller, Operator, Batch], (35, 82));
    add("51", "AGREE_RETURN", &[Seller, Operator], (52, 80));
    add(
        "52",
        "REGISTER_RETURN_SHIPMENT",
        &[Buyer, Operator],
        (53, 80),
    );
    add(
        "53",
        "CONFIRM_RETURN_RECEIPT",
        &[Seller, Operator],
        (54, 80),
    );
    add("54/80", "REFUND_RETURN", &[Batch], (54, 84));
    for state in ["31", "32", "32d", "33/80", "51", "52", "53"] {
        add(state, "CANCEL_BY_OPERATOR", &[Operator], (37, 85));
    }
    for (state, code) in [
        ("13", (13, 80)),
        ("31", (31, 80)),
        ("32", (32, 80)),
        ("32d", (32, 80)),
        ("33/80", (33, 80)),
        ("34", (34, 80)),
        ("51", (51, 80)),
        ("52", (52, 80)),
        ("53", (53, 80)),
        ("54/80", (54, 80)),
    ] {
        add(state, "HOLD", &[Operator], code);
    }
    a
}

#[test]
fn every_status_command_and_actor_is_allowed_or_refused_exactly_as_spec_says() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let allowed = allowed();
    let mut checked = 0;
    for (state, trade) in states() {
        for command in all_commands(LATE) {
            let key = cmd_key(&command);
            for role in ActorRole::ALL {
                let result = trade.apply(command.clone(), &actor(role, &trade), LATE, &rules);
                let expected = allowed.get(&(state, key.as_str(), role));
                match (expected, &result) {
                    (Some((to, w)), Ok(t)) => {
                        assert_eq!(
                            (t.trade.status.code(), t.trade.withdrawal.code()),
                            (*to, *w),
                            "{state} {key} {role:?}"
                        );
                        assert_eq!(t.trade.version, trade.version + 1);
                        assert_eq!(t.event.sequence, t.trade.version);
                        assert_eq!(t.event.from_status, Some(trade.status));
                    }
                    (None, Err(e)) => {
                        if command == TradeCommand::Release
                            && role == ActorRole::Operator
                            && !is_terminal(trade.status, trade.withdrawal)
                        {
                            // Release is refused by the hold flag, not by the status.
                            assert_eq!(e, &TransitionError::NotHeld, "{state} {role:?}");
                        } else if command.allowed_roles().contains(&role) {
                            assert!(
                                matches!(e, TransitionError::InvalidTransition { status, .. } if *status == trade.status),
                                "{state} {key} {role:?}: {e:?}"
                            );
                        } else {
                            assert_eq!(
                                e,
                                &TransitionError::ActorNotAllowed {
                                    role,
                                    command: command.name()
                                },
                                "{state} {key} {role:?}"
                            );
                        }
                    }
                    (Some(_), Err(e)) => panic!("{state} {key} {role:?} should be allowed: {e:?}"),
                    (None, Ok(t)) => panic!(
                        "{state} {key} {role:?} should be refused, went to {}",
                        t.trade.status
                    ),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 16 * 21 * 6);
}

#[test]
fn terminal_states_refuse_everything() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    for (state, trade) in states() {
        if !is_terminal(trade.status, trade.withdrawal) {
            continue;
        }
        assert!(trade.pending_timers(&rules).is_empty(), "{state}");
        for command in all_commands(LATE) {
            for role in ActorRole::ALL {
                assert!(trade
                    .apply(command.clone(), &actor(role, &trade), LATE, &rules)
                    .is_err());
            }
        }
    }
}

#[test]
fn a_member_outside_the_trade_is_not_a_participant() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t = &states()["32d"];
    let stranger = MemberId::random();
    for actor in [
        Actor::Buyer(stranger),
        Actor::Seller(stranger),
        Actor::Partner(PartnerId::random()),
    ] {
        assert_eq!(
            t.apply(TradeCommand::ApprovePurchase, &actor, LATE, &rules),
            Err(TransitionError::NotParticipant)
        );
    }
    // The seller of the trade acting as its buyer is not its buyer.
    assert_eq!(
        t.apply(
            TradeCommand::ApprovePurchase,
            &Actor::Buyer(t.seller_id),
            LATE,
            &rules
        ),
        Err(TransitionError::NotParticipant)
    );
}

/// (state, command, role) → the AlimTalks it sends, by template and recipient.
#[test]
fn each_transition_sends_the_alimtalks_of_seed_002() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let s = states();
    type Case<'a> = (&'a str, TradeCommand, ActorRole, &'a [(T, Recipient)]);
    let expect: &[Case] = &[
        (
            "13",
            TradeCommand::ConfirmDeposit,
            ActorRole::PaymentGateway,
            &[(T::SellerShipmentRequest, Recipient::Seller)],
        ),
        ("13", TradeCommand::CancelDeposit, ActorRole::Buyer, &[]),
        (
            "13",
            TradeCommand::Remind(Reminder::DepositClosing),
            ActorRole::Batch,
            &[(T::BuyerDepositClosing, Recipient::Buyer)],
        ),
        (
            "31",
            TradeCommand::RegisterShipment(ship()),
            ActorRole::Seller,
            &[(T::BuyerShipmentNotice, Recipient::Buyer)],
        ),
        (
            "31",
            TradeCommand::RequestCancel {
                reason: reason("x"),
            },
            ActorRole::Buyer,
            &[(T::SellerCancelRequest, Recipient::Seller)],
        ),
        (
            "31",
            TradeCommand::CancelSale {
                reason: SaleCancelReason::new(37, None).unwrap(),
            },
            ActorRole::Seller,
            &[(T::BuyerSaleCancelled, Recipient::Buyer)],
        ),
        (
            "31",
            TradeCommand::CancelByOperator {
                reason: reason("x"),
            },
            ActorRole::Operator,
            &[],
        ),
        (
            "32",
            TradeCommand::ReportDelivery {
                delivered_at: OPENED,
            },
            ActorRole::Partner,
            &[],
        ),
        (
            "32d",
            TradeCommand::ApprovePurchase,
            ActorRole::Buyer,
            &[(T::SellerPurchaseApproved, Recipient::Seller)],
        ),
        (
            "32d",
            TradeCommand::Remind(Reminder::DeliveredApprovalRequest),
            ActorRole::Batch,
            &[(T::BuyerApprovalRequestDelivered, Recipient::Buyer)],
        ),
        (
            "32d",
            TradeCommand::Remind(Reminder::ApprovalReminder {
                business_days_before: 3,
            }),
            ActorRole::Batch,
            &[(T::BuyerApprovalRequest, Recipient::Buyer)],
        ),
        (
            "32d",
            TradeCommand::Remind(Reminder::ApprovalReminder {
                business_days_before: 1,
            }),
            ActorRole::Batch,
            &[(T::BuyerApprovalReminder, Recipient::Buyer)],
        ),
        (
            "32d",
            TradeCommand::RequestReturn {
                reason: reason("x"),
                shipping_payer: ReturnShippingPayer::Seller,
            },
            ActorRole::Buyer,
            &[(T::SellerReturnAgreementRequest, Recipient::Seller)],
        ),
        (
            "32d",
            TradeCommand::Hold {
                reason: reason("송장 오류"),
            },
            ActorRole::Operator,
            &[(T::SellerShippingInfoCorrection, Recipient::Seller)],
        ),
        (
            "31",
            TradeCommand::Hold {
                reason: reason("x"),
            },
            ActorRole::Operator,
            &[],
        ),
        ("33/80", TradeCommand::PayOut, ActorRole::Batch, &[]),
        (
            "34",
            TradeCommand::AgreeCancel,
            ActorRole::Seller,
            &[(T::BuyerCancelAgreed, Recipient::Buyer)],
        ),
        (
            "51",
            TradeCommand::AgreeReturn {
                return_address: reason("x"),
            },
            ActorRole::Seller,
            &[(T::BuyerReturnShipmentRequest, Recipient::Buyer)],
        ),
        (
            "52",
            TradeCommand::RegisterReturnShipment(ship()),
            ActorRole::Buyer,
            &[(T::SellerReturnShipmentStarted, Recipient::Seller)],
        ),
        (
            "53",
            TradeCommand::ConfirmReturnReceipt,
            ActorRole::Seller,
            &[(T::BuyerReturnCompleted, Recipient::Buyer)],
        ),
        ("54/80", TradeCommand::RefundReturn, ActorRole::Batch, &[]),
    ];
    for (state, command, role, templates) in expect {
        let trade = &s[state];
        let t = trade
            .apply(command.clone(), &actor(*role, trade), LATE, &rules)
            .unwrap_or_else(|e| panic!("{state} {}: {e}", command.name()));
        let got: Vec<_> = t
            .notifications
            .iter()
            .map(|n| (n.template, n.recipient))
            .collect();
        assert_eq!(&got, templates, "{state} {}", command.name());
        for n in &t.notifications {
            let declared: Vec<_> = n.template.spec().variables.to_vec();
            let filled: Vec<_> = n.variables.keys().map(String::as_str).collect();
            assert_eq!(filled.len(), declared.len());
            assert!(declared.iter().all(|v| n.variables.contains_key(*v)));
            assert_eq!(n.variables["productName"], "중고 자전거");
            assert_eq!(n.variables["paymentAmount"], "53,000원");
        }
    }
}

#[test]
fn opening_sends_the_deposit_account_or_the_shipment_request() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let va = Trade::open(
        open_trade(PaymentMethod::VirtualAccount, TradeType::General, 50_000),
        OPENED,
        &rules,
    )
    .unwrap();
    assert_eq!(va.trade.status, TradeStatus::AwaitingDeposit);
    assert_eq!(va.notifications[0].template, T::BuyerDepositAccount);
    assert_eq!(
        va.notifications[0].variables["depositAccount"],
        "국민은행 123-456-789"
    );
    assert_eq!(
        va.notifications[0].variables["depositDeadline"],
        "2025-03-07 10:00"
    );
    assert_eq!(
        va.callbacks,
        [
            CallbackType::PaymentSucceeded,
            CallbackType::TradeStatusChanged
        ]
    );
    let kinds: Vec<_> = va.timers.iter().map(|t| (t.kind, t.due)).collect();
    assert_eq!(
        kinds,
        [
            (TimerKind::DepositReminder, datetime!(2025-03-06 15:00 +9)),
            (TimerKind::DepositDeadline, datetime!(2025-03-07 10:00 +9)),
        ]
    );
    let card = Trade::open(
        open_trade(PaymentMethod::Card, TradeType::General, 50_000),
        OPENED,
        &rules,
    )
    .unwrap();
    assert_eq!(card.trade.status, TradeStatus::Paid);
    assert_eq!(card.notifications[0].template, T::SellerShipmentRequest);
    assert_eq!(card.notifications[0].recipient, Recipient::Seller);
    assert!(card.timers.is_empty());
}

#[test]
fn cancels_refund_the_full_payment_at_once_and_release_limits_and_product() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let s = states();
    let paid = Money::krw(53_000);
    let cases = [
        (
            "34",
            TradeCommand::AgreeCancel,
            ActorRole::Seller,
            WithdrawalStatus::BuyerCancelRefunded,
        ),
        (
            "31",
            TradeCommand::CancelSale {
                reason: SaleCancelReason::new(33, None).unwrap(),
            },
            ActorRole::Seller,
            WithdrawalStatus::SellerCancelRefunded,
        ),
        (
            "33/80",
            TradeCommand::CancelByOperator {
                reason: reason("x"),
            },
            ActorRole::Operator,
            WithdrawalStatus::OperatorCancelRefunded,
        ),
        (
            "53",
            TradeCommand::CancelByOperator {
                reason: reason("x"),
            },
            ActorRole::Operator,
            WithdrawalStatus::OperatorCancelRefunded,
        ),
    ];
    for (state, command, role, withdrawal) in cases {
        let trade = &s[state];
        let t = trade
            .apply(command, &actor(role, trade), LATE, &rules)
            .unwrap();
        // An approved trade's scheduled payout is cancelled first: the seller is never paid too.
        let payout_cancelled = (state == "33/80").then_some(MoneyEffect::CancelPayout {
            amount: trade.quote.seller_payout,
        });
        let expected: Vec<_> = payout_cancelled
            .into_iter()
            .chain([
                MoneyEffect::Refund {
                    amount: paid,
                    withdrawal,
                },
                MoneyEffect::ReleaseSellerLimits {
                    amount: paid,
                    method: PaymentMethod::Card,
                },
            ])
            .collect();
        assert_eq!(t.money, expected, "{state}");
        assert_eq!(t.product, Some(ProductEffect::Release));
        assert_eq!(t.callbacks, [CallbackType::TradeStatusChanged]);
        assert!(t.timers.is_empty());
    }
}

#[test]
fn deposit_cancel_releases_limits_without_a_refund() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t13 = &states()["13"];
    let t = t13
        .apply(
            TradeCommand::CancelDeposit,
            &actor(ActorRole::Buyer, t13),
            OPENED,
            &rules,
        )
        .unwrap();
    assert_eq!(
        t.money,
        [MoneyEffect::ReleaseSellerLimits {
            amount: Money::krw(53_000),
            method: PaymentMethod::VirtualAccount
        }]
    );
    assert_eq!(t.product, Some(ProductEffect::Release));
}

#[test]
fn the_deposit_deadline_job_fires_a_minute_after_not_a_minute_before() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t13 = &states()["13"];
    let batch = Actor::Batch("deposit-expiry".into());
    assert_eq!(
        t13.apply(
            TradeCommand::CancelDeposit,
            &batch,
            datetime!(2025-03-07 09:59 +9),
            &rules
        ),
        Err(TransitionError::NotDue {
            due: datetime!(2025-03-07 10:00 +9)
        })
    );
    let t = t13
        .apply(
            TradeCommand::CancelDeposit,
            &batch,
            datetime!(2025-03-07 10:01 +9),
            &rules,
        )
        .unwrap();
    assert_eq!(t.trade.status, TradeStatus::DepositCancelled);
}

#[test]
fn approval_computes_the_payout_date_and_schedules_the_payout() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t32d = &states()["32d"];
    // Paid Thu 03-06, approved Fri 03-07 → P+3 = Tue 03-11.
    let t = t32d
        .apply(
            TradeCommand::ApprovePurchase,
            &actor(ActorRole::Buyer, t32d),
            datetime!(2025-03-07 12:00 +9),
            &rules,
        )
        .unwrap();
    assert_eq!(t.trade.deadlines.payout_date, Some(date!(2025 - 03 - 11)));
    assert_eq!(
        t.money,
        [MoneyEffect::SchedulePayout {
            amount: t32d.quote.seller_payout,
            on: date!(2025 - 03 - 11)
        }]
    );
    assert_eq!(t.product, Some(ProductEffect::MarkSold));
    assert_eq!(t.notifications[0].variables["payoutDate"], "2025-03-11");
    assert_eq!(t.notifications[0].variables["sellerPayout"], "50,039원"); // 53,000 − (1,961 + 1,000)
    assert_eq!(
        t.timers,
        [Timer {
            kind: TimerKind::Payout,
            due: datetime!(2025-03-11 10:00 +9)
        }]
    );
    // The payout job before and after its time.
    let batch = Actor::Batch("payout".into());
    assert!(matches!(
        t.trade.apply(
            TradeCommand::PayOut,
            &batch,
            datetime!(2025-03-11 09:59 +9),
            &rules
        ),
        Err(TransitionError::NotDue { .. })
    ));
    let paid = t
        .trade
        .apply(
            TradeCommand::PayOut,
            &batch,
            datetime!(2025-03-11 10:01 +9),
            &rules,
        )
        .unwrap();
    assert_eq!(paid.trade.withdrawal, WithdrawalStatus::PaidOut);
    assert_eq!(
        paid.money,
        [MoneyEffect::PayOut {
            amount: Money::krw(50_039)
        }]
    );
}

#[test]
fn delivery_starts_the_auto_approval_timer_with_reminders() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    // Shipped the day before the delivery this test reports.
    let mut shipped = states()["32"].clone();
    shipped.shipped_at = Some(datetime!(2025-01-23 10:00 +9));
    let t32 = &shipped;
    // Delivered Fri 2025-01-24; Seollal holidays Jan 27–30: D+1 Fri 01-31, D+2 Mon 02-03, D+3 Tue 02-04,
    // D+4 Wed 02-05, D+5 Thu 02-06. Reminders: −3 = Mon 02-03, −1 = Wed 02-05.
    let t = t32
        .apply(
            TradeCommand::ReportDelivery {
                delivered_at: datetime!(2025-01-24 14:00 +9),
            },
            &actor(ActorRole::Partner, t32),
            datetime!(2025-01-24 14:05 +9),
            &rules,
        )
        .unwrap();
    assert_eq!(t.callbacks, [CallbackType::TradeUpdated]);
    let timers: Vec<_> = t.timers.iter().map(|t| (t.kind, t.due)).collect();
    assert_eq!(
        timers,
        [
            (
                TimerKind::DeliveredApprovalRequest,
                datetime!(2025-01-24 14:00 +9)
            ),
            (
                TimerKind::ApprovalReminder {
                    business_days_before: 3
                },
                datetime!(2025-02-03 10:00 +9)
            ),
            (
                TimerKind::ApprovalReminder {
                    business_days_before: 1
                },
                datetime!(2025-02-05 10:00 +9)
            ),
            (TimerKind::AutoApproval, datetime!(2025-02-06 10:00 +9)),
        ]
    );
    // A reminder goes once.
    let batch = Actor::Batch("reminders".into());
    let reminded = t
        .trade
        .apply(
            TradeCommand::Remind(Reminder::DeliveredApprovalRequest),
            &batch,
            datetime!(2025-01-24 14:06 +9),
            &rules,
        )
        .unwrap();
    assert!(reminded.callbacks.is_empty());
    assert_eq!(reminded.timers.len(), 3);
    assert_eq!(
        reminded.trade.apply(
            TradeCommand::Remind(Reminder::DeliveredApprovalRequest),
            &batch,
            datetime!(2025-01-24 14:07 +9),
            &rules
        ),
        Err(TransitionError::ReminderAlreadySent)
    );
    // Automatic approval: a minute before is refused, a minute after approves.
    assert!(matches!(
        t.trade.apply(
            TradeCommand::ApprovePurchase,
            &batch,
            datetime!(2025-02-06 09:59 +9),
            &rules
        ),
        Err(TransitionError::NotDue { .. })
    ));
    let approved = t
        .trade
        .apply(
            TradeCommand::ApprovePurchase,
            &batch,
            datetime!(2025-02-06 10:01 +9),
            &rules,
        )
        .unwrap();
    assert_eq!(approved.trade.status, TradeStatus::Completed);
    // A delivery before the shipment would skip the inspection window: refused.
    assert!(matches!(
        t32.apply(
            TradeCommand::ReportDelivery {
                delivered_at: datetime!(1970-01-01 00:00 UTC)
            },
            &actor(ActorRole::Partner, t32),
            datetime!(2025-01-24 14:05 +9),
            &rules,
        ),
        Err(TransitionError::InvalidInput {
            field: "deliveredAt",
            ..
        })
    ));
    // A future delivery time is refused.
    assert!(matches!(
        t32.apply(
            TradeCommand::ReportDelivery {
                delivered_at: datetime!(2025-01-24 15:00 +9)
            },
            &actor(ActorRole::Partner, t32),
            datetime!(2025-01-24 14:05 +9),
            &rules,
        ),
        Err(TransitionError::InvalidInput {
            field: "deliveredAt",
            ..
        })
    ));
}

#[test]
fn a_return_request_stops_the_auto_approval_timer() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t51 = &states()["51"];
    assert_eq!(t51.deadlines.auto_approval_at, None);
    assert!(t51.pending_timers(&rules).is_empty());
}

#[test]
fn a_return_is_refunded_the_next_business_day() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t53 = &states()["53"];
    let t = t53
        .apply(
            TradeCommand::ConfirmReturnReceipt,
            &actor(ActorRole::Seller, t53),
            datetime!(2025-03-07 16:00 +9),
            &rules,
        )
        .unwrap();
    assert_eq!(
        t.money,
        [MoneyEffect::ScheduleRefund {
            amount: Money::krw(53_000),
            on: date!(2025 - 03 - 10)
        }]
    );
    assert_eq!(t.notifications[0].variables["refundDate"], "2025-03-10");
    let batch = Actor::Batch("return-refund".into());
    let r = t
        .trade
        .apply(
            TradeCommand::RefundReturn,
            &batch,
            datetime!(2025-03-10 10:00 +9),
            &rules,
        )
        .unwrap();
    assert_eq!(r.trade.withdrawal, WithdrawalStatus::ReturnRefunded);
    assert_eq!(
        r.money,
        [
            MoneyEffect::Refund {
                amount: Money::krw(53_000),
                withdrawal: WithdrawalStatus::ReturnRefunded
            },
            MoneyEffect::ReleaseSellerLimits {
                amount: Money::krw(53_000),
                method: PaymentMethod::Card
            },
        ]
    );
}

#[test]
fn the_cancel_request_is_agreed_automatically_after_three_business_days() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t34 = &states()["34"]; // requested Thu 2025-03-06
    assert_eq!(
        t34.deadlines.auto_cancel_agreement_at,
        Some(datetime!(2025-03-11 10:00 +9))
    );
    let batch = Actor::Batch("auto-cancel".into());
    assert!(t34
        .apply(
            TradeCommand::AgreeCancel,
            &batch,
            datetime!(2025-03-11 09:59 +9),
            &rules
        )
        .is_err());
    let t = t34
        .apply(
            TradeCommand::AgreeCancel,
            &batch,
            datetime!(2025-03-11 10:01 +9),
            &rules,
        )
        .unwrap();
    assert_eq!(t.trade.status, TradeStatus::CancelledByBuyer);
}

#[test]
fn a_hold_stops_jobs_and_allows_one_shipping_correction() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t32d = &states()["32d"];
    let op = Actor::Operator("op".into());
    let seller = actor(ActorRole::Seller, t32d);
    let held = t32d
        .apply(
            TradeCommand::Hold {
                reason: reason("송장 오류"),
            },
            &op,
            LATE,
            &rules,
        )
        .unwrap()
        .trade;
    assert_eq!(
        held.apply(
            TradeCommand::ApprovePurchase,
            &Actor::Batch("auto".into()),
            LATE,
            &rules
        ),
        Err(TransitionError::OnHold)
    );
    assert_eq!(
        held.apply(
            TradeCommand::Hold {
                reason: reason("again")
            },
            &op,
            LATE,
            &rules
        ),
        Err(TransitionError::AlreadyHeld)
    );
    let fixed_invoice = Shipment::new("010", "55554444").unwrap();
    let corrected = held
        .apply(
            TradeCommand::RegisterShipment(fixed_invoice.clone()),
            &seller,
            LATE,
            &rules,
        )
        .unwrap();
    assert_eq!(corrected.trade.shipment, Some(fixed_invoice));
    assert_eq!(corrected.trade.status, TradeStatus::Shipping);
    assert_eq!(corrected.callbacks, [CallbackType::TradeUpdated]);
    // Only once.
    assert!(matches!(
        corrected.trade.apply(
            TradeCommand::RegisterShipment(ship()),
            &seller,
            LATE,
            &rules
        ),
        Err(TransitionError::InvalidTransition { .. })
    ));
    let released = corrected
        .trade
        .apply(TradeCommand::Release, &op, LATE, &rules)
        .unwrap()
        .trade;
    assert!(!released.held);
    assert_eq!(
        released.apply(TradeCommand::Release, &op, LATE, &rules),
        Err(TransitionError::NotHeld)
    );
    // Without a hold, the invoice is immutable.
    assert!(t32d
        .apply(
            TradeCommand::RegisterShipment(ship()),
            &seller,
            LATE,
            &rules
        )
        .is_err());
    // Released: the job runs again.
    assert!(released
        .apply(
            TradeCommand::ApprovePurchase,
            &Actor::Batch("auto".into()),
            LATE,
            &rules
        )
        .is_ok());
}

#[test]
fn the_error_names_the_current_status() {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t33 = &states()["33/83"];
    let e = t33
        .apply(
            TradeCommand::CancelByOperator {
                reason: reason("x"),
            },
            &Actor::Operator("op".into()),
            LATE,
            &rules,
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "CANCEL_BY_OPERATOR is not possible in status Completed(33) / withdrawal 83"
    );
}

fn arb_command() -> impl Strategy<Value = TradeCommand> {
    let n = all_commands(OPENED).len();
    (0..n).prop_map(|i| all_commands(OPENED)[i].clone())
}

fn arb_role() -> impl Strategy<Value = ActorRole> {
    prop::sample::select(ActorRole::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random command sequences: no command leaves a terminal status, refunds never exceed what was
    /// paid and happen at most once, the version counts the applied commands.
    #[test]
    fn random_walks_keep_the_money_invariants(
        va in any::<bool>(),
        price in 2_000i64..3_000_000,
        steps in prop::collection::vec((arb_command(), arb_role(), 0i64..200), 1..40),
    ) {
        let (contract, calendar) = rules();
        let rules = TradeRules { contract: &contract, calendar: &calendar };
        let method = if va { PaymentMethod::VirtualAccount } else { PaymentMethod::Card };
        let mut trade = Trade::open(open_trade(method, TradeType::Premium, price), OPENED, &rules).unwrap().trade;
        let paid = trade.quote.payment_amount.minor_units();
        let mut refunded = 0i64;
        let mut paid_out = 0i64;
        let mut now = OPENED;
        let mut applied = 0;
        for (command, role, hours) in steps {
            now += time::Duration::hours(hours);
            let was_terminal = is_terminal(trade.status, trade.withdrawal);
            let command = match command {
                TradeCommand::ReportDelivery { .. } => TradeCommand::ReportDelivery { delivered_at: now },
                c => c,
            };
            if let Ok(t) = trade.apply(command, &actor(role, &trade), now, &rules) {
                    prop_assert!(!was_terminal, "left terminal {}", trade.status);
                    for m in &t.money {
                        match m {
                            MoneyEffect::Refund { amount, .. } => refunded += amount.minor_units(),
                            MoneyEffect::PayOut { amount } => paid_out += amount.minor_units(),
                            _ => {}
                        }
                    }
                    applied += 1;
                    prop_assert_eq!(t.trade.version, 1 + applied);
                    trade = t.trade;
            }
            prop_assert!(refunded <= paid);
            prop_assert!(refunded == 0 || paid_out == 0, "refunded and paid out");
            if trade.paid_at.is_none() {
                prop_assert_eq!(refunded, 0, "refund of an unpaid trade");
            }
            prop_assert!(paid_out <= trade.quote.seller_payout.minor_units());
        }
    }
}

#[test]
fn every_trade_state_round_trips_through_json() {
    // Adapters store the trade as JSON: nothing may be lost on the way.
    for (state, trade) in states() {
        let json = serde_json::to_string(&trade).unwrap();
        assert_eq!(
            serde_json::from_str::<Trade>(&json).unwrap(),
            trade,
            "{state}"
        );
    }
    let json = serde_json::to_value(&states()["32d"]).unwrap();
    assert_eq!(json["status"], "SHIPPING");
    assert_eq!(json["deliveredAt"], "2025-03-06T10:00:00+09:00");
}

/// A contract stored before its values were bounded cannot panic or spin: every date and instant
/// computation saturates or is capped.
#[test]
fn extreme_stored_timers_neither_panic_nor_spin() {
    let (mut contract, calendar) = rules();
    contract.timers.deposit_deadline_hours = u32::MAX;
    contract.timers.deposit_reminder_hours = u32::MAX - 1;
    contract.timers.auto_approval_business_days = u32::MAX;
    contract.timers.auto_cancel_agreement_business_days = u32::MAX;
    contract.timers.approval_reminder_business_days = vec![u32::MAX - 1];
    contract.settlement.return_refund_business_days = u32::MAX;
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    // A spin would not finish (the test harness would hang): these calls returning is the check.
    let va = Trade::open(
        open_trade(PaymentMethod::VirtualAccount, TradeType::General, 50_000),
        OPENED,
        &rules,
    )
    .unwrap();
    assert!(va.trade.deadlines.deposit_deadline.is_some());
    let paid = Trade::open(
        open_trade(PaymentMethod::Card, TradeType::General, 50_000),
        OPENED,
        &rules,
    )
    .unwrap()
    .trade;
    let shipped = paid
        .apply(
            TradeCommand::RegisterShipment(ship()),
            &actor(ActorRole::Seller, &paid),
            OPENED,
            &rules,
        )
        .unwrap()
        .trade;
    let delivered = shipped
        .apply(
            TradeCommand::ReportDelivery {
                delivered_at: OPENED,
            },
            &actor(ActorRole::Partner, &shipped),
            OPENED,
            &rules,
        )
        .unwrap()
        .trade;
    assert!(delivered.deadlines.auto_approval_at.is_some());
    let cancel = paid
        .apply(
            TradeCommand::RequestCancel {
                reason: reason("x"),
            },
            &actor(ActorRole::Buyer, &paid),
            OPENED,
            &rules,
        )
        .unwrap();
    assert!(!cancel.timers.is_empty());
}

/// A member's request names a role: the trade decides whether the member is that party.
#[test]
fn a_member_acts_only_in_its_own_role_on_a_trade() {
    let t = &states()["32d"];
    let command = TradeCommand::ApprovePurchase;
    assert_eq!(
        t.member_actor(t.buyer_id, ActorRole::Buyer, &command),
        Ok(Actor::Buyer(t.buyer_id))
    );
    assert_eq!(
        t.member_actor(t.seller_id, ActorRole::Seller, &command),
        Ok(Actor::Seller(t.seller_id))
    );
    assert_eq!(
        t.member_actor(t.seller_id, ActorRole::Buyer, &command),
        Err(TransitionError::ActorNotAllowed {
            role: ActorRole::Buyer,
            command: "APPROVE_PURCHASE"
        })
    );
    assert!(matches!(
        t.member_actor(t.buyer_id, ActorRole::Operator, &command),
        Err(TransitionError::ActorNotAllowed { .. })
    ));
    assert_eq!(
        t.member_actor(MemberId::random(), ActorRole::Buyer, &command),
        Err(TransitionError::NotParticipant)
    );
}
