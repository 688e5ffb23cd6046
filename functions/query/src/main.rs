//! Lambda function: a user's health data (records, timeseries, summaries, events, personal
//! records) and its erasure.

use vitasync_api::{QueryApi, lambda_routes, router};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing(LogFormat::Json);
    let host = AwsHost::from_env().await?;
    let state = QueryApi {
        tenancy: host.tenancy()?,
        health_reads: host.health_reads()?,
    };
    lambda_http::run(router(lambda_routes::query(), state)).await
}
