//! Check, BatchCheck (in batches of several sizes) and CheckStream (one stream,
//! every question) against the reference evaluator, and against each other.

use futures::StreamExt;
use rbacd::engine::Reason;

use super::mirror::Mirror;
use super::questions::Question;
use super::*;
use crate::support::decision_rule::Expected;

const BATCH_SIZES: &[usize] = &[1, 13, 100, 250];

/// Asks every question on all three transports and reports each disagreement.
pub async fn cross_check(
    client: &Authz,
    mirror: &Mirror,
    questions: &[Question],
    report: &mut Report,
) {
    let unary = check_each(client, questions).await;
    let batched = check_batches(client, questions).await;
    let streamed = check_stream(client, questions).await;
    for (transport, answers) in [("BatchCheck", &batched), ("CheckStream", &streamed)] {
        if answers.len() != questions.len() {
            report.disagree(format!(
                "{transport} gave {} answers to {} questions; the last: {:?}",
                answers.len(),
                questions.len(),
                answers.last()
            ));
            return;
        }
    }
    for (i, question) in questions.iter().enumerate() {
        let expected = question.expected(mirror);
        for (transport, answer) in [
            ("Check", &unary[i]),
            ("BatchCheck", &batched[i]),
            ("CheckStream", &streamed[i]),
        ] {
            let answer = match answer {
                Ok(answer) => answer,
                Err(status) => {
                    report.disagree(format!("{transport}: {question}\n  failed: {status:?}"));
                    continue;
                }
            };
            if let Err(why) = judge(&expected, answer, mirror.revision) {
                report.disagree(format!(
                    "{transport}: {question}\n  {why}\n  server:    {}\n  reference: {expected:?}",
                    show(answer)
                ));
            }
        }
        if let (Ok(a), Ok(b), Ok(c)) = (&unary[i], &batched[i], &streamed[i])
            && !(same(a, b) && same(a, c))
        {
            report.disagree(format!(
                "transports differ: {question}\n  Check:       {}\n  BatchCheck:  {}\n  CheckStream: {}",
                show(a),
                show(b),
                show(c)
            ));
        }
    }
}

pub fn pb_reason(reason: Reason) -> pb::DecisionReason {
    match reason {
        Reason::Granted => pb::DecisionReason::Granted,
        Reason::NoMatchingAssignment => pb::DecisionReason::NoMatchingAssignment,
        Reason::IdentityNotActive => pb::DecisionReason::IdentityNotActive,
        Reason::UnknownIdentity => pb::DecisionReason::UnknownIdentity,
        Reason::UnknownNode => pb::DecisionReason::UnknownNode,
    }
}

/// Whether `answer` says what the rule says, with the same grant.
pub fn judge(expected: &Expected, answer: &pb::CheckResponse, revision: u64) -> Result<(), String> {
    if let Some(error) = &answer.error {
        return Err(format!("an item error: {error:?}"));
    }
    let reason = pb_reason(expected.reason);
    if answer.allowed != (reason == pb::DecisionReason::Granted) || answer.reason_code() != reason {
        return Err(format!("the decision differs (expected {reason:?})"));
    }
    let code = reason.as_str_name().trim_start_matches("DECISION_REASON_");
    if !answer.reason.starts_with(code) {
        return Err(format!("the reason does not start with {code}"));
    }
    match (&expected.granted_by, &answer.granted_by) {
        (None, None) => {}
        (Some((assignment, role, node, pattern)), Some(g))
            if g.assignment_id == assignment.to_string()
                && g.role_id == role.to_string()
                && g.node_id == node.to_string()
                && &g.matched_permission == pattern => {}
        _ => return Err("granted_by differs".into()),
    }
    if answer.revision < revision {
        return Err(format!(
            "answered at revision {} < {revision}",
            answer.revision
        ));
    }
    Ok(())
}

fn same(a: &pb::CheckResponse, b: &pb::CheckResponse) -> bool {
    (a.allowed, a.reason_code, &a.reason, &a.granted_by, &a.error)
        == (b.allowed, b.reason_code, &b.reason, &b.granted_by, &b.error)
}

pub fn show(answer: &pb::CheckResponse) -> String {
    format!(
        "allowed={} {:?} `{}` granted_by={:?} revision={} error={:?}",
        answer.allowed,
        answer.reason_code(),
        answer.reason,
        answer.granted_by,
        answer.revision,
        answer.error
    )
}

async fn check_each(
    client: &Authz,
    questions: &[Question],
) -> Vec<Result<pb::CheckResponse, tonic::Status>> {
    futures::stream::iter(questions.iter().enumerate())
        .map(|(i, q)| {
            let mut client = client.clone();
            async move {
                let answer = client.check(q.request(format!("check-{i}"))).await?;
                Ok(answer.into_inner())
            }
        })
        .buffered(8)
        .collect()
        .await
}

async fn check_batches(
    client: &Authz,
    questions: &[Question],
) -> Vec<Result<pb::CheckResponse, tonic::Status>> {
    let mut answers = Vec::new();
    let mut start = 0;
    for size in BATCH_SIZES.iter().cycle() {
        if start >= questions.len() {
            break;
        }
        let end = (start + size).min(questions.len());
        let checks = (start..end)
            .map(|i| questions[i].request(format!("batch-{i}")))
            .collect();
        match client
            .clone()
            .batch_check(pb::BatchCheckRequest { checks })
            .await
        {
            Ok(batch) => answers.extend(batch.into_inner().results.into_iter().map(Ok)),
            Err(status) => answers.extend((start..end).map(|_| Err(status.clone()))),
        }
        start = end;
    }
    answers
}

async fn check_stream(
    client: &Authz,
    questions: &[Question],
) -> Vec<Result<pb::CheckResponse, tonic::Status>> {
    let requests: Vec<pb::CheckRequest> = questions
        .iter()
        .enumerate()
        .map(|(i, q)| q.request(format!("stream-{i}")))
        .collect();
    let mut answers = Vec::new();
    let mut stream = match client
        .clone()
        .check_stream(tokio_stream::iter(requests))
        .await
    {
        Ok(stream) => stream.into_inner(),
        Err(status) => return vec![Err(status)],
    };
    loop {
        match stream.message().await {
            Ok(Some(answer)) => {
                let i = answers.len();
                if answer.correlation_id != format!("stream-{i}") {
                    answers.push(Err(tonic::Status::internal(format!(
                        "answer {i} out of order: correlation id {}",
                        answer.correlation_id
                    ))));
                } else {
                    answers.push(Ok(answer));
                }
            }
            Ok(None) => return answers,
            Err(status) => {
                answers.push(Err(status));
                return answers;
            }
        }
    }
}
