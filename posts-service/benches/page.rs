//! posts-service's own share of a page, in ns per operation:
//!
//! - `page_query`: the newest 20 of 1 000 posts, as `GET /posts?limit=20` asks the database
//!   (SQLite in a temporary file, the default backend);
//! - `merge`: joining those 20 rows with their 20 authors after the one users-service call.
//!
//! Run: `cargo bench -p posts-service`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use chrono::Utc;
use divan::Bencher;
use posts_service::api_types::Author;
use posts_service::db::models::{NewPost, PostRow};
use posts_service::db::posts;
use posts_service::domain::PageLimit;
use posts_service::feed::{Authors, merge};

fn main() {
    divan::main();
}

#[divan::bench]
fn page_query(bencher: Bencher) {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("posts.db").display().to_string();
    let pool = posts_service::db::connect(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let now = Utc::now().naive_utc();
    for i in 0..1000 {
        let title = format!("post {i}");
        let new =
            NewPost { user_id: i % 100 + 1, title: &title, content: "some content", created_at: now, updated_at: now };
        posts::insert(&mut conn, &new).unwrap();
    }
    let limit = PageLimit::parse(Some(20)).unwrap();
    bencher.bench_local(|| posts::page(&mut conn, limit, None, None).unwrap());
}

#[divan::bench]
fn merge_20_posts_20_authors(bencher: Bencher) {
    let now = Utc::now().naive_utc();
    let rows: Vec<PostRow> = (0..20)
        .map(|i| PostRow {
            id: 1000 - i,
            user_id: i + 1,
            title: format!("post {i}"),
            content: "some content".to_owned(),
            created_at: now,
            updated_at: now,
        })
        .collect();
    let authors = Authors::found(
        (1..=20).map(|id| (id, Author { id, username: format!("author-{id:03}") })).collect::<HashMap<_, _>>(),
    );
    bencher.with_inputs(|| rows.clone()).bench_local_values(|rows| merge(rows, &authors));
}
