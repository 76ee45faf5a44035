"""Datetimes to protobuf Timestamps, the one conversion every servicer and peer client needs."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(moment: datetime) -> Timestamp:
    """The Timestamp of an aware datetime (a naive one is taken as UTC, as protobuf does)."""
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
