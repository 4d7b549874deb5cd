"""The entry point of every stage CLI: a fault the user can fix is one line on stderr and exit status 2.

The errors listed here carry a message that names what went wrong and what to do (a config key, a damaged
checkpoint, a missing input, an endpoint that kept failing, a full disk); a traceback would only bury it. Any
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Callable


def user_errors() -> tuple[type[BaseException], ...]:
    from bao.config import ConfigError
    from bao.gyms import SplitUnavailable
    from bao.io import CorruptOutput, MissingInput
    from bao.users.endpoint import EndpointError

    return ConfigError, CorruptOutput, MissingInput, SplitUnavailable, EndpointError


def run(main: Callable[[], None], prog: str | None = None) -> None:
    """Call ``main()``; turn the user-fixable errors (and ENOSPC) into one ``<prog>: error: ...`` line."""
    if prog is None:  # ``python -m bao.sft.train`` -> "bao.sft.train"
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        prog = spec.name if spec is not None else Path(sys.argv[0]).name
    try:
        main()
    except user_errors() as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        print(f"{prog}: error: no space left on the device while writing {e.filename or 'an output'}; outputs are "
              f"written beside their target and renamed into place, so the earlier ones are intact: free space "
              f"and rerun", file=sys.stderr)
        sys.exit(2)
