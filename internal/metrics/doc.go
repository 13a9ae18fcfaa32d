// Package metrics gives a costexplorer server its Prometheus metrics, on a
// registry per server (never the global default registry).
//
// The server wires it in: New(auth.FailureKinds), httpapi.Config.Observer
// and Metrics (the /metrics handler), auth.Config.OnFailure,
// jobs.Config.Observe, and InstrumentStore around the store every component
// uses. The package imports no sibling: what it reads of the other
// components comes through small interfaces (EngineStats, ScrapeStore) and
// values (the failure kinds). Values that live elsewhere (the
// process counts, the usage summary, the engine's snapshot) are read at
// scrape time (ReadAtScrape), from the store at most once per
// ScrapeConfig.CacheFor.
//
// Every label takes values from a fixed set: route patterns of the route
// table, HTTP statuses the server writes, failure kinds, process states,
// store method names, dimension names. No label carries a path, a token, an
// organization id or a credential, so /metrics is served without
// authentication, like the health checks.
//
// The metrics (besides the standard go_*, process_* and go_build_info):
//
//	costexplorer_http_requests_total{route,status}              counter   requests answered
//	costexplorer_http_request_duration_seconds{route,status}    histogram time to answer
//	costexplorer_http_requests_in_flight                        gauge     requests being served
//	costexplorer_http_rate_limited_total                        counter   429s of the Invoices rate limit
//	costexplorer_auth_failures_total{kind}                      counter   refused authentications (auth.Failure*)
//	costexplorer_query_processes{state}                         gauge     processes in the store (all replicas)
//	costexplorer_query_process_duration_seconds{state}          histogram evaluation time, done or failed here
//	costexplorer_store_operation_duration_seconds{operation}    histogram store call latency as the server sees it
//	costexplorer_store_operation_errors_total{operation}        counter   store calls that failed
//	costexplorer_usage_line_items                               gauge     line items stored (its increase: ingested)
//	costexplorer_usage_data_version                             gauge     the store's data version
//	costexplorer_usage_last_day_timestamp_seconds               gauge     latest usage day (data freshness)
//	costexplorer_engine_rollup_rows                             gauge     rollup cells in the engine's memory
//	costexplorer_engine_memory_bytes                            gauge     approximate memory of the snapshot
//	costexplorer_engine_data_version                            gauge     data version of the snapshot
//	costexplorer_engine_loaded_timestamp_seconds                gauge     when the snapshot was built
//	costexplorer_engine_load_duration_seconds                   gauge     how long the build took
//	costexplorer_engine_dimensions{dimension}                   gauge     dictionary sizes
//	costexplorer_metrics_scrape_errors_total{source}            counter   values a scrape could not read
package metrics
