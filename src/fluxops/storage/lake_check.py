"""``fluxops lake check`` / ``repair``: does every manifest entry exist and read, what is orphaned, what
is quarantined; and an offline repair that makes disk and manifests agree again.

Why separate from `fluxops.storage.lake`: checking must not change anything (it runs beside a live
server), while repair takes the writer lock (so it refuses to run while a server writes the lake) and
uses the same recovery as a writer's first append, then verifies every live file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fluxops.core.errors import NotFoundError, StorageError
from fluxops.storage.lake import AmiLake, ParquetLake, damage
from fluxops.storage.lake_manifest import quarantine_records, read_manifest


@dataclass(frozen=True)
class Finding:
    dataset: str
    date: str
    file: str
    problem: str


@dataclass
class LakeCheck:
    partitions: int = 0
    files: int = 0
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    quarantined: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings and not self.quarantined


def check_lake(root: Path, *, deep: bool = False) -> LakeCheck:
    """Read-only: every manifest entry exists, has its size, its footer reads and its row count matches
    (``deep``: every data page decodes); files on disk that no manifest names; quarantined files."""
    if not Path(root).is_dir():
        raise NotFoundError(f"no AMI lake at {root}")
    out = LakeCheck()
    lake = AmiLake(root)
    for pl in (lake.readings, lake.events):
        _check_dataset(pl, out, deep=deep)
    for r in quarantine_records(root):
        out.quarantined += 1
        out.findings.append(
            Finding(
                str(r.get("dataset")),
                str(r.get("date")),
                str(r.get("file")),
                f"quarantined: {r.get('reason')}",
            )
        )
    return out


def _check_dataset(pl: ParquetLake, out: LakeCheck, *, deep: bool) -> None:
    for part_dir in pl.partition_dirs():
        day = part_dir.name.removeprefix("date=")
        out.partitions += 1
        try:
            m = read_manifest(part_dir)
        except StorageError as exc:
            out.findings.append(Finding(pl.dataset, day, "_manifest.json", exc.message))
            continue
        if m is None:
            out.findings.append(
                Finding(pl.dataset, day, "_manifest.json", "no manifest (old lake): run repair")
            )
            continue
        for name, entry in sorted(m.files.items()):
            out.files += 1
            out.rows += entry.rows
            why = damage(part_dir / name, entry, deep=deep)
            if why is not None:
                out.findings.append(Finding(pl.dataset, day, name, why))
        on_disk = {p.name for p in part_dir.glob("*.parquet")}
        for name in sorted(on_disk - set(m.files) - set(m.retired)):
            out.findings.append(Finding(pl.dataset, day, name, "orphan: in no manifest (repair deletes it)"))


def repair_lake(root: Path, *, deep: bool = False) -> tuple[LakeCheck, LakeCheck]:
    """Repair offline (refused while another process writes the lake); returns the checks before and
    after. Quarantined files stay quarantined (and health degraded) until cleared."""
    before = check_lake(root, deep=deep)
    lake = AmiLake(root)
    try:
        for pl in (lake.readings, lake.events):
            pl.repair(deep=deep)
    finally:
        lake.close()
    return before, check_lake(root, deep=deep)
