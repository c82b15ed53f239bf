"""A stand-in organisation hierarchy with the shape of England's (used until, and alongside,
``matneo.reference.organisations``), so the generator is tested against the protocol it
needs rather than against one particular reference file."""

from __future__ import annotations

from matneo.reference.organisations import Organisation, Site

REGIONS = ("Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63")
LEVELS = ("NICU", "LNU", "SCU", "none")


class StandInHierarchy:
    """``n_trusts`` trusts spread round-robin over 6 LMNS per region, 1–3 sites each."""

    def __init__(self, n_trusts: int = 120) -> None:
        self._orgs: dict[str, Organisation] = {}
        self._sites: dict[str, list[Site]] = {}
        for r in REGIONS:
            self._orgs[r] = Organisation(r, f"Region {r}", "region", None)
        lmns = []
        for i in range(42):
            code = f"QL{i:02d}"
            lmns.append(code)
            self._orgs[code] = Organisation(code, f"LMNS {i}", "lmns", REGIONS[i % 7])
        for i in range(n_trusts):
            code = f"R{i:03d}"
            self._orgs[code] = Organisation(code, f"Trust {i}", "trust", lmns[i % 42])
            n_sites = 1 + i % 3
            self._sites[code] = [
                Site(f"{code}{j:02d}", f"Site {j}", code, LEVELS[(i + j) % 3] if j < 2 else "none")
                for j in range(n_sites)
            ]

    def trusts(self) -> list[Organisation]:
        return [o for o in self._orgs.values() if o.level == "trust"]

    def ancestor_at(self, code: str, level: str) -> Organisation | None:
        org = self._orgs[code]
        while org.level != level:
            if org.parent_code is None:
                return None
            org = self._orgs[org.parent_code]
        return org

    def sites_of(self, trust_code: str) -> list[Site]:
        return list(self._sites.get(trust_code, []))
