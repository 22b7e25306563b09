//! Diesel's view of the tables in `migrations/` (written by hand to match them; the migration
//! round-trip test checks both against a real server).
#![allow(missing_docs)]

diesel::table! {
    partners (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        api_key_id -> Text,
        api_secret -> Text,
        webhook_url -> Nullable<Text>,
        webhook_secret -> Nullable<Text>,
        webhook_secret_previous -> Nullable<Text>,
        allowed_redirect_origins -> Array<Text>,
        status -> Text,
        created_at -> Timestamptz,
        mode -> Text,
    }
}

diesel::table! {
    contracts (id) {
        id -> Int8,
        partner_id -> Uuid,
        version -> Int4,
        code -> Text,
        terms -> Jsonb,
        effective_from -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    members (id) {
        id -> Uuid,
        partner_id -> Uuid,
        partner_user_id -> Text,
        status -> Text,
        member_key_hash -> Text,
        name -> Text,
        phone -> Text,
        birth_date -> Date,
        created_at -> Timestamptz,
        withdrawn_at -> Nullable<Timestamptz>,
        test_clock_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    signup_sessions (id) {
        id -> Uuid,
        partner_id -> Uuid,
        partner_user_id -> Text,
        return_url -> Text,
        status -> Text,
        refusal_reason -> Nullable<Text>,
        member_id -> Nullable<Uuid>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        member_key -> Nullable<Text>,
        test_clock_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    member_terms_agreements (member_id, term_code) {
        member_id -> Uuid,
        term_code -> Text,
        version -> Text,
        agreed_at -> Timestamptz,
    }
}

diesel::table! {
    identity_verifications (id) {
        id -> Int8,
        signup_session_id -> Uuid,
        member_id -> Nullable<Uuid>,
        provider -> Text,
        outcome -> Text,
        refusal_reason -> Nullable<Text>,
        verified_at -> Timestamptz,
    }
}

diesel::table! {
    products (id) {
        id -> Uuid,
        partner_id -> Uuid,
        seller_id -> Uuid,
        partner_product_id -> Text,
        name -> Text,
        currency -> Text,
        price -> Int8,
        shipping_fee -> Int8,
        payment_methods -> Array<Text>,
        description -> Nullable<Text>,
        image_url -> Nullable<Text>,
        category_code -> Nullable<Text>,
        status -> Text,
        has_trades -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    checkouts (id) {
        id -> Uuid,
        partner_id -> Uuid,
        buyer_id -> Uuid,
        seller_id -> Uuid,
        product_id -> Uuid,
        method -> Text,
        trade_type -> Text,
        currency -> Text,
        product_price -> Int8,
        shipping_fee -> Int8,
        payment_amount -> Int8,
        payment_fee -> Int8,
        safe_trade_fee -> Int8,
        escrow_fee -> Int8,
        seller_payout -> Int8,
        shipping_address -> Jsonb,
        return_url -> Text,
        partner_trade_no -> Nullable<Text>,
        status -> Text,
        failure_code -> Nullable<Text>,
        pg_gateway -> Nullable<Text>,
        pg_transaction_id -> Nullable<Text>,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        trade_id -> Nullable<Uuid>,
        test_clock_id -> Nullable<Uuid>,
        pg_merchant_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    seller_limit_usage (seller_id, limit_window, scope, period_start) {
        seller_id -> Uuid,
        limit_window -> Text,
        scope -> Text,
        period_start -> Date,
        currency -> Text,
        used -> Int8,
        cap -> Int8,
    }
}

diesel::table! {
    limit_reservations (checkout_id) {
        checkout_id -> Uuid,
        seller_id -> Uuid,
        method -> Text,
        amount -> Int8,
        day_start -> Date,
        month_start -> Date,
        reserved_at -> Timestamptz,
        released_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    trades (id) {
        id -> Uuid,
        partner_id -> Uuid,
        checkout_id -> Uuid,
        partner_trade_no -> Nullable<Text>,
        buyer_id -> Uuid,
        seller_id -> Uuid,
        product_id -> Uuid,
        method -> Text,
        trade_type -> Text,
        currency -> Text,
        payment_amount -> Int8,
        escrow_fee -> Int8,
        seller_payout -> Int8,
        status_cd -> Int2,
        complete_cd -> Int2,
        held -> Bool,
        delivered_at -> Nullable<Timestamptz>,
        payout_date -> Nullable<Date>,
        version -> Int8,
        snapshot -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        test_clock_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    test_clocks (id) {
        id -> Uuid,
        partner_id -> Uuid,
        name -> Text,
        frozen_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    trade_events (id) {
        id -> Int8,
        trade_id -> Uuid,
        sequence -> Int8,
        command -> Text,
        actor_role -> Text,
        actor_id -> Nullable<Text>,
        from_status -> Nullable<Int2>,
        to_status -> Int2,
        from_withdrawal -> Nullable<Int2>,
        to_withdrawal -> Int2,
        reason -> Nullable<Text>,
        occurred_at -> Timestamptz,
    }
}

diesel::table! {
    trade_timers (trade_id, kind) {
        trade_id -> Uuid,
        kind -> Text,
        partner_id -> Uuid,
        due_at -> Timestamptz,
        payload -> Jsonb,
    }
}

diesel::table! {
    pg_transactions (id) {
        id -> Int8,
        checkout_id -> Uuid,
        gateway -> Text,
        transaction_id -> Text,
        outcome -> Text,
        failure_code -> Nullable<Text>,
        report -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        reconciled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refunds (id) {
        id -> Int8,
        trade_id -> Nullable<Uuid>,
        amount -> Int8,
        currency -> Text,
        withdrawal_cd -> Nullable<Int2>,
        status -> Text,
        due_date -> Nullable<Date>,
        detail -> Nullable<Text>,
        created_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        checkout_id -> Nullable<Uuid>,
        pg_transaction_id -> Nullable<Text>,
        reason -> Text,
        pg_gateway -> Nullable<Text>,
    }
}

diesel::table! {
    payouts (id) {
        id -> Int8,
        trade_id -> Uuid,
        seller_id -> Uuid,
        amount -> Int8,
        currency -> Text,
        due_date -> Date,
        status -> Text,
        instructed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        event_id -> Uuid,
        kind -> Text,
        partner_id -> Uuid,
        trade_id -> Nullable<Uuid>,
        sequence -> Nullable<Int8>,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
        retry_from -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outbox_attempts (id) {
        id -> Int8,
        outbox_id -> Int8,
        attempted_at -> Timestamptz,
        outcome -> Text,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (partner_id, idempotency_key) {
        partner_id -> Uuid,
        idempotency_key -> Text,
        request_hash -> Text,
        resource_id -> Nullable<Uuid>,
        response_status -> Nullable<Int2>,
        response_body -> Nullable<Jsonb>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    holidays (holiday_date) {
        holiday_date -> Date,
        name -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    admin_keys (id) {
        id -> Uuid,
        name -> Text,
        key_hash -> Text,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    used_signatures (partner_id, signature) {
        partner_id -> Uuid,
        signature -> Text,
        seen_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    partners,
    contracts,
    members,
    signup_sessions,
    member_terms_agreements,
    identity_verifications,
    products,
    checkouts,
    seller_limit_usage,
    limit_reservations,
    trades,
    trade_events,
    trade_timers,
    pg_transactions,
    refunds,
    payouts,
    outbox,
    outbox_attempts,
    idempotency_keys,
    holidays,
    admin_keys,
    used_signatures,
    journal_postings,
    payout_accounts,
    test_clocks,
);

diesel::table! {
    payout_instructions (id) {
        id -> Int8,
        payout_id -> Int8,
        trade_id -> Uuid,
        seller_id -> Uuid,
        amount -> Int8,
        currency -> Text,
        due_date -> Date,
        instructed_at -> Timestamptz,
        bank_code -> Nullable<Text>,
        account_sealed -> Nullable<Text>,
        holder_sealed -> Nullable<Text>,
    }
}

diesel::table! {
    payout_accounts (member_id) {
        member_id -> Uuid,
        partner_id -> Uuid,
        bank_code -> Text,
        number_sealed -> Text,
        holder_sealed -> Text,
        number_masked -> Text,
        holder_masked -> Text,
        verified_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(payouts, payout_instructions);
diesel::allow_tables_to_appear_in_same_query!(payout_instructions, trades);
diesel::allow_tables_to_appear_in_same_query!(payout_instructions, partners);

diesel::table! {
    journal_postings (id) {
        id -> Int8,
        entry_id -> Uuid,
        partner_id -> Uuid,
        currency -> Text,
        checkout_id -> Uuid,
        trade_id -> Nullable<Uuid>,
        refund_id -> Nullable<Int8>,
        payout_id -> Nullable<Int8>,
        event -> Text,
        debit_account -> Text,
        credit_account -> Text,
        amount -> Int8,
        posted_at -> Timestamptz,
    }
}

diesel::table! {
    payment_routes (gateway, method) {
        gateway -> Text,
        method -> Text,
        connected -> Bool,
        enabled -> Bool,
        priority -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    merchants (id) {
        id -> Uuid,
        gateway -> Text,
        partner_id -> Nullable<Uuid>,
        mode -> Text,
        mid -> Text,
        keys_sealed -> Text,
        created_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    payment_setup_audit (id) {
        id -> Int8,
        actor -> Text,
        at -> Timestamptz,
        subject -> Text,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
    }
}

diesel::table! {
    installment_notices (id) {
        id -> Uuid,
        gateway -> Text,
        notice -> Jsonb,
        created_at -> Timestamptz,
        removed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refund_accounts (member_id) {
        member_id -> Uuid,
        partner_id -> Uuid,
        bank_code -> Text,
        number_sealed -> Text,
        holder_sealed -> Text,
        verified_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    addresses (id) {
        id -> Int8,
        partner_id -> Uuid,
        member_id -> Uuid,
        name -> Text,
        recipient -> Text,
        contact -> Text,
        postcode -> Text,
        address -> Text,
        address_detail -> Text,
        requirement -> Nullable<Text>,
        prime -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(addresses, members);

diesel::table! {
    delivery_requests (id) {
        id -> Int8,
        partner_id -> Uuid,
        requester_id -> Uuid,
        recipient -> Text,
        contact -> Text,
        postcode -> Text,
        address -> Text,
        address_detail -> Text,
        requirement -> Nullable<Text>,
        shipping_state -> Text,
        payment_state -> Text,
        merchant_uid -> Text,
        imp_uid -> Nullable<Text>,
        amount -> Int8,
        currency -> Text,
        paid_at -> Nullable<Timestamptz>,
        refunded_at -> Nullable<Timestamptz>,
        forgery_cancelled_at -> Nullable<Timestamptz>,
        shipped_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    vouchers (id) {
        id -> Int8,
        partner_id -> Uuid,
        owner_id -> Uuid,
        item_name -> Text,
        image_url -> Nullable<Text>,
        state -> Text,
        open_request_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    delivery_request_vouchers (request_id, voucher_id) {
        request_id -> Int8,
        voucher_id -> Int8,
    }
}

diesel::allow_tables_to_appear_in_same_query!(delivery_requests, members);
diesel::allow_tables_to_appear_in_same_query!(vouchers, members);
diesel::allow_tables_to_appear_in_same_query!(vouchers, delivery_request_vouchers);
diesel::allow_tables_to_appear_in_same_query!(delivery_requests, delivery_request_vouchers);
diesel::allow_tables_to_appear_in_same_query!(delivery_requests, vouchers);
