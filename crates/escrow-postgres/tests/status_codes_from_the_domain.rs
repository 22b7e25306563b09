//! Refund, payout, checkout and product statuses are the domain's: the adapters store the codes the
//! domain's enums give (`RefundStatus::Pending.code()` …) and never spell them out themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn no_money_out_checkout_or_product_status_literal_in_the_adapters() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = sources(&root.join("src"));
    files.extend(sources(&root.join("../escrow-http/src")));
    // Codes only these four lifecycles use, quoted as Rust or SQL strings.
    let codes = [
        "SCHEDULED",
        "REFUNDING",
        "MANUAL_QUEUE",
        "DUE",
        "INSTRUCTING",
        "INSTRUCTED",
        "ON_SALE",
        "RESERVED",
        "SOLD",
        "STOPPED",
    ];
    let mut found = Vec::new();
    for (file, text) in &files {
        for (n, line) in text.lines().enumerate() {
            let spelled = codes
                .iter()
                .any(|c| line.contains(&format!("\"{c}\"")) || line.contains(&format!("'{c}'")));
            let status_filter = [
                "refunds::status.eq(\"",
                "payouts::status.eq(\"",
                "checkouts::status.eq(\"",
                "products::status.eq(\"",
            ]
            .iter()
            .any(|p| line.contains(p));
            let sql_status = !file.ends_with("outbox.rs")
                && (line.contains("status = '") || line.contains("status IN ('"));
            if spelled || status_filter || sql_status {
                found.push(format!("{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "status literals:\n{}", found.join("\n"));
}
