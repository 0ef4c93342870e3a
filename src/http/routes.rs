//! Requests to answers: routing, the JSON body, authentication, errors.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{
    HeaderMap, Method, Request, Response, StatusCode,
    body::Incoming,
    header::{self, HeaderValue},
};
use serde_json::{Value, json};

use super::{
    authzen::{self, Evaluation, Evaluations},
    face::Face,
};
use crate::domain::Error;

pub type Answer = Response<Full<Bytes>>;

const EVALUATION: &str = "/access/v1/evaluation";
const EVALUATIONS: &str = "/access/v1/evaluations";
const METADATA: &str = "/.well-known/authzen-configuration";
const REQUEST_ID: &str = "x-request-id";

/// Answers one request; bodies longer than `max_body` bytes are refused with 413.
pub async fn handle(face: Face, request: Request<Incoming>, max_body: usize) -> Answer {
    let request_id = request.headers().get(REQUEST_ID).cloned();
    let mut answer = route(&face, request, max_body).await;
    if let Some(id) = request_id {
        answer.headers_mut().insert(REQUEST_ID, id);
    }
    answer
}

async fn route(face: &Face, request: Request<Incoming>, max_body: usize) -> Answer {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    match (path.as_str(), &method) {
        ("/healthz", &Method::GET | &Method::HEAD) => json_answer(StatusCode::OK, &json!({"status": "SERVING"})),
        ("/readyz", &Method::GET | &Method::HEAD) => readiness(face),
        (METADATA, &Method::GET | &Method::HEAD) => metadata(request.headers()),
        (EVALUATION | EVALUATIONS, &Method::POST) => {
            let (parts, body) = request.into_parts();
            match evaluate(face, &path, &parts.headers, body, max_body).await {
                Ok(body) => json_answer(StatusCode::OK, &body),
                Err(failure) => failure.answer(),
            }
        }
        ("/healthz" | "/readyz" | METADATA, _) => not_allowed("GET, HEAD"),
        (EVALUATION | EVALUATIONS, _) => not_allowed("POST"),
        _ => Failure::plain(
            StatusCode::NOT_FOUND,
            format!("no such path `{path}`: rbacd serves {EVALUATION}, {EVALUATIONS}, {METADATA}, /healthz and /readyz"),
        )
        .answer(),
    }
}

async fn evaluate(
    face: &Face,
    path: &str,
    headers: &HeaderMap,
    body: Incoming,
    max_body: usize,
) -> Result<Value, Failure> {
    let caller = face.caller(headers)?;
    if let Some(kind) = headers.get(header::CONTENT_TYPE)
        && !kind
            .to_str()
            .is_ok_and(|k| k.trim_start().starts_with("application/json"))
    {
        return Err(Failure::plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as `Content-Type: application/json`".into(),
        ));
    }
    let bytes = match Limited::new(body, max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(Failure::plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {max_body} bytes"),
            ));
        }
        Err(_) => {
            return Err(Failure::plain(
                StatusCode::BAD_REQUEST,
                "the body could not be read".into(),
            ));
        }
    };
    if !face.checks_serving() {
        return Err(Error::Unavailable(
            "checks are not served now: the index is older than --max-staleness; retry, or ask another instance".into(),
        )
        .into());
    }
    let env = caller.environment;
    if path == EVALUATION {
        let one: Evaluation = parse_json(&bytes)?;
        let query = one.parse()?;
        let answer = authzen::answer(&query, &face.decide(env, &query));
        return Ok(json!(answer));
    }
    let many: Evaluations = parse_json(&bytes)?;
    many.check_size()?;
    if many.evaluations.is_empty() {
        // Without `evaluations` the request is a single evaluation, answered as one.
        let query = many.defaults.parse()?;
        return Ok(json!(authzen::answer(&query, &face.decide(env, &query))));
    }
    let mut answers = Vec::with_capacity(many.evaluations.len());
    for item in &many.evaluations {
        let answer = match item.clone().over(&many.defaults).parse() {
            Ok(query) => authzen::answer(&query, &face.decide(env, &query)),
            Err(error) => authzen::item_error(status_of(&error).as_u16(), &error),
        };
        if many.stops_after(&answer) {
            answers.push(authzen::short_circuit(
                answer,
                many.options.evaluations_semantic,
            ));
            break;
        }
        answers.push(answer);
    }
    Ok(json!({ "evaluations": answers }))
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(bytes).map_err(|e| {
        Failure::from(Error::invalid(
            "",
            format!("the body is not the expected JSON object: {e}"),
        ))
    })
}

fn readiness(face: &Face) -> Answer {
    let serving = *face.serving.borrow();
    let status = if serving.checks {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_answer(
        status,
        &json!({
            "status": if serving.checks { "SERVING" } else { "NOT_SERVING" },
            "checks": serving.checks,
            "store": serving.store,
        }),
    )
}

/// The PDP metadata, its URLs on the host the request was sent to.
fn metadata(headers: &HeaderMap) -> Answer {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        })
        .unwrap_or("localhost");
    let base = format!("http://{host}");
    json_answer(
        StatusCode::OK,
        &json!({
            "policy_decision_point": base,
            "access_evaluation_endpoint": format!("{base}{EVALUATION}"),
            "access_evaluations_endpoint": format!("{base}{EVALUATIONS}"),
        }),
    )
}

fn not_allowed(allow: &'static str) -> Answer {
    let mut answer = Failure::plain(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("this path answers {allow}"),
    )
    .answer();
    answer
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    answer
}

fn json_answer(status: StatusCode, body: &Value) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from(body.to_string())));
    *answer.status_mut() = status;
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    answer
}

/// The status mirroring the gRPC code the same error gets.
fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::InvalidArgument(_) | Error::FailedPrecondition(_) => StatusCode::BAD_REQUEST,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::AlreadyExists(_) => StatusCode::CONFLICT,
        Error::PermissionDenied(_) => StatusCode::FORBIDDEN,
        Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An answer other than 200: `{"error": {"status", "message", "field_violations"?}}`.
struct Failure {
    status: StatusCode,
    body: Value,
}

impl Failure {
    fn plain(status: StatusCode, message: String) -> Self {
        Self {
            status,
            body: json!({ "status": status.as_u16(), "message": message }),
        }
    }

    fn answer(self) -> Answer {
        let mut answer = json_answer(self.status, &json!({ "error": self.body }));
        if self.status == StatusCode::UNAUTHORIZED {
            answer
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        answer
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        if let Error::Internal(cause) = &error {
            tracing::error!(%cause, "HTTP evaluation failed");
        }
        let mut failure = Self::plain(status_of(&error), error.to_string());
        if let Error::InvalidArgument(violations) = &error {
            failure.body["field_violations"] = authzen::violations_json(violations);
        }
        failure
    }
}

/// The answer to a request that did not finish within the HTTP timeout.
pub fn timed_out() -> Answer {
    Failure::plain(
        StatusCode::REQUEST_TIMEOUT,
        "the request did not arrive or finish within --http-timeout".into(),
    )
    .answer()
}
