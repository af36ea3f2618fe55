"""``durable_objects.bindings`` and ``migrations``: parsed into frozen dataclasses.

Follows wrangler: the shape checks of ``validateMigrations`` (workers-utils
``config/validation.ts``), the class bookkeeping of ``getDurableObjectClassNameToUseSQLiteMap``
(wrangler ``src/dev/class-names-sqlite.ts``) with its error texts, and, for a class that is bound
locally but never created by a migration, the error Cloudflare's API gives on deploy
(``[code: 10061]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wranglerpy.config.fields import Reader, join


@dataclass(frozen=True)
class DurableObjectBinding:
    """One ``durable_objects.bindings`` entry: ``env.<name>`` is a namespace of ``class_name``,
    defined by this worker or, with ``script_name``, by another one."""

    name: str
    class_name: str
    script_name: str | None = None
    environment: str | None = None


@dataclass(frozen=True)
class RenamedClass:
    from_: str
    to: str


@dataclass(frozen=True)
class TransferredClass:
    from_: str
    from_script: str
    to: str


@dataclass(frozen=True)
class Migration:
    """One ``[[migrations]]`` step; applied once, in order, and remembered by ``tag``."""

    tag: str
    new_classes: tuple[str, ...] = ()
    new_sqlite_classes: tuple[str, ...] = ()
    renamed_classes: tuple[RenamedClass, ...] = ()
    deleted_classes: tuple[str, ...] = ()
    transferred_classes: tuple[TransferredClass, ...] = ()


_MIGRATION_KEYS = (
    "tag",
    "new_classes",
    "new_sqlite_classes",
    "renamed_classes",
    "deleted_classes",
    "transferred_classes",
)


def parse_durable_objects(
    r: Reader, t: dict[str, Any], path: str
) -> tuple[DurableObjectBinding, ...]:
    where = join(path, "durable_objects")
    table = r.table(t, "durable_objects", path)
    if table is None:
        return ()
    r.unknown_keys(table, ("bindings",), where)
    out = []
    for item_where, item in r.table_list(table, "bindings", where):
        known = ("name", "class_name", "script_name", "environment")
        r.unknown_keys(item, known, item_where)
        out.append(
            DurableObjectBinding(
                name=r.identifier(item, "name", item_where),
                class_name=r.required_string(item, "class_name", item_where),
                script_name=r.string(item, "script_name", item_where),
                environment=r.string(item, "environment", item_where),
            )
        )
    return tuple(out)


def _pairs(r: Reader, value: Any, where: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    shape = "{" + ", ".join(f"{k}: string" for k in keys) + "}"
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and all(isinstance(item.get(k), str) for k in keys) for item in value
    ):
        raise r.error(where, f'expected a list of "{shape}" tables')
    return value


def parse_migrations(r: Reader, t: dict[str, Any], path: str) -> tuple[Migration, ...]:
    where = join(path, "migrations")
    if "migrations" not in t:
        return ()
    raw = t["migrations"]
    if not isinstance(raw, list):
        raise r.expect(where, "a list of migrations", raw)
    out = []
    tags: set[str] = set()
    for i, item in enumerate(raw):
        item_where = join(where, i)
        if not isinstance(item, dict):
            raise r.expect(item_where, "a table", item)
        r.unknown_keys(item, _MIGRATION_KEYS, item_where)
        tag = r.required_string(item, "tag", item_where)
        if tag in tags:
            raise r.error(join(item_where, "tag"), f'duplicate migration tag "{tag}"')
        tags.add(tag)
        renamed = _pairs(
            r, item.get("renamed_classes", []), join(item_where, "renamed_classes"), ("from", "to")
        )
        transferred = _pairs(
            r,
            item.get("transferred_classes", []),
            join(item_where, "transferred_classes"),
            ("from", "from_script", "to"),
        )
        out.append(
            Migration(
                tag=tag,
                new_classes=r.string_list(item, "new_classes", item_where),
                new_sqlite_classes=r.string_list(item, "new_sqlite_classes", item_where),
                renamed_classes=tuple(RenamedClass(p["from"], p["to"]) for p in renamed),
                deleted_classes=r.string_list(item, "deleted_classes", item_where),
                transferred_classes=tuple(
                    TransferredClass(p["from"], p["from_script"], p["to"]) for p in transferred
                ),
            )
        )
    return tuple(out)


class MigrationError(ValueError):
    """A migration that cannot apply to the classes that exist at that point."""


def class_storage(migrations: tuple[Migration, ...]) -> dict[str, bool]:
    """Class name -> whether it is SQLite-backed, after every migration; wrangler's rules and
    wording (``class-names-sqlite.ts``)."""
    classes: dict[str, bool] = {}
    for m in migrations:
        for name in m.deleted_classes:
            if classes.pop(name, None) is None:
                raise MigrationError(
                    f"Cannot apply deleted_classes migration to non-existent class {name}"
                )
        for rename in m.renamed_classes:
            if rename.from_ not in classes:
                raise MigrationError(
                    f"Cannot apply renamed_classes migration to non-existent class {rename.from_}"
                )
            classes[rename.to] = classes.pop(rename.from_)
        for name in m.new_classes:
            if name in classes:
                raise MigrationError(f"Cannot apply new_classes migration to existing class {name}")
            classes[name] = False
        for name in m.new_sqlite_classes:
            if name in classes:
                raise MigrationError(
                    f"Cannot apply new_sqlite_classes migration to existing class {name}"
                )
            classes[name] = True
        for transfer in m.transferred_classes:
            # The source lives in another worker; its storage kind travels with it (SQLite
            # is the only kind new classes get today).
            classes.setdefault(transfer.to, True)
    return classes


def check_bound_classes(
    r: Reader,
    bindings: tuple[DurableObjectBinding, ...],
    migrations: tuple[Migration, ...],
    path: str,
) -> None:
    """Every class bound from this worker exists after its migrations, as deploy requires."""
    try:
        classes = class_storage(migrations)
    except MigrationError as exc:
        raise r.error(join(path, "migrations"), str(exc)) from None
    for i, binding in enumerate(bindings):
        if binding.script_name is not None or binding.class_name in classes:
            continue
        where = join(join(join(path, "durable_objects"), "bindings"), i)
        raise r.error(
            join(where, "class_name"),
            f"Cannot create binding for class '{binding.class_name}' because it is not "
            "currently configured to implement Durable Objects. Ensure a --new-class "
            "migration has been applied to it. [code: 10061]",
        )
