//! `sqlx::migrate!` embeds the migrations at compile time but does not tell
//! cargo about them: without this, editing only a .sql file would not rebuild.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
