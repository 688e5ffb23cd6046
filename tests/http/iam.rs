//! IAM from the code: each function's services declare the AWS permissions their ports need as
//! the function builds them (`AwsHost::grants`), and its policy in `template.yaml` grants
//! exactly those: nothing missing, nothing extra, resources and KMS encryption-context owners
//! included.

use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::Path;
use vitasync_host::aws::AwsHost;
use vitasync_host::iam::{self, Resource};
use vitasync_tests::stack::template::policy_documents;

/// `(action, resource)` as both sides are compared.
type Permission = (String, String);

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resource_name(resource: Resource) -> String {
    match resource {
        Resource::Table => "Table".into(),
        Resource::Index(name) => format!("Table/index/{name}"),
        Resource::TableStream => "Table/stream".into(),
        Resource::JobsQueue => "JobsQueue".into(),
        Resource::DeliveriesQueue => "DeliveriesQueue".into(),
        Resource::DeliveriesDeadLetterQueue => "DeliveriesDeadLetterQueue".into(),
        Resource::SecretsKey { owner } => format!("SecretsKey[owner={owner}]"),
        Resource::ProviderAppSecrets => "ProviderAppSecrets".into(),
    }
}

/// What a condition gives when it holds (`!If [Condition, then, else]`): the template is
/// checked as deployed with every provider configured.
fn when_configured(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!If" => &tagged.value[1],
        other => other,
    }
}

/// A template resource reference (`!GetAtt Table.Arn`, `!Sub ${Table.Arn}/index/ByAccount`) as
/// a resource name.
fn template_resource(value: &Value, owner: Option<&str>) -> String {
    let Value::Tagged(tagged) = when_configured(value) else {
        panic!("a resource that is not a reference: {value:?}")
    };
    let text = tagged.value.as_str().unwrap();
    if text.contains(":secretsmanager:") {
        // One secret, by the name its parameter gives (Secrets Manager suffixes six characters).
        assert!(
            text.ends_with("Name}-??????"),
            "a secret granted by more than its name: {text}"
        );
        return "ProviderAppSecrets".into();
    }
    let name = match tagged.tag.to_string().as_str() {
        "!GetAtt" if text == "Table.StreamArn" => "Table/stream".to_owned(),
        "!GetAtt" => text.trim_end_matches(".Arn").to_owned(),
        "!Sub" if text == "${Table.Arn}/stream/*" => "Table/stream".to_owned(),
        "!Sub" => text.replace("${Table.Arn}", "Table"),
        other => panic!("unexpected tag {other}"),
    };
    match (name.as_str(), owner) {
        ("SecretsKey", Some(owner)) => format!("SecretsKey[owner={owner}]"),
        ("SecretsKey", None) => panic!("the secrets key granted without an owner condition"),
        _ => name,
    }
}

/// What the template grants the function built from `binary`.
fn template_permissions(binary: &str) -> BTreeSet<Permission> {
    let template = template();
    let function = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .find(|resource| resource["Metadata"]["BuildProperties"]["Binary"] == binary)
        .unwrap_or_else(|| panic!("template.yaml builds no '{binary}'"));
    let mut out = BTreeSet::new();
    let policies = policy_documents(&template, &function["Properties"]);
    for policy in &policies {
        if let Value::Tagged(queue) = &policy["SQSPollerPolicy"]["QueueName"] {
            let queue = queue.value.as_str().unwrap().trim_end_matches(".QueueName");
            out.insert((iam::POLL.to_owned(), queue.to_owned()));
            continue;
        }
        if matches!(
            &policy["DynamoDBStreamReadPolicy"]["TableName"],
            Value::Tagged(_)
        ) {
            out.insert((iam::READ_STREAM.to_owned(), "Table/stream".to_owned()));
            continue;
        }
        for statement in policy["Statement"].as_sequence().unwrap() {
            let statement = when_configured(statement);
            assert_eq!(statement["Effect"], "Allow");
            if statement["Sid"] == "WriteLogs" {
                continue; // the runtime's, to its own log group
            }
            let owner =
                statement["Condition"]["StringLike"]["kms:EncryptionContext:owner"].as_str();
            if owner.is_some() {
                // Only the pair of keys the vault binds, and never without them.
                let keys = &statement["Condition"]["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"];
                assert_eq!(keys.as_sequence().map(Vec::len), Some(2), "{binary}");
                assert_eq!(
                    statement["Condition"]["Null"]["kms:EncryptionContextKeys"],
                    "false"
                );
            }
            let list = |value: &Value| match value {
                Value::Sequence(items) => items.clone(),
                other => vec![other.clone()],
            };
            for action in list(&statement["Action"]) {
                for resource in list(&statement["Resource"]) {
                    let resource = template_resource(&resource, owner);
                    // Reading a stream takes its four actions together; so does polling a
                    // queue for its event source mapping.
                    let action = action.as_str().unwrap();
                    let action = match (resource.as_str(), action) {
                        ("Table/stream", _) => iam::READ_STREAM,
                        (
                            _,
                            "sqs:ReceiveMessage"
                            | "sqs:DeleteMessage"
                            | "sqs:ChangeMessageVisibility"
                            | "sqs:GetQueueAttributes",
                        ) => iam::POLL,
                        _ => action,
                    };
                    out.insert((action.to_owned(), resource));
                }
            }
        }
    }
    out
}

