//! Lambda function: relays new outbox entries from the table's stream (events fanned out to
//! deliveries, jobs queued), and on a schedule sweeps the entries the stream left behind.

use lambda_runtime::{LambdaEvent, service_fn};
use vitasync_aws::invocation::InvocationError;
use vitasync_aws::stream::{is_stream_event, relay_stream_batch};
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing(LogFormat::Json);
    let relay = vitasync_fn_relay::service(&AwsHost::from_env().await?)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let relay = relay.clone();
        async move {
            if is_stream_event(&event.payload) {
                return relay_stream_batch(&relay, event.payload)
                    .await
                    .map_err(InvocationError::from);
            }
            let round = relay.sweep().await.map_err(InvocationError::from)?;
            Ok::<_, InvocationError>(serde_json::json!({
                "relayed": round.relayed,
                "failed": round.failed,
            }))
        }
    }))
    .await
}
