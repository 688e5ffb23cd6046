//! The whole stack run as AWS would run it, from `template.yaml`: every function binary started
//! as Lambda starts it (the Runtime API) with exactly the environment the template gives it,
//! references resolved to resources made in the AWS emulator; the HTTP API routing requests to
//! functions as the template's events say (payload format 2.0); the function URL in front of
//! the webhook function; the SQS and DynamoDB stream event source mappings; the schedules, on
//! demand. Every AWS call a function makes passes a recorder, to be checked against that
//! function's policy in the template.
//!
//! Two things are not the template's: the API's and the function URL's hostnames (AWS's DNS)
//! are this machine's ports, and `extra` variables can point a provider's endpoints at a fake.

pub mod gateway;
pub mod policy;
pub mod recorder;
pub mod sources;
pub mod template;

use crate::runtime_stub::RuntimeStub;
use aws_sdk_sqs::types::QueueAttributeName;
use recorder::{Call, Recorder};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use template::{ACCOUNT, FunctionSpec, Made, REGION, Template};
use vitasync_contract::{emulator, fixtures};

struct Running {
    spec: FunctionSpec,
    runtime: RuntimeStub,
    recorder: Recorder,
    child: Child,
}

pub struct EmulatedStack {
    /// The HTTP API's base URL (what `ApiUrl` names).
    pub api_url: String,
    /// Where providers push (what `WebhookUrl` names).
    pub webhook_url: String,
    pub table: String,
    pub template: Template,
    functions: Vec<Running>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{:016x}", rand::random::<u64>())
}

/// An address of this machine in a private range (RFC 1918, or IPv6 unique local), where a
/// stack that allows private webhook receivers can reach a test's receiver. When the machine has
/// none, one is added to the loopback interface (tests run as root in their sandbox).
pub fn private_address() -> std::net::IpAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let text = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default();
    for line in text.lines() {
        let hex = line.split_whitespace().next().unwrap_or_default();
        if let Ok(bits) = u128::from_str_radix(hex, 16) {
            let address = Ipv6Addr::from(bits);
            if address.segments()[0] & 0xfe00 == 0xfc00 {
                return IpAddr::V6(address);
            }
        }
    }
    // /proc/net/fib_trie lists each local IPv4 address on the line before "/32 host LOCAL".
    let trie = std::fs::read_to_string("/proc/net/fib_trie").unwrap_or_default();
    let lines: Vec<&str> = trie.lines().collect();
    for pair in lines.windows(2) {
        if pair[1].contains("/32 host LOCAL")
            && let Some(Ok(address)) = pair[0]
                .split_whitespace()
                .last()
                .map(str::parse::<Ipv4Addr>)
            && address.is_private()
        {
            return IpAddr::V4(address);
        }
    }
    let added = Ipv4Addr::new(10, 254, 0, 1);
    let status = Command::new("ip")
        .args(["addr", "add", "10.254.0.1/32", "dev", "lo"])
        .status()
        .expect("iproute2's ip, to give this machine a private address");
    assert!(status.success(), "could not add a private address");
    IpAddr::V4(added)
}

