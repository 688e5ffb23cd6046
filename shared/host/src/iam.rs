//! The AWS permissions a function's services need, declared where each service is built
//! (`AwsHost`'s builders record them as a function composes its state). A function's policy in
//! `template.yaml` grants exactly these: a test compares the two, actions, resources and KMS
//! encryption-context owners included.

/// What a permission applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resource {
    /// The one DynamoDB table.
    Table,
    /// A secondary index of the table, by name.
    Index(&'static str),
    /// The table's stream (new outbox items).
    TableStream,
    JobsQueue,
    DeliveriesQueue,
    DeliveriesDeadLetterQueue,
    /// The secrets key, only under an encryption context whose owner matches this pattern.
    SecretsKey {
        owner: &'static str,
    },
    /// The deployment's provider app secrets in Secrets Manager, each by its name.
    ProviderAppSecrets,
}

/// One IAM action on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub action: &'static str,
    pub resource: Resource,
}

pub const GET: &str = "dynamodb:GetItem";
pub const QUERY: &str = "dynamodb:Query";
pub const PUT: &str = "dynamodb:PutItem";
pub const DELETE: &str = "dynamodb:DeleteItem";
pub const UPDATE: &str = "dynamodb:UpdateItem";
pub const BATCH_GET: &str = "dynamodb:BatchGetItem";
pub const BATCH_WRITE: &str = "dynamodb:BatchWriteItem";
pub const SEND: &str = "sqs:SendMessage";
/// What an SQS event source mapping needs to poll a queue for its function (SAM's
/// `SQSPollerPolicy`).
pub const POLL: &str = "sqs:ReceiveMessage";
/// What a DynamoDB event source mapping needs to read the table's stream for its function
/// (SAM's `DynamoDBStreamReadPolicy`, which grants the stream reads together).
pub const READ_STREAM: &str = "dynamodb:GetRecords";
pub const SEAL: &str = "kms:GenerateDataKey";
pub const OPEN: &str = "kms:Decrypt";
pub const READ_SECRET: &str = "secretsmanager:GetSecretValue";

/// `actions` on the table. Transactions need the actions they are made of; the adapters
/// write them from Put and Delete only.
pub fn table(actions: &[&'static str]) -> Vec<Grant> {
    actions
        .iter()
        .map(|action| Grant {
            action,
            resource: Resource::Table,
        })
        .collect()
}

pub fn on(action: &'static str, resource: Resource) -> Grant {
    Grant { action, resource }
}
