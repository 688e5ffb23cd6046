//! VitaSync's AWS adapters: the stores on one DynamoDB table, the job queue on SQS, data keys
//! from KMS and provider app secrets from Secrets Manager. They implement the same ports as the embedded adapters and pass the same
//! contract tests (against a real AWS API emulator over the wire).

pub mod config;
pub mod consumer;
pub mod dynamo;
pub mod invocation;
pub mod kms;
pub mod provision;
pub mod secrets;
pub mod sqs;
pub mod stream;

pub use config::{AwsSettings, sdk_config};
pub use dynamo::{DynamoStore, UsageFigures};
pub use kms::KmsKeyManager;
pub use secrets::SecretsManagerReader;
pub use sqs::SqsQueue;
