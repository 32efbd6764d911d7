"""For an adapter that reads a cloud's machines only: its volumes, snapshots and public addresses are
refused with UnsupportedOperationError, which says so, rather than listed as none (an empty list would
read as "nothing to clean up")."""

from __future__ import annotations

from typing import NoReturn

from tools.errors import UnsupportedOperationError
from tools.models import Address, Bucket, ResourceFilter, Snapshot, Volume, VolumeDeletion


class MachinesOnly:
    name: str

    def _refuse(self) -> NoReturn:
        raise UnsupportedOperationError(
            f"volumes, snapshots, public addresses and buckets are not read from {self.name} yet "
            "(the simulator and AWS have them)",
            provider=self.name,
        )

    def list_volumes(self, filters: ResourceFilter | None = None) -> list[Volume]:
        self._refuse()

    def get_volume(self, volume_id: str) -> Volume:
        self._refuse()

    def modify_volume(
        self,
        volume_id: str,
        volume_type: str,
        idempotency_key: str,
        iops: float | None = None,
        throughput_mbps: float | None = None,
    ) -> Volume:
        self._refuse()

    def delete_volume(
        self, volume_id: str, idempotency_key: str, final_snapshot: bool = True
    ) -> VolumeDeletion:
        self._refuse()

    def restore_volume(
        self, snapshot_id: str, idempotency_key: str, tags: dict[str, str] | None = None
    ) -> Volume:
        self._refuse()

    def list_snapshots(
        self, filters: ResourceFilter | None = None, recycle_bin: bool = False
    ) -> list[Snapshot]:
        self._refuse()

    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        self._refuse()

    def delete_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:
        self._refuse()

    def recover_snapshot(self, snapshot_id: str, idempotency_key: str) -> Snapshot:
        self._refuse()

    def list_addresses(self, filters: ResourceFilter | None = None) -> list[Address]:
        self._refuse()

    def get_address(self, allocation_id: str) -> Address:
        self._refuse()

    def release_address(self, allocation_id: str, idempotency_key: str) -> Address:
        self._refuse()

    def recover_address(
        self, allocation_id: str, idempotency_key: str, public_ip: str | None = None
    ) -> Address:
        self._refuse()

    def list_buckets(self, filters: ResourceFilter | None = None) -> list[Bucket]:
        self._refuse()

    def get_bucket(self, name: str) -> Bucket:
        self._refuse()

    def set_bucket_class(self, name: str, storage_class: str, idempotency_key: str) -> Bucket:
        self._refuse()
