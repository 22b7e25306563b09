//! The simulator's INIAPI (refund and inquiry, checking `hashData`) and its deposits with their
//! notices (입금통보).

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::{lock, State};
use crate::hashes;
use crate::wire::{IniApiAnswer, IniApiRequest, InquiryAnswer, InquiryData, RefundData};

fn iniapi_check<D: Serialize>(state: &State, body: &IniApiRequest<D>) -> Result<String, String> {
    let merchant = state.merchant(&body.mid).ok_or("unknown mid")?;
    // `json(data)` in the request's own field order (as the client serialized it).
    let json = serde_json::to_string(&body.data).map_err(|e| e.to_string())?;
    let expected = hashes::hash_data(
        &merchant.iniapi_key,
        &merchant.mid,
        &body.kind,
        &body.timestamp,
        &json,
    );
    if !hashes::same_digest(&expected, &body.hash_data) {
        return Err("hashData".into());
    }
    Ok(merchant.mid.clone())
}

fn iniapi_answer(code: &str, msg: &str, data: Option<InquiryAnswer>) -> HttpResponse {
    HttpResponse::Ok().json(IniApiAnswer {
        result_code: code.into(),
        result_msg: msg.into(),
        data,
    })
}

pub(super) async fn refund(
    state: web::Data<State>,
    body: web::Json<IniApiRequest<RefundData>>,
) -> HttpResponse {
    let mid = match iniapi_check(&state, &body) {
        Ok(mid) => mid,
        Err(why) => return iniapi_answer("01", &why, None),
    };
    if lock(&state.behavior).refuse_refunds {
        return iniapi_answer("02", "환불 거절", None);
    }
    let tid = body.data.tid.clone();
    let mut transactions = lock(&state.transactions);
    match transactions
        .get_mut(&tid)
        .filter(|t| t.mid == mid && t.status == "PAID")
    {
        Some(t) => {
            if t.method == "VBank" {
                // A virtual account is refunded to the account the request names.
                let Some(merchant) = state.merchant(&mid) else {
                    return iniapi_answer("01", "unknown mid", None);
                };
                let number = body.data.refund_acct_num.as_deref().and_then(|n| {
                    hashes::decrypt_account(&merchant.iniapi_key, &merchant.iniapi_iv, n)
                });
                let (Some(number), Some(bank), Some(holder)) = (
                    number,
                    body.data.refund_bank_code.clone(),
                    body.data.refund_acct_name.clone(),
                ) else {
                    return iniapi_answer("04", "환불계좌 정보가 없습니다", None);
                };
                lock(&state.record)
                    .refunded_to
                    .push((tid.clone(), bank, number, holder));
            }
            t.status = "CANCELLED".into();
            lock(&state.record).refunded.push(tid);
            iniapi_answer("00", "정상처리", None)
        }
        None => iniapi_answer("03", "환불할 거래가 없습니다", None),
    }
}

pub(super) async fn inquiry(
    state: web::Data<State>,
    body: web::Json<IniApiRequest<InquiryData>>,
) -> HttpResponse {
    let mid = match iniapi_check(&state, &body) {
        Ok(mid) => mid,
        Err(why) => return iniapi_answer("01", &why, None),
    };
    let t = lock(&state.transactions)
        .get(&body.data.tid)
        .filter(|t| t.mid == mid)
        .cloned();
    match t {
        Some(t) => iniapi_answer(
            "00",
            "정상처리",
            Some(InquiryAnswer {
                tid: t.tid,
                oid: t.oid,
                price: t.price.to_string(),
                status: t.status,
            }),
        ),
        None => iniapi_answer("03", "거래 없음", None),
    }
}

/// The buyer paid into the virtual account of `tid`: it becomes PAID and the deposit notice is
/// posted (twice with `duplicate_deposit_notice`).
pub(super) async fn deposit(state: web::Data<State>, tid: web::Path<String>) -> HttpResponse {
    let t = {
        let mut transactions = lock(&state.transactions);
        match transactions
            .get_mut(tid.as_str())
            .filter(|t| t.status == "WAITING")
        {
            Some(t) => {
                t.status = "PAID".into();
                t.clone()
            }
            None => return HttpResponse::NotFound().body("no waiting virtual account"),
        }
    };
    let Some(url) = lock(&state.notice_url).clone() else {
        return HttpResponse::Conflict().body("no notice URL set");
    };
    let times = if lock(&state.behavior).duplicate_deposit_notice {
        2
    } else {
        1
    };
    let body = serde_urlencoded::to_string([
        ("no_tid", t.tid.as_str()),
        ("no_oid", t.oid.as_str()),
        ("id_merchant", t.mid.as_str()),
        ("amt_input", &t.price.to_string()),
        ("type_msg", "0200"),
    ])
    .unwrap_or_default();
    let mut answers = Vec::new();
    for _ in 0..times {
        let status = match state
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
        {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        lock(&state.record).notices.push((t.tid.clone(), status));
        answers.push(status);
    }
    HttpResponse::Ok().json(answers)
}
