"""The approvals benchmark's floor, run as its own process, never by `make bench`: an ops
GetAction method that answers at once (no database, no guard, no interceptor), so a FastAPI
endpoint calling it measures what one HTTP request plus one unary gRPC call cost on this
machine. Configured by BENCH_TRIVIAL_ADDR."""

from __future__ import annotations

import asyncio
import os

import grpc
from grpc_health.v1 import health_pb2_grpc

from runtime.health import Health
from tradeops.ops.v1 import ops_service_pb2 as pb


async def get_action(request: pb.GetActionRequest, context: object) -> pb.Action:
    return pb.Action(id=request.id, state=pb.ACTION_STATE_APPROVED)


async def serve(address: str) -> None:
    server = grpc.aio.server()
    method = grpc.unary_unary_rpc_method_handler(
        get_action,
        request_deserializer=pb.GetActionRequest.FromString,
        response_serializer=pb.Action.SerializeToString,
    )
    service = grpc.method_handlers_generic_handler(
        "tradeops.ops.v1.OpsService", {"GetAction": method}
    )
    server.add_generic_rpc_handlers((service,))
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    server.add_insecure_port(address)
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(os.environ["BENCH_TRIVIAL_ADDR"]))
