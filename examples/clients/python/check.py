"""A check from Python over gRPC: TCP, or a Unix socket (sidecar).

Generate the stubs first (from the repository root):
    python -m grpc_tools.protoc -I proto --python_out=gen --grpc_python_out=gen proto/rbacd/v1/*.proto
Run:
    RBACD_API_KEY=... python check.py localhost:50051 jane@example.com Docs:Read docs:1
    RBACD_API_KEY=... python check.py unix:/run/rbacd/rbacd.sock jane@example.com Docs:Read docs:1
"""

import os
import sys

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "gen"))
from rbacd.v1 import authorization_pb2, authorization_pb2_grpc, references_pb2  # noqa: E402


def channel(target: str) -> grpc.Channel:
    # grpcio sends a Unix socket's path as the HTTP/2 :authority, which rbacd's
    # HTTP/2 stack refuses; name a plain host instead.
    options = [("grpc.default_authority", "localhost")] if target.startswith("unix:") else []
    return grpc.insecure_channel(target, options=options)


def main() -> int:
    target, email, permission, node_key = sys.argv[1:5]
    metadata = [("x-api-key", os.environ["RBACD_API_KEY"])]
    with channel(target) as ch:
        stub = authorization_pb2_grpc.AuthorizationServiceStub(ch)
        answer = stub.Check(
            authorization_pb2.CheckRequest(
                identity=references_pb2.IdentityRef(email=email),
                permission=permission,
                node=references_pb2.NodeRef(key=node_key),
            ),
            metadata=metadata,
            timeout=5,
        )
    print(f"allowed={answer.allowed} revision={answer.revision} reason={answer.reason}")
    return 0 if answer.allowed else 1


if __name__ == "__main__":
    sys.exit(main())
