"""The RELP frame codec and the acknowledgement window, frame by frame. The byte strings are
the ones rsyslog 8.2302's imrelp (librelp 1.11) sends and expects, as seen on the wire."""

from __future__ import annotations

import pytest

from services.audit.siem.domain.acks import Unacknowledged
from services.audit.siem.domain.batches import Position
from services.audit.siem.domain.relp import (
    MAX_TXNR,
    Decoder,
    Frame,
    ProtocolError,
    Response,
    encode,
    next_txnr,
    offer_problems,
    offers,
    parse_offers,
    response,
)

OPEN_ANSWER = (
    b"1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\n"
    b"commands=syslog\n"
)
SERVER_OFFERS = {
    "relp_version": "0",
    "relp_software": "librelp,1.11.0,http://librelp.adiscon.com",
    "commands": "syslog",
}


def test_a_frame_is_txnr_command_datalen_in_octets_data_and_a_line_feed() -> None:
    message = b"<110>1 2024-05-01T12:00:00Z h tradeops-audit - audit - hi \xe2\x80\x94"

    assert encode(Frame(2, "syslog", message)) == b"2 syslog 61 " + message + b"\n"
    assert encode(Frame(7, "close")) == b"7 close 0\n"


def test_the_open_offer_names_version_software_and_the_syslog_command() -> None:
    offer = offers("tradeops,0.1.0")

    assert encode(Frame(1, "open", offer)) == (
        b"1 open 59 relp_version=0\nrelp_software=tradeops,0.1.0\ncommands=syslog\n"
    )


def test_a_frame_that_cannot_be_sent_is_refused_before_it_is_written() -> None:
    with pytest.raises(ValueError, match="TXNR 1000000000"):
        encode(Frame(MAX_TXNR + 1, "syslog", b"x"))
    with pytest.raises(ValueError, match="ASCII letters"):
        encode(Frame(1, "sys log", b"x"))


def test_txnr_wraps_from_999999999_to_1() -> None:
    assert [next_txnr(n) for n in (0, 1, 41, MAX_TXNR)] == [1, 2, 42, 1]


def test_the_answers_of_rsyslog_decode_however_the_stream_is_cut() -> None:
    stream = OPEN_ANSWER + b"2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 0\n0 serverclose 0\n"
    expected = [
        Frame(1, "rsp", OPEN_ANSWER[9:-1]),
        Frame(2, "rsp", b"200 OK"),
        Frame(3, "rsp", b"200 OK"),
        Frame(4, "rsp"),
        Frame(0, "serverclose"),
    ]
    for cut in range(1, len(stream)):
        decoder = Decoder()
        assert decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) == expected, cut
    byte_by_byte = Decoder()
    assert [f for i in range(len(stream)) for f in byte_by_byte.feed(stream[i : i + 1])] == expected


def test_data_may_hold_spaces_and_line_feeds_counted_by_datalen() -> None:
    (frame,) = Decoder().feed(b"12 rsp 10 200 OK\nx y\n")

    assert frame == Frame(12, "rsp", b"200 OK\nx y")


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"x rsp 6 200 OK\n", "bad TXNR"),
        (b"1234567890 rsp 6 200 OK\n", "bad TXNR"),
        (b"1 r5p 6 200 OK\n", "bad command"),
        (b"1 rsp 6 200 OK!\n", "does not end in LF after 6 bytes"),
        (b"1 rsp 0 \n", "does not end in LF after 0 bytes"),
        (b"1 rsp 6\n200 OK\n", "no space before the data"),
        (b"1 rsp 9999999999", "DATALEN too long"),
        (b"1 rsp 70000 ", "announces 70000 bytes"),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "not a RELP frame header"),
        (b"?" * 80, "not a RELP frame"),
    ],
)
def test_what_is_not_relp_is_refused_naming_what_is_wrong(stream: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        Decoder().feed(stream)


def test_an_answer_gives_its_code_text_and_the_offers_after_it() -> None:
    (opened,) = Decoder().feed(OPEN_ANSWER)
    answer = response(opened)

    assert (answer.code, answer.text) == (200, "OK")
    assert parse_offers(answer.body) == SERVER_OFFERS
    assert list(offer_problems(SERVER_OFFERS)) == []
    assert response(Frame(5, "rsp", b"500 command disabled")) == Response(500, "command disabled")


def test_an_answer_without_a_status_code_or_a_command_that_is_no_answer_is_refused() -> None:
    with pytest.raises(ProtocolError, match="rsp 3 has no status code"):
        response(Frame(3, "rsp", b"OK"))
    with pytest.raises(ProtocolError, match="expected rsp, got syslog"):
        response(Frame(3, "syslog", b"200 OK"))


def test_a_receiver_offering_another_version_or_no_syslog_command_is_named() -> None:
    offered = {"relp_version": "1", "commands": "eventlog"}

    assert list(offer_problems(offered)) == [
        "relp_version '1', not 0",
        "commands 'eventlog', without syslog",
    ]


def test_a_position_settles_once_its_frames_and_all_before_them_are_acknowledged() -> None:
    window = Unacknowledged(window=4)
    window.sent(2, at=1.0)
    window.sent(3, at=1.0, position=Position(10, 0))
    window.sent(4, at=2.0)
    window.sent(5, at=2.0, position=Position(20, 16))

    assert window.full()
    window.acknowledged(3)
    window.acknowledged(5)
    assert window.settle() is None, "frame 2 is still unanswered"
    assert window.oldest() == (2, 1.0)
    window.acknowledged(2)
    assert window.settle() == Position(10, 0)
    assert window.settle() is None
    assert window.oldest() == (4, 2.0)
    window.acknowledged(4)
    assert (window.settle(), len(window), window.oldest()) == (Position(20, 16), 0, None)


def test_an_acknowledgement_of_a_frame_not_in_flight_is_an_error() -> None:
    window = Unacknowledged(window=2)
    window.sent(2, at=0.0)
    window.acknowledged(2)

    with pytest.raises(KeyError, match="frame 2"):
        window.acknowledged(2)
    with pytest.raises(ValueError, match="at least one"):
        Unacknowledged(window=0)
