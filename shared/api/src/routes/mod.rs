pub mod api_keys;
pub mod meta;
pub mod users;
pub mod workspaces;
