//! A small HTTP server between posts-service and users-service that records every request
//! and can inject faults: an error status, a delay, or an extra key in the JWKS.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::jwk::{Jwk, JwkSet};

/// One request that passed through.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub authorization: Option<String>,
    pub request_id: Option<String>,
}

/// What to do to requests whose path starts with a prefix.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer this status without asking users-service.
    Status(u16),
    /// Wait this long, then forward.
    Delay(Duration),
}

struct State {
    upstream: String,
    client: reqwest::Client,
    recorded: Mutex<Vec<Recorded>>,
    faults: Mutex<Vec<(String, Fault)>>,
    extra_jwk: Mutex<Option<Jwk>>,
}

/// The running proxy.
pub struct Proxy {
    pub address: String,
    state: Arc<State>,
}

impl Proxy {
    /// Starts a proxy to `upstream` on a random port.
    pub fn start(upstream: &str) -> Self {
        let state = Arc::new(State {
            upstream: upstream.to_owned(),
            client: reqwest::Client::new(),
            recorded: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            extra_jwk: Mutex::new(None),
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(forward)))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
        tokio::spawn(server);
        Self { address, state }
    }

    /// Every request so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.state.recorded.lock().unwrap().clone()
    }

    /// The requests so far whose path starts with `prefix`.
    pub fn recorded_to(&self, prefix: &str) -> Vec<Recorded> {
        self.recorded().into_iter().filter(|r| r.path.starts_with(prefix)).collect()
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.state.recorded.lock().unwrap().clear();
    }

    /// Applies `fault` to requests whose path starts with `prefix`, until [`Proxy::heal`].
    pub fn inject(&self, prefix: &str, fault: Fault) {
        self.state.faults.lock().unwrap().push((prefix.to_owned(), fault));
    }

    /// Removes every fault.
    pub fn heal(&self) {
        self.state.faults.lock().unwrap().clear();
    }

    /// Publishes `jwk` in the JWKS beside users-service's own keys.
    pub fn publish_extra_key(&self, jwk: Jwk) {
        *self.state.extra_jwk.lock().unwrap() = Some(jwk);
    }
}

async fn forward(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let path = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let header = |name: &str| req.headers().get(name).map(|v| v.to_str().unwrap_or_default().to_owned());
    let (authorization, request_id) = (header("authorization"), header("x-request-id"));
    state.recorded.lock().unwrap().push(Recorded {
        method: req.method().to_string(),
        path: path.clone(),
        authorization,
        request_id,
    });
    let fault = state
        .faults
        .lock()
        .unwrap()
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix.as_str()))
        .map(|(_, f)| f.clone());
    match fault {
        Some(Fault::Status(status)) => {
            return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish();
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let mut upstream = state.client.request(method, format!("{}{path}", state.upstream)).body(body.to_vec());
    for (name, value) in req.headers() {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name.as_str(), value.as_bytes());
        }
    }
    let Ok(response) = upstream.send().await else {
        return HttpResponse::BadGateway().finish();
    };
    let mut builder = HttpResponse::build(actix_web::http::StatusCode::from_u16(response.status().as_u16()).unwrap());
    for (name, value) in response.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            builder.insert_header((name.as_str(), value.as_bytes()));
        }
    }
    let mut bytes = response.bytes().await.unwrap_or_default().to_vec();
    if path.starts_with("/.well-known/jwks.json")
        && let Some(extra) = state.extra_jwk.lock().unwrap().clone()
        && let Ok(mut set) = serde_json::from_slice::<JwkSet>(&bytes)
    {
        set.keys.push(extra);
        bytes = serde_json::to_vec(&set).unwrap();
    }
    builder.body(bytes)
}
