//! The shared store story against a real SQLite file.

#[tokio::test]
async fn sqlite_store_passes_the_story() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/story.db", dir.path().display());
    let store = sb_store_sqlite::connect(&url, &Default::default()).await.unwrap();
    sb_store_sqlite::migrate(&store).await.unwrap();
    // Migrating twice is a no-op: the server does it on every start.
    sb_store_sqlite::migrate(&store).await.unwrap();
    sb_store::story::run(&store).await;
    assert!(dir.path().join("nested/story.db").exists(), "the file and its folder were created");
}
