//! The log filter: what `ESCROW_LOG` asks for, with the targets that would print secrets capped.

/// Targets whose debug and trace output carries bind parameters, which decode to partner secrets,
/// member keys, phones and names: held at `info` whatever `ESCROW_LOG` asks.
pub const SECRET_BEARING_LOG_TARGETS: &[&str] =
    &["tokio_postgres", "postgres", "diesel", "diesel_async"];

/// The log filter for `ESCROW_LOG` (default `info`), with [`SECRET_BEARING_LOG_TARGETS`] capped.
pub fn log_filter(spec: Option<&str>) -> tracing_subscriber::EnvFilter {
    let mut filter = spec
        .and_then(|s| tracing_subscriber::EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    for target in SECRET_BEARING_LOG_TARGETS {
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

#[cfg(test)]
mod log_filter_tests {
    #[test]
    fn the_database_driver_stays_at_info_even_when_everything_is_traced() {
        for spec in [
            Some("trace"),
            Some("tokio_postgres=trace,trace"),
            None,
            Some("not a filter["),
        ] {
            let filter = super::log_filter(spec).to_string();
            for target in super::SECRET_BEARING_LOG_TARGETS {
                assert!(
                    filter.contains(&format!("{target}=info")),
                    "{spec:?}: {filter}"
                );
                assert!(
                    !filter.contains(&format!("{target}=trace")),
                    "{spec:?}: {filter}"
                );
            }
        }
    }
}
