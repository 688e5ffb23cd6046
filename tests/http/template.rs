//! `template.yaml` and the code agree: the routes API Gateway sends to each function are the
//! routes that function serves, together the routes the local host serves, and every function
//! with sample events is declared.

use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::Path;
use vitasync_api::Function;
use vitasync_tests::stack::template::policy_documents;

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every statement of a function's policies: its own role's, or its SAM `Policies`. A statement
/// present only when a condition holds is taken as if it did.
fn statements(template: &Value, function: &str) -> Vec<Value> {
    let properties = &template["Resources"][function]["Properties"];
    policy_documents(template, properties)
        .iter()
        .filter_map(|document| document["Statement"].as_sequence())
        .flatten()
        .map(|statement| match statement {
            Value::Tagged(tagged) if tagged.tag == "!If" => tagged.value[1].clone(),
            other => other.clone(),
        })
        .collect()
}

/// `(binary name, routes)` of every function in the template.
fn template_functions() -> Vec<(String, BTreeSet<(String, String)>)> {
    let template = template();
    let mut out = Vec::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut routes = BTreeSet::new();
        // A function URL sends every path to its function: it serves what the binary serves.
        if resource["Properties"]["FunctionUrlConfig"].is_mapping() {
            routes.extend(
                function_for(&binary)
                    .map(Function::route_list)
                    .unwrap_or_default(),
            );
        }
        if let Some(events) = resource["Properties"]["Events"].as_mapping() {
            for (_, event) in events {
                if event["Type"] == "HttpApi" {
                    let method = event["Properties"]["Method"]
                        .as_str()
                        .unwrap()
                        .to_uppercase();
                    let path = event["Properties"]["Path"].as_str().unwrap().to_owned();
                    routes.insert((method, path));
                }
            }
        }
        out.push((binary, routes));
    }
    out
}

