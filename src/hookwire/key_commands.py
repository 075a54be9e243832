"""`hookwire keys rotate`: seal every secret at rest under a new key.

Runs against the database file itself, so the broker may keep running: a new key goes
first in the key file beside the database and every row is re-sealed under it, a hundred a
transaction; the broker reads the key file again when it changes. With `HOOKWIRE_SECRET_KEY`
there is no file to share: restart the broker with the new key first and the old one after
it (it re-seals everything as it starts), then drop the old one at a later restart; this
command, given the same setting, only re-seals.
"""

from __future__ import annotations

import argparse
import asyncio
import sys


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="the keys sealing secrets at rest")
    actions = keys.add_subparsers(dest="action", required=True)
    rotate = actions.add_parser("rotate", help="re-seal every secret under a new key")
    rotate.add_argument("--database-url", default=None, help="default: HOOKWIRE_DATABASE_URL")
    rotate.add_argument(
        "--retire-old-keys",
        action="store_true",
        help="drop the older keys from the key file once nothing is sealed under them "
        "(backups sealed under them can then no longer be opened)",
    )
    rotate.set_defaults(handler=_rotate_command)


def _rotate_command(args: argparse.Namespace) -> int:
    from broker.config import BrokerConfig
    from broker.server import rotate_secret_key
    from broker.storage.contract import StoreError

    try:
        config = BrokerConfig.from_env()
        database_url = args.database_url or config.database_url
        key_id, resealed = asyncio.run(
            rotate_secret_key(database_url, config.secret_key, args.retire_old_keys)
        )
    except (OSError, StoreError, ValueError) as exc:
        print(f"hookwire: {exc}", file=sys.stderr)
        return 1
    print(f"every secret is sealed under key {key_id} ({resealed} rows re-sealed)")
    return 0