/// Every variable a function could read, set (nothing is called: building makes no request).
async fn host() -> AwsHost {
    AwsHost::from_lookup(|name: &str| {
        let value = match name {
            "AWS_REGION" => "eu-west-1",
            "VITASYNC_TABLE" => "vitasync",
            "VITASYNC_KMS_KEY_ID" => "alias/vitasync",
            queue if queue.ends_with("_QUEUE_URL") || queue.ends_with("_DEAD_LETTER_URL") => {
                "https://sqs.eu-west-1.amazonaws.com/123456789012/vitasync"
            }
            "VITASYNC_PUBLIC_URL" => "https://api.example.test",
            _ => return None,
        };
        Some(value.to_owned())
    })
    .await
    .unwrap()
}

async fn declared(binary: &str) -> BTreeSet<Permission> {
    let host = host().await;
    match binary {
        "users" => drop(vitasync_fn_users::state(&host).unwrap()),
        "admin" => drop(vitasync_fn_admin::state(&host).unwrap()),
        "connections" => drop(vitasync_fn_connections::state(&host).unwrap()),
        "authorize" => drop(vitasync_fn_authorize::state(&host).unwrap()),
        "callback" => drop(vitasync_fn_callback::state(&host).unwrap()),
        "sync-trigger" => drop(vitasync_fn_sync_trigger::state(&host).unwrap()),
        "query" => drop(vitasync_fn_query::state(&host).unwrap()),
        "webhook" => drop(vitasync_fn_webhook::state(&host).unwrap()),
        "mobile" => drop(vitasync_fn_mobile::state(&host).unwrap()),
        "sync-worker" => drop(vitasync_fn_sync_worker::service(&host).unwrap()),
        "scheduler" => drop(vitasync_fn_scheduler::service(&host).unwrap()),
        "deliver" => drop(vitasync_fn_deliver::service(&host).unwrap()),
        "relay" => drop(vitasync_fn_relay::service(&host).unwrap()),
        other => panic!("no function '{other}'"),
    }
    host.grants()
        .into_iter()
        .map(|grant| (grant.action.to_owned(), resource_name(grant.resource)))
        .collect()
}

#[tokio::test]
async fn every_function_is_granted_exactly_what_its_services_declare() {
    let binaries = vitasync_api::Function::LAMBDAS
        .map(vitasync_api::Function::binary)
        .into_iter()
        .chain(["sync-worker", "scheduler", "deliver", "relay"]);
    let mut mismatches = Vec::new();
    for binary in binaries {
        let declared = declared(binary).await;
        let granted = template_permissions(binary);
        let missing: Vec<_> = declared.difference(&granted).collect();
        let extra: Vec<_> = granted.difference(&declared).collect();
        if !missing.is_empty() || !extra.is_empty() {
            mismatches.push(format!(
                "{binary}: missing from template.yaml {missing:?}; granted but not declared {extra:?}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test]
async fn functions_that_seal_or_open_secrets_name_whose() {
    let admin = declared("admin").await;
    assert!(admin.contains(&(iam::SEAL.into(), "SecretsKey[owner=webhook:*]".into())));
    assert!(admin.contains(&(iam::SEAL.into(), "SecretsKey[owner=app:*]".into())));
    assert!(!admin.iter().any(|(action, _)| action == iam::OPEN));
    // A workspace's own app secrets are opened only where providers are called.
    for binary in ["connections", "callback", "webhook", "sync-worker"] {
        assert!(
            declared(binary)
                .await
                .contains(&(iam::OPEN.into(), "SecretsKey[owner=app:*]".into())),
            "{binary}"
        );
    }
    let deliver = declared("deliver").await;
    assert!(deliver.contains(&(iam::OPEN.into(), "SecretsKey[owner=webhook:*]".into())));
    assert!(
        !deliver
            .iter()
            .any(|(_, resource)| resource.contains("connection"))
    );
    for binary in [
        "users",
        "query",
        "mobile",
        "scheduler",
        "authorize",
        "sync-trigger",
    ] {
        assert!(
            !declared(binary)
                .await
                .iter()
                .any(|(_, resource)| resource.starts_with("SecretsKey")),
            "{binary} needs no secrets"
        );
    }
}

/// The emulated stack checks each call against the policies with IAM's wildcards.
#[test]
fn policy_globs_match_as_iam_does() {
    use vitasync_tests::stack::policy::glob;
    assert!(glob(
        "arn:*:secret:name-??????",
        "arn:aws:secret:name-AbCdEf"
    ));
    assert!(!glob(
        "arn:*:secret:name-??????",
        "arn:aws:secret:name-AbCdE"
    ));
    assert!(glob("connection:*", "connection:01J/oura/1"));
    assert!(!glob("app:*", "connection:01J"));
}
