//! The shared store story against a real PostgreSQL (when `TEST_POSTGRES_URL` is set).

use sb_store_postgres::testing;

#[tokio::test]
async fn postgres_store_passes_the_story() {
    let Some(base) = testing::base_url() else {
        return;
    };
    let url = testing::fresh_schema_url(&base).await;
    let store = sb_store_postgres::connect(&url, &Default::default()).await.unwrap();
    sb_store_postgres::migrate(&store).await.unwrap();
    sb_store_postgres::migrate(&store).await.unwrap();
    sb_store::story::run(&store).await;
}
