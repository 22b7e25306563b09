//! The escrow service binary. For now it only reports what it would run; the HTTP server, the
//! database and the jobs are wired here as their adapters land.

fn main() {
    let contract = escrow_domain::contract::Contract::standard_2022();
    println!(
        "escrow-server: domain core ready (default contract {}); HTTP adapter not wired yet",
        contract.code
    );
}
