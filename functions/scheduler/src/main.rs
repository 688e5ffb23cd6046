//! Lambda function: on an EventBridge schedule, queues a sync of every active connection whose
//! last sync is older than the poll interval.

use lambda_runtime::{LambdaEvent, service_fn};
use vitasync_aws::invocation::InvocationError;
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing(LogFormat::Json);
    let scheduler = vitasync_fn_scheduler::service(&AwsHost::from_env().await?)?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let scheduler = scheduler.clone();
        async move {
            let round = scheduler
                .queue_due_syncs()
                .await
                .map_err(InvocationError::from)?;
            Ok::<_, InvocationError>(serde_json::json!({
                "due": round.due,
                "queued": round.queued,
                "failed": round.failed,
            }))
        }
    }))
    .await
}