/// A binary `cargo build --bins` made.
pub fn binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --bins` first",
        path.display()
    );
    path
}

/// The template's queues, dead-letter queues first, with its visibility timeouts and redrive
/// policies; answers `logical id → (url, arn, name)`.
async fn make_queues(
    template: &mut Template,
    sqs: &aws_sdk_sqs::Client,
) -> BTreeMap<String, (String, String, String)> {
    let mut queues = BTreeMap::new();
    let ids: Vec<String> = template.doc["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::SQS::Queue")
        .map(|(id, _)| id.as_str().unwrap().to_owned())
        .collect();
    let (dead, live): (Vec<String>, Vec<String>) = ids
        .into_iter()
        .partition(|id| template.resource(id)["Properties"]["RedrivePolicy"].is_null());
    for id in dead.into_iter().chain(live) {
        let properties = template
            .eval(&template.resource(&id)["Properties"])
            .unwrap_or_default();
        let name = unique(&id.to_lowercase());
        let mut attributes = HashMap::new();
        if let Some(visibility) = properties.get("VisibilityTimeout") {
            attributes.insert(
                QueueAttributeName::VisibilityTimeout,
                visibility.to_string().trim_matches('"').to_owned(),
            );
        }
        if let Some(redrive) = properties.get("RedrivePolicy") {
            attributes.insert(QueueAttributeName::RedrivePolicy, redrive.to_string());
        }
        let url = sqs
            .create_queue()
            .queue_name(&name)
            .set_attributes(Some(attributes))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
        template.made(
            &id,
            Made {
                reference: url.clone(),
                attributes: BTreeMap::from([
                    ("Arn".into(), arn.clone()),
                    ("QueueName".into(), name.clone()),
                    ("QueueUrl".into(), url.clone()),
                ]),
            },
        );
        queues.insert(id, (url, arn, name));
    }
    queues
}

impl EmulatedStack {
    /// The stack with these parameters; `extra` variables are added to every function's
    /// environment (a fake provider's endpoints).
    pub async fn start(
        parameters: BTreeMap<String, String>,
        extra: BTreeMap<String, String>,
    ) -> Self {
        crate::install_tls();
        let config = emulator::sdk_config().await;
        let endpoint = emulator::endpoint().to_owned();
        let mut template = Template::load(parameters);
        let logs = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/emulated-stack")
            .join(unique("run"));
        std::fs::create_dir_all(&logs).unwrap();

        // The resources functions are told about.
        let table = fixtures::new_table().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&config);
        let described = dynamo
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .unwrap();
        let stream_arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .unwrap()
            .to_owned();
        let table_arn = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}");
        template.made(
            "Table",
            Made {
                reference: table.clone(),
                attributes: BTreeMap::from([
                    ("Arn".into(), table_arn),
                    ("StreamArn".into(), stream_arn.clone()),
                ]),
            },
        );
        let key = fixtures::new_kms_key().await;
        let key_arn = aws_sdk_kms::Client::new(&config)
            .describe_key()
            .key_id(&key)
            .send()
            .await
            .unwrap()
            .key_metadata()
            .unwrap()
            .arn()
            .unwrap()
            .to_owned();
        template.made(
            "SecretsKey",
            Made {
                reference: key.clone(),
                attributes: BTreeMap::from([("Arn".into(), key_arn.clone())]),
            },
        );
        let sqs = aws_sdk_sqs::Client::new(&config);
        let queues = make_queues(&mut template, &sqs).await;
        let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_url = format!("http://{}", api.local_addr().unwrap());
        let url = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let function_url = format!("http://{}/", url.local_addr().unwrap());
        template.made(
            "HttpApi",
            Made {
                reference: "emulated".into(),
                attributes: BTreeMap::new(),
            },
        );
        template.made(
            "WebhookFunctionUrl",
            Made {
                reference: String::new(),
                attributes: BTreeMap::from([("FunctionUrl".into(), function_url.clone())]),
            },
        );
        // Log groups: the runtime writes to them (functions log to stdout here).
        let log_groups: Vec<String> = template.doc["Resources"]
            .as_mapping()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == "AWS::Logs::LogGroup")
            .map(|(id, _)| id.as_str().unwrap().to_owned())
            .collect();
        for id in log_groups {
            let name = template.scalar(&template.resource(&id)["Properties"]["LogGroupName"]);
            let arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*");
            template.made(
                &id,
                Made {
                    reference: name,
                    attributes: BTreeMap::from([("Arn".into(), arn)]),
                },
            );
        }
        // AWS's DNS for the API's hostname: this machine's port.
        let execute_api = format!("https://emulated.execute-api.{REGION}.amazonaws.com");

        let queue_arns: BTreeMap<String, String> = queues
            .values()
            .map(|(url, arn, _)| (url.clone(), arn.clone()))
            .collect();
        let mut functions = Vec::new();
        for spec in template.functions() {
            let runtime = RuntimeStub::start().await;
            let recorder = Recorder::start(&endpoint, queue_arns.clone(), &key_arn).await;
            let log = std::fs::File::create(logs.join(format!("{}.log", spec.binary))).unwrap();
            let mut command = Command::new(binary(&spec.binary));
            command
                .env_clear()
                .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
                .env(
                    "AWS_LAMBDA_FUNCTION_NAME",
                    format!("{}-{}", template::STACK, spec.binary),
                )
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("AWS_REGION", REGION)
                .env("AWS_ACCESS_KEY_ID", "test")
                .env("AWS_SECRET_ACCESS_KEY", "test")
                .env("VITASYNC_AWS_ENDPOINT", &recorder.url)
                .stdout(Stdio::from(log.try_clone().unwrap()))
                .stderr(Stdio::from(log));
            for (name, value) in spec.environment.iter().chain(&extra) {
                command.env(name, value.replace(&execute_api, &api_url));
            }
            let child = command.spawn().unwrap();
            functions.push(Running {
                spec,
                runtime,
                recorder,
                child,
            });
        }
        for running in &functions {
            tokio::time::timeout(Duration::from_secs(30), running.runtime.first_poll())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{} did not start: see {}",
                        running.spec.binary,
                        logs.display()
                    )
                });
        }

        let mut tasks = Vec::new();
        let routes: Vec<gateway::Route> = functions
            .iter()
            .flat_map(|f| {
                f.spec.routes.iter().map(|(method, path)| gateway::Route {
                    method: method.clone(),
                    path: path.clone(),
                    function: f.runtime.clone(),
                })
            })
            .collect();
        tasks.push(gateway::serve(api, routes, false));
        let url_routes: Vec<gateway::Route> = functions
            .iter()
            .filter(|f| f.spec.function_url)
            .map(|f| gateway::Route {
                method: "ANY".into(),
                path: "/{proxy+}".into(),
                function: f.runtime.clone(),
            })
            .collect();
        assert_eq!(url_routes.len(), 1, "one function behind a function URL");
        tasks.push(gateway::serve(url, url_routes, true));
        for running in &functions {
            for (queue, batch) in &running.spec.queues {
                let (url, arn, _) = &queues[queue];
                tasks.push(sources::poll_queue(
                    sqs.clone(),
                    url.clone(),
                    arn.clone(),
                    *batch,
                    running.runtime.clone(),
                ));
            }
            if let Some((batch, patterns)) = &running.spec.stream {
                tasks.push(sources::read_stream(
                    endpoint.clone(),
                    stream_arn.clone(),
                    *batch,
                    patterns.clone(),
                    running.runtime.clone(),
                ));
            }
        }
        Self {
            api_url,
            webhook_url: format!("{function_url}webhooks/"),
            table,
            template,
            functions,
            tasks,
        }
    }

    fn running(&self, binary: &str) -> &Running {
        self.functions
            .iter()
            .find(|f| f.spec.binary == binary)
            .unwrap_or_else(|| panic!("the template has no {binary}"))
    }

    /// One tick of a function's schedule (an EventBridge Scheduler invocation).
    pub async fn tick(&self, binary: &str) -> Result<Value, Value> {
        let running = self.running(binary);
        assert!(
            !running.spec.schedules.is_empty(),
            "{binary} runs on no schedule"
        );
        running
            .runtime
            .invoke(json!({
                "version": "0",
                "id": "emulated-schedule",
                "detail-type": "Scheduled Event",
                "source": "aws.scheduler",
                "account": ACCOUNT,
                "time": "2026-11-29T10:00:00Z",
                "region": REGION,
                "resources": [],
                "detail": {}
            }))
            .await
    }

    /// Every AWS call each function made, by binary.
    pub fn calls(&self) -> BTreeMap<String, Vec<Call>> {
        self.functions
            .iter()
            .map(|f| (f.spec.binary.clone(), f.recorder.calls()))
            .collect()
    }

    /// The calls some function made that its policy in the template does not allow.
    pub fn calls_outside_policy(&self) -> Vec<(String, Call)> {
        let mut outside = Vec::new();
        for running in &self.functions {
            for call in running.recorder.calls() {
                if !policy::allows(&running.spec.policies, &call) {
                    outside.push((running.spec.binary.clone(), call));
                }
            }
        }
        outside.sort();
        outside.dedup();
        outside
    }
}

impl Drop for EmulatedStack {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        for running in &mut self.functions {
            let _ = running.child.kill();
            let _ = running.child.wait();
        }
    }
}
