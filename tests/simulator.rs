//! The simulated tenant, exercised over real HTTP (reqwest) against `Simulator::start` on
//! 127.0.0.1:0, plus one run of the `oathbulk simulate` binary.

use oathbulk::inventory::{Inventory, ReadOptions, Row, SecretFormat, SecretKey};
use oathbulk::otp::{self, HashFunction};
use oathbulk::record::Record;
use oathbulk::simulate::{Readings, SimConfig, SimState, Simulator};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TOKEN: &str = "test-token";
const PORTAL: &str = "/api/MultifactorAuthentication/HardwareToken";

/// Base32 secrets, one per serial: `SECRET{n}` padded out to 16 chars.
fn secret_b32(n: usize) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut s = String::from("JBSWY3DPEH");
    let mut x = n;
    for _ in 0..6 {
        s.push(alphabet[x % 32] as char);
        x /= 32;
    }
    s
}

fn secret(n: usize) -> Vec<u8> {
    SecretKey::decode(&secret_b32(n), SecretFormat::Base32).unwrap().bytes().to_vec()
}

/// A CSV with `n` rows; `state(i)` gives the `sim_state` cell, `upn(i)` the user.
fn csv(n: usize, upn: impl Fn(usize) -> String, state: impl Fn(usize) -> &'static str) -> String {
    let mut text = String::from("upn,serial number,secret key,time interval,manufacturer,model,Sim_State\n");
    for i in 0..n {
        text.push_str(&format!("{},SN{i:04},{},30,Token2,C202,{}\n", upn(i), secret_b32(i), state(i)));
    }
    text
}

