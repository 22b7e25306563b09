//! The hosted signup verified through PortOne's certifications (SPEC §13): the page posts the
//! certification's `imp_uid` with what the person typed; the service asks PortOne (the simulator over
//! HTTP) and the membership policy refuses a foreigner or an under-14 from PortOne's answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{App, ORIGIN};
use escrow_portone::simulator::NewCertification;
use reqwest::StatusCode;

fn certify(app: &App, name: &str, birthday: &str, phone: &str, foreigner: bool) -> String {
    app.portone.certify(NewCertification {
        name: name.into(),
        birthday: birthday.into(),
        phone: phone.into(),
        foreigner,
    })
}

/// Posts the signup form of a new session for `user`; the answer's status and where it goes (or
/// the page).
async fn sign_up(
    app: &App,
    user: &str,
    typed: (&str, &str, &str),
    certification: &str,
) -> (StatusCode, String) {
    let link = app
        .open_signup(&app.partner.clone(), user, "/signup-done")
        .await;
    let page = app
        .http
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"certification\""), "{page}");
    let (name, birth, phone) = typed;
    let r = app
        .http
        .post(format!("{}/signup/{}", app.base, link.id))
        .form(&[
            ("sig", link.sig.as_str()),
            ("agree_all", "on"),
            ("name", name),
            ("birthDate", birth),
            ("phone", phone),
            ("nationality", "KR"),
            ("certification", certification),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (status, location.unwrap_or(r.text().await.unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certified_korean_adult_signs_up_and_portone_s_answer_decides_the_refusals() {
    let app = App::spawn_with_portone_identity().await;
    let ok = certify(&app, "홍길동", "1990-05-05", "01012345678", false);
    let (status, to) = sign_up(
        &app,
        "pi-adult",
        ("홍길동", "1990-05-05", "010-1234-5678"),
        &ok,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    assert!(
        to.starts_with(&format!("{ORIGIN}/signup-done")) && to.contains("result=success"),
        "{to}"
    );
    let members = app
        .text("SELECT count(*)::text AS v FROM members WHERE partner_user_id = 'pi-adult'")
        .await;
    assert_eq!(members, "1");

    // The form says 내국인, PortOne says foreigner: refused as a foreigner.
    let foreign = certify(&app, "John Smith", "1990-05-05", "01022223333", true);
    let (status, to) = sign_up(
        &app,
        "pi-foreign",
        ("John Smith", "1990-05-05", "01022223333"),
        &foreign,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    assert!(
        to.contains("result=fail") && to.contains("code=FOREIGNER"),
        "{to}"
    );

    // Under 14 by PortOne's birthday.
    let child = certify(&app, "김어린", "2020-01-01", "01044445555", false);
    let (status, to) = sign_up(
        &app,
        "pi-child",
        ("김어린", "2020-01-01", "01044445555"),
        &child,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    assert!(to.contains("code=UNDER_14"), "{to}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_unknown_or_someone_elses_certification_verifies_nobody() {
    let app = App::spawn_with_portone_identity().await;
    let theirs = certify(&app, "홍길동", "1990-05-05", "01012345678", false);
    for (user, typed, certification) in [
        ("pi-none", ("홍길동", "1990-05-05", "01012345678"), ""),
        (
            "pi-unknown",
            ("홍길동", "1990-05-05", "01012345678"),
            "imp_000000000000",
        ),
        (
            "pi-borrowed",
            ("이순신", "1985-04-28", "01099998888"),
            theirs.as_str(),
        ),
        (
            "pi-injected",
            ("홍길동", "1990-05-05", "01012345678"),
            "../users/getToken",
        ),
    ] {
        let (status, page) = sign_up(&app, user, typed, certification).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{user}: {page}");
        assert!(page.contains("본인인증에 실패했습니다"), "{user}: {page}");
    }
    let members = app
        .text("SELECT count(*)::text AS v FROM members WHERE partner_user_id LIKE 'pi-%'")
        .await;
    assert_eq!(members, "0");
}
