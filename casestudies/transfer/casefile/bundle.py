"""Reading a bundle of case files from a folder or a zip, without trusting the zip: limits
on files, bytes and entries, checked while reading."""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

# -- bundles -------------------------------------------------------------------------------
DEFAULT_MAX_FILES = 5000
DEFAULT_MAX_TOTAL_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
# An uploaded zip read in batches (read_zip_batches) may hold this many entries: its
# bytes stay within the upload limit and DEFAULT_MAX_TOTAL_BYTES uncompressed.
MAX_ZIP_ENTRIES = 50_000
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class BundleFile:
    name: str  # relative path inside the folder or zip, with "/" separators
    data: bytes


class BundleError(Exception):
    """A folder or zip that cannot be imported; the message is meant for the user."""


@dataclass(frozen=True)
class _Limits:
    max_files: int
    max_total_bytes: int
    max_file_bytes: int


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _is_case_name(parts: list[str]) -> bool:
    """A visible .md file: hidden files and folders (.DS_Store, .git, __MACOSX) are skipped."""
    if any(part.startswith(".") or part == "__MACOSX" for part in parts):
        return False
    return parts[-1].lower().endswith(".md")


class _Budget:
    """Counts bytes read against the per-file and total limits, while reading."""

    def __init__(self, limits: _Limits) -> None:
        self.limits = limits
        self.total = 0

    def read(self, name: str, handle: IO[bytes]) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while chunk := handle.read(_CHUNK):
            size += len(chunk)
            self.total += len(chunk)
            if size > self.limits.max_file_bytes:
                raise BundleError(f"'{name}' is larger than the limit of {_megabytes(self.limits.max_file_bytes)}")
            if self.total > self.limits.max_total_bytes:
                raise BundleError(
                    f"the files add up to more than the limit of {_megabytes(self.limits.max_total_bytes)}"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def read_bundle(
    path: str | os.PathLike[str],
    *,
    max_files: int = DEFAULT_MAX_FILES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> list[BundleFile]:
    """The .md files of a folder (recursively), of a .zip, or a single .md file, sorted by name."""
    limits = _Limits(max_files, max_total_bytes, max_file_bytes)
    source = Path(path)
    try:
        if source.is_dir():
            return _read_folder(source, limits)
        if not source.exists():
            raise BundleError(f"no such file or folder: {source}")
        if source.suffix.lower() == ".md":
            with open(source, "rb") as handle:
                return [BundleFile(source.name, _Budget(limits).read(source.name, handle))]
        with open(source, "rb") as handle:
            return _read_zip(handle, limits, label=source.name)
    except OSError as exc:
        raise BundleError(f"cannot read {source}: {exc.strerror or exc}") from None


def read_bundle_batches(path: str | os.PathLike[str], batch_files: int = 1000) -> Iterator[list[BundleFile]]:
    """A bundle of any size, batch_files files at a time (the command line's import): a
    folder's .md files in name order, each batch read within read_bundle's limits; a zip
    or a single file as read_bundle reads it."""
    source = Path(path)
    if not source.is_dir():
        yield read_bundle(source)
        return
    names = bundle_names(source)
    for start in range(0, len(names), batch_files):
        limits = _Limits(batch_files, DEFAULT_MAX_TOTAL_BYTES, DEFAULT_MAX_FILE_BYTES)
        budget = _Budget(limits)
        batch = []
        for relative in names[start : start + batch_files]:
            try:
                with open(source / relative, "rb") as handle:
                    batch.append(BundleFile(relative, budget.read(relative, handle)))
            except OSError as exc:
                raise BundleError(f"cannot read {source / relative}: {exc.strerror or exc}") from None
        yield batch


def bundle_names(path: str | os.PathLike[str]) -> list[str]:
    """The .md files a folder bundle holds (relative, sorted); 1 for a zip or a file."""
    root = Path(path)
    if not root.is_dir():
        return [root.name]
    found: list[str] = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__MACOSX")
        for filename in names:
            full = Path(folder, filename)
            relative = full.relative_to(root).as_posix()
            if _is_case_name(relative.split("/")) and stat.S_ISREG(full.stat().st_mode):
                found.append(relative)
    return sorted(found)


def read_bundle_from_zip_bytes(
    data: bytes,
    *,
    max_files: int = DEFAULT_MAX_FILES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> list[BundleFile]:
    """The .md files of an uploaded zip, with the same rules as read_bundle."""
    return _read_zip(io.BytesIO(data), _Limits(max_files, max_total_bytes, max_file_bytes), label="the upload")


def _read_folder(root: Path, limits: _Limits) -> list[BundleFile]:
    budget = _Budget(limits)
    files: list[BundleFile] = []
    # followlinks=False: a link to a parent folder would otherwise loop.
    for folder, subfolders, names in os.walk(root):
        # Sorted so that which file trips a limit does not depend on the file system.
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__MACOSX")
        for filename in sorted(names):
            full = Path(folder, filename)
            relative = full.relative_to(root).as_posix()
            if not _is_case_name(relative.split("/")) or not stat.S_ISREG(full.stat().st_mode):
                continue  # also skips FIFOs and devices named *.md, which would block or never end
            if len(files) >= limits.max_files:
                raise BundleError(f"the folder has more than {limits.max_files} .md files")
            with open(full, "rb") as handle:
                files.append(BundleFile(relative, budget.read(relative, handle)))
    return sorted(files, key=lambda f: f.name)


def _zip_parts(name: str) -> list[str]:
    """The path components of a zip entry; refuses names that could escape the folder."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise BundleError(f"the zip entry '{name}' has an absolute path; refusing the zip")
    parts = [part for part in re.split(r"[/\\]", name) if part not in ("", ".")]
    if ".." in parts:
        raise BundleError(f"the zip entry '{name}' points outside the zip with '..'; refusing the zip")
    return parts


def _check_zip_entry(info: zipfile.ZipInfo, limits: _Limits) -> None:
    if stat.S_ISLNK(info.external_attr >> 16):
        raise BundleError(f"the zip entry '{info.filename}' is a symbolic link; refusing the zip")
    if info.flag_bits & 0x1:
        raise BundleError(f"the zip entry '{info.filename}' is encrypted; zips with a password are not supported")
    if info.file_size > limits.max_file_bytes:
        raise BundleError(
            f"the zip entry '{info.filename}' is {_megabytes(info.file_size)} uncompressed; "
            f"the limit is {_megabytes(limits.max_file_bytes)} per file"
        )


def _read_zip(handle: BinaryIO, limits: _Limits, *, label: str) -> list[BundleFile]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise BundleError(f"{label} is not a zip file, a folder or a .md file ({exc})") from None
    try:
        with archive:
            return _read_zip_entries(archive, limits)
    except NotImplementedError as exc:  # e.g. an unsupported compression method
        raise BundleError(f"{label} cannot be read: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError) as exc:
        # A bad CRC (an entry longer or shorter than its header says), truncated data, ...
        raise BundleError(f"{label} is a damaged zip file ({exc})") from None


def _read_zip_entries(archive: zipfile.ZipFile, limits: _Limits) -> list[BundleFile]:
    wanted = _zip_members(archive, limits)
    # Sizes in headers can lie: the budget counts the bytes actually decompressed, and
    # zipfile checks each entry's CRC, so a truncated or padded entry is refused too.
    budget = _Budget(limits)
    files = []
    for name, info in wanted:
        with archive.open(info) as entry:
            files.append(BundleFile(name, budget.read(name, entry)))
    return sorted(files, key=lambda f: f.name)


def read_zip_batches(
    data: bytes, batch_files: int = 1000, *, max_entries: int = MAX_ZIP_ENTRIES
) -> Iterator[list[BundleFile]]:
    """The .md files of an uploaded zip of any number of files up to max_entries, in name
    order, batch_files at a time. Every entry's name and declared size is checked before
    the first batch; the per-file and total byte limits of read_bundle hold over the whole
    zip, counted as the entries are read."""
    label = "the upload"
    limits = _Limits(max_entries, DEFAULT_MAX_TOTAL_BYTES, DEFAULT_MAX_FILE_BYTES)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise BundleError(f"{label} is not a zip file, a folder or a .md file ({exc})") from None
    try:
        with archive:
            wanted = sorted(_zip_members(archive, limits), key=lambda member: member[0])
            budget = _Budget(limits)
            for start in range(0, len(wanted), batch_files):
                batch = []
                for name, info in wanted[start : start + batch_files]:
                    with archive.open(info) as entry:
                        batch.append(BundleFile(name, budget.read(name, entry)))
                yield batch
    except NotImplementedError as exc:
        raise BundleError(f"{label} cannot be read: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError) as exc:
        raise BundleError(f"{label} is a damaged zip file ({exc})") from None


def _zip_members(archive: zipfile.ZipFile, limits: _Limits) -> list[tuple[str, zipfile.ZipInfo]]:
    """The case files of a zip, (name, entry), after checking every entry's name and
    declared size and the entries' count against limits."""
    entries = archive.infolist()
    if len(entries) > limits.max_files:
        raise BundleError(f"the zip has {len(entries):,} entries; the limit is {limits.max_files:,}")
    wanted: list[tuple[str, zipfile.ZipInfo]] = []
    declared_total = 0
    for info in entries:
        parts = _zip_parts(info.filename)  # checked for every entry: one hostile name refuses all
        _check_zip_entry(info, limits)
        declared_total += info.file_size
        if declared_total > limits.max_total_bytes:
            raise BundleError(f"the zip uncompresses to more than {_megabytes(limits.max_total_bytes)}")
        if not info.is_dir() and parts and _is_case_name(parts):
            wanted.append(("/".join(parts), info))
    counts = Counter(name for name, _ in wanted)
    duplicates = sorted(name for name, count in counts.items() if count > 1)
    if duplicates:
        raise BundleError(f"the zip holds '{duplicates[0]}' more than once")
    return wanted
