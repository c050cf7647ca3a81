"""A settlement run in its own process that kills itself (SIGKILL) at a chosen point.

``python interrupted_run.py PERIOD clear`` dies inside the clearing transaction, after the
ledger lines and entries are written and before the commit; ``… PERIOD pay N`` dies right
after the payment rail executed its N-th transfer and before settlement recorded it. The
database and keys come from the SHUCHANG_* environment, as for `shuchang settlement run`.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from shuchang.domains.participants import SYSTEM
from shuchang.domains.settlement import batches, clearing, ledger
from shuchang.domains.settlement.rail import RailTransfer, RecordingRail, TransferOrder
from shuchang.platform import Platform
from shuchang.settings import Settings


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main(period: str, mode: str, after: int = 0) -> None:
    platform = Platform.build(Settings.from_env())
    rail = RecordingRail(platform.unit)
    if mode == "clear":
        real = ledger.post_many

        def post_then_die(*args: Any, **kwargs: Any) -> Any:
            real(*args, **kwargs)
            die()

        clearing.ledger.post_many = post_then_die  # type: ignore[assignment]
    else:
        done = 0
        transfer = rail.transfer

        def transfer_then_die(order: TransferOrder) -> RailTransfer:
            nonlocal done
            result = transfer(order)
            done += 1
            if done == after:
                die()
            return result

        rail.transfer = transfer_then_die  # type: ignore[method-assign]
    batches.run(platform, SYSTEM, period, rail=rail)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
