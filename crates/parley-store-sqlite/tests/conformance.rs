//! The storage conformance suite and the model-based property test on SQLite.

parley_store::conformance_suite!(async { Some(parley_testkit::temp_sqlite().await) });

#[test]
fn engine_matches_the_in_memory_model() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(parley_testkit::temp_sqlite());
    parley_store::conformance::model::check_against_model(&rt, &*store, 64);
}