fn rows(text: &str) -> Vec<Row> {
    let options = ReadOptions { secret_format: SecretFormat::Base32, require_secret: true, ..Default::default() };
    Inventory::from_reader(std::io::Cursor::new(text.as_bytes().to_vec()), options)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn quiet(config: SimConfig) -> SimConfig {
    SimConfig { expected_token: Some(TOKEN.into()), quiet: true, ..config }
}

async fn start(config: SimConfig, text: &str) -> Simulator {
    Simulator::start(quiet(config), rows(text), "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn client() -> Client {
    Client::builder().no_proxy().timeout(Duration::from_secs(20)).build().unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn code(n: usize, unix: u64) -> otp::Code {
    otp::code_at(&secret(n), HashFunction::Sha1, 30, unix)
}

/// A six-digit code that the device `n` does not show within ±2 steps of `unix`.
fn wrong_code(n: usize, unix: u64) -> String {
    (0..1_000_000u32)
        .map(|c| format!("{c:06}"))
        .find(|c| otp::verify(&secret(n), HashFunction::Sha1, 30, unix, c, 2, 2).is_none())
        .unwrap()
}

async fn get(c: &Client, url: &str) -> (StatusCode, Value) {
    let r = c.get(url).bearer_auth(TOKEN).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(c: &Client, url: &str, body: Value) -> (StatusCode, Value) {
    let r = c
        .post(url)
        .bearer_auth(TOKEN)
        .header("client-request-id", "c0ffee00-0000-4000-8000-000000000001")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The answer of `token_url` to a client-credentials sign-in of app `app` with `secret`.
async fn client_credentials(c: &Client, token_url: &str, secret: &str) -> reqwest::Response {
    let form = format!(
        "grant_type=client_credentials&client_id=app&client_secret={secret}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
    );
    c.post(token_url).header("content-type", "application/x-www-form-urlencoded").body(form).send().await.unwrap()
}

fn devices_url(sim: &Simulator) -> String {
    format!("{}/directory/authenticationMethodDevices/hardwareOathDevices", sim.graph_url())
}

fn methods_url(sim: &Simulator, user: &str) -> String {
    format!("{}/users/{user}/authentication/hardwareOathMethods", sim.graph_url())
}

async fn device_by_serial(c: &Client, sim: &Simulator, serial: &str) -> Value {
    let url = format!("{}?$filter=serialNumber eq '{serial}'", devices_url(sim));
    let (status, body) = get(c, &url).await;
    assert_eq!(status, 200, "{body}");
    let value = body["value"].as_array().unwrap();
    assert_eq!(value.len(), 1, "{body}");
    value[0].clone()
}

/// Follow `@odata.nextLink` from `url`; returns the pages' sizes and all items.
async fn all_pages(c: &Client, url: String) -> (Vec<usize>, Vec<Value>) {
    let (mut sizes, mut items, mut next) = (vec![], vec![], Some(url));
    while let Some(url) = next.take() {
        let (status, body) = get(c, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        let value = body["value"].as_array().unwrap();
        sizes.push(value.len());
        items.extend(value.iter().cloned());
        next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
        assert!(sizes.len() < 20, "paging does not end");
    }
    (sizes, items)
}

fn assert_envelope(body: &Value) -> &str {
    let err = &body["error"];
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(err["innerError"]["request-id"].as_str().is_some(), "{body}");
    assert!(err["innerError"]["date"].as_str().is_some(), "{body}");
    err["code"].as_str().filter(|c| !c.is_empty()).expect("error.code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_paging_follows_next_link_across_three_pages() {
    // Assigned: 0, 1, 5, 6 — sparse, so a nextLink that lost $filter would list 7 and 8 too.
    let text = csv(9, |i| format!("user{i}@contoso.com"), |i| if matches!(i, 0 | 1 | 5 | 6) { "assigned" } else { "" });
    let c = client();

    // The server caps the page below what $top asks: the client must follow nextLink.
    let sim = start(SimConfig { page_size_max: 3, ..Default::default() }, &text).await;
    let (sizes, items) = all_pages(&c, format!("{}?$top=100", devices_url(&sim))).await;
    assert_eq!(sizes, vec![3, 3, 3]);
    let mut serials: Vec<&str> = items.iter().map(|d| d["serialNumber"].as_str().unwrap()).collect();
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), 9, "every device exactly once");
    let d = &items[0];
    assert!(d["secretKey"].is_null() && d["lastUsedDateTime"].is_null());
    assert_eq!(d["hashFunction"], "hmacsha1");
    assert_eq!(d["timeIntervalInSeconds"], 30);
    assert_eq!(d["status"], "assigned");
    assert_eq!(d["assignedTo"]["displayName"], "User0");

    // nextLink is absolute and keeps $filter: 4 assigned devices, pages of 3 and 1.
    let (status, first) = get(&c, &format!("{}?$filter=status eq 'assigned'", devices_url(&sim))).await;
    assert_eq!(status, 200);
    let link = first["@odata.nextLink"].as_str().unwrap();
    assert!(link.starts_with(&devices_url(&sim)), "{link}");
    let (sizes, items) = all_pages(&c, format!("{}?$filter=status eq 'assigned'", devices_url(&sim))).await;
    assert_eq!(sizes, vec![3, 1]);
    assert!(items.iter().all(|d| d["status"] == "assigned"));
    sim.shutdown().await;

    // $top alone (default cap) pages the same way.
    let sim = start(SimConfig::default(), &text).await;
    let (sizes, _) = all_pages(&c, format!("{}?$top=3", devices_url(&sim))).await;
    assert_eq!(sizes, vec![3, 3, 3]);
    assert_eq!(sim.state().counters.requests_by_route["graph.list_devices"], 3);
}

/// `$expand=assignTo`, under each reading: the holder as a user on every page (an inner
/// `$select` honoured, `null` for an available token), a 400, or nothing at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_expand_assign_to_under_each_reading() {
    let text = csv(5, |i| format!("user{i}@contoso.com"), |i| if i == 2 { "" } else { "assigned" });
    let c = client();
    let expand = format!("$expand={}", urlencode("assignTo($select=id,userPrincipalName)"));
    let url = |sim: &Simulator| format!("{}?$top=2&{expand}", devices_url(sim));

    let sim = start(SimConfig { page_size_max: 2, ..Default::default() }, &text).await;
    let (sizes, items) = all_pages(&c, url(&sim)).await;
    assert_eq!(sizes, vec![2, 2, 1], "nextLink keeps $top and $expand");
    let users = sim.state().users;
    for d in &items {
        let serial = d["serialNumber"].as_str().unwrap();
        if serial == "SN0002" {
            assert!(d["assignTo"].is_null(), "an available token: {d}");
            continue;
        }
        let upn = format!("user{}@contoso.com", &serial[2..].parse::<usize>().unwrap());
        let id = &users.iter().find(|u| u.user_principal_name == upn).unwrap().id;
        assert_eq!(d["assignTo"], json!({"id": id, "userPrincipalName": upn}), "only what $select asks: {d}");
        assert_eq!(d["assignedTo"]["id"], json!(id));
    }
    // Without an inner $select, the user's other properties too; an unknown one is a 400.
    let (status, body) = get(&c, &format!("{}?$expand=assignTo", devices_url(&sim))).await;
    assert_eq!(status, 200);
    assert_eq!(body["value"][0]["assignTo"]["displayName"], "User0", "{body}");
    let (status, body) = get(&c, &format!("{}?$expand=owner", devices_url(&sim))).await;
    assert_eq!((status.as_u16(), assert_envelope(&body)), (400, "BadRequest"));
    sim.shutdown().await;

    let refused = SimConfig { readings: Readings::named("expand-refused").unwrap(), ..Default::default() };
    let sim = start(refused, &text).await;
    let (status, body) = get(&c, &url(&sim)).await;
    assert_eq!((status.as_u16(), assert_envelope(&body)), (400, "BadRequest"));
    assert!(body["error"]["message"].as_str().unwrap().contains("'assignTo'"), "{body}");
    let (status, body) = get(&c, &format!("{}?$top=2", devices_url(&sim))).await;
    assert_eq!(status, 200, "without $expand: {body}");
    assert_eq!(sim.state().counters.expand_refused, 1);
    sim.shutdown().await;

    let ignored = SimConfig { readings: Readings::named("expand-ignored").unwrap(), ..Default::default() };
    let sim = start(ignored, &text).await;
    let (_, items) = all_pages(&c, url(&sim)).await;
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|d| d.get("assignTo").is_none()), "ignored: {items:?}");
    assert_eq!(sim.state().counters.expand_refused, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_filter_by_serial_and_bad_queries() {
    let sim = start(SimConfig::default(), &csv(5, |_| "alice@contoso.com".into(), |_| "")).await;
    let c = client();
    let d = device_by_serial(&c, &sim, "SN0003").await;
    assert_eq!(d["serialNumber"], "SN0003");
    let (status, one) = get(&c, &format!("{}/{}", devices_url(&sim), d["id"].as_str().unwrap())).await;
    assert_eq!((status, &one["serialNumber"]), (StatusCode::OK, &json!("SN0003")));

    let (status, body) = get(&c, &format!("{}?$filter=serialNumber eq 'NOPE'", devices_url(&sim))).await;
    assert_eq!(status, 200);
    assert_eq!(body["value"].as_array().unwrap().len(), 0);

    for bad in ["startswith(serialNumber,'SN')", "serialNumber ne 'SN0001'", "model eq 'C202'"] {
        let (status, body) = get(&c, &format!("{}?$filter={bad}", devices_url(&sim))).await;
        assert_eq!(status, 400, "{bad}");
        assert_envelope(&body);
    }
    let (status, _) = get(&c, &format!("{}?$top=1000", devices_url(&sim))).await;
    assert_eq!(status, 400);
    let (status, body) = get(&c, &format!("{}/00000000-0000-0000-0000-000000000000", devices_url(&sim))).await;
    assert_eq!(status, 404);
    assert_eq!(assert_envelope(&body), "Request_ResourceNotFound");
    let (status, body) = get(&c, &methods_url(&sim, "nobody@contoso.com")).await;
    assert_eq!(status, 404);
    assert_eq!(assert_envelope(&body), "Request_ResourceNotFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assign_then_activate_counts_exactly_one_activation() {
    let sim = start(SimConfig::default(), &csv(2, |_| "alice@contoso.com".into(), |_| "")).await;
    let c = client();
    let d = device_by_serial(&c, &sim, "SN0001").await;
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["status"], "available");

    let (status, body) = post(&c, &methods_url(&sim, "alice@contoso.com"), json!({"device": {"id": id}})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(device_by_serial(&c, &sim, "SN0001").await["status"], "assigned");
    // Assigning again is refused.
    let (status, body) = post(&c, &methods_url(&sim, "alice@contoso.com"), json!({"device": {"id": id}})).await;
    assert!(status == 400 || status == 409, "{status}");
    assert_envelope(&body);

    let user_id = sim.state().user("alice@contoso.com").unwrap().id.clone();
    let (_, methods) = get(&c, &methods_url(&sim, &user_id)).await;
    assert_eq!(methods["value"][0]["id"], json!(id));
    assert_eq!(methods["value"][0]["device"]["serialNumber"], "SN0001");

    let code = code(1, now());
    let activate = format!("{}/{id}/activate", methods_url(&sim, &user_id));
    let (status, body) =
        post(&c, &activate, json!({"verificationCode": code.code, "displayName": "Alice's token"})).await;
    assert_eq!(status, 204, "{body}");
    let d = device_by_serial(&c, &sim, "SN0001").await;
    assert_eq!(d["status"], "activated");
    assert_eq!(d["assignedTo"]["id"], json!(user_id));
    assert_eq!(d["displayName"], "Alice's token");

    // A second activation is refused and counted, never applied twice.
    let (status, body) = post(&c, &activate, json!({"verificationCode": code.code})).await;
    assert_eq!(status, 400);
    assert_envelope(&body);
    let state = sim.shutdown().await;
    let dev = state.device("SN0001").unwrap();
    assert_eq!(dev.activations, 1);
    assert_eq!(dev.double_activation_attempts, 1);
    assert!(dev.last_code_step.is_some_and(|s| s.abs_diff(code.step) <= 1));
    assert_eq!(dev.assigned_upn.as_deref(), Some("alice@contoso.com"));
    assert_eq!(state.counters.activations, 1);
    assert_eq!(state.counters.double_activation_attempts, 1);
    assert_eq!(state.device("SN0000").unwrap().status, "available");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_code_is_a_400_envelope_and_changes_nothing() {
    let sim = start(SimConfig::default(), &csv(2, |_| "alice@contoso.com".into(), |i| ["", "wrong_secret"][i])).await;
    let c = client();
    let d = device_by_serial(&c, &sim, "SN0000").await;
    let url = format!("{}/assignAndActivate", methods_url(&sim, "alice@contoso.com"));
    let (status, body) =
        post(&c, &url, json!({"device": {"id": d["id"]}, "verificationCode": wrong_code(0, now())})).await;
    assert_eq!(status, 400);
    assert_envelope(&body);
    assert_eq!(body["error"]["innerError"]["client-request-id"], "c0ffee00-0000-4000-8000-000000000001");
    // Atomic: the failed assign-and-activate did not assign.
    assert_eq!(device_by_serial(&c, &sim, "SN0000").await["status"], "available");

    // wrong_secret: the CSV's correct code is refused.
    let url = format!("{}/assignAndActivateBySerialNumber", methods_url(&sim, "alice@contoso.com"));
    let (status, _) = post(&c, &url, json!({"serialNumber": "SN0001", "verificationCode": code(1, now()).code})).await;
    assert_eq!(status, 400);
    // ...and the right one for SN0000 is accepted by serial.
    let (status, body) =
        post(&c, &url, json!({"serialNumber": "SN0000", "verificationCode": code(0, now()).code})).await;
    assert_eq!(status, 204, "{body}");

    let state = sim.state();
    assert_eq!(state.counters.rejected_codes, 2);
    assert_eq!(state.device("SN0000").unwrap().status, "activated");
    assert_eq!(state.device("SN0001").unwrap().status, "available");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_offset_decides_which_code_passes() {
    let offset = 90;
    let sim = start(
        SimConfig { clock_offset_secs: offset, ..Default::default() },
        &csv(2, |_| "alice@contoso.com".into(), |_| ""),
    )
    .await;
    let c = client();
    let url = format!("{}/assignAndActivateBySerialNumber", methods_url(&sim, "alice@contoso.com"));

    // The Date header is the simulator's clock.
    let r = c.get(devices_url(&sim)).bearer_auth(TOKEN).send().await.unwrap();
    let date = httpdate::parse_http_date(r.headers()["date"].to_str().unwrap()).unwrap();
    let server = date.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((server - now() as i64 - offset).abs() <= 2, "Date {server} vs now {}", now());

    // A code for the real clock is 3 steps behind the simulator's: refused.
    let (status, _) = post(&c, &url, json!({"serialNumber": "SN0000", "verificationCode": code(0, now()).code})).await;
    assert_eq!(status, 400);
    // A code for the offset clock passes.
    let shifted = code(1, now() + offset as u64);
    let (status, body) = post(&c, &url, json!({"serialNumber": "SN0001", "verificationCode": shifted.code})).await;
    assert_eq!(status, 204, "{body}");
    let state = sim.state();
    assert_eq!(state.device("SN0000").unwrap().status, "available");
    assert_eq!(state.device("SN0001").unwrap().status, "activated");
    assert!(state.device("SN0001").unwrap().last_code_step.is_some_and(|s| s.abs_diff(shifted.step) <= 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_with_retry_after_for_writes_only() {
    let sim = start(
        SimConfig { rate_limit: Some(1.0), ..Default::default() },
        &csv(1, |_| "alice@contoso.com".into(), |_| ""),
    )
    .await;
    let c = client();
    let url = format!("{}/assignAndActivateBySerialNumber", methods_url(&sim, "alice@contoso.com"));
    let mut throttled = 0;
    for _ in 0..4 {
        let r = c
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&json!({"serialNumber": "SN0000", "verificationCode": wrong_code(0, now())}))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            throttled += 1;
            let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().expect("integer Retry-After");
            assert!(retry >= 1);
            let body: Value = r.json().await.unwrap();
            assert_eq!(assert_envelope(&body), "TooManyRequests");
        } else {
            assert_eq!(r.status(), 400);
        }
    }
    assert!(throttled >= 2, "burst of 1 at 1/s: {throttled} throttled of 4");
    // Reads pass while writes are throttled.
    for _ in 0..5 {
        assert_eq!(get(&c, &devices_url(&sim)).await.0, 200);
    }
    let state = sim.state();
    assert_eq!(state.counters.throttled, throttled);
    // Throttled requests were never applied: only the admitted ones checked a code.
    assert_eq!(state.counters.rejected_codes, 4 - throttled);
}

/// A simulator that drops every request, `after_share` of them after applying it, once alice's
/// activation of token `i` has met a connection closed without an answer.
async fn dropped_activation(after_share: f64, text: &str, i: usize) -> Simulator {
    let sim = start(SimConfig { drop_rate: 1.0, drop_after_share: after_share, ..Default::default() }, text).await;
    let url = format!("{}/assignAndActivateBySerialNumber", methods_url(&sim, "alice@contoso.com"));
    let body = json!({"serialNumber": format!("SN{i:04}"), "verificationCode": code(i, now()).code});
    let sent = client().post(&url).bearer_auth(TOKEN).json(&body).send().await;
    let err = sent.expect_err("the connection must close without a response");
    assert!(err.status().is_none() && !err.is_timeout(), "{err:?}");
    sim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_requests_are_connection_errors_before_or_after_the_write() {
    let text = csv(2, |_| "alice@contoso.com".into(), |_| "");
    // Dropped before: a connection error, and nothing applied.
    let sim = dropped_activation(0.0, &text, 0).await;
    let err = client().get(devices_url(&sim)).bearer_auth(TOKEN).send().await.expect_err("reads drop too");
    assert!(err.status().is_none(), "{err:?}");
    let state = sim.shutdown().await;
    assert_eq!(state.device("SN0000").unwrap().status, "available");
    assert_eq!((state.counters.drops_before, state.counters.drops_after, state.counters.faults), (2, 0, 2));

    // Dropped after: the client sees an error, yet the write happened.
    let sim = dropped_activation(1.0, &text, 1).await;
    let state = sim.shutdown().await;
    let dev = state.device("SN0001").unwrap();
    assert_eq!((dev.status.as_str(), dev.activations), ("activated", 1));
    assert_eq!(state.counters.drops_after, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_rate_answers_5xx_and_applies_nothing() {
    let sim =
        start(SimConfig { fail_rate: 1.0, ..Default::default() }, &csv(1, |_| "alice@contoso.com".into(), |_| ""))
            .await;
    let c = client();
    let url = format!("{}/assignAndActivateBySerialNumber", methods_url(&sim, "alice@contoso.com"));
    for _ in 0..4 {
        let (status, body) =
            post(&c, &url, json!({"serialNumber": "SN0000", "verificationCode": code(0, now()).code})).await;
        assert!(status == 500 || status == 503, "{status}");
        assert_envelope(&body);
    }
    let state = sim.state();
    assert_eq!(state.device("SN0000").unwrap().status, "available");
    assert_eq!(state.counters.faults_5xx, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_and_bad_tokens_are_refused() {
    let config = SimConfig {
        expire_token_after_requests: Some(2),
        client_id: Some("app".into()),
        client_secret: Some("s3cret".into()),
        ..Default::default()
    };
    let sim = start(config, &csv(1, |_| "alice@contoso.com".into(), |_| "")).await;
    let c = client();
    assert_eq!(get(&c, &devices_url(&sim)).await.0, 200);
    assert_eq!(get(&c, &devices_url(&sim)).await.0, 200);
    let (status, body) = get(&c, &devices_url(&sim)).await;
    assert_eq!(status, 401);
    assert_eq!(assert_envelope(&body), "InvalidAuthenticationToken");
    assert!(body["error"]["message"].as_str().unwrap().contains("Lifetime validation failed, the token is expired"));

    let r = c.get(devices_url(&sim)).bearer_auth("not-the-token").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = c.get(devices_url(&sim)).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Client credentials: a wrong secret is refused, the right one gets a working token.
    let token_url = format!("{}/contoso.onmicrosoft.com/oauth2/v2.0/token", sim.authority_url());
    let r = client_credentials(&c, &token_url, "nope").await;
    assert!(r.status() == 400 || r.status() == 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    let r = client_credentials(&c, &token_url, "s3cret").await;
    assert_eq!(r.status(), 200);
    let reply: Value = r.json().await.unwrap();
    assert_eq!(reply["token_type"], "Bearer");
    let access = reply["access_token"].as_str().unwrap();
    use base64::Engine;
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(access.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(payload["aud"], "https://graph.microsoft.com");
    assert_eq!(payload["tid"], json!(sim.tenant_id()));
    assert!(payload["roles"].as_array().unwrap().contains(&json!("UserAuthenticationMethod.ReadWrite.All")));
    assert!(payload["exp"].as_u64().unwrap() > now());
    // The issued token works although the static one has expired.
    let r = c.get(devices_url(&sim)).bearer_auth(access).send().await.unwrap();
    assert_eq!(r.status(), 200);
    sim.shutdown().await;

    // An issued token used after its lifetime is refused as expired.
    let sim = start(
        SimConfig { issued_token_lifetime_secs: 0, ..Default::default() },
        &csv(1, |_| "a@contoso.com".into(), |_| ""),
    )
    .await;
    let token_url = format!("{}/common/oauth2/v2.0/token", sim.authority_url());
    let r = client_credentials(&c, &token_url, "anything").await;
    let access = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let r = c.get(devices_url(&sim)).bearer_auth(&access).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("the token is expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_answers_403() {
    let sim =
        start(SimConfig { forbidden: true, ..Default::default() }, &csv(1, |_| "a@contoso.com".into(), |_| "")).await;
    let (status, body) = get(&client(), &devices_url(&sim)).await;
    assert_eq!(status, 403);
    assert_eq!(assert_envelope(&body), "Authorization_RequestDenied");
    assert_eq!(body["error"]["message"], "Insufficient privileges to complete the operation.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_over_five_methods_is_refused() {
    let sim =
        start(SimConfig::default(), &csv(6, |_| "alice@contoso.com".into(), |i| if i < 5 { "assigned" } else { "" }))
            .await;
    let c = client();
    let d = device_by_serial(&c, &sim, "SN0005").await;
    let (status, body) = post(&c, &methods_url(&sim, "alice@contoso.com"), json!({"device": {"id": d["id"]}})).await;
    assert_eq!(status, 400);
    assert_envelope(&body);
    assert_eq!(sim.state().device("SN0005").unwrap().status, "available");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_states_and_fractions() {
    let states = ["available", "assigned", "activated", "conflict", "missing", "wrong_secret", "failed", ""];
    let sim = start(SimConfig::default(), &csv(8, |i| format!("u{i}@fabrikam.com"), |i| states[i])).await;
    let s = sim.state();
    assert_eq!(s.devices.len(), 7);
    assert_eq!(s.missing_serials, vec!["SN0004"]);
    let status = |serial: &str| s.device(serial).unwrap().status.clone();
    assert_eq!(status("SN0000"), "available");
    assert_eq!(status("SN0001"), "assigned");
    assert_eq!(status("SN0002"), "activated");
    assert_eq!(status("SN0006"), "failedActivation");
    let conflict = s.device("SN0003").unwrap();
    assert_eq!(conflict.assigned_upn.as_deref(), Some("other-1@fabrikam.com"));
    assert!(s.user("other-1@fabrikam.com").unwrap().generated);
    assert_eq!(s.device("SN0001").unwrap().assigned_upn.as_deref(), Some("u1@fabrikam.com"));
    // 8 CSV users + 1 generated.
    assert_eq!(s.users.len(), 9);
    assert_eq!(sim.ready().devices, 7);

    // Fractions are deterministic by seed.
    let text = csv(200, |i| format!("u{i}@contoso.com"), |_| "");
    let config = || SimConfig { assigned_fraction: 0.25, activated_fraction: 0.5, seed: 42, ..Default::default() };
    let a = start(config(), &text).await.state();
    let b = start(config(), &text).await.state();
    let statuses = |s: &SimState| s.devices.iter().map(|d| d.status.clone()).collect::<Vec<_>>();
    assert_eq!(statuses(&a), statuses(&b));
    assert_eq!(
        a.devices.iter().map(|d| &d.id).collect::<Vec<_>>(),
        b.devices.iter().map(|d| &d.id).collect::<Vec<_>>()
    );
    let counts = a.status_counts();
    assert!((70..130).contains(&counts["activated"]), "{counts:?}");
    assert!((25..75).contains(&counts["assigned"]), "{counts:?}");

    let bad = Simulator::start(
        quiet(SimConfig::default()),
        rows(&csv(1, |_| "a@b.com".into(), |_| "bogus")),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    assert!(bad.is_err());
    let remote = Simulator::start(quiet(SimConfig::default()), vec![], "0.0.0.0:0".parse().unwrap()).await;
    assert!(remote.is_err(), "non-loopback must be refused");
}

async fn portal_get(c: &Client, url: &str) -> (StatusCode, Value) {
    let r = c
        .get(url)
        .bearer_auth(TOKEN)
        .header("x-ms-client-request-id", uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn portal_enable(c: &Client, sim: &Simulator, body: Value) -> (StatusCode, Value) {
    let r = c
        .post(format!("{}{PORTAL}/enable", sim.portal_url()))
        .bearer_auth(TOKEN)
        .header("x-ms-client-request-id", uuid::Uuid::new_v4().to_string())
        .header("x-ms-correlation-id", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_pages_of_25_with_skip_token() {
    // 60 assigned (every 6th activated) + 5 available that the portal must not list.
    let text = csv(
        65,
        |i| format!("user{}@contoso.com", i % 13),
        |i| match i {
            60.. => "available",
            _ if i % 6 == 0 => "activated",
            _ => "assigned",
        },
    );
    let sim = start(SimConfig::default(), &text).await;
    let c = client();
    let list = format!("{}{PORTAL}/users", sim.portal_url());
    let pages = |filter: &'static str, upn: &'static str| {
        let (c, list) = (c.clone(), list.clone());
        async move {
            let (mut sizes, mut items, mut skip) = (vec![], vec![], String::new());
            loop {
                let url = format!("{list}?skipToken={}&upn={upn}&enabledFilter={filter}", urlencode(&skip));
                let (status, body) = portal_get(&c, &url).await;
                assert_eq!(status, 200, "{body}");
                let page = body["items"].as_array().unwrap();
                sizes.push(page.len());
                items.extend(page.iter().cloned());
                match body["skipToken"].as_str() {
                    Some(s) => skip = s.to_string(),
                    None => break (sizes, items),
                }
                assert!(sizes.len() < 10);
            }
        }
    };
    let (sizes, items) = pages("", "").await;
    assert_eq!(sizes, vec![25, 25, 10]);
    let mut ids: Vec<&str> = items.iter().map(|i| i["oathId"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60);
    for key in
        ["oathId", "objectId", "upn", "displayName", "serialNumber", "enabled", "timeInterval", "manufacturer", "model"]
    {
        assert!(items[0].get(key).is_some(), "{key} missing: {}", items[0]);
    }
    let (sizes, items) = pages("false", "").await;
    assert_eq!(sizes.iter().sum::<usize>(), 50);
    assert!(items.iter().all(|i| i["enabled"] == false));
    let (_, items) = pages("", "USER3@contoso.com").await;
    assert_eq!(items.len(), 5); // user3 holds SN3, 16, 29, 42, 55
    assert!(items.iter().all(|i| i["upn"] == "user3@contoso.com"));

    // The request id header is required.
    let r = c.get(format!("{list}?skipToken=&upn=&enabledFilter=")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_enable_checks_the_code() {
    let sim =
        start(SimConfig::default(), &csv(2, |_| "alice@contoso.com".into(), |i| ["assigned", "conflict"][i])).await;
    let c = client();
    let (_, body) = portal_get(
        &c,
        &format!("{}{PORTAL}/users?skipToken=&upn=alice@contoso.com&enabledFilter=false", sim.portal_url()),
    )
    .await;
    let item = body["items"][0].clone();
    assert_eq!(item["serialNumber"], "SN0000");
    let enable = |code: String| json!({"@enableAction": "Activate", "oathId": item["oathId"], "objectId": item["objectId"], "verificationCode": code});

    let (status, body) = portal_enable(&c, &sim, enable(wrong_code(0, now()))).await;
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "OathCodeIncorrect");
    assert!(body["message"].as_str().is_some());
    assert_eq!(sim.state().device("SN0000").unwrap().status, "assigned");

    // The variant that echoes the whole list item plus enableAction.
    let mut echoed = item.clone();
    echoed["enableAction"] = json!("Activate");
    echoed["verificationCode"] = json!(code(0, now()).code);
    let (status, body) = portal_enable(&c, &sim, echoed).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = portal_enable(&c, &sim, enable(code(0, now()).code)).await;
    assert_eq!(status, 400);
    assert!(body["errorCode"].as_str().is_some_and(|e| e != "OathCodeIncorrect"), "{body}");

    let (status, _) = portal_enable(
        &c,
        &sim,
        json!({"@enableAction": "Activate", "oathId": "00000000-0000-0000-0000-000000000000", "objectId": item["objectId"], "verificationCode": "123456"}),
    )
    .await;
    assert_eq!(status, 404);

    let state = sim.state();
    let dev = state.device("SN0000").unwrap();
    assert_eq!((dev.status.as_str(), dev.activations, dev.double_activation_attempts), ("activated", 1, 1));
    assert_eq!(state.counters.rejected_codes, 1);
    assert_eq!(state.counters.requests_by_route["portal.enable"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_state_endpoint_needs_no_auth_and_is_not_counted() {
    let sim = start(SimConfig::default(), &csv(3, |_| "a@contoso.com".into(), |_| "")).await;
    let c = client();
    get(&c, &devices_url(&sim)).await;
    let url = format!("http://{}/_sim/state", sim.local_addr());
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("date"));
    let state: SimState = r.json().await.unwrap();
    assert_eq!(state.devices.len(), 3);
    assert_eq!(state.counters.requests, 1);
    assert_eq!(state, {
        let mut s = sim.state();
        s.now_unix = state.now_unix;
        s
    });
}

#[test]
fn cli_prints_ready_line_and_exits_on_stdin_eof_writing_state() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("tokens.csv");
    std::fs::write(&csv_path, csv(4, |_| "alice@contoso.com".into(), |i| ["", "activated", "missing", ""][i])).unwrap();
    let token_path = dir.path().join("token.txt");
    std::fs::write(&token_path, "Bearer file-token\n").unwrap();
    let state_path = dir.path().join("state.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .args(["simulate", "--csv"])
        .arg(&csv_path)
        .args(["--listen", "127.0.0.1:0", "--seed", "7", "--quiet", "--token-file"])
        .arg(&token_path)
        .arg("--state-out")
        .arg(&state_path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let Record::Simulator(ready) = serde_json::from_str::<Record>(&line).expect(&line) else { panic!("{line}") };
    assert_eq!((ready.devices, ready.users), (3, 1));
    assert!(ready.graph_url.starts_with("http://127.0.0.1:") && ready.graph_url.ends_with("/graph/beta"));
    assert!(ready.authority_url.ends_with("/login") && ready.portal_url.ends_with("/portal"));

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let c = client();
        let url = format!("{}/directory/authenticationMethodDevices/hardwareOathDevices", ready.graph_url);
        assert_eq!(c.get(&url).bearer_auth("file-token").send().await.unwrap().status(), 200);
        assert_eq!(c.get(&url).bearer_auth("Bearer file-token").send().await.unwrap().status(), 401);
    });

    drop(child.stdin.take()); // EOF
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("simulate did not exit on stdin EOF");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(rest.trim().is_empty(), "one line only on stdout: {rest}");
    let state: SimState = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(state.devices.len(), 3);
    assert_eq!(state.device("SN0001").unwrap().status, "activated");
    assert_eq!(state.counters.requests, 2);
    assert_eq!(state.counters.unauthorized, 1);
}

#[test]
fn cli_refuses_non_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("tokens.csv");
    std::fs::write(&csv_path, csv(1, |_| "a@contoso.com".into(), |_| "")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oathbulk"))
        .args(["simulate", "--csv"])
        .arg(&csv_path)
        .args(["--listen", "0.0.0.0:0"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_applied_exactly_once() {
    let n = 300;
    let text = csv(n, |i| format!("user{}@contoso.com", i / 3), |_| "");
    let sim = start(SimConfig { latency_ms: 5, ..Default::default() }, &text).await;
    let c = client();
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let (c, base) = (c.clone(), sim.graph_url());
        tasks.spawn(async move {
            for i in (worker..n).step_by(16) {
                let url = format!("{base}/users/user{}@contoso.com/authentication/hardwareOathMethods/assignAndActivateBySerialNumber", i / 3);
                let body = json!({"serialNumber": format!("SN{i:04}"), "verificationCode": code(i, now()).code});
                let r = c.post(&url).bearer_auth(TOKEN).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 204, "{i}");
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    // 16 in flight with 5 ms each: far quicker than 300 × 5 ms in series.
    assert!(started.elapsed() < Duration::from_millis(1200), "{:?}", started.elapsed());
    let state = sim.shutdown().await;
    assert_eq!(state.counters.activations, n as u64);
    assert!(state.devices.iter().all(|d| d.status == "activated" && d.activations == 1));
    assert_eq!(state.counters.requests_by_route["graph.assign_and_activate_by_serial"], n as u64);
}

// ---- Lifecycle, policy and sign-in additions ----

fn policy_url(sim: &Simulator) -> String {
    format!("{}/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath", sim.graph_url())
}

async fn send(c: &Client, method: reqwest::Method, url: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = c.request(method.clone(), url).bearer_auth(TOKEN);
    if let Some(b) = body {
        req = req.json(&b);
    } else if method == reqwest::Method::POST {
        // As Graph requires (and the simulator by default): a bodyless POST says its length.
        req = req.header("content-length", "0").body(Vec::<u8>::new());
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_state_blocks_activation_until_enabled() {
    let sim = start(
        SimConfig { policy_state: "disabled".into(), ..Default::default() },
        &csv(1, |_| "alice@contoso.com".into(), |_| "assigned"),
    )
    .await;
    let c = client();
    let (status, body) = get(&c, &policy_url(&sim)).await;
    assert_eq!(
        (status, body["id"].as_str(), body["state"].as_str()),
        (StatusCode::OK, Some("HardwareOath"), Some("disabled"))
    );
    let id = device_by_serial(&c, &sim, "SN0000").await["id"].as_str().unwrap().to_string();
    let activate = format!("{}/{id}/activate", methods_url(&sim, "alice@contoso.com"));
    let (status, body) = post(&c, &activate, json!({"verificationCode": code(0, now()).code.as_str()})).await;
    assert_eq!(status, 400);
    assert_eq!(assert_envelope(&body), "hardwareOathPolicyDisabled");
    assert_eq!(sim.state().devices[0].status, "assigned");
    assert_eq!(sim.state().counters.rejected_codes, 0, "refused before the code is looked at");

    let (status, _) = send(&c, reqwest::Method::PATCH, &policy_url(&sim), Some(json!({"state": "enabled"}))).await;
    assert_eq!(status, 204);
    assert_eq!(get(&c, &policy_url(&sim)).await.1["state"], "enabled");
    let (status, body) = post(&c, &activate, json!({"verificationCode": code(0, now()).code.as_str()})).await;
    assert_eq!(status, 204, "{body}");
    let state = sim.state();
    assert_eq!(
        (state.policy_state.as_str(), state.counters.policy_changes, state.counters.activations),
        ("enabled", 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_bulk_create_and_delete_devices() {
    let sim = start(SimConfig::default(), &csv(1, |_| "alice@contoso.com".into(), |_| "available")).await;
    let c = client();
    let new = |n: usize, serial: &str| {
        json!({"serialNumber": serial, "secretKey": secret_b32(n), "manufacturer": "Acme", "model": "X",
               "timeIntervalInSeconds": 30, "hashFunction": "hmacsha1"})
    };
    // One POST; the duplicate serial is refused.
    let (status, body) = post(&c, &devices_url(&sim), new(10, "NEW1")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["status"].as_str(), body["secretKey"].is_null()), (Some("available"), true));
    let (status, body) = post(&c, &devices_url(&sim), new(10, "SN0000")).await;
    assert_eq!(status, 409);
    assert_eq!(assert_envelope(&body), "deviceAlreadyExists");

    // Bulk: per-item results; assignTo by UPN works; a duplicate is an item error.
    let mut with_user = new(11, "NEW2");
    with_user["assignTo"] = json!({"id": "alice@contoso.com"});
    let mut a = with_user.clone();
    a["@contentId"] = json!("1");
    let mut b = new(12, "NEW1");
    b["@contentId"] = json!("2");
    let mut bad = new(13, "NEW3");
    bad["secretKey"] = json!("not base32 !!");
    bad["@contentId"] = json!("3");
    let (status, body) = send(
        &c,
        reqwest::Method::PATCH,
        &devices_url(&sim),
        Some(json!({"@context": "#$delta", "value": [a, b, bad]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let value = body["value"].as_array().unwrap();
    assert_eq!(value[0]["@contentId"], "1");
    assert_eq!(value[0]["status"], "assigned");
    assert_eq!(value[1]["error"]["code"], "deviceAlreadyExists");
    assert!(value[2]["error"]["code"].as_str().is_some());
    assert!(!body.to_string().contains(&secret_b32(13)), "secrets are never echoed");
    let state = sim.state();
    assert_eq!((state.counters.creates, state.counters.bulk_create_requests), (2, 1));
    assert_eq!(state.device("NEW2").unwrap().assigned_upn.as_deref(), Some("alice@contoso.com"));

    // An imported secret is the device's: its code activates it.
    let id = state.device("NEW2").unwrap().id.clone();
    let (status, _) = post(
        &c,
        &format!("{}/{id}/activate", methods_url(&sim, "alice@contoso.com")),
        json!({"verificationCode": code(11, now()).code.as_str()}),
    )
    .await;
    assert_eq!(status, 204);

    // Deactivate → assigned; unassign → available; delete only when unassigned.
    let method = format!("{}/{id}", methods_url(&sim, "alice@contoso.com"));
    let device = format!("{}/{id}", devices_url(&sim));
    let (status, body) = send(&c, reqwest::Method::DELETE, &device, None).await;
    assert_eq!((status, assert_envelope(&body)), (StatusCode::BAD_REQUEST, "deviceAssigned"));
    assert_eq!(send(&c, reqwest::Method::POST, &format!("{method}/deactivate"), None).await.0, 204);
    assert_eq!(sim.state().device("NEW2").unwrap().status, "assigned");
    let (status, body) = send(&c, reqwest::Method::POST, &format!("{method}/deactivate"), None).await;
    assert_eq!((status, assert_envelope(&body)), (StatusCode::BAD_REQUEST, "deviceNotActivated"));
    assert_eq!(send(&c, reqwest::Method::DELETE, &method, None).await.0, 204);
    let d = sim.state().device("NEW2").unwrap().clone();
    assert_eq!((d.status.as_str(), d.assigned_upn), ("available", None));
    assert_eq!(send(&c, reqwest::Method::DELETE, &device, None).await.0, 204);
    assert_eq!(get(&c, &device).await.0, 404);
    let state = sim.state();
    assert!(state.device("NEW2").is_none());
    assert_eq!(state.deleted_serials, vec!["NEW2".to_string()]);
    let (_, items) = all_pages(&c, devices_url(&sim)).await;
    assert_eq!(items.len(), 2, "deleted devices are not listed");
    assert_eq!((state.counters.deactivations, state.counters.unassignments, state.counters.deletes), (1, 1, 1));
    // A recreated serial gets a new id.
    let (status, body) = post(&c, &devices_url(&sim), new(10, "NEW2")).await;
    assert_eq!(status, 201);
    assert_ne!(body["id"].as_str().unwrap(), id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_create_fails_knob() {
    let sim =
        start(SimConfig { bulk_create_fails: true, ..Default::default() }, &csv(1, |_| "a@contoso.com".into(), |_| ""))
            .await;
    let c = client();
    let item =
        json!({"@contentId": "1", "serialNumber": "B1", "secretKey": secret_b32(5), "timeIntervalInSeconds": 30});
    let (status, _) =
        send(&c, reqwest::Method::PATCH, &devices_url(&sim), Some(json!({"@context": "#$delta", "value": [item]})))
            .await;
    assert_eq!(status, 400);
    assert_eq!(sim.state().counters.creates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_upload_is_processed_after_list_uploads() {
    let sim = start(
        SimConfig::default(),
        &csv(2, |i| format!("user{i}@contoso.com"), |i| if i == 0 { "assigned" } else { "missing" }),
    )
    .await;
    let c = client();
    let content = format!(
        "upn,serial number,secret key,time interval,manufacturer,model\nuser1@contoso.com,UP1,{},30,A,B\nuser0@contoso.com,SN0000,{},30,A,B\nghost@contoso.com,UP2,{},30,A,B\n",
        secret_b32(20),
        secret_b32(21),
        secret_b32(22)
    );
    let url = format!("{}{PORTAL}/upload", sim.portal_url());
    let r = c
        .post(&url)
        .bearer_auth(TOKEN)
        .header("x-ms-client-request-id", uuid::Uuid::new_v4().to_string())
        .json(&json!({"id": null, "name": "f.csv", "content": content, "mimeType": "application/vnd.ms-excel"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list = format!("{}{PORTAL}/listUploads", sim.portal_url());
    let (status, body) = portal_get(&c, &list).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["fileProcessingStatus"], "InProgress");
    assert!(sim.state().device("UP1").is_none(), "not applied while in progress");
    let (_, body) = portal_get(&c, &list).await;
    assert_eq!(body[0]["fileProcessingStatus"], "CompletedWithErrors");
    let errors = body[0]["errors"].as_array().unwrap();
    let codes: Vec<&str> = errors.iter().map(|e| e["errorCode"].as_str().unwrap()).collect();
    assert!(codes.contains(&"DuplicateSerialNumber") && codes.contains(&"UserNotFound"), "{body}");
    assert!(!body.to_string().contains(&secret_b32(20)));
    let state = sim.state();
    let d = state.device("UP1").unwrap();
    assert_eq!((d.status.as_str(), d.assigned_upn.as_deref()), ("assigned", Some("user1@contoso.com")));
    assert_eq!((state.counters.creates, state.counters.uploads), (1, 1));
    // The uploaded secret activates through the portal.
    let (status, _) = portal_enable(
        &c,
        &sim,
        json!({"@enableAction": "Activate", "oathId": d.id, "objectId": sim.state().user("user1@contoso.com").unwrap().id,
               "verificationCode": code(20, now()).code.as_str()}),
    )
    .await;
    assert_eq!(status, 200);
}

async fn device_code_poll(c: &Client, sim: &Simulator, device_code: &str) -> (StatusCode, Value) {
    let url = format!("{}/organizations/oauth2/v2.0/token", sim.authority_url());
    let r = c
        .post(&url)
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", "14d82eec-204b-4c2f-b7e8-296a70dab67e"),
            ("device_code", device_code),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn device_code(c: &Client, sim: &Simulator) -> Value {
    let url = format!("{}/organizations/oauth2/v2.0/devicecode", sim.authority_url());
    let r = c.post(&url).form(&[("client_id", "app"), ("scope", "x offline_access")]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_code_flow_follows_the_configured_steps() {
    let flow = ["authorization_pending", "slow_down", "success"].map(String::from).to_vec();
    let sim = start(
        SimConfig {
            device_code_flow: flow,
            device_code_interval_secs: 0,
            issued_scopes: Some("UserAuthenticationMethod.ReadWrite.All".into()),
            issued_wids: vec!["62e90394-69f5-4237-9190-012177145e10".into()],
            slow_down_increment_secs: 1,
            ..Default::default()
        },
        &csv(1, |_| "a@contoso.com".into(), |_| ""),
    )
    .await;
    let c = client();
    let dc = device_code(&c, &sim).await;
    for key in ["device_code", "user_code", "verification_uri", "expires_in", "interval", "message"] {
        assert!(!dc[key].is_null(), "{key}: {dc}");
    }
    assert_eq!(dc["interval"], 0);
    let code = dc["device_code"].as_str().unwrap();
    let (s, b) = device_code_poll(&c, &sim, code).await;
    assert_eq!((s, b["error"].as_str()), (StatusCode::BAD_REQUEST, Some("authorization_pending")));
    assert!(b["error_description"].as_str().is_some());
    let (s, b) = device_code_poll(&c, &sim, code).await;
    assert_eq!((s, b["error"].as_str()), (StatusCode::BAD_REQUEST, Some("slow_down")));
    // Polled again at once: too fast after slow_down (counted, still answered).
    let (s, b) = device_code_poll(&c, &sim, code).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(sim.state().counters.device_code_polls_too_fast, 1);
    assert_eq!(sim.state().counters.device_code_polls, 3);
    let access = b["access_token"].as_str().unwrap();
    let p = claims(access);
    assert_eq!(p["scp"], "UserAuthenticationMethod.ReadWrite.All");
    assert_eq!(p["wids"], json!(["62e90394-69f5-4237-9190-012177145e10"]));
    assert_eq!(p["aud"], "https://graph.microsoft.com");
    assert!(b["scope"]
        .as_str()
        .unwrap()
        .contains("https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All"));
    // Refresh: a new token with the same claims, counted.
    let issued = sim.state().counters.tokens_issued;
    let r = c
        .post(format!("{}/organizations/oauth2/v2.0/token", sim.authority_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "app"),
            ("refresh_token", b["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    let refreshed: Value = r.json().await.unwrap();
    let q = claims(refreshed["access_token"].as_str().unwrap());
    assert_eq!((q["scp"].clone(), q["wids"].clone()), (p["scp"].clone(), p["wids"].clone()));
    assert_eq!(sim.state().counters.tokens_issued, issued + 1);
    // The code is spent.
    assert_eq!(device_code_poll(&c, &sim, code).await.1["error"], "expired_token");
    sim.shutdown().await;

    for terminal in ["authorization_declined", "expired_token", "bad_verification_code"] {
        let sim = start(
            SimConfig { device_code_flow: vec![terminal.into()], ..Default::default() },
            &csv(1, |_| "a@contoso.com".into(), |_| ""),
        )
        .await;
        let dc = device_code(&c, &sim).await;
        let (s, b) = device_code_poll(&c, &sim, dc["device_code"].as_str().unwrap()).await;
        assert_eq!((s, b["error"].as_str()), (StatusCode::BAD_REQUEST, Some(terminal)));
        assert_eq!(sim.state().counters.tokens_issued, 0);
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_tokens_carry_configured_roles_and_audience() {
    let sim = start(
        SimConfig {
            issued_roles: vec!["Policy.Read.All".into()],
            issued_audience: "00000003-0000-0000-c000-000000000000".into(),
            ..Default::default()
        },
        &csv(1, |_| "a@contoso.com".into(), |_| ""),
    )
    .await;
    let r = client()
        .post(format!("{}/t/oauth2/v2.0/token", sim.authority_url()))
        .form(&[("grant_type", "client_credentials"), ("client_id", "a"), ("client_secret", "b")])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let p = claims(body["access_token"].as_str().unwrap());
    assert_eq!(p["roles"], json!(["Policy.Read.All"]));
    assert_eq!(p["aud"], "00000003-0000-0000-c000-000000000000");
    assert!(p.get("wids").is_none() && p.get("scp").is_none());
}

/// Every reading of the Graph docs the simulator can take (issue 10), seen from the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readings_answer_as_the_docs_allow() {
    let sim = start(
        SimConfig { readings: Readings::named("all").unwrap(), ..Default::default() },
        &csv(3, |i| if i == 0 { "$admin@contoso.com".into() } else { "o'brien@contoso.com".into() }, |_| "assigned"),
    )
    .await;
    let c = client();
    let state = sim.state();
    let device = state.device("SN0001").unwrap().id.clone();

    // Distinct ids: the method list names other ids; `device` only when expanded.
    let user = "o'brien@contoso.com";
    let (status, body) = get(&c, &methods_url(&sim, user)).await;
    assert_eq!(status, 200);
    let method = body["value"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(method.to_lowercase(), device.to_lowercase());
    assert!(body["value"][0].get("device").is_none(), "not expanded");
    let (_, body) = get(&c, &format!("{}?$expand=device", methods_url(&sim, user))).await;
    let ids: Vec<&str> =
        body["value"].as_array().unwrap().iter().map(|m| m["device"]["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&device.as_str()), "{body}");
    let activate = |id: &str| format!("{}/{id}/activate", methods_url(&sim, user));
    let code = json!({"verificationCode": code(1, now()).code.as_str()});
    // `all` includes `wrong-method-400`: the refusal is a 400 naming the id sent.
    let (status, refused) = post(&c, &activate(&device), code.clone()).await;
    assert_eq!(status, 400, "a device id is no method id: {refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains(&device), "{refused}");
    let method_of_sn1 =
        body["value"].as_array().unwrap().iter().find(|m| m["device"]["id"] == device.as_str()).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
    assert_eq!(post(&c, &activate(&method_of_sn1), code).await.0, 204);
    assert_eq!(sim.state().counters.method_not_found, 1);

    // A `$` UPN: a system segment when bare, a user in the key form.
    let (status, _) = get(&c, &format!("{}/users/%24admin%40contoso.com", sim.graph_url())).await;
    assert_eq!(status, 400);
    let (status, body) = get(&c, &format!("{}/users('%24admin%40contoso.com')", sim.graph_url())).await;
    assert_eq!((status.as_u16(), body["userPrincipalName"].as_str()), (200, Some("$admin@contoso.com")));

    // Users in bulk: `userPrincipalName in (…)`, at most 15.
    let filter = "userPrincipalName in ('o''brien@contoso.com','$admin@contoso.com','nobody@contoso.com')";
    let url = format!("{}/users?$filter={}", sim.graph_url(), urlencode(filter));
    let (status, body) = get(&c, &url).await;
    assert_eq!((status.as_u16(), body["value"].as_array().map(Vec::len)), (200, Some(2)), "{body}");

    // `$top` above the limit: 400; without it, the default page and a nextLink.
    let (status, _) = get(&c, &format!("{}?$top=999", devices_url(&sim))).await;
    assert_eq!(status, 400);
    let (status, body) = get(&c, &devices_url(&sim)).await;
    assert_eq!((status.as_u16(), body["value"].as_array().map(Vec::len)), (200, Some(3)));
    assert_eq!(sim.state().counters.top_refused, 1);

    // The policy wrapped in `value`.
    let (_, body) = get(&c, &policy_url(&sim)).await;
    assert_eq!(body["value"][0]["state"], "enabled", "{body}");

    // The documented bulk answer: 201, methods with a nested device, no @contentId.
    let item = json!({"@contentId": "1", "serialNumber": "NEW1", "manufacturer": "M", "model": "X",
        "secretKey": secret_b32(20), "timeIntervalInSeconds": 30, "hashFunction": "hmacsha1"});
    // (`bulk-post-only`, part of `all`: the PATCH is 405, the documented POST takes it.)
    let delta = json!({"@context": "#$delta", "value": [item]});
    let (status, _) = send(&c, reqwest::Method::PATCH, &devices_url(&sim), Some(delta.clone())).await;
    assert_eq!(status.as_u16(), 405);
    let (status, body) = send(&c, reqwest::Method::POST, &devices_url(&sim), Some(delta)).await;
    assert_eq!(status.as_u16(), 201, "{body}");
    let created = &body["value"][0];
    assert!(created.get("@contentId").is_none(), "{body}");
    assert_eq!(created["device"]["serialNumber"], "NEW1");

    // A bodyless write without a length: 411, nothing changed.
    let deactivate = format!("{}/{method_of_sn1}/deactivate", methods_url(&sim, user));
    let status = c.post(&deactivate).bearer_auth(TOKEN).send().await.unwrap().status();
    assert_eq!(status.as_u16(), 411);
    assert_eq!(sim.state().device("SN0001").unwrap().status, "activated");
    assert_eq!(sim.state().counters.length_required, 1);
}

/// POSTs `n` writes at once (a wrong code each: refused with 400 once admitted) and returns
/// their statuses and `Retry-After`s.
async fn writes_at_once(sim: &Simulator, n: usize) -> Vec<(u16, Option<u64>)> {
    let c = client();
    let url = format!("{}/assignAndActivateBySerialNumber", methods_url(sim, "alice@contoso.com"));
    let sends: Vec<_> = (0..n)
        .map(|_| {
            let body = json!({"serialNumber": "SN0000", "verificationCode": wrong_code(0, now())});
            tokio::spawn(c.post(&url).bearer_auth(TOKEN).json(&body).send())
        })
        .collect();
    let mut answers = Vec::new();
    for send in sends {
        let r = send.await.unwrap().unwrap();
        let ra = r.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
        answers.push((r.status().as_u16(), ra));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_window_takes_its_count_then_asks_for_the_seconds_it_has_left() {
    let limits = vec!["fixed-window:3:30".parse().unwrap()];
    let sim = start(SimConfig { limits, ..Default::default() }, &csv(1, |_| "alice@contoso.com".into(), |_| "")).await;
    let answers = writes_at_once(&sim, 5).await;
    let taken = answers.iter().filter(|(s, _)| *s == 400).count();
    let refused: Vec<u64> = answers.iter().filter(|(s, _)| *s == 429).map(|(_, ra)| ra.expect("Retry-After")).collect();
    assert_eq!((taken, refused.len()), (3, 2), "{answers:?}");
    // The window is aligned to the simulator's start, 30 s long: what is left of it, >= 2 s.
    assert!(refused.iter().all(|ra| (2..=30).contains(ra)), "{refused:?}");
    // Reads are not limited.
    assert_eq!(get(&client(), &devices_url(&sim)).await.0, 200);
    assert_eq!(sim.state().counters.throttled, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrency_limit_refuses_what_is_in_flight_beyond_it_and_nothing_later() {
    let limits = vec!["concurrency:2".parse().unwrap()];
    let sim = start(
        SimConfig { limits, latency_ms: 300, ..Default::default() },
        &csv(1, |_| "alice@contoso.com".into(), |_| ""),
    )
    .await;
    let answers = writes_at_once(&sim, 5).await;
    assert_eq!(answers.iter().filter(|(s, _)| *s == 400).count(), 2, "{answers:?}");
    assert!(answers.iter().filter(|(s, _)| *s == 429).all(|(_, ra)| *ra == Some(1)), "{answers:?}");
    // Once they are answered, the places are free again.
    let later = writes_at_once(&sim, 2).await;
    assert!(later.iter().all(|(s, _)| *s == 400), "{later:?}");
}

/// Issue 25, item 8: refuse what the beta CSDL refuses. `hardwareOathTokenHashFunction`'s
/// members are `hmacsha1` and `hmacsha256`, spelled so; `manufacturer`, `model`,
/// `serialNumber` and `timeIntervalInSeconds` are non-nullable; `hardwareOathTokenStatus`
/// members are case-sensitive in a filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_what_the_csdl_refuses() {
    let sim = start(SimConfig::default(), &csv(1, |_| "alice@contoso.com".into(), |_| "activated")).await;
    let c = client();
    let new = |serial: &str| {
        json!({"serialNumber": serial, "secretKey": secret_b32(40), "manufacturer": "Acme", "model": "X",
               "timeIntervalInSeconds": 30, "hashFunction": "hmacsha256"})
    };
    for (i, hash) in ["sha1", "HMACSHA256", "SHA-256", "hmac-sha1", "unknownFutureValue"].into_iter().enumerate() {
        let mut body = new(&format!("H{i}"));
        body["hashFunction"] = json!(hash);
        let (status, body) = post(&c, &devices_url(&sim), body).await;
        assert_eq!(status, 400, "hashFunction {hash}: {body}");
    }
    for (i, missing) in ["manufacturer", "model", "timeIntervalInSeconds", "serialNumber"].into_iter().enumerate() {
        let mut body = new(&format!("M{i}"));
        body.as_object_mut().unwrap().remove(missing);
        let (status, body) = post(&c, &devices_url(&sim), body).await;
        assert_eq!(status, 400, "without {missing}: {body}");
    }
    let (status, body) = post(&c, &devices_url(&sim), new("OK1")).await;
    assert_eq!(status, 201, "the CSDL's own spelling is taken: {body}");
    assert_eq!(body["hashFunction"], "hmacsha256");
    assert_eq!(sim.state().counters.creates, 1);

    let (status, body) = get(&c, &format!("{}?$filter=status eq 'ACTIVATED'", devices_url(&sim))).await;
    assert_eq!(status, 400, "enum members are case-sensitive: {body}");
    let (status, body) = get(&c, &format!("{}?$filter=status eq 'activated'", devices_url(&sim))).await;
    assert_eq!((status, body["value"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{body}");
}

/// A JSON write must say `Content-Type: application/json`; a bodyless one need not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_write_without_its_content_type_is_refused() {
    let sim = start(SimConfig::default(), &csv(1, |_| "alice@contoso.com".into(), |_| "activated")).await;
    let c = client();
    let body = json!({"serialNumber": "CT1", "secretKey": secret_b32(41), "manufacturer": "Acme", "model": "X",
                      "timeIntervalInSeconds": 30});
    for content_type in [None, Some("text/plain")] {
        let mut req = c.post(devices_url(&sim)).bearer_auth(TOKEN).body(body.to_string());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 415, "Content-Type {content_type:?}");
    }
    let r = c
        .post(devices_url(&sim))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // deactivate: no body, so no type to state.
    let id = device_by_serial(&c, &sim, "SN0000").await["id"].as_str().unwrap().to_string();
    let r = c
        .post(format!("{}/{id}/deactivate", methods_url(&sim, "alice@contoso.com")))
        .bearer_auth(TOKEN)
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

/// What Graph documents is accepted: a chunked body (its 411 text names it), PATCH of one
/// device, `userPrincipalName eq '…'`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_what_graph_documents() {
    let sim = start(SimConfig::default(), &csv(2, |i| format!("user{i}@contoso.com"), |_| "available")).await;
    let c = client();
    let body = json!({"serialNumber": "CH1", "secretKey": secret_b32(42), "manufacturer": "Acme", "model": "X",
                      "timeIntervalInSeconds": 30})
    .to_string();
    // Two chunks, no Content-Length, written by hand (reqwest would add a length).
    let addr = sim.local_addr();
    let head = format!(
        "POST /graph/beta/directory/authenticationMethodDevices/hardwareOathDevices HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n"
    );
    let (a, b) = body.split_at(10);
    let request = format!("{head}{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n", a.len(), b.len());
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "a chunked write says where its body ends: no 411: {answer}");
    assert_eq!(sim.state().counters.length_required, 0);

    let id = device_by_serial(&c, &sim, "SN0001").await["id"].as_str().unwrap().to_string();
    let one = format!("{}/{id}", devices_url(&sim));
    let (status, _) = send(&c, reqwest::Method::PATCH, &one, Some(json!({"displayName": "Desk 7"}))).await;
    assert_eq!(status, 204);
    assert_eq!(get(&c, &one).await.1["displayName"], "Desk 7");
    let (status, _) = send(&c, reqwest::Method::PATCH, &one, Some(json!({"serialNumber": "OTHER"}))).await;
    assert_eq!(status, 400, "the service sets the serial, not a PATCH");
    assert_eq!(get(&c, &one).await.1["serialNumber"], "SN0001");

    let (status, body) =
        get(&c, &format!("{}/users?$filter=userPrincipalName eq 'user1@contoso.com'", sim.graph_url())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"][0]["userPrincipalName"], "user1@contoso.com");
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
}

/// The reading `wrong-method-400`: a method id that names none of the user's methods is a
/// 400 whose message names the id (404 otherwise).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_id_is_a_400_naming_it_under_wrong_method_400() {
    for (reading, want) in [("default", 404), ("wrong-method-400", 400)] {
        let config = SimConfig { readings: Readings::named(reading).unwrap(), ..Default::default() };
        let sim = start(config, &csv(1, |_| "alice@contoso.com".into(), |_| "assigned")).await;
        let c = client();
        let url = format!("{}/no-such-method/activate", methods_url(&sim, "alice@contoso.com"));
        let (status, body) = post(&c, &url, json!({"verificationCode": code(0, now()).code.as_str()})).await;
        assert_eq!(status.as_u16(), want, "[{reading}] {body}");
        if want == 400 {
            assert!(body["error"]["message"].as_str().unwrap().contains("no-such-method"), "{body}");
        }
        assert_eq!(sim.state().counters.method_not_found, 1, "[{reading}]");
    }
}

/// `--record`: one line per Graph request, never the bearer token nor a secret key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_holds_requests_without_credentials_or_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("requests.jsonl");
    let config = SimConfig { record: Some(record.clone()), ..Default::default() };
    let sim = start(config, &csv(1, |_| "alice@contoso.com".into(), |_| "available")).await;
    let c = client();
    let body = json!({"serialNumber": "R1", "secretKey": secret_b32(43), "manufacturer": "Acme", "model": "X",
                      "timeIntervalInSeconds": 30});
    assert_eq!(post(&c, &devices_url(&sim), body).await.0, 201);
    assert_eq!(get(&c, &devices_url(&sim)).await.0, 200);
    let text = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["path"], "/directory/authenticationMethodDevices/hardwareOathDevices");
    assert_eq!(lines[0]["content_type"], "application/json");
    assert_eq!(lines[0]["body"]["serialNumber"], "R1");
    assert_eq!(lines[0]["body"]["secretKey"], "<redacted>");
    assert!(lines[1]["body"].is_null());
    assert!(!text.contains(TOKEN), "the bearer token was recorded");
    assert!(!text.contains(&secret_b32(43)), "a secret was recorded");
}
