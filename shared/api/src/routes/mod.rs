pub mod api_keys;
pub mod connections;
pub mod meta;
pub mod providers;
pub mod users;
pub mod workspaces;
