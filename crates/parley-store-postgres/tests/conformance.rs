//! The storage conformance suite and the model-based property test on PostgreSQL; each
//! test prints "skipped" and passes when `PARLEY_TEST_POSTGRES_URL` is not set.

parley_store::conformance_suite!(parley_testkit::temp_postgres());

#[test]
fn engine_matches_the_in_memory_model() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(store) = rt.block_on(parley_testkit::temp_postgres()) else {
        return;
    };
    parley_store::conformance::model::check_against_model(&rt, &*store, 64);
}
