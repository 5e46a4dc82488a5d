"""Where the synthetic generator puts each file: the Remote Access layout (CBS file documentation).

``<Thema>/<FILE>/[<year>/][geconverteerde data/]<NAME>V<n>.<ext>``.  Yearly files sit in a year folder;
cumulative BUS files and EBB sit directly in their file folder (as in the paths the CBS file documentation quotes).
CBS's reference files (LANDAKTUEELREF, OPLEIDINGSNRREF) carry no year and live on the code-listings share
(``K:/Utilities/Code_Listings/SSBreferentiebestanden/OPLEIDINGSNRREFV<n>.sav`` in Remote Access): the generator
writes them to ``Utilities/Code_Listings/SSBreferentiebestanden/`` under the landing root.
Converted copies (.csv) go to ``geconverteerde data/``.  This module only mimics CBS; the pipeline learns
file names from ``data_catalog.yaml``, never from here.
"""

from __future__ import annotations

from pathlib import PurePosixPath

#: the code-listings share, relative to the landing root (Remote Access: K:/Utilities/Code_Listings/...)
CODE_LISTINGS = ("Utilities/Code_Listings", "SSBreferentiebestanden")

# file id: (thema, folder, name pattern, year folder); a name pattern without {Y} carries no year
FILES: dict[str, tuple[str, str, str, bool]] = {
    "GBAPERSOONTAB": ("Bevolking", "GBAPERSOONTAB", "GBAPERSOON{Y}TAB", True),
    "GBAADRESOBJECTBUS": ("Bevolking", "GBAADRESOBJECTBUS", "GBAADRESOBJECT{Y}BUS", False),
    "GBAMIGRATIEBUS": ("Bevolking", "GBAMIGRATIEBUS", "GBAMIGRATIE{Y}BUS", False),
    "MIGMOTIEFBUS": ("Bevolking", "MIGMOTIEFBUS", "MIGMOTIEF{Y}BUS", False),
    "LANDAKTUEELREF": (*CODE_LISTINGS, "LANDAKTUEELREF", False),
    # Remote Access: VSLGWB<year>TAB<nn>V<v> (nn: CBS table number; 03 here), columns named with the year
    "VSLGWBTAB": ("BouwenWonen", "VSLGWBTAB", "VSLGWB{Y}TAB03", True),
    "SECMBUS": ("InkomenBestedingen", "SECMBUS", "SECMBUS{Y}", False),
    "INPATAB": ("InkomenBestedingen", "INPATAB", "INPA{Y}TAB", False),
    "IPI": ("InkomenBestedingen", "PERSOONINKTAB", "PERSOONINK{Y}TAB", False),
    "SPOLISBUS": ("Spolis", "SPOLISBUS", "SPOLISBUS{Y}", True),
    "POLISBUS": ("Polis", "POLISBUS", "POLISBUS{Y}", True),
    "HOOGSTEOPLTAB": ("Onderwijs", "HOOGSTEOPLTAB", "HOOGSTEOPL{Y}TAB", True),
    "ONDERWIJSINSCHRTAB": ("Onderwijs", "ONDERWIJSINSCHRTAB", "ONDERWIJSINSCHR{Y}TAB", True),
    "EXAMVOTAB": ("Onderwijs", "EXAMVOTAB", "EXAMVO{Y}TAB", True),
    "DIPLOMAMBOTAB": ("Onderwijs", "DIPLOMAMBOTAB", "DIPLOMAMBO{Y}TAB", True),
    "DIPLOMAHOTAB": ("Onderwijs", "DIPLOMAHOTAB", "DIPLOMAHO{Y}TAB", True),
    "OPLEIDINGSNRREF": (*CODE_LISTINGS, "OPLEIDINGSNRREF", False),
    "MBOSCHOOLVERLATERS": ("Onderwijs", "MBOSCHOOLVERLATERS", "MBOSCHOOLVERLATERS{Y}", True),
    "VSVMBOTAB": ("Onderwijs", "VSVMBOTAB", "VSVMBO{Y}TAB", True),
    "SBBKANSOPWERK": ("Extern", "SBBKANSOPWERK", "SBBKANSOPWERK{Y}", False),
    "EBBNW": ("Arbeid", "EBBnw", "EBBnw{Y}", False),
    "BIJSTANDPERSOONBUS": ("Socialezekerheid", "BIJSTANDPERSOONBUS", "BIJSTANDPERSOON{Y}BUS", False),
    "WWPERSOONBUS": ("Socialezekerheid", "WWPERSOONBUS", "WWPERSOON{Y}BUS", False),
    "AOTOTPERSOONBUS": ("Socialezekerheid", "AOTOTPERSOONBUS", "AOTOTPERSOON{Y}BUS", False),
    "SIRWWPERSOONBUS": ("Socialezekerheid", "SIRWWPERSOONBUS", "SIRWWPERSOON{Y}BUS", False),
    "SIRAGPERSOONBUS": ("Socialezekerheid", "SIRAGPERSOONBUS", "SIRAGPERSOON{Y}BUS", False),
    "SRGPERSOONPWETBUS": ("Socialezekerheid", "SRGPERSOONPWETBUS", "SRGPERSOONPWET{Y}BUS", False),
    "PWETSRGPERSOONBUS": ("Socialezekerheid", "PWETSRGPERSOONBUS", "PWETSRGPERSOON{Y}BUS", False),
}
EXT = {"sav": ".sav", "csv": ".csv", "parquet": ".parquet"}


def has_year(file_id: str) -> bool:
    """Does the file's name carry a year?  Not CBS's reference files: their content is one listing for all
    years (the generator labels them without one too, so their bytes do not depend on the run's years)."""
    return "{Y}" in FILES[file_id][2]


def file_name(file_id: str, year: int, version: int, fmt: str, name: str | None = None) -> str:
    """``name`` overrides the regular stem for CBS's irregular names (e.g. ``GBAPERSOONTAB2016``)."""
    stem = name if name is not None else FILES[file_id][2].format(Y=year)
    return f"{stem}V{version}{EXT[fmt]}"


def relpath(file_id: str, year: int, version: int, fmt: str, name: str | None = None) -> PurePosixPath:
    thema, folder, _, year_folder = FILES[file_id]
    p = PurePosixPath(thema, folder)
    if year_folder:
        p = p / str(year)
    if fmt == "csv":
        p = p / "geconverteerde data"
    return p / file_name(file_id, year, version, fmt, name)
