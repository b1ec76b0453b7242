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

#[tokio::test]
async fn a_backup_takes_the_attachments_folder_along() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("live.db");
    let url = format!("sqlite://{}", database.display());
    let store = sb_store_sqlite::connect(&url, &Default::default()).await.unwrap();
    sb_store_sqlite::migrate(&store).await.unwrap();
    let files = sb_store_sqlite::attachments_dir(&database);
    std::fs::create_dir(&files).unwrap();
    std::fs::write(files.join("att_01"), b"receipt").unwrap();
    std::fs::write(files.join("att_02.partial"), b"half").unwrap();
    let target = dir.path().join("backups/copy.db");
    sb_store_sqlite::backup(&store, &target).await.unwrap();
    let copied = sb_store_sqlite::attachments_dir(&target);
    assert_eq!(copied, dir.path().join("backups/copy.db.attachments"));
    assert_eq!(std::fs::read(copied.join("att_01")).unwrap(), b"receipt");
    assert!(!copied.join("att_02.partial").exists(), "unfinished writes stay behind");
}
