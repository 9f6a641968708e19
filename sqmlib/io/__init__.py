"""Loading: raw tables read safely, the instrument applied, every problem reported at once; a data folder read once.

``from sqmlib import io`` gives the whole loading API (``io.load_folder``, ``io.load_survey``, ``io.read_table``, …)."""
from __future__ import annotations

from .sources import *  # noqa: F401,F403
from .encodings import *  # noqa: F401,F403
from .readers import *  # noqa: F401,F403
from .checks import *  # noqa: F401,F403
from .careless import *  # noqa: F401,F403
from .survey import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403
from .folder import *  # noqa: F401,F403
