//! Lambda function: runs sync jobs from the SQS job queue, reporting partial batch failures.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};
use vitasync_aws::consumer::handle_sqs_event;
use vitasync_aws::invocation::InvocationError;
use vitasync_host::aws::AwsHost;
use vitasync_host::{LogFormat, init_tracing};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing(LogFormat::Json);
    let worker = vitasync_fn_sync_worker::service(&AwsHost::from_env().await?)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move {
            Ok::<SqsBatchResponse, InvocationError>(
                handle_sqs_event(event.payload, |message| {
                    let worker = worker.clone();
                    async move { worker.process_message(&message.body).await }
                })
                .await,
            )
        }
    }))
    .await
}
