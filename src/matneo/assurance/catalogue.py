"""One lookup for every requirement an organisation works to: the packaged frameworks merged
with the requirements its trust or LMNS added (issue 14: "a trust or LMNS can add local items").

Why one lookup: the tracker, the evidence library, the LMNS matrix, the overdue lists and the
board pack all walk "every requirement of every framework"; each asks :func:`catalogue` for the
trusts it shows instead of reading ``frameworks()`` and the database by itself, so a local item
works wherever a packaged one does. Which trusts a local item applies to is decided here, from
the stored organisation that added it: an LMNS's item applies to every trust whose parent is
that LMNS, a trust's item to that trust alone (``Catalogue.applies``).

A local item sits under a packaged framework when its owner chose one (it is listed, counted and
reported with that framework), otherwise in the "Local requirements" group. Retired items are
still found by key (their history, statuses and evidence stay readable) but are no longer listed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import select

from matneo.assurance.frameworks import LOCAL, Framework, Item, frameworks
from matneo.db.models import LocalRequirement, Organisation
from matneo.db.session import transaction

__all__ = ["LOCAL_FRAMEWORK", "Catalogue", "catalogue", "local_item"]

#: The group of local requirements not listed under a packaged framework.
LOCAL_FRAMEWORK = Framework(
    LOCAL,
    "Local requirements",
    "Local",
    "Added by the trust or its LMNS",
    "",
    "",
    "Requirements the trust or its LMNS added to the national frameworks; each says where it comes from.",
)


def local_item(row: LocalRequirement) -> Item:
    """A stored local requirement as an :class:`Item` keyed ``local:<id>``."""
    return Item(
        framework=LOCAL,
        id=str(row.id),
        title=row.title,
        section=f"Local requirement {row.id}",
        description=row.description,
        source=row.source,
        owner=row.org_code,
        due=row.due,
        under=row.framework if row.framework in {fw.id for fw in frameworks()} else None,
        retired=row.retired_at is not None,
    )


@dataclass(frozen=True)
class Catalogue:
    """The requirements that apply to a set of trusts (and those an owning organisation added)."""

    frameworks: tuple[Framework, ...]  # listed items only (no retired ones); "Local" last, if it has any
    by_key: Mapping[str, Item]  # every item, retired too
    applies_to: Mapping[str, frozenset[str]]  # local key → the trusts asked about that it applies to

    def item(self, key: str) -> Item:
        """The item with ``key``; KeyError naming it if there is none (or it is another area's)."""
        try:
            return self.by_key[key]
        except KeyError:
            raise KeyError(f"no assurance requirement {key!r}") from None

    def applies(self, trust: str, requirement: Item) -> bool:
        """Whether ``trust`` works to ``requirement``: every packaged item; a local one only in its owner's area."""
        return not requirement.local or trust in self.applies_to.get(requirement.key, frozenset())

    def items(self) -> Iterator[Item]:
        """Every listed item, in page order."""
        return (i for fw in self.frameworks for i in fw.items)

    def for_trust(self, trust: str) -> list[tuple[Framework, list[Item]]]:
        """The frameworks with the items ``trust`` works to (a group with none is left out, except packaged ones)."""
        found = [(fw, [i for i in fw.items if self.applies(trust, i)]) for fw in self.frameworks]
        return [(fw, items) for fw, items in found if items or fw.id != LOCAL]

    def short(self, framework_id: str) -> str:
        """The short name of a framework ("MIS year 2", "Local")."""
        return next((fw.short for fw in (*frameworks(), LOCAL_FRAMEWORK) if fw.id == framework_id), framework_id)

    @property
    def names(self) -> dict[str, str]:
        return {fw.id: fw.short for fw in (*frameworks(), LOCAL_FRAMEWORK)}

    def label(self, key: str) -> str:
        """ "MIS year 2 Safety action 8" or "Local requirement 3": how pages and audit lines name an item."""
        requirement = self.item(key)
        if requirement.local:
            return requirement.section
        return f"{self.short(requirement.framework)} {requirement.section}"


def catalogue(url: str, trusts: Collection[str] = (), *, owner: str | None = None) -> Catalogue:
    """The packaged frameworks with the local requirements of ``trusts`` (their own and their
    LMNS's) and of ``owner`` (a trust or LMNS looking at the list it keeps), read now."""
    trusts = list(dict.fromkeys(trusts))
    with transaction(url) as session:
        parents: dict[str, str | None] = {
            code: parent
            for code, parent in session.execute(
                select(Organisation.code, Organisation.parent_code).where(Organisation.code.in_(trusts))
            )
        }
        owners = {*trusts, *(p for p in parents.values() if p), *([owner] if owner else [])}
        rows = list(
            session.scalars(
                select(LocalRequirement).where(LocalRequirement.org_code.in_(owners)).order_by(LocalRequirement.id)
            )
        )
    local = [(local_item(r), r.org_code) for r in rows]
    applies = {i.key: frozenset(t for t in trusts if org in (t, parents.get(t))) for i, org in local}
    listed = [i for i, _ in local if not i.retired]
    grouped = [replace(fw, items=(*fw.items, *(i for i in listed if i.under == fw.id))) for fw in frameworks()]
    rest = tuple(i for i in listed if i.under is None)
    if rest:
        grouped.append(replace(LOCAL_FRAMEWORK, items=rest))
    by_key = {i.key: i for fw in frameworks() for i in fw.items} | {i.key: i for i, _ in local}
    return Catalogue(tuple(grouped), by_key, applies)
