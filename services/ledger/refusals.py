"""Batches the database refused for what they hold: finding the one message it refuses, and knowing when to stop.

A batch PostgreSQL refuses for a value it cannot store is read again one message per batch; the message it refuses
alone is quarantined as `unstorable`, so one bad message never holds up the ones behind it. A run of such refusals
with the same error is not the messages' doing, and the writer retries instead of quarantining everything.
"""

from __future__ import annotations

import logging

import asyncpg

log = logging.getLogger(__name__)

UNSTORABLE = (asyncpg.DataError, UnicodeError, OverflowError)
"""How a message's own content can make a batch's commit fail: PostgreSQL refusing a value (SQLSTATE class 22), or
asyncpg unable to encode one for it."""
UNSTORABLE_RUN = 5
"""Messages refused alone one after another with the same error, no event appended between them, before the
writer concludes that the refusals are not the messages' doing (a column narrowed, a codec broken): it then stops
quarantining and retries, so lag grows and alerts, instead of quarantining everything that arrives."""


class Refusals:
    """What the database refused of the stream, by stream sequence, while the writer reads it again."""

    def __init__(self) -> None:
        self.unstorable: dict[int, str] = {}
        """Messages refused alone, with the refusal: the next plan quarantines them."""
        self._isolate_until = 0  # messages up to this sequence go one per batch, to find the one refused
        self._unsigned_until = 0  # batches up to this sequence store no signed checkpoint (one was refused with one)
        self._in_a_row = 0
        self._last = ""

    def one_by_one(self, planned_seq: int) -> bool:
        """Whether the message after `planned_seq` is read in a batch of its own."""
        return planned_seq < self._isolate_until

    def may_sign(self, last_stream_seq: int) -> bool:
        """Whether a batch ending at `last_stream_seq` may store a signed checkpoint."""
        return last_stream_seq > self._unsigned_until

    def committed(self, last_stream_seq: int, appended: bool) -> None:
        """A batch up to `last_stream_seq` committed (`appended`: with events, which ends a run of refusals)."""
        if self.unstorable:
            self.unstorable = {seq: why for seq, why in self.unstorable.items() if seq > last_stream_seq}
        if appended:
            self._in_a_row = 0

    def refused(self, seqs: list[int], last_stream_seq: int, signed: bool, exc: Exception) -> None:
        """The database refused a batch of the messages `seqs` (ending the batch at `last_stream_seq`; `signed`:
        with a signed checkpoint) for what it holds, and nothing of it was written or acked. The stream is read
        again from the committed checkpoint, one message per batch up to the batch's end, and a message refused
        alone is noted as unstorable (one refused with a signed checkpoint in its batch is first read again without
        one). Raises `exc` when the refusal cannot be the message's doing: it was already noted as unstorable, or
        `UNSTORABLE_RUN` messages were refused in a row with this error; the writer then retries, as after any
        other failure, without skipping anything."""
        refusal = f"{type(exc).__name__}: {exc}"
        seqs = sorted(seqs)
        if len(seqs) > 1:
            self._isolate_until = max(self._isolate_until, last_stream_seq)
            log.warning("the database refused a batch for what it holds; reading it again one message at a time",
                        extra={"after": seqs[0] - 1, "upto": last_stream_seq, "error": refusal})
            return
        seq = seqs[0]
        if signed:  # the checkpoint, not the message, may be what was refused: once without
            self._unsigned_until = max(self._unsigned_until, seq)
            return
        if refusal != self._last:
            self._in_a_row, self._last = 0, refusal
        if seq in self.unstorable or self._in_a_row >= UNSTORABLE_RUN:
            raise exc
        self._in_a_row += 1
        self.unstorable[seq] = f"the database refused to store it (数据库拒绝存储): {refusal}"
        log.warning("the database refused a message; quarantining it as unstorable",
                    extra={"stream_seq": seq, "error": refusal})
