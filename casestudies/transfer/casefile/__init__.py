"""Case files: one case study as Markdown with a YAML front-matter block.

The format is specified in docs/case-format.md. `parse` reads and validates a file
(reporting every problem as FILE:LINE: message), `dump` writes the canonical text of a case,
`bundle` reads a bundle of files from a folder or a zip without trusting the zip, and `data`
holds what is particular to the format (its keys, bounds and problems). The case's own data
classes and limits live in `casestudies.cases`; they are re-exported here for the format's
callers.
"""

from casestudies.cases.data import CaseData, PlanStepData, QuestionData, TeachingNotesData
from casestudies.transfer.casefile.bundle import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILES,
    DEFAULT_MAX_TOTAL_BYTES,
    MAX_ZIP_ENTRIES,
    BundleError,
    BundleFile,
    bundle_names,
    read_bundle,
    read_bundle_batches,
    read_bundle_from_zip_bytes,
    read_zip_batches,
)
from casestudies.transfer.casefile.data import CaseFileError, Problem
from casestudies.transfer.casefile.dump import dump_case_file
from casestudies.transfer.casefile.parse import parse_case_file

__all__ = [
    "DEFAULT_MAX_FILES",
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_TOTAL_BYTES",
    "MAX_ZIP_ENTRIES",
    "BundleError",
    "BundleFile",
    "CaseData",
    "CaseFileError",
    "PlanStepData",
    "Problem",
    "QuestionData",
    "TeachingNotesData",
    "bundle_names",
    "dump_case_file",
    "parse_case_file",
    "read_bundle",
    "read_bundle_batches",
    "read_bundle_from_zip_bytes",
    "read_zip_batches",
]