/// The environment variables template.yaml gives the function built from `binary` (its own and
/// the globals).
pub fn environment_of(binary: &str) -> BTreeSet<String> {
    let template = template();
    let names = |variables: &Value| -> Vec<String> {
        variables
            .as_mapping()
            .map(|map| {
                map.keys()
                    .map(|key| key.as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out: BTreeSet<_> = names(&template["Globals"]["Function"]["Environment"]["Variables"])
        .into_iter()
        .collect();
    let resource = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .find(|resource| resource["Metadata"]["BuildProperties"]["Binary"] == binary)
        .unwrap_or_else(|| panic!("template.yaml builds no '{binary}'"));
    out.extend(names(&resource["Properties"]["Environment"]["Variables"]));
    out
}

/// The value under a CloudFormation short-form tag such as `!Ref`.
fn untagged(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => &tagged.value,
        other => other,
    }
}

/// The routes a binary serves; `None` for queue workers, which serve none.
fn function_for(binary: &str) -> Option<Function> {
    match binary {
        "sync-worker" | "scheduler" | "deliver" | "relay" => None,
        other => Some(Function::from_binary(other).unwrap_or_else(|| {
            panic!("template.yaml builds '{other}', which this test does not know")
        })),
    }
}

#[test]
fn every_function_gets_exactly_the_routes_it_serves() {
    let mut all = BTreeSet::new();
    for (binary, routes) in template_functions() {
        let served: BTreeSet<_> = function_for(&binary)
            .map(|function| function.route_list().into_iter().collect())
            .unwrap_or_default();
        assert_eq!(routes, served, "template routes of '{binary}'");
        all.extend(routes);
    }
    let local: BTreeSet<_> = Function::Local.route_list().into_iter().collect();
    assert_eq!(all, local, "AWS and the local host serve the same routes");
}

#[test]
fn every_lambda_function_is_in_the_template_with_its_events() {
    let binaries: BTreeSet<_> = template_functions()
        .into_iter()
        .map(|(binary, _)| binary)
        .collect();
    for function in Function::LAMBDAS {
        let name = function.binary();
        assert!(binaries.contains(name), "{name} is not in template.yaml");
        let events = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../events")
            .join(name);
        assert!(events.is_dir(), "events/{name} is missing");
    }
}

#[test]
fn functions_log_as_json_to_log_groups_with_retention() {
    let template = template();
    let resources = template["Resources"].as_mapping().unwrap();
    for (id, resource) in resources {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let logging = &resource["Properties"]["LoggingConfig"];
        assert_eq!(logging["LogFormat"], "JSON", "{id:?}");
        let group = untagged(&logging["LogGroup"])
            .as_str()
            .unwrap_or_else(|| panic!("{id:?} has no log group"));
        let group = &template["Resources"][group];
        assert_eq!(group["Type"], "AWS::Logs::LogGroup");
        assert!(!group["Properties"]["RetentionInDays"].is_null());
    }
}

#[test]
fn the_sync_worker_consumes_the_job_queue_reporting_partial_failures() {
    let template = template();
    let worker = &template["Resources"]["SyncWorkerFunction"];
    let event = &worker["Properties"]["Events"]["Jobs"];
    assert_eq!(event["Type"], "SQS");
    assert_eq!(
        event["Properties"]["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    let queue = &template["Resources"]["JobsQueue"]["Properties"];
    assert!(queue["RedrivePolicy"]["maxReceiveCount"].as_u64().unwrap() <= 10);
    // Visibility must outlast a batch: SQS's rule is at least six times the function timeout.
    let timeout = worker["Properties"]["Timeout"].as_u64().unwrap();
    let visibility = template["Parameters"]["JobsVisibilityTimeout"]["MinValue"]
        .as_u64()
        .unwrap();
    assert!(visibility >= 6 * timeout);
}

#[test]
fn the_deliver_function_consumes_the_delivery_queue_and_only_opens_secrets() {
    let template = template();
    let deliver = &template["Resources"]["DeliverFunction"]["Properties"];
    let event = &deliver["Events"]["Deliveries"];
    assert_eq!(event["Type"], "SQS");
    assert_eq!(
        event["Properties"]["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    let queue = &template["Resources"]["DeliveriesQueue"]["Properties"];
    let timeout = deliver["Timeout"].as_u64().unwrap();
    assert!(queue["VisibilityTimeout"].as_u64().unwrap() >= 6 * timeout);
    assert!(queue["RedrivePolicy"]["maxReceiveCount"].as_u64().unwrap() <= 10);
    let statements = statements(&template, "DeliverFunction");
    let kms: Vec<_> = statements
        .iter()
        .filter(|s| s["Action"].as_str().is_some_and(|a| a.starts_with("kms:")))
        .collect();
    assert_eq!(kms.len(), 1);
    assert_eq!(
        kms[0]["Action"], "kms:Decrypt",
        "the deliver function seals nothing"
    );
    // Announcing writes to the outbox: only the relay (fanning events out), the admin function
    // (test events, resends) and the deliver function (retries) queue deliveries.
    let mut queueing: Vec<&str> = template["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, resource)| {
            resource["Properties"]["Environment"]["Variables"]
                .get("VITASYNC_DELIVERIES_QUEUE_URL")
                .is_some()
        })
        .map(|(name, _)| name.as_str().unwrap())
        .collect();
    queueing.sort();
    assert_eq!(
        queueing,
        ["AdminFunction", "DeliverFunction", "RelayFunction"]
    );
}

#[test]
fn provider_webhooks_reach_their_function_through_an_open_function_url() {
    let template = template();
    let webhook = &template["Resources"]["WebhookFunction"]["Properties"];
    // Providers cannot sign AWS requests: each one's own signature is checked in the code.
    assert_eq!(webhook["FunctionUrlConfig"]["AuthType"], "NONE");
    assert!(webhook.get("Events").is_none(), "not behind the HTTP API");
    let output = format!("{:?}", template["Outputs"]["WebhookUrl"]["Value"]);
    assert!(
        output.contains("WebhookFunctionUrl.FunctionUrl"),
        "{output}"
    );
    let statements = statements(&template, "WebhookFunction");
    assert!(
        statements
            .iter()
            .filter(|s| format!("{:?}", s["Action"]).contains("kms:"))
            .all(|s| s["Condition"]["StringLike"]["kms:EncryptionContext:owner"] == "app:*"),
        "the webhook function opens no secrets but workspace apps' (checked by the IAM test)"
    );
    let sends: Vec<String> = statements
        .iter()
        .filter(|s| s["Action"] == "sqs:SendMessage")
        .map(|s| format!("{:?}", s["Resource"]))
        .collect();
    assert_eq!(sends.len(), 1, "it only queues jobs: {sends:?}");
    assert!(sends[0].contains("JobsQueue"), "{sends:?}");
}

#[test]
fn the_scheduler_runs_on_a_schedule_and_reads_only_the_polling_index() {
    let template = template();
    let scheduler = &template["Resources"]["SchedulerFunction"]["Properties"];
    assert_eq!(scheduler["Events"]["Poll"]["Type"], "ScheduleV2");
    let statements = statements(&template, "SchedulerFunction");
    let query = statements
        .iter()
        .find(|statement| statement["Action"] == "dynamodb:Query")
        .expect("the scheduler queries the index");
    assert_eq!(
        untagged(&query["Resource"]).as_str().unwrap(),
        "${Table.Arn}/index/BySyncDue"
    );
    assert!(
        statements
            .iter()
            .all(|statement| !format!("{:?}", statement["Action"]).contains("kms:")),
        "the scheduler opens no secrets"
    );
    let indexes = &template["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"];
    assert_eq!(indexes[0]["IndexName"], "BySyncDue");
}

#[test]
fn no_secret_is_in_any_environment_only_the_names_of_secrets() {
    let template = template();
    let parameters = template["Parameters"].as_mapping().unwrap();
    for (name, parameter) in parameters {
        let name = name.as_str().unwrap();
        assert!(
            !name.ends_with("Secret") && !name.ends_with("Token"),
            "{name} is a plain parameter"
        );
        if name.ends_with("SecretName") || name.ends_with("TokenName") {
            let pattern = parameter["AllowedPattern"].as_str().unwrap_or_default();
            assert!(
                !pattern.contains(':'),
                "{name} must be a secret's name: its grant is built from it"
            );
        }
    }
    let mut names = 0;
    for (function, resource) in template["Resources"].as_mapping().unwrap() {
        let variables = &resource["Properties"]["Environment"]["Variables"];
        let Some(variables) = variables.as_mapping() else {
            continue;
        };
        for (name, value) in variables {
            let name = name.as_str().unwrap();
            let text = format!("{value:?}");
            assert!(
                !text.contains("resolve:"),
                "{function:?} {name}: a secret resolved into the environment"
            );
            let secret_like = ["SECRET", "TOKEN", "PASSWORD", "_KEY"]
                .iter()
                .any(|word| name.ends_with(word));
            assert!(
                !secret_like,
                "{function:?} {name}: a secret in the environment"
            );
            if name.ends_with("_SECRET_NAME") || name.ends_with("_TOKEN_NAME") {
                assert!(
                    text.contains("Name"),
                    "{function:?} {name} is set from its name parameter: {text}"
                );
                names += 1;
            }
        }
    }
    assert!(names > 0, "the functions are told which secrets to read");
}

/// A function's KMS statements as `(action, owner pattern)`: the owner the encryption context
/// must name for the grant to apply.
fn kms_grants(template: &Value, function: &str) -> BTreeSet<(String, String)> {
    let mut grants = BTreeSet::new();
    for statement in statements(template, function) {
        let actions: Vec<String> = match &statement["Action"] {
            Value::Sequence(actions) => actions
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            action => vec![action.as_str().unwrap().to_owned()],
        };
        if !actions.iter().any(|action| action.starts_with("kms:")) {
            continue;
        }
        let owner = statement["Condition"]["StringLike"]["kms:EncryptionContext:owner"]
            .as_str()
            .unwrap_or_else(|| panic!("{function}: a KMS grant with no owner condition"))
            .to_owned();
        for action in actions {
            grants.insert((action, owner.clone()));
        }
    }
    grants
}

#[test]
fn each_function_opens_only_the_secrets_it_owns() {
    let template = template();
    let grants = |pairs: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        pairs
            .iter()
            .map(|(a, o)| ((*a).to_owned(), (*o).to_owned()))
            .collect()
    };
    let tokens = grants(&[
        ("kms:GenerateDataKey", "connection:*"),
        ("kms:Decrypt", "connection:*"),
    ]);
    let mut calls_providers = tokens.clone();
    calls_providers.insert(("kms:Decrypt".into(), "app:*".into()));
    assert_eq!(
        kms_grants(&template, "ConnectionsFunction"),
        calls_providers
    );
    assert_eq!(kms_grants(&template, "SyncWorkerFunction"), calls_providers);
    assert_eq!(
        kms_grants(&template, "WebhookFunction"),
        grants(&[("kms:Decrypt", "app:*")]),
        "the webhook function opens workspace apps' secrets, never tokens"
    );
    assert_eq!(
        kms_grants(&template, "AdminFunction"),
        grants(&[
            ("kms:GenerateDataKey", "webhook:*"),
            ("kms:GenerateDataKey", "app:*")
        ]),
        "the admin function seals webhook and app secrets and opens nothing"
    );
    assert_eq!(
        kms_grants(&template, "DeliverFunction"),
        grants(&[("kms:Decrypt", "webhook:*")]),
        "the deliver function opens webhook secrets, never provider tokens"
    );
    for function in [
        "UsersFunction",
        "QueryFunction",
        "MobileFunction",
        "SchedulerFunction",
    ] {
        assert!(kms_grants(&template, function).is_empty(), "{function}");
    }
}

#[test]
fn the_public_webhook_function_has_a_concurrency_cap_set_by_a_parameter() {
    let template = template();
    let parameter = &template["Parameters"]["WebhookConcurrency"];
    assert_eq!(parameter["Type"], "Number");
    assert!(parameter["Default"].as_u64().unwrap() > 0);
    let reserved = format!(
        "{:?}",
        template["Resources"]["WebhookFunction"]["Properties"]["ReservedConcurrentExecutions"]
    );
    assert!(reserved.contains("WebhookConcurrency"), "{reserved}");
    let variables =
        &template["Resources"]["WebhookFunction"]["Properties"]["Environment"]["Variables"];
    let garmin = format!("{:?}", variables["GARMIN_WEBHOOK_SECRET_NAME"]);
    assert!(garmin.contains("GarminWebhookSecretName"), "{garmin}");
}

#[test]
fn the_relay_reads_only_new_outbox_items_from_the_table_stream() {
    let template = template();
    let table = &template["Resources"]["Table"]["Properties"];
    assert_eq!(table["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
    let relay = &template["Resources"]["RelayFunction"]["Properties"];
    let stream = &relay["Events"]["Outbox"];
    assert_eq!(stream["Type"], "DynamoDB");
    assert_eq!(
        stream["Properties"]["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    let pattern: serde_json::Value = serde_json::from_str(
        stream["Properties"]["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(
        pattern["dynamodb"]["Keys"]["pk"]["S"][0]["prefix"],
        vitasync_aws::dynamo::keys::OUTBOX_PREFIX
    );
    assert_eq!(relay["Events"]["Sweep"]["Type"], "ScheduleV2");
    // Its own role, so SAM attaches no managed policy reading every stream in the account;
    // what it may do is checked against the code in iam.rs.
    assert!(
        matches!(relay["Role"], Value::Tagged(_)),
        "the relay runs under its own role"
    );
    let role = &template["Resources"]["RelayFunctionRole"]["Properties"];
    assert!(role.get("ManagedPolicyArns").is_none());
    assert!(relay.get("Policies").is_none());
}

#[test]
fn a_custom_domain_moves_every_public_link_and_callback_url() {
    let template = template();
    for name in ["ApiDomain", "ApiDomainMapping"] {
        assert_eq!(
            template["Resources"][name]["Condition"], "HasDomain",
            "{name}"
        );
    }
    let mut public_urls = 0;
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        let url = &resource["Properties"]["Environment"]["Variables"]["VITASYNC_PUBLIC_URL"];
        if url.is_null() {
            continue;
        }
        public_urls += 1;
        let Value::Tagged(choice) = url else {
            panic!("{name:?}: VITASYNC_PUBLIC_URL ignores the custom domain")
        };
        assert_eq!(choice.tag.to_string(), "!If");
        assert_eq!(choice.value[0], "HasDomain", "{name:?}");
    }
    assert!(public_urls >= 4);
    // What an operator registers at each provider, for each one enabled: every provider has
    // its parameters, reaches every function that enables providers, and has its output.
    let providers = vitasync_domain::providers::ProviderId::ALL
        .into_iter()
        .filter(|id| *id != vitasync_domain::providers::ProviderId::Demo);
    for id in providers {
        let id = id.as_str();
        let provider = format!("{}{}", id[..1].to_uppercase(), &id[1..]);
        for parameter in ["ClientId", "ClientSecretName"] {
            assert!(
                template["Parameters"]
                    .get(format!("{provider}{parameter}").as_str())
                    .is_some(),
                "{provider}{parameter}"
            );
        }
        let prefix = id.to_uppercase();
        for (name, function) in template["Resources"].as_mapping().unwrap() {
            let variables = &function["Properties"]["Environment"]["Variables"];
            if variables.get("WITHINGS_CLIENT_ID").is_some() {
                for suffix in ["CLIENT_ID", "CLIENT_SECRET_NAME"] {
                    assert!(
                        variables
                            .get(format!("{prefix}_{suffix}").as_str())
                            .is_some(),
                        "{name:?} lacks {prefix}_{suffix}"
                    );
                }
            }
        }
        let output = &template["Outputs"][format!("{provider}CallbackUrl").as_str()];
        assert_eq!(output["Condition"], format!("Has{provider}App"));
        let Value::Tagged(choice) = &output["Value"] else {
            panic!("{provider}CallbackUrl")
        };
        for branch in [&choice.value[1], &choice.value[2]] {
            let Value::Tagged(sub) = branch else {
                panic!("{provider}CallbackUrl")
            };
            assert!(
                sub.value
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/v1/oauth/{id}/callback")),
                "{provider}: {sub:?}"
            );
        }
    }
    assert_eq!(
        template["Outputs"]["ApiDomainTarget"]["Condition"],
        "HasDomain"
    );
}

#[test]
fn samconfig_environments_set_only_parameters_the_template_takes() {
    let template = template();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samconfig.toml");
    let text = std::fs::read_to_string(path).unwrap();
    for environment in ["dev", "prod"] {
        assert!(text.contains(&format!("[{environment}.deploy.parameters]")));
        assert!(text.contains(&format!("[{environment}.global.parameters]")));
    }
    let overrides: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix('"')?
                .strip_suffix("\",")?
                .split_once('=')
        })
        .collect();
    assert!(overrides.len() >= 10, "{overrides:?}");
    for (name, value) in overrides {
        let parameter = &template["Parameters"][name];
        assert!(
            !parameter.is_null(),
            "samconfig.toml sets {name}, which the template lacks"
        );
        if let Some(allowed) = parameter["AllowedValues"].as_sequence() {
            let allowed: Vec<String> = allowed
                .iter()
                .map(|value| match value {
                    Value::Number(n) => n.to_string(),
                    other => other.as_str().unwrap().to_owned(),
                })
                .collect();
            assert!(
                allowed.iter().any(|a| a == value),
                "{name}={value}: {allowed:?}"
            );
        }
    }
}

/// SAM's default execution role writes to every log group, and with a queue or stream event it
/// adds a managed policy that reads every queue (or stream) in the account. Every function has
/// its own role instead: logs to its own log group, polling only its own source.
#[test]
fn every_function_has_its_own_least_privilege_role() {
    let template = template();
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let name = name.as_str().unwrap();
        let properties = &resource["Properties"];
        assert!(
            matches!(properties["Role"], Value::Tagged(_)),
            "{name} runs with SAM's default execution role"
        );
        assert!(
            properties["Policies"].is_null(),
            "{name}: SAM ignores Policies next to a Role"
        );
        let tagged = |value: &Value| match value {
            Value::Tagged(tagged) => tagged.value.as_str().unwrap().to_owned(),
            other => panic!("{name}: not a reference: {other:?}"),
        };
        let own_log_group = format!("{}.Arn", tagged(&properties["LoggingConfig"]["LogGroup"]));
        let statements = statements(&template, name);
        let logs: Vec<String> = statements
            .iter()
            .filter(|s| format!("{:?}", s["Action"]).contains("logs:"))
            .map(|s| tagged(&s["Resource"]))
            .collect();
        assert_eq!(
            logs,
            [own_log_group],
            "{name} writes only to its own log group"
        );
        let Some(events) = properties["Events"].as_mapping() else {
            continue;
        };
        for source in events.values().filter(|event| event["Type"] == "SQS") {
            let queue = format!("{:?}", source["Properties"]["Queue"]);
            let polls: Vec<String> = statements
                .iter()
                .filter(|s| format!("{:?}", s["Action"]).contains("sqs:ReceiveMessage"))
                .map(|s| format!("{:?}", s["Resource"]))
                .collect();
            assert_eq!(
                polls,
                std::slice::from_ref(&queue),
                "{name} polls only {queue}"
            );
        }
    }
}
